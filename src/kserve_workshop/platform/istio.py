"""Istio: the network layer of Knative mode. Base CRDs, istiod, and the ingress gateway.

The gateway is installed as release ``istio-ingressgateway`` so its pods carry the labels
Knative's ingress gateway selects (a wrongly named release leaves InferenceServices
``IngressNotConfigured``). On kind its Service is a NodePort (HTTP on 31080, mapped by the kind
config to 127.0.0.1:8080); on GKE a LoadBalancer.
"""

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
    deployments_ready,
    diagnosis,
    get_object,
    load_yaml,
    wait_pods,
    workload_from_values,
)
from .helm import HelmRelease, install_release_step, uninstall_release_step

VALUES_DIR = PLATFORM_MANIFESTS / "istio"
ISTIOD_VALUES = VALUES_DIR / "istiod-values.yaml"
GATEWAY_VALUES = VALUES_DIR / "gateway-values.yaml"
GATEWAY_KIND_VALUES = VALUES_DIR / "gateway-kind-values.yaml"
GATEWAY_RELEASE = "istio-ingressgateway"
#: The node port of the gateway's HTTP port on kind (manifests/cluster/kind-config.yaml maps it).
KIND_HTTP_NODE_PORT = 31080


class Istio(Component):
    name = "istio"
    summary = "Istio: base CRDs, istiod and the ingress gateway istio-ingressgateway"

    @property
    def namespace(self) -> str:
        return pin("istio", "namespace")

    def pinned_version(self) -> str:
        return pin("istio")

    def _release(self, name: str, chart: str, values: tuple = (), sets: tuple = ()) -> HelmRelease:
        return HelmRelease(
            name=name,
            chart=chart,
            chart_name=chart,
            repo=pin("istio", "chart_repo"),
            namespace=self.namespace,
            version=self.pinned_version(),
            values=values,
            sets=sets,
        )

    def releases(self, profile: Profile | None = None) -> list[HelmRelease]:
        """In install order: base (CRDs), istiod, gateway (names and charts whatever the profile)."""
        on_kind = profile is not None and profile.on_kind
        gateway_values = (GATEWAY_VALUES, GATEWAY_KIND_VALUES) if on_kind else (GATEWAY_VALUES,)
        return [
            self._release("istio-base", "base", sets=(("defaultRevision", "default"),)),
            # The sidecar injector reads global.proxy.autoInject (istio-discovery chart,
            # templates/istiod-injector-configmap.yaml); a top-level proxy.autoInject is ignored.
            self._release("istiod", "istiod", values=(ISTIOD_VALUES,), sets=(("global.proxy.autoInject", "disabled"),)),
            self._release(GATEWAY_RELEASE, "gateway", values=gateway_values),
        ]

    def install_plan(self, profile: Profile) -> Plan:
        base, istiod, gateway = self.releases(profile)
        explain = diagnosis(self.context, self.namespace)
        return Plan(
            "istio",
            [
                install_release_step(self.context, base, diagnose=explain),
                install_release_step(
                    self.context,
                    istiod,
                    diagnose=explain,
                    waits=[wait_pods(self.context, self.namespace, "app=istiod")],
                ),
                install_release_step(
                    self.context,
                    gateway,
                    diagnose=explain,
                    waits=[wait_pods(self.context, self.namespace, f"app={GATEWAY_RELEASE}")],
                ),
            ],
        )

    def uninstall_plan(self) -> Plan:
        steps = [uninstall_release_step(self.context, release) for release in reversed(self.releases())]
        return Plan("uninstall istio", [*steps, delete_namespace_step(self.context, self.namespace)])

    def is_installed(self, runner: Runner) -> bool:
        return all(release.is_deployed(runner, self.context) for release in self.releases())

    def status(self, runner: Runner) -> ComponentStatus:
        for release in self.releases():
            version, helm_status = release.state(runner, self.context)
            if version is None or helm_status != "deployed":
                state = "not installed" if version is None else helm_status
                return ComponentStatus(
                    self.name, self.pinned_version(), version, False, f"helm release {release.name} {state}"
                )
        installed = self.releases()[1].state(runner, self.context)[0]
        ready, why = deployments_ready(runner, self.context, self.namespace, ["istiod", GATEWAY_RELEASE])
        if ready:
            service = get_object(runner, self.context, "service", GATEWAY_RELEASE, self.namespace) or {}
            why = f"gateway Service type {(service.get('spec') or {}).get('type', '?')}"
        return ComponentStatus(self.name, self.pinned_version(), installed, ready, why)

    def requests(self, profile: Profile) -> list[Workload]:
        return [
            workload_from_values(self.name, "istiod", load_yaml(ISTIOD_VALUES), "resources", source=ISTIOD_VALUES.name),
            workload_from_values(
                self.name, GATEWAY_RELEASE, load_yaml(GATEWAY_VALUES), "resources", source=GATEWAY_VALUES.name
            ),
        ]
