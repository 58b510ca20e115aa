"""The KServe platform the workshop installs: one component per module, each with the same
contract (``base.Component``), installed in the order of ``registry.COMPONENTS``.

    cert_manager -> istio -> ingressclass -> knative -> kserve -> monitoring -> storage

``base`` holds the contract and the pieces the plans are built from, ``helm`` the Helm releases.
"""

from .base import DEFAULT_PROFILE, PROFILES, Component, ComponentStatus, Profile, Workload, get_profile
from .registry import COMPONENT_NAMES, COMPONENTS, collect_status, components, install_plan, select, uninstall_plan

__all__ = [
    "COMPONENTS",
    "COMPONENT_NAMES",
    "DEFAULT_PROFILE",
    "PROFILES",
    "Component",
    "ComponentStatus",
    "Profile",
    "Workload",
    "collect_status",
    "components",
    "get_profile",
    "install_plan",
    "select",
    "uninstall_plan",
]
