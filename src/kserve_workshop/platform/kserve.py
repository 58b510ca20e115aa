"""KServe in Knative mode: the CRDs, the controller, and the serving runtimes.

``kserve-runtime-configs`` is a separate chart whose default installs nothing: without
``kserve.servingruntime.enabled=true`` no ClusterServingRuntime exists and a
``modelFormat: sklearn`` InferenceService finds no runtime. It goes in once the controller is
Available, since its runtimes pass through KServe's webhook.

Uninstalling starts by deleting every InferenceService while the controller still runs: the
controller puts the finalizer ``inferenceservice.finalizers`` on each one and is the only thing
that removes it (kserve ``pkg/controller/v1beta1/inferenceservice/controller.go``). With the
controller gone first, the objects and their CRD would stay Terminating, ``helm uninstall
kserve-crd`` would time out, and a later install of the CRD chart would fail.
"""

from __future__ import annotations

import re
import shlex
from typing import Any

from ..plan import Plan, Runner, Step
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
    run_json,
    wait_available,
    workload_from_values,
)
from .helm import HelmRelease, install_release_step, uninstall_release_step

VALUES = PLATFORM_MANIFESTS / "kserve" / "kserve-resources-values.yaml"
CONTROLLER = "kserve-controller-manager"
#: The runtime the labs' sklearn models use; its absence is the classic "no runtime" failure.
SKLEARN_RUNTIME = "kserve-sklearnserver"
WORKLOADS = (
    ("kserve-controller-manager/manager", "kserve.controller.resources"),
    ("kserve-controller-manager/kube-rbac-proxy", "kserve.controller.rbacProxy.resources"),
)
#: Seconds between the two tries of kserve-resources (KServe's installer sleeps 5 s too).
RETRY_DELAY = 5
ISVC_RESOURCE = "inferenceservices.serving.kserve.io"
FINALIZER = "inferenceservice.finalizers"
#: How long every InferenceService may take to go (the controller tears down its Knative objects).
ISVC_DELETE_TIMEOUT = "300s"
# kubectl delete prints one line per object: `<kind>.<group> "<name>" deleted from <ns> namespace`
# (kubectl pkg/cmd/delete/delete.go PrintObj; older kubectl leave out " from <ns> namespace").
_DELETED_LINE = re.compile(r'^\S+ "(?P<name>[^"]+)" deleted(?: from (?P<namespace>\S+) namespace)?', re.M)


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
        return HelmRelease(
            name=chart,
            chart=f"{pin('kserve', 'chart_repo')}/{chart}",
            chart_name=chart,
            namespace=self.namespace,
            version=self.pinned_version(),
            values=values,
            sets=sets,
        )

    def releases(self, profile: Profile | None = None) -> list[HelmRelease]:
        """In install order: kserve-crd, kserve-resources, kserve-runtime-configs."""
        resources_sets = [("kserve.version", self.pinned_version())]
        if profile is not None and profile.controller_if_not_present:
            resources_sets.append(("kserve.controller.imagePullPolicy", "IfNotPresent"))
        return [
            self._release("kserve-crd"),
            self._release("kserve-resources", values=(VALUES,), sets=tuple(resources_sets)),
            self._release(
                "kserve-runtime-configs",
                sets=(("kserve.servingruntime.enabled", "true"), ("kserve.llmisvcConfigs.enabled", "false")),
            ),
        ]

    def install_plan(self, profile: Profile) -> Plan:
        crd, resources, runtimes = self.releases(profile)
        explain = diagnosis(self.context, self.namespace)
        return Plan(
            "kserve",
            [
                install_release_step(self.context, crd, diagnose=explain),
                # The first try can race KServe's own webhook (not serving yet): try once more, after
                # a pause, as KServe's installer does (hack/setup/infra/manage.kserve-helm.sh: sleep 5).
                install_release_step(
                    self.context,
                    resources,
                    attempts=2,
                    retry_delay=RETRY_DELAY,
                    diagnose=explain,
                    waits=[wait_available(self.context, self.namespace, CONTROLLER)],
                ),
                install_release_step(self.context, runtimes, diagnose=explain),
            ],
        )

    def uninstall_plan(self) -> Plan:
        steps = [uninstall_release_step(self.context, release) for release in reversed(self.releases())]
        return Plan(
            "uninstall kserve",
            [self.delete_inferenceservices_step(), *steps, delete_namespace_step(self.context, self.namespace)],
        )

    def delete_inferenceservices_step(self) -> Step:
        """Delete every InferenceService in every namespace, and wait (bounded) until they are gone."""
        return Step(
            title="delete every InferenceService while KServe's controller still runs (it removes their finalizers)",
            command=self.kubectl("delete", ISVC_RESOURCE, "--all", "--all-namespaces", "--wait=false"),
            waits=[
                self.kubectl(
                    "wait",
                    "--for=delete",
                    ISVC_RESOURCE,
                    "--all",
                    "--all-namespaces",
                    f"--timeout={ISVC_DELETE_TIMEOUT}",
                )
            ],
            is_done=lambda runner: not self.inferenceservices(runner),
            report=deleted_report,
            diagnose=self._explain_stuck_inferenceservices,
        )

    def inferenceservices(self, runner: Runner) -> list[dict]:
        """Every InferenceService in the cluster; [] when there is none or no such API (CRD gone)."""
        found = run_json(runner, self.kubectl("get", ISVC_RESOURCE, "--all-namespaces", "--output", "json"))
        items = found.get("items") if isinstance(found, dict) else None
        return [item for item in items or [] if isinstance(item, dict)]

    def _explain_stuck_inferenceservices(self, runner: Runner) -> str:
        left = self.inferenceservices(runner)
        lines = [f"{len(left)} InferenceService(s) still there:"]
        for item in left:
            meta = item.get("metadata") or {}
            lines.append(
                f"  {meta.get('namespace')}/{meta.get('name')}: finalizers {meta.get('finalizers') or []}"
                + (", being deleted" if meta.get("deletionTimestamp") else "")
            )
        running, why = deployments_ready(runner, self.context, self.namespace, [CONTROLLER])
        lines.append(f"KServe's controller: {'running' if running else why}.")
        if not running:
            patch = shlex.join(
                self.kubectl(
                    "patch",
                    ISVC_RESOURCE,
                    "NAME",
                    "--namespace",
                    "NAMESPACE",
                    "--type=merge",
                    "--patch",
                    '{"metadata":{"finalizers":null}}',
                )
            )
            lines.append(
                f"Only the controller removes the finalizer {FINALIZER}. Bring it back "
                "(`invoke platform.install --component kserve`) and uninstall again, or, if it "
                f"cannot run, remove the finalizer by hand (its Knative objects may be left):\n  {patch}"
            )
        return "\n".join(lines) + "\n\n" + diagnosis(self.context, self.namespace)(runner)

    def is_installed(self, runner: Runner) -> bool:
        return all(release.is_deployed(runner, self.context) for release in self.releases())

    def status(self, runner: Runner) -> ComponentStatus:
        crd, resources, runtimes = self.releases()
        for release in (crd, runtimes):
            version, helm_status = release.state(runner, self.context)
            if version is None or helm_status != "deployed":
                return ComponentStatus(
                    self.name,
                    self.pinned_version(),
                    version,
                    False,
                    f"helm release {release.name} {'not installed' if version is None else helm_status}",
                )
        found = self._release_status(runner, resources, [CONTROLLER])
        if found.ready and get_object(runner, self.context, "clusterservingruntime", SKLEARN_RUNTIME) is None:
            return ComponentStatus(
                self.name,
                found.pinned,
                found.installed,
                False,
                f"no ClusterServingRuntime {SKLEARN_RUNTIME} (kserve-runtime-configs "
                "needs kserve.servingruntime.enabled=true)",
            )
        return found

    def requests(self, profile: Profile) -> list[Workload]:
        values = load_yaml(VALUES)
        return [
            workload_from_values(self.name, workload, values, path, source=VALUES.name) for workload, path in WORKLOADS
        ]


def deleted_report(result: Any) -> str:
    """How many InferenceServices ``kubectl delete`` deleted, and which."""
    names = [
        f"{m['namespace']}/{m['name']}" if m["namespace"] else m["name"]
        for m in _DELETED_LINE.finditer(getattr(result, "stdout", "") or "")
    ]
    if not names:
        return "deleted no InferenceService (none was left)"
    return f"deleted {len(names)} InferenceService{'s' if len(names) > 1 else ''}: {', '.join(names)}"
