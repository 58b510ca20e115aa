"""The ``istio`` IngressClass that KServe's ingress configuration names."""

from __future__ import annotations

from ..plan import Plan, Runner, Step
from .base import (
    PLATFORM_MANIFESTS,
    Component,
    ComponentStatus,
    Profile,
    Workload,
    apply_file_step,
    get_object,
    load_yaml_all,
)

MANIFEST = PLATFORM_MANIFESTS / "ingressclass.yaml"
NAME = "istio"
CONTROLLER = "istio.io/ingress-controller"


class IngressClassComponent(Component):
    name = "ingressclass"
    summary = "IngressClass istio (controller istio.io/ingress-controller)"

    @property
    def namespace(self) -> str:
        return ""  # cluster-scoped

    def pinned_version(self) -> str:
        return "-"  # a plain object: nothing to pin

    def install_plan(self, profile: Profile) -> Plan:
        return Plan(
            "ingressclass", [apply_file_step(self.context, f"IngressClass {NAME}", MANIFEST, load_yaml_all(MANIFEST))]
        )

    def uninstall_plan(self) -> Plan:
        return Plan(
            "uninstall ingressclass",
            [
                Step(
                    title=f"delete IngressClass {NAME}",
                    command=self.kubectl("delete", "ingressclass", NAME, "--ignore-not-found"),
                    is_done=lambda runner: get_object(runner, self.context, "ingressclass", NAME) is None,
                )
            ],
        )

    def is_installed(self, runner: Runner) -> bool:
        return self.status(runner).ready

    def status(self, runner: Runner) -> ComponentStatus:
        found = get_object(runner, self.context, "ingressclass", NAME)
        if found is None:
            return ComponentStatus(self.name, "-", None, False, f"IngressClass {NAME} not found")
        controller = (found.get("spec") or {}).get("controller")
        if controller != CONTROLLER:
            return ComponentStatus(self.name, "-", "-", False, f"controller is {controller!r}, expected {CONTROLLER!r}")
        return ComponentStatus(self.name, "-", "-", True, "")

    def requests(self, profile: Profile) -> list[Workload]:
        return []  # no pods
