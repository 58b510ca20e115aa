"""Knative Serving through the Knative Operator: the operator chart, then a KnativeServing.

The KnativeServing in ``manifests/platform/knative/knative-serving.yaml`` carries the workshop's
settings (domain, registries that skip tag resolution, laptop-sized workloads); the plan renders
it with the pinned ``spec.version`` (and, on kind, the local registries) and applies the result.
"""

from __future__ import annotations

import copy

from ..errors import WorkshopError
from ..plan import Plan, Runner, Step
from ..versions import pin
from .base import (
    PLATFORM_MANIFESTS,
    Component,
    ComponentStatus,
    Profile,
    Workload,
    apply_file_step,
    condition_of,
    delete_namespace_step,
    deployments_ready,
    get_object,
    load_yaml,
    load_yaml_all,
    object_diagnosis,
    object_matches,
    requests_of,
    wait_pods,
    workload_from_values,
    write_rendered,
)
from .helm import HelmRelease, install_release_step, same_version, uninstall_release_step

SERVING_MANIFEST = PLATFORM_MANIFESTS / "knative" / "knative-serving.yaml"
OPERATOR_VALUES = PLATFORM_MANIFESTS / "knative" / "operator-values.yaml"
OPERATOR_CHART_URL = (
    "https://github.com/knative/operator/releases/download/knative-{version}/knative-operator-{version}.tgz"
)
SERVING_NAME = "knative-serving"
#: Registries of images loaded into kind with `kind load` (ko and the docs use these names).
KIND_LOCAL_REGISTRIES = ("kind.local", "ko.local", "dev.local")
#: Every Deployment Knative Serving 1.21 (with net-istio) runs; each must be shrunk in the CR,
#: else it keeps its upstream requests (activator alone asks for 300m).
SERVING_DEPLOYMENTS = (
    "activator",
    "autoscaler",
    "autoscaler-hpa",
    "controller",
    "webhook",
    "net-istio-controller",
    "net-istio-webhook",
)
OPERATOR_WORKLOADS = (
    ("knative-operator", "knative_operator.knative_operator.resources"),
    ("operator-webhook", "knative_operator.operator_webhook.resources"),
)


