"""`invoke status`: pinned vs installed version, ready or why not, per component."""

from __future__ import annotations

import pytest

from kserve_workshop.platform import collect_status, components
from kserve_workshop.versions import pin

from support.platform_fakes import ClusterState, deployment, installed_state, ready_pod, runner

KIND = "kind-kserve-workshop"


@pytest.fixture(autouse=True)
def _cache(tmp_path, monkeypatch):
    monkeypatch.setenv("WORKSHOP_CACHE", str(tmp_path / "cache"))


def rows(state: ClusterState) -> dict:
    run, ctx = runner(state)
    found = {row.name: row for row in collect_status(run, KIND)}
    assert ctx.changes() == [], "status must only read"
    return found


def test_installed_platform_is_all_ready_at_the_pins():
    found = rows(installed_state(KIND))
    assert all(row.ready for row in found.values()), {n: r.reason for n, r in found.items() if not r.ready}
    assert found["kserve"].installed == pin("kserve") == found["kserve"].pinned
    assert found["cert-manager"].installed == pin("cert_manager")
    assert found["istio"].installed == pin("istio")
    assert found["monitoring"].installed == pin("monitoring", "kube_prometheus_stack_version")
    assert found["storage"].installed == pin("seaweedfs")
    assert found["knative"].installed == (
        f"{pin('knative', 'operator_version')} / serving {pin('knative', 'serving_version')}"
    )
    assert "NodePort" in found["istio"].reason


def test_empty_cluster_says_what_is_missing():
    found = rows(ClusterState())
    assert not any(row.ready for row in found.values())
    assert all(row.installed is None for row in found.values())
    assert found["cert-manager"].reason == "helm release cert-manager not installed"
    assert found["ingressclass"].reason == "IngressClass istio not found"
    assert found["storage"].reason == "no deployment seaweedfs in model-store"


def test_a_deployment_that_is_not_available_is_named():
    state = installed_state(KIND)
    state.deployments["kserve"] = [deployment("kserve-controller-manager", available=0)]
    assert rows(state)["kserve"].reason == "kserve-controller-manager 0/1 available"


def test_missing_runtimes_are_the_classic_kserve_failure():
    state = installed_state(KIND)
    del state.objects[("clusterservingruntime", "kserve-sklearnserver", None)]
    found = rows(state)["kserve"]
    assert not found.ready and "kserve.servingruntime.enabled=true" in found.reason


def test_an_older_release_is_not_ready():
    state = installed_state(KIND)
    state.releases["cert-manager"] = ("cert-manager-v1.10.0", "deployed")
    found = rows(state)["cert-manager"]
    assert not found.ready and found.installed == "v1.10.0" and "pinned" in found.reason


def test_a_failed_release_is_reported():
    state = installed_state(KIND)
    state.releases["istiod"] = (f"istiod-{pin('istio')}", "failed")
    assert rows(state)["istio"].reason == "helm release istiod failed"


def test_knative_serving_not_ready_shows_its_reason():
    state = installed_state(KIND)
    serving = state.objects[("knativeserving", "knative-serving", "knative-serving")]
    serving["status"]["conditions"] = [{"type": "Ready", "status": "False", "reason": "DeploymentsNotReady"}]
    found = rows(state)["knative"]
    assert not found.ready and "DeploymentsNotReady" in found.reason


def test_prometheus_pod_not_ready():
    state = installed_state(KIND)
    state.pods["monitoring"] = [ready_pod("prometheus-0", ready=False)]
    assert rows(state)["monitoring"].reason == "Prometheus pod not Ready"


def test_store_without_its_credentials_is_not_ready():
    state = installed_state(KIND)
    del state.objects[("secret", "kserve-models-s3", "default")]
    found = rows(state)["storage"]
    assert not found.ready and found.reason == "missing: default/kserve-models-s3"


def test_wrong_ingressclass_controller():
    state = installed_state(KIND)
    state.objects[("ingressclass", "istio", None)]["spec"]["controller"] = "nginx"
    assert "expected 'istio.io/ingress-controller'" in rows(state)["ingressclass"].reason


def test_is_installed_matches_status():
    state = installed_state(KIND)
    run, _ = runner(state)
    assert all(component.is_installed(run) for component in components(KIND))
    run, _ = runner(ClusterState())
    assert not any(component.is_installed(run) for component in components(KIND))


def test_knative_operator_chart_version_without_v_counts_as_the_pin():
    """helm list says knative-operator-1.21.1 for the release the pin calls v1.21.1."""
    state = installed_state(KIND)
    assert state.releases["knative-operator"][0] == "knative-operator-" + pin("knative", "operator_version")[1:]
    found = rows(state)["knative"]
    assert found.ready and found.installed == found.pinned
    run, ctx = runner(state)
    assert components(KIND, "knative")[0].is_installed(run)


@pytest.mark.parametrize(
    "chart, counts",
    [
        ("knative-operator-1.21.1", True),
        ("knative-operator-v1.21.1", True),
        ("knative-operator-1.20.0", False),
        ("knative-operator-v1.21.10", False),
        ("knative-operator-", False),
    ],
)
def test_operator_versions_are_compared_without_their_v(chart, counts):
    from kserve_workshop.platform.helm import same_version

    state = installed_state(KIND)
    state.releases["knative-operator"] = (chart, "deployed")
    found = rows(state)["knative"]
    assert found.ready is counts
    assert (found.installed == found.pinned) is counts
    if not counts:
        assert "run `invoke platform.install`" in found.reason or not found.ready
    assert same_version("v1.21.1", "1.21.1") and not same_version("1.21.1", "1.21.10") and not same_version("", "")
