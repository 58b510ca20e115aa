"""Monitoring: kube-prometheus-stack (Prometheus, its operator, Grafana) and the workshop's own
Grafana dashboards and PodMonitor.

Grafana's sidecar loads every ConfigMap labelled ``grafana_dashboard: "1"``; the plan builds one
from every JSON file in ``manifests/platform/monitoring/dashboards/`` (whatever is there), and
applies ``podmonitor-kserve.yaml``, which makes Prometheus scrape the model servers.
"""

from __future__ import annotations

from ..errors import WorkshopError
from ..kube import kubectl_cmd
from ..plan import Plan, Runner, Step
from ..versions import pin
from .base import (
    PLATFORM_MANIFESTS,
    Component,
    ComponentStatus,
    Profile,
    Workload,
    apply_file_step,
    delete_namespace_step,
    get_object,
    load_yaml,
    load_yaml_all,
    object_diagnosis,
    run_json,
    workload_from_values,
    write_rendered,
)
from .helm import HelmRelease, install_release_step, uninstall_release_step

MONITORING_DIR = PLATFORM_MANIFESTS / "monitoring"
VALUES = MONITORING_DIR / "kube-prometheus-stack-values.yaml"
DASHBOARDS_DIR = MONITORING_DIR / "dashboards"
PODMONITOR = MONITORING_DIR / "podmonitor-kserve.yaml"
RELEASE = "prometheus"
#: The Prometheus object the chart creates for release "prometheus" (its Service has the same name:
#: prometheus-kube-prometheus-prometheus.monitoring:9090).
PROMETHEUS = "prometheus-kube-prometheus-prometheus"
DASHBOARDS_CONFIGMAP = "kserve-workshop-dashboards"
DASHBOARD_LABEL = {"grafana_dashboard": "1"}
#: A ConfigMap holds at most 1 MiB.
CONFIGMAP_LIMIT = 1024 * 1024
#: (workload, where its resources are in the values file, how many containers use them)
WORKLOADS = (
    ("prometheus", "prometheus.prometheusSpec.resources", 1),
    ("prometheus/config-reloader", "prometheusOperator.prometheusConfigReloader.resources", 1),
    ("prometheus-operator", "prometheusOperator.resources", 1),
    ("grafana", "grafana.resources", 1),
    ("grafana/sidecars (dashboards, datasources)", "grafana.sidecar.resources", 2),
)