class Knative(Component):
    name = "knative"
    summary = "Knative Operator and KnativeServing (Knative mode, net-istio)"

    @property
    def namespace(self) -> str:
        return pin("knative", "serving_namespace")

    @property
    def operator_namespace(self) -> str:
        return pin("knative", "operator_namespace")

    def pinned_version(self) -> str:
        return f"{pin('knative', 'operator_version')} / serving {pin('knative', 'serving_version')}"

    def operator_release(self) -> HelmRelease:
        version = pin("knative", "operator_version")
        # The chart comes from the operator's GitHub release; its URL pins the version.
        return HelmRelease(
            name="knative-operator",
            chart=OPERATOR_CHART_URL.format(version=version),
            chart_name="knative-operator",
            namespace=self.operator_namespace,
            version=version,
            pass_version=False,
            values=(OPERATOR_VALUES,),
        )

    def serving_objects(self, profile: Profile) -> list[dict]:
        """The Namespace and KnativeServing to apply, rendered for ``profile`` with the pins."""
        objects = copy.deepcopy(load_yaml_all(SERVING_MANIFEST))
        serving = _the_serving(objects)
        spec = serving["spec"]
        spec["version"] = str(pin("knative", "serving_version"))
        if profile.on_kind:
            deployment = spec.setdefault("config", {}).setdefault("deployment", {})
            registries = [r for r in deployment.get("registries-skipping-tag-resolving", "").split(",") if r]
            registries += [r for r in KIND_LOCAL_REGISTRIES if r not in registries]
            deployment["registries-skipping-tag-resolving"] = ",".join(registries)
        return objects

    def install_plan(self, profile: Profile) -> Plan:
        objects = self.serving_objects(profile)
        path = write_rendered(self.context, "knative-serving.yaml", objects)
        operator = self.operator_release()
        apply_serving = apply_file_step(
            self.context,
            f"KnativeServing {SERVING_NAME} (serving {_the_serving(objects)['spec']['version']})",
            path,
            objects,
            waits=[
                self.kubectl(
                    "wait",
                    "--for=condition=Ready",
                    f"knativeserving/{SERVING_NAME}",
                    "--namespace",
                    self.namespace,
                    "--timeout=300s",
                )
            ],
            diagnose=object_diagnosis(self.context, "knativeserving", SERVING_NAME, self.namespace),
            is_done=lambda runner: (
                all(object_matches(runner, self.context, obj) for obj in objects) and self._serving_ready(runner)
            ),
        )
        return Plan(
            "knative",
            [
                install_release_step(
                    self.context,
                    operator,
                    waits=[wait_pods(self.context, self.operator_namespace, "name=knative-operator")],
                ),
                apply_serving,
            ],
        )

    def uninstall_plan(self) -> Plan:
        return Plan(
            "uninstall knative",
            [
                Step(
                    title=f"delete KnativeServing {SERVING_NAME} (the operator removes Knative Serving)",
                    command=self.kubectl(
                        "delete",
                        "knativeserving",
                        SERVING_NAME,
                        "--namespace",
                        self.namespace,
                        "--ignore-not-found",
                        "--wait=true",
                        "--timeout=300s",
                    ),
                    is_done=lambda runner: self._serving(runner) is None,
                ),
                delete_namespace_step(self.context, self.namespace),
                uninstall_release_step(self.context, self.operator_release()),
                delete_namespace_step(self.context, self.operator_namespace),
            ],
        )

    def _serving(self, runner: Runner) -> dict | None:
        return get_object(runner, self.context, "knativeserving", SERVING_NAME, self.namespace)

    def _serving_ready(self, runner: Runner) -> bool:
        return (condition_of(self._serving(runner)) or {}).get("status") == "True"

    def is_installed(self, runner: Runner) -> bool:
        return self.status(runner).installed == self.pinned_version()

    def status(self, runner: Runner) -> ComponentStatus:
        operator = self.operator_release()
        version, helm_status = operator.state(runner, self.context)
        if version is None or helm_status != "deployed":
            return ComponentStatus(
                self.name,
                self.pinned_version(),
                version,
                False,
                f"helm release {operator.name} {'not installed' if version is None else helm_status}",
            )
        serving = self._serving(runner)
        if serving is None:
            return ComponentStatus(
                self.name,
                self.pinned_version(),
                f"{version} / serving -",
                False,
                f"no KnativeServing {SERVING_NAME} in {self.namespace}",
            )
        serving_version = str((serving.get("status") or {}).get("version", "?"))
        if same_version(serving_version, pin("knative", "serving_version")):
            serving_version = str(pin("knative", "serving_version"))
        installed = f"{version} / serving {serving_version}"
        ready = condition_of(serving)
        if (ready or {}).get("status") != "True":
            why = "KnativeServing not Ready" + (
                f": {ready.get('reason')} {ready.get('message', '')}".rstrip() if ready else ""
            )
            return ComponentStatus(self.name, self.pinned_version(), installed, False, why)
        ok, why = deployments_ready(runner, self.context, self.namespace)
        if ok and installed != self.pinned_version():
            ok, why = False, f"installed {installed}, pinned {self.pinned_version()}: run `invoke platform.install`"
        return ComponentStatus(self.name, self.pinned_version(), installed, ok, why)

    def requests(self, profile: Profile) -> list[Workload]:
        values = load_yaml(OPERATOR_VALUES)
        out = [
            workload_from_values(self.name, workload, values, path, source=OPERATOR_VALUES.name)
            for workload, path in OPERATOR_WORKLOADS
        ]
        overrides = {w["name"]: w for w in _the_serving(self.serving_objects(profile))["spec"].get("workloads", [])}
        for deployment in SERVING_DEPLOYMENTS:
            if deployment not in overrides:
                raise WorkshopError(
                    f"{SERVING_MANIFEST.name}: Knative deployment {deployment} is not shrunk "
                    "in spec.workloads (it would keep its upstream requests)"
                )
            for container in overrides[deployment].get("resources", []):
                out.append(
                    requests_of(
                        self.name, f"{deployment}/{container.get('container')}", container, source=SERVING_MANIFEST.name
                    )
                )
        return out


def _the_serving(objects: list[dict]) -> dict:
    for obj in objects:
        if obj.get("kind") == "KnativeServing":
            return obj
    raise WorkshopError(f"{SERVING_MANIFEST} has no KnativeServing")
