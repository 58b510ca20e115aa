"""cert-manager: certificates for KServe's and Knative's webhooks (installed first)."""

from __future__ import annotations

from ..plan import Plan, Runner
from ..versions import pin
from .base import (
    PLATFORM_MANIFESTS,
    Component,
    ComponentStatus,
    Profile,
    Workload,
    delete_namespace_step,
    diagnosis,
    load_yaml,
    wait_pods,
    workload_from_values,
)
from .helm import HelmRelease, install_release_step, uninstall_release_step

VALUES = PLATFORM_MANIFESTS / "cert-manager" / "cert-manager-values.yaml"
POD_SELECTOR = "app in (cert-manager,webhook,cainjector)"
#: (workload, where its resources are in the values file)
WORKLOADS = (
    ("cert-manager", "resources"),
    ("cert-manager-webhook", "webhook.resources"),
    ("cert-manager-cainjector", "cainjector.resources"),
)


class CertManager(Component):
    name = "cert-manager"
    summary = "cert-manager: webhook certificates for KServe and Knative"

    @property
    def namespace(self) -> str:
        return pin("cert_manager", "namespace")

    def pinned_version(self) -> str:
        return pin("cert_manager")

    def release(self) -> HelmRelease:
        return HelmRelease(
            name="cert-manager",
            chart="cert-manager",
            chart_name="cert-manager",
            repo=pin("cert_manager", "chart_repo"),
            namespace=self.namespace,
            version=self.pinned_version(),
            values=(VALUES,),
            sets=(("crds.enabled", "true"),),
        )

    def install_plan(self, profile: Profile) -> Plan:
        return Plan(
            "cert-manager",
            [
                install_release_step(
                    self.context,
                    self.release(),
                    waits=[wait_pods(self.context, self.namespace, POD_SELECTOR, "180s")],
                    diagnose=diagnosis(self.context, self.namespace),
                )
            ],
        )

    def uninstall_plan(self) -> Plan:
        return Plan(
            "uninstall cert-manager",
            [uninstall_release_step(self.context, self.release()), delete_namespace_step(self.context, self.namespace)],
        )

    def is_installed(self, runner: Runner) -> bool:
        return self.release().is_deployed(runner, self.context)

    def status(self, runner: Runner) -> ComponentStatus:
        return self._release_status(runner, self.release())

    def requests(self, profile: Profile) -> list[Workload]:
        values = load_yaml(VALUES)
        return [
            workload_from_values(self.name, workload, values, path, source=VALUES.name) for workload, path in WORKLOADS
        ]