class Monitoring(Component):
    name = "monitoring"
    summary = "kube-prometheus-stack: Prometheus + Grafana with the workshop's dashboard and PodMonitor"

    @property
    def namespace(self) -> str:
        return pin("monitoring", "namespace")

    def pinned_version(self) -> str:
        return pin("monitoring", "kube_prometheus_stack_version")

    def release(self) -> HelmRelease:
        return HelmRelease(
            name=RELEASE,
            chart="kube-prometheus-stack",
            chart_name="kube-prometheus-stack",
            repo=pin("monitoring", "chart_repo"),
            namespace=self.namespace,
            version=self.pinned_version(),
            values=(VALUES,),
            timeout="10m",
            sets=(
                ("prometheus.prometheusSpec.serviceMonitorSelectorNilUsesHelmValues", "false"),
                ("prometheus.prometheusSpec.podMonitorSelectorNilUsesHelmValues", "false"),
            ),
        )

    def dashboards_configmap(self) -> dict | None:
        """A ConfigMap with every dashboard JSON file (None when there is none yet)."""
        files = sorted(DASHBOARDS_DIR.glob("*.json")) if DASHBOARDS_DIR.is_dir() else []
        if not files:
            return None
        data = {path.name: path.read_text() for path in files}
        size = sum(len(text.encode()) for text in data.values())
        if size > CONFIGMAP_LIMIT:
            raise WorkshopError(
                f"the dashboards in {DASHBOARDS_DIR} total {size} bytes, more than a ConfigMap holds (1 MiB)",
                hint="split or shrink the dashboard JSON",
            )
        return {
            "apiVersion": "v1",
            "kind": "ConfigMap",
            "metadata": {
                "name": DASHBOARDS_CONFIGMAP,
                "namespace": self.namespace,
                "labels": {**DASHBOARD_LABEL, "app.kubernetes.io/part-of": "kserve-workshop"},
            },
            "data": data,
        }

    def install_plan(self, profile: Profile) -> Plan:
        # The operator creates Prometheus' pod after helm returns: wait on the Prometheus object
        # itself (it exists as soon as helm is done), not on pods that may not exist yet.
        plan = Plan(
            "monitoring",
            [
                install_release_step(
                    self.context,
                    self.release(),
                    waits=[
                        self.kubectl(
                            "wait",
                            "--for=condition=Available",
                            f"prometheus/{PROMETHEUS}",
                            "--namespace",
                            self.namespace,
                            "--timeout=300s",
                        )
                    ],
                    diagnose=object_diagnosis(self.context, "prometheus", PROMETHEUS, self.namespace),
                )
            ],
        )
        configmap = self.dashboards_configmap()
        if configmap is not None:
            path = write_rendered(self.context, "grafana-dashboards.yaml", [configmap])
            plan.add(
                apply_file_step(
                    self.context,
                    f"Grafana dashboards ConfigMap {DASHBOARDS_CONFIGMAP} ({', '.join(configmap['data'])})",
                    path,
                    [configmap],
                )
            )
        if PODMONITOR.is_file():
            plan.add(
                apply_file_step(
                    self.context,
                    f"PodMonitor for the model servers ({PODMONITOR.name})",
                    PODMONITOR,
                    load_yaml_all(PODMONITOR),
                )
            )
        return plan

    def uninstall_plan(self) -> Plan:
        plan = Plan("uninstall monitoring")
        if PODMONITOR.is_file():
            objects = load_yaml_all(PODMONITOR)
            plan.add(
                Step(
                    title=f"delete the PodMonitor ({PODMONITOR.name})",
                    command=self.kubectl("delete", "--filename", str(PODMONITOR), "--ignore-not-found"),
                    is_done=lambda runner: all(_absent(runner, self.context, obj) for obj in objects),
                )
            )
        return plan.add(
            uninstall_release_step(self.context, self.release()), delete_namespace_step(self.context, self.namespace)
        )

    def is_installed(self, runner: Runner) -> bool:
        return self.release().is_deployed(runner, self.context)

    def status(self, runner: Runner) -> ComponentStatus:
        found = self._release_status(runner, self.release())
        if not found.ready:
            return found
        if not _pods_ready(runner, self.context, self.namespace, "app.kubernetes.io/name=prometheus"):
            return ComponentStatus(self.name, found.pinned, found.installed, False, "Prometheus pod not Ready")
        if (
            self.dashboards_configmap() is not None
            and get_object(runner, self.context, "configmap", DASHBOARDS_CONFIGMAP, self.namespace) is None
        ):
            return ComponentStatus(
                self.name,
                found.pinned,
                found.installed,
                False,
                f"ConfigMap {DASHBOARDS_CONFIGMAP} (Grafana dashboards) missing",
            )
        return found

    def requests(self, profile: Profile) -> list[Workload]:
        values = load_yaml(VALUES)
        out = []
        for workload, path, containers in WORKLOADS:
            for index in range(containers):
                suffix = f" #{index + 1}" if containers > 1 else ""
                out.append(workload_from_values(self.name, workload + suffix, values, path, source=VALUES.name))
        return out


def _absent(runner: Runner, context: str, obj: dict) -> bool:
    metadata = obj.get("metadata") or {}
    return get_object(runner, context, obj["kind"], metadata["name"], metadata.get("namespace")) is None


def _pods_ready(runner: Runner, context: str, namespace: str, selector: str) -> bool:
    found = run_json(
        runner,
        kubectl_cmd(context, "get", "pods", "--namespace", namespace, "--selector", selector, "--output", "json"),
    )
    pods = (found or {}).get("items") or []
    return bool(pods) and all(
        any(
            c.get("type") == "Ready" and c.get("status") == "True"
            for c in (pod.get("status") or {}).get("conditions") or []
        )
        for pod in pods
    )
