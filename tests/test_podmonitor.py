"""The PodMonitor that scrapes InferenceService model servers: selector label, port, path, interval."""

from __future__ import annotations

import copy

import pytest

from kserve_workshop.errors import WorkshopError
from kserve_workshop.metrics import podmonitor as pm
from kserve_workshop.metrics.promql import CLUSTER_WINDOW
from kserve_workshop.versions import pin


@pytest.fixture()
def doc():
    return pm.load_podmonitor()


def test_podmonitor_has_no_problems(doc):
    assert pm.podmonitor_problems(doc) == []


def test_it_selects_every_inferenceservice_pod_in_any_namespace(doc):
    assert doc["metadata"]["namespace"] == pin("monitoring", "namespace")
    spec = doc["spec"]
    assert spec["namespaceSelector"] == {"any": True}
    assert spec["selector"] == {
        "matchExpressions": [{"key": "serving.kserve.io/inferenceservice", "operator": "Exists"}]
    }


def test_it_scrapes_the_model_server_port_not_the_queue_proxy(doc):
    (endpoint,) = doc["spec"]["podMetricsEndpoints"]
    # Knative names the user container's port "user-port" (8080 for KServe's runtimes); the
    # queue-proxy's ports have other names (queue-port, http-autometric, http-usermetric...).
    assert endpoint["port"] == "user-port"
    assert endpoint["path"] == "/metrics" and endpoint["scheme"] == "http"


def test_interval_leaves_several_scrapes_in_the_cluster_rate_window(doc):
    (endpoint,) = doc["spec"]["podMetricsEndpoints"]
    assert pm._seconds(CLUSTER_WINDOW) >= 4 * pm._seconds(endpoint["interval"])


def test_relabelings_read_labels_the_model_pods_carry(doc):
    (endpoint,) = doc["spec"]["podMetricsEndpoints"]
    sources = [label for rule in endpoint["relabelings"] for label in rule["sourceLabels"]]
    assert pm.meta_label("serving.kserve.io/inferenceservice") in sources
    assert {rule["targetLabel"] for rule in endpoint["relabelings"]} == {"inferenceservice", "component"}


def test_meta_label_follows_prometheus_sanitising():
    assert (
        pm.meta_label("serving.kserve.io/inferenceservice")
        == "__meta_kubernetes_pod_label_serving_kserve_io_inferenceservice"
    )


def endpoint_of(doc):
    return doc["spec"]["podMetricsEndpoints"][0]


@pytest.mark.parametrize(
    "breakage, message",
    [
        (lambda d: d.update(apiVersion="monitoring.coreos.com/v1alpha1"), "apiVersion monitoring.coreos.com/v1"),
        (lambda d: d.update(kind="ServiceMonitor"), "kind PodMonitor"),
        (lambda d: d["metadata"].update(namespace="default"), "monitoring namespace"),
        (lambda d: d["spec"].pop("namespaceSelector"), "namespaceSelector.any"),
        (
            lambda d: d["spec"].update(
                selector={"matchLabels": {"serving.kserve.io/inferenceservice": "sklearn-iris"}}
            ),
            "must select pods",
        ),
        (
            lambda d: d["spec"]["selector"]["matchExpressions"][0].update(key="serving.kserve.io/isvc"),
            "must select pods",
        ),
        (lambda d: endpoint_of(d).update(port="http-usermetric"), "port must be 'user-port'"),
        (lambda d: endpoint_of(d).update(port=8080), "port must be 'user-port'"),
        (lambda d: endpoint_of(d).update(path="/v2/metrics"), "path must be /metrics"),
        (lambda d: endpoint_of(d).update(interval="1m"), "interval must be"),
        (lambda d: endpoint_of(d).update(interval="5 seconds"), "interval must be"),
        (lambda d: endpoint_of(d).update(targetport=8080), "unknown podMetricsEndpoint field(s): targetport"),
        (lambda d: endpoint_of(d)["relabelings"][0].update(sourcelabels=["x"]), "unknown relabeling field"),
        (
            lambda d: endpoint_of(d)["relabelings"][0].update(
                sourceLabels=["__meta_kubernetes_pod_label_serving_kserve_io_inference_service"]
            ),
            "do not carry",
        ),
        (lambda d: d["spec"]["podMetricsEndpoints"].append({"port": "queue-port"}), "expected one podMetricsEndpoint"),
    ],
)
def test_problems_are_found_in_broken_podmonitors(doc, breakage, message):
    broken = copy.deepcopy(doc)
    breakage(broken)
    problems = pm.podmonitor_problems(broken)
    assert any(message in problem for problem in problems), problems


def test_not_an_object_and_unreadable_files_are_clear_errors(tmp_path):
    assert pm.podmonitor_problems(["a", "list"]) == ["not a Kubernetes object"]
    with pytest.raises(WorkshopError, match="cannot read"):
        pm.load_podmonitor(tmp_path / "missing.yaml")
    bad = tmp_path / "bad.yaml"
    bad.write_text("spec: [unclosed\n")
    with pytest.raises(WorkshopError, match="not valid YAML"):
        pm.load_podmonitor(bad)
    two = tmp_path / "two.yaml"
    two.write_text("a: 1\n---\nb: 2\n")
    with pytest.raises(WorkshopError, match="exactly one object"):
        pm.load_podmonitor(two)
