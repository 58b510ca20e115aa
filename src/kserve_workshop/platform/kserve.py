"""KServe in Knative mode: the CRDs, the controller, and the serving runtimes.

``kserve-runtime-configs`` is a separate chart whose default installs nothing: without
``kserve.servingruntime.enabled=true`` no ClusterServingRuntime exists and a
``modelFormat: sklearn`` InferenceService finds no runtime. It goes in once the controller is
Available, since its runtimes pass through KServe's webhook.
"""

from __future__ import annotations

from ..plan import Plan, Runner
from ..versions import pin
from .base import (PLATFORM_MANIFESTS, Component, ComponentStatus, HelmRelease, Profile, Workload,
                   delete_namespace_step, diagnosis, get_object, install_release_step, load_yaml,
                   uninstall_release_step, wait_available, workload_from_values)

VALUES = PLATFORM_MANIFESTS / "kserve" / "kserve-resources-values.yaml"
CONTROLLER = "kserve-controller-manager"
#: The runtime the labs' sklearn models use; its absence is the classic "no runtime" failure.
SKLEARN_RUNTIME = "kserve-sklearnserver"
WORKLOADS = (("kserve-controller-manager/manager", "kserve.controller.resources"),
             ("kserve-controller-manager/kube-rbac-proxy", "kserve.controller.rbacProxy.resources"))


class KServe(Component):
    name = "kserve"
    summary = "KServe: CRDs, controller (Knative mode) and serving runtimes"

    @property
    def namespace(self) -> str:
        return pin("kserve", "namespace")

    def pinned_version(self) -> str:
        return pin("kserve")

    def _release(self, chart: str, *, values: tuple = (), sets: tuple = ()) -> HelmRelease:
        # Release names are the chart names, as in KServe's own installer.
        return HelmRelease(name=chart, chart=f"{pin('kserve', 'chart_repo')}/{chart}", chart_name=chart,
                           namespace=self.namespace, version=self.pinned_version(), values=values, sets=sets)

    def releases(self, profile: Profile | None = None) -> list[HelmRelease]:
        """In install order: kserve-crd, kserve-resources, kserve-runtime-configs."""
        resources_sets = [("kserve.version", self.pinned_version())]
        if profile is not None and profile.preloaded_images:
            resources_sets.append(("kserve.controller.imagePullPolicy", "IfNotPresent"))
        return [
            self._release("kserve-crd"),
            self._release("kserve-resources", values=(VALUES,), sets=tuple(resources_sets)),
            self._release("kserve-runtime-configs", sets=(("kserve.servingruntime.enabled", "true"),
                                                          ("kserve.llmisvcConfigs.enabled", "false"))),
        ]

    def install_plan(self, profile: Profile) -> Plan:
        crd, resources, runtimes = self.releases(profile)
        explain = diagnosis(self.context, self.namespace)
        return Plan("kserve", [
            install_release_step(self.context, crd, diagnose=explain),
            # The first try can race KServe's own webhook (not serving yet): try once more.
            install_release_step(self.context, resources, attempts=2, diagnose=explain,
                                 waits=[wait_available(self.context, self.namespace, CONTROLLER)]),
            install_release_step(self.context, runtimes, diagnose=explain),
        ])

    def uninstall_plan(self) -> Plan:
        steps = [uninstall_release_step(self.context, release) for release in reversed(self.releases())]
        return Plan("uninstall kserve", [*steps, delete_namespace_step(self.context, self.namespace)])

    def is_installed(self, runner: Runner) -> bool:
        return all(release.is_deployed(runner, self.context) for release in self.releases())

    def status(self, runner: Runner) -> ComponentStatus:
        crd, resources, runtimes = self.releases()
        for release in (crd, runtimes):
            version, helm_status = release.state(runner, self.context)
            if version is None or helm_status != "deployed":
                return ComponentStatus(self.name, self.pinned_version(), version, False,
                                       f"helm release {release.name} {'not installed' if version is None else helm_status}")
        found = self._release_status(runner, resources, [CONTROLLER])
        if found.ready and get_object(runner, self.context, "clusterservingruntime", SKLEARN_RUNTIME) is None:
            return ComponentStatus(self.name, found.pinned, found.installed, False,
                                   f"no ClusterServingRuntime {SKLEARN_RUNTIME} (kserve-runtime-configs "
                                   "needs kserve.servingruntime.enabled=true)")
        return found

    def requests(self, profile: Profile) -> list[Workload]:
        values = load_yaml(VALUES)
        return [workload_from_values(self.name, workload, values, path, source=VALUES.name)
                for workload, path in WORKLOADS]
