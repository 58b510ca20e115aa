"""The platform's components in install order, and plans over several.

The order is KServe's own quick install for Knative mode (kserve/kserve,
``hack/setup/quick-install/kserve-knative-mode-full-install-helm.sh``): cert-manager, Istio with its
IngressClass, Knative Serving, then KServe's charts; the workshop adds monitoring and the in-cluster
model store after them. Uninstall runs in reverse.
"""

from __future__ import annotations

from typing import Iterable

from ..errors import WorkshopError
from ..plan import Plan, Runner
from .base import Component, ComponentStatus, Profile
from .cert_manager import CertManager
from .ingressclass import IngressClassComponent
from .istio import Istio
from .knative import Knative
from .kserve import KServe
from .monitoring import Monitoring
from .seaweedfs import Storage

#: Install order; uninstall runs in reverse.
COMPONENTS: tuple[type[Component], ...] = (
    CertManager,
    Istio,
    IngressClassComponent,
    Knative,
    KServe,
    Monitoring,
    Storage,
)
COMPONENT_NAMES: tuple[str, ...] = tuple(component.name for component in COMPONENTS)


def select(names: str | Iterable[str] | None = None) -> list[type[Component]]:
    """Component classes for ``names`` ("kserve", "istio,knative", a list, or None for all), in install order."""
    if names is None:
        return list(COMPONENTS)
    wanted = [n.strip() for n in (names.split(",") if isinstance(names, str) else names) if n and n.strip()]
    if not wanted:
        raise WorkshopError(
            f"the component list {names!r} names no component",
            hint=f"name one or more, comma-separated: {', '.join(COMPONENT_NAMES)}",
        )
    unknown = [name for name in wanted if name not in COMPONENT_NAMES]
    if unknown:
        raise WorkshopError(
            f"unknown component{'s' if len(unknown) > 1 else ''}: {', '.join(unknown)}",
            hint=f"valid components (in install order): {', '.join(COMPONENT_NAMES)}",
        )
    return [component for component in COMPONENTS if component.name in wanted]


def components(context: str, names: str | Iterable[str] | None = None) -> list[Component]:
    return [component(context) for component in select(names)]


def install_plan(context: str, profile: Profile, names: str | Iterable[str] | None = None) -> Plan:
    """Every selected component's install plan, in install order."""
    plan = Plan(f"install the KServe platform on {context} (profile {profile.name})")
    for component in components(context, names):
        plan.extend(component.install_plan(profile))
    return plan


def uninstall_plan(context: str, names: str | Iterable[str] | None = None) -> Plan:
    """Every selected component's uninstall plan, in reverse install order."""
    plan = Plan(f"uninstall the KServe platform from {context}")
    for component in reversed(components(context, names)):
        plan.extend(component.uninstall_plan())
    return plan


def collect_status(runner: Runner, context: str, names: str | Iterable[str] | None = None) -> list[ComponentStatus]:
    return [component.status(runner) for component in components(context, names)]
