"""Reaching the cluster's Prometheus and Grafana: chart naming, port-forward commands, credentials.

No cluster runs here: the port-forward is checked by its exact command and by kubectl's real
failure against a kubeconfig that points at a closed loopback port.
"""

from __future__ import annotations

import base64

import pytest

from kserve_workshop.metrics import grafana
from kserve_workshop.errors import WorkshopError
from kserve_workshop.processes import free_port
from kserve_workshop.metrics import cluster


@pytest.mark.parametrize(
    "release, fullname",
    [
        ("prometheus", "prometheus-kube-prometheus"),  # cut to 26 characters, as the chart does
        ("kps", "kps-kube-prometheus-stack"),
        ("kube-prometheus-stack", "kube-prometheus-stack"),  # the release name already holds the chart's
        ("monitoring-kube-prometheus-stack-extra", "monitoring-kube-prometheus"),  # cut, not extended
    ],
)
def test_stack_fullname_follows_the_chart_helper(release, fullname):
    assert cluster.stack_fullname(release) == fullname


def test_service_names_for_the_workshop_release():
    # kube-prometheus-stack's naming for release `prometheus`: Service prometheus-kube-prometheus-prometheus.monitoring:9090
    assert cluster.prometheus_service() == "prometheus-kube-prometheus-prometheus"
    assert cluster.monitoring_namespace() == "monitoring"
    assert grafana.grafana_service() == "prometheus-grafana"
    assert grafana.grafana_service("grafana") == "grafana"
    with pytest.raises(WorkshopError):
        cluster.stack_fullname("")


def test_port_forward_command_is_exact_and_loopback_only(monkeypatch):
    from kserve_workshop import kube

    forward = cluster.ServicePortForward(
        "prometheus-kube-prometheus-prometheus",
        "monitoring",
        9090,
        ready_path="/-/ready",
        context="kind-kserve-workshop",
    )
    assert forward.argv(41234) == [
        "kubectl",
        "--context",
        "kind-kserve-workshop",
        "port-forward",
        "--address",
        "127.0.0.1",
        "-n",
        "monitoring",
        "svc/prometheus-kube-prometheus-prometheus",
        "41234:9090",
    ]
    assert forward.ready_urls(41234) == ["http://127.0.0.1:41234/-/ready"]
    # Without a context: the labs' context (kube.lab_context), never whatever is current.
    monkeypatch.setattr(kube, "kube_contexts", lambda: (["prod", "kind-kserve-workshop"], "prod"))
    monkeypatch.delenv(kube.LAB_CONTEXT_ENV, raising=False)
    no_context = cluster.ServicePortForward("prometheus-grafana", "monitoring", 80)
    assert no_context.argv(1)[1:3] == ["--context", "kind-kserve-workshop"]


def test_port_forward_without_a_cluster_fails_with_kubectls_message(tmp_path, monkeypatch):
    kubeconfig = tmp_path / "config"
    kubeconfig.write_text(f"""apiVersion: v1
kind: Config
clusters: [{{name: nowhere, cluster: {{server: "https://127.0.0.1:{free_port()}"}}}}]
users: [{{name: nobody, user: {{token: none}}}}]
contexts: [{{name: kind-kserve-workshop, context: {{cluster: nowhere, user: nobody}}}}]
current-context: kind-kserve-workshop
""")
    monkeypatch.setenv("KUBECONFIG", str(kubeconfig))
    forward = cluster.ServicePortForward(
        "prometheus-kube-prometheus-prometheus", "monitoring", 9090, ready_path="/-/ready", startup_timeout=20
    )
    with pytest.raises(WorkshopError, match="exited with code") as info:
        forward.start()
    assert "connection refused" in info.value.message.lower()
    assert not forward.running


def test_missing_kubectl_is_named():
    forward = cluster.ServicePortForward("prometheus-grafana", "monitoring", 80, kubectl="kubectl-not-installed")
    with pytest.raises(WorkshopError, match="missing tool"):
        forward.start()


class SecretsApi:
    """Stands in for CoreV1Api.read_namespaced_secret (what the cluster would answer)."""

    def __init__(self, data=None, error=None):
        self.data, self.error, self.calls = data, error, []

    def read_namespaced_secret(self, name, namespace):
        self.calls.append((name, namespace))
        if self.error:
            raise self.error
        return {"data": self.data}


def b64(text: str) -> str:
    return base64.b64encode(text.encode()).decode()


def test_grafana_login_reads_the_charts_secret():
    api = SecretsApi({"admin-user": b64("admin"), "admin-password": b64("s3cret!")})
    login = grafana.grafana_login(api=api)
    assert (login.user, login.password) == ("admin", "s3cret!")
    assert api.calls == [("prometheus-grafana", "monitoring")]
    assert "s3cret" not in repr(login)


class NotFound(Exception):
    status = 404
    reason = "Not Found"


@pytest.mark.parametrize(
    "api, message",
    [
        (SecretsApi(error=NotFound()), "cannot read Secret monitoring/prometheus-grafana: not found"),
        (SecretsApi(error=ConnectionRefusedError()), "ConnectionRefusedError"),
        (SecretsApi({"admin-user": b64("admin")}), "no readable admin-user/admin-password"),
        (SecretsApi({"admin-user": "%%%", "admin-password": "%%%"}), "no readable admin-user/admin-password"),
    ],
)
def test_grafana_login_problems_are_one_clear_error(api, message):
    with pytest.raises(WorkshopError, match=message):
        grafana.grafana_login(api=api)


def test_dashboard_url_uses_the_dashboards_uid():
    assert grafana.dashboard_url("http://127.0.0.1:3000/") == "http://127.0.0.1:3000/d/kserve-workshop-models"
