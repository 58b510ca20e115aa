"""InferenceService helpers: manifests, status and traffic parsing, the polling logic, ingress.

Objects below follow the shapes KServe v0.20 and Knative 1.21 document for
``status.conditions``, ``status.components.predictor.traffic`` and ``status.url``. The fake API
objects record what our code asks of the Kubernetes client: they unit-test our logic only.
"""

from __future__ import annotations

import copy
import json
import socket
import sys
import textwrap
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from kubernetes.client.exceptions import ApiException

from kserve_workshop import ingress, serving
from kserve_workshop.errors import WorkshopError
from kserve_workshop.processes import free_port
from kserve_workshop.paths import REPO_ROOT

MODEL_URI = "gs://kfserving-examples/models/sklearn/1.0/model"
LAB2_MANIFEST = "manifests/labs/02-first-inferenceservice/sklearn-iris.yaml"

# A canary at 20 % with tag routing, as the API returns it once Ready (abridged).
CANARY_ISVC = {
    "apiVersion": "serving.kserve.io/v1beta1",
    "kind": "InferenceService",
    "metadata": {
        "name": "iris-rollout",
        "namespace": "default",
        "generation": 2,
        "resourceVersion": "4242",
        "creationTimestamp": "2026-08-21T11:57:21Z",
        "annotations": {"serving.kserve.io/enable-tag-routing": "true"},
    },
    "spec": {
        "predictor": {
            "canaryTrafficPercent": 20,
            "minReplicas": 1,
            "model": {
                "modelFormat": {"name": "sklearn"},
                "runtime": "kserve-sklearnserver",
                "storageUri": MODEL_URI + "-2",
            },
        }
    },
    "status": {
        "url": "http://iris-rollout.default.example.com",
        "address": {"url": "http://iris-rollout-predictor.default.svc.cluster.local"},
        "observedGeneration": 2,
        "conditions": [
            {"type": "IngressReady", "status": "True"},
            {"type": "PredictorReady", "status": "True"},
            {"type": "Ready", "status": "True"},
        ],
        "components": {
            "predictor": {
                "latestCreatedRevision": "iris-rollout-predictor-00002",
                "latestReadyRevision": "iris-rollout-predictor-00002",
                "latestRolledoutRevision": "iris-rollout-predictor-00001",
                "traffic": [
                    {
                        "latestRevision": True,
                        "percent": 20,
                        "revisionName": "iris-rollout-predictor-00002",
                        "tag": "latest",
                        "url": "http://latest-iris-rollout-predictor.default.example.com",
                    },
                    {
                        "latestRevision": False,
                        "percent": 80,
                        "revisionName": "iris-rollout-predictor-00001",
                        "tag": "prev",
                        "url": "http://prev-iris-rollout-predictor.default.example.com",
                    },
                ],
            }
        },
    },
}


def with_status(**changes) -> dict:
    isvc = copy.deepcopy(CANARY_ISVC)
    isvc["status"].update(changes)
    return isvc


def ready_condition(value: str, reason: str | None = None, message: str | None = None) -> list[dict]:
    item = {"type": "Ready", "status": value}
    if reason:
        item.update(reason=reason, message=message or "")
    return [item]


# ------------------------------------------------------------------------------------ manifests


def test_build_isvc_defaults_to_the_sklearn_runtime_and_small_resources():
    assert serving.build_isvc("sklearn-iris", MODEL_URI) == {
        "apiVersion": "serving.kserve.io/v1beta1",
        "kind": "InferenceService",
        "metadata": {"name": "sklearn-iris"},
        "spec": {
            "predictor": {
                "model": {
                    "modelFormat": {"name": "sklearn"},
                    "runtime": "kserve-sklearnserver",
                    "storageUri": MODEL_URI,
                    "resources": {
                        "requests": {"cpu": "50m", "memory": "128Mi"},
                        "limits": {"cpu": "100m", "memory": "256Mi"},
                    },
                }
            }
        },
    }


def test_build_isvc_sets_autoscaling_canary_protocol_and_annotations():
    manifest = serving.build_isvc(
        "iris",
        MODEL_URI,
        namespace="labs",
        protocol_version="v2",
        min_replicas=0,
        max_replicas=3,
        scale_target=1,
        scale_metric="concurrency",
        canary_traffic_percent=20,
        service_account="sa",
        annotations={"serving.kserve.io/enable-tag-routing": "true"},
        env={"PREDICT_PROBA": "true"},
    )
    predictor = manifest["spec"]["predictor"]
    assert manifest["metadata"] == {
        "name": "iris",
        "namespace": "labs",
        "annotations": {"serving.kserve.io/enable-tag-routing": "true"},
    }
    assert {key: predictor[key] for key in predictor if key != "model"} == {
        "minReplicas": 0,
        "maxReplicas": 3,
        "scaleTarget": 1,
        "scaleMetric": "concurrency",
        "canaryTrafficPercent": 20,
        "serviceAccountName": "sa",
    }
    assert predictor["model"]["protocolVersion"] == "v2"
    assert predictor["model"]["runtime"] == "kserve-sklearnserver"
    assert predictor["model"]["env"] == [{"name": "PREDICT_PROBA", "value": "true"}]


def test_build_isvc_matches_the_lab2_manifest():
    # The lab manifests name no namespace: `kubectl apply -n NAMESPACE` (or apply_isvc) chooses it.
    built = serving.build_isvc("sklearn-iris", MODEL_URI, min_replicas=1)
    assert built == serving.load_manifest(LAB2_MANIFEST)
    assert serving.build_isvc("sklearn-iris", MODEL_URI, namespace="default", min_replicas=1)["metadata"] == {
        "name": "sklearn-iris",
        "namespace": "default",
    }


@pytest.mark.parametrize(
    "changes, message",
    [
        ({"name": "Sklearn_Iris"}, "invalid InferenceService name"),
        ({"name": "x" * 48}, "invalid InferenceService name"),
        ({"storage_uri": "/tmp/model"}, "invalid storage URI"),
        ({"storage_uri": "ftp://host/model"}, "invalid storage URI"),
        ({"scale_metric": "qps"}, "scale_metric must be one of"),
        ({"protocol_version": "v3"}, "protocol_version must be one of"),
        ({"canary_traffic_percent": 101}, "canary_traffic_percent must be an integer between 0 and 100"),
        ({"canary_traffic_percent": 20.5}, "canary_traffic_percent must be an integer"),
        ({"min_replicas": -1}, "min_replicas must be an integer >= 0"),
        ({"scale_target": True}, "scale_target must be an integer"),
        ({"min_replicas": 3, "max_replicas": 2}, "max_replicas (2) is below min_replicas (3)"),
        ({"resources": {"request": {"cpu": "1"}}}, "resources may only have"),
    ],
)
def test_build_isvc_rejects_bad_arguments(changes, message):
    arguments = {"name": "sklearn-iris", "storage_uri": MODEL_URI, **changes}
    with pytest.raises(WorkshopError, match=message.replace("(", r"\(").replace(")", r"\)")):
        serving.build_isvc(**arguments)


def test_qps_gets_a_hint_towards_rps():
    with pytest.raises(WorkshopError) as info:
        serving.build_isvc("iris", MODEL_URI, scale_metric="qps")
    assert "rps" in info.value.hint


def test_load_manifest_reads_a_path_relative_to_the_repo(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    manifest = serving.load_manifest(LAB2_MANIFEST)
    assert manifest["metadata"]["name"] == "sklearn-iris"
    assert serving.storage_uri_of(manifest) == MODEL_URI


def write(tmp_path, text: str):
    path = tmp_path / "isvc.yaml"
    path.write_text(textwrap.dedent(text))
    return path


@pytest.mark.parametrize(
    "text, message",
    [
        ("kind: [unclosed", "is not valid YAML"),
        ("---\na: 1\n---\nb: 2\n", "exactly one object, found 2"),
        ("- a\n- b\n", "must be a mapping"),
        ("apiVersion: v1\nkind: Service\nmetadata: {name: x}\n", "is not an InferenceService"),
        (
            "apiVersion: serving.kserve.io/v1beta1\nkind: InferenceService\nmetadata: {}\nspec: {predictor: {}}\n",
            "has no metadata.name",
        ),
        (
            "apiVersion: serving.kserve.io/v1beta1\nkind: InferenceService\nmetadata: {name: Iris}\n",
            "invalid InferenceService name",
        ),
        (
            "apiVersion: serving.kserve.io/v1beta1\nkind: InferenceService\nmetadata: {name: iris}\nspec: {}\n",
            "has no spec.predictor",
        ),
    ],
)
def test_load_manifest_rejects_what_is_not_one_inferenceservice(tmp_path, text, message):
    with pytest.raises(WorkshopError, match=message):
        serving.load_manifest(write(tmp_path, text))


def test_load_manifest_reports_a_missing_file(tmp_path):
    with pytest.raises(WorkshopError, match="manifest not found"):
        serving.load_manifest(tmp_path / "nope.yaml")


def test_promotion_manifest_drops_the_canary_field_and_status_but_keeps_the_resource_version():
    body = serving.promotion_manifest(CANARY_ISVC)
    assert "canaryTrafficPercent" not in body["spec"]["predictor"]
    assert "status" not in body
    assert body["metadata"]["resourceVersion"] == "4242"
    assert body["spec"]["predictor"]["model"]["storageUri"] == MODEL_URI + "-2"
    assert CANARY_ISVC["spec"]["predictor"]["canaryTrafficPercent"] == 20  # the input is untouched


def test_rollback_patch_sets_zero_percent():
    assert serving.rollback_patch() == {"spec": {"predictor": {"canaryTrafficPercent": 0}}}


# ------------------------------------------------------------------------------ status reading


@pytest.mark.parametrize(
    "isvc, generation, ready",
    [
        (CANARY_ISVC, None, True),
        (CANARY_ISVC, 2, True),
        (CANARY_ISVC, 3, False),  # the Ready=True is about an older spec
        (with_status(conditions=ready_condition("False", "RevisionMissing", "Configuration is waiting")), None, False),
        (with_status(conditions=ready_condition("Unknown")), None, False),
        (with_status(conditions=[{"type": "PredictorReady", "status": "True"}]), None, False),
        ({"metadata": {"name": "x"}}, None, False),
        (with_status(observedGeneration=None), 1, False),
    ],
)
def test_is_ready(isvc, generation, ready):
    assert serving.is_ready(isvc, generation) is ready


def test_traffic_from_status_reads_every_target():
    assert serving.traffic_from_status(CANARY_ISVC) == [
        serving.TrafficTarget(
            "iris-rollout-predictor-00002",
            20,
            True,
            "latest",
            "http://latest-iris-rollout-predictor.default.example.com",
        ),
        serving.TrafficTarget(
            "iris-rollout-predictor-00001", 80, False, "prev", "http://prev-iris-rollout-predictor.default.example.com"
        ),
    ]


def test_a_zero_percent_target_omitted_by_knative_reads_as_zero():
    isvc = copy.deepcopy(CANARY_ISVC)
    isvc["status"]["components"]["predictor"]["traffic"] = [
        {"latestRevision": True, "revisionName": "iris-rollout-predictor-00003", "tag": "latest"},
        {"latestRevision": False, "percent": 100, "revisionName": "iris-rollout-predictor-00002", "tag": "prev"},
    ]
    roles = serving.traffic_by_role(isvc)
    assert (roles["latest"].percent, roles["prev"].percent) == (0, 100)


def test_traffic_is_empty_before_the_controller_reports_it():
    assert serving.traffic_from_status({"status": {}}) == []
    assert serving.traffic_by_role({}) == {}


def test_tagged_hosts_come_from_the_reported_urls():
    assert serving.tagged_hosts(CANARY_ISVC) == {
        "latest": "latest-iris-rollout-predictor.default.example.com",
        "prev": "prev-iris-rollout-predictor.default.example.com",
    }


def test_host_from_status_is_the_netloc_of_status_url():
    assert serving.host_from_status(CANARY_ISVC) == "iris-rollout.default.example.com"


def test_host_from_status_without_url_explains_what_to_do():
    with pytest.raises(WorkshopError, match="has no status.url yet") as info:
        serving.host_from_status({"metadata": {"name": "iris"}, "status": {"conditions": []}})
    assert "wait_ready" in info.value.hint


def test_describe_conditions_lists_reasons():
    isvc = with_status(
        conditions=ready_condition("False", "ModelLoadFailed", "no model file"),
        modelStatus={"transitionStatus": "BlockedByFailedLoad"},
    )
    text = serving.describe_conditions(isvc)
    assert "Ready=False (ModelLoadFailed: no model file)" in text
    assert "transitionStatus=BlockedByFailedLoad" in text
    assert "no status conditions" in serving.describe_conditions({})


# -------------------------------------------------------------------- the API calls, recorded


def api_exception(status: int, reason: str | None = None, message: str = "boom") -> ApiException:
    exc = ApiException(status=status, reason=reason or "Error")
    exc.body = json.dumps({"kind": "Status", "reason": reason, "message": message})
    return exc


class RecordingApi:
    """Stands in for CustomObjectsApi: records calls, answers from a script."""

    def __init__(self, **answers):
        self.calls: list[tuple] = []
        self.answers = answers

    def _answer(self, method, *args):
        self.calls.append((method, *args))
        answer = self.answers.get(method)
        if isinstance(answer, list):
            answer = answer.pop(0)
        if isinstance(answer, Exception):
            raise answer
        return answer if answer is not None else (args[-1] if args and isinstance(args[-1], dict) else {})

    def create_namespaced_custom_object(self, *args):
        return self._answer("create", *args)

    def replace_namespaced_custom_object(self, *args):
        return self._answer("replace", *args)

    def patch_namespaced_custom_object(self, *args):
        return self._answer("patch", *args)

    def get_namespaced_custom_object(self, *args):
        return self._answer("get", *args)

    def delete_namespaced_custom_object(self, *args):
        return self._answer("delete", *args)

    def list_namespaced_custom_object(self, *args):
        return self._answer("list", *args)


GVP = ("serving.kserve.io", "v1beta1")


def test_apply_creates_when_absent():
    api = RecordingApi()
    manifest = serving.load_manifest(LAB2_MANIFEST)
    serving.apply_isvc(manifest, api=api)
    assert [call[0] for call in api.calls] == ["create"]
    assert api.calls[0][1:5] == (*GVP, "default", "inferenceservices")


def test_apply_replaces_with_the_current_resource_version_when_it_exists():
    api = RecordingApi(
        create=api_exception(409, "AlreadyExists", 'inferenceservices "sklearn-iris" already exists'),
        get={"metadata": {"name": "sklearn-iris", "resourceVersion": "77"}},
    )
    manifest = serving.load_manifest(LAB2_MANIFEST)
    serving.apply_isvc(manifest, api=api)
    assert [call[0] for call in api.calls] == ["create", "get", "replace"]
    method, group, version, namespace, plural, name, body = api.calls[2]
    assert (namespace, name, body["metadata"]["resourceVersion"]) == ("default", "sklearn-iris", "77")
    assert "resourceVersion" not in manifest["metadata"]  # the caller's dict is not modified


def test_apply_reports_a_webhook_denial_in_one_message():
    denial = 'admission webhook "inferenceservice.kserve-webhook-server.validator" denied the request: bad'
    api = RecordingApi(create=api_exception(422, "Invalid", denial))
    with pytest.raises(WorkshopError, match="rejected by the API server") as info:
        serving.apply_isvc(serving.load_manifest(LAB2_MANIFEST), api=api)
    assert denial in info.value.message
    assert [call[0] for call in api.calls] == ["create"]


def test_apply_refuses_a_namespace_that_contradicts_the_manifest():
    manifest = serving.load_manifest(LAB2_MANIFEST)
    manifest["metadata"]["namespace"] = "default"
    with pytest.raises(WorkshopError, match="namespace 'default' but 'prod' was asked for"):
        serving.apply_isvc(manifest, "prod", api=RecordingApi())


def test_apply_refuses_something_that_is_not_an_inferenceservice():
    with pytest.raises(WorkshopError, match="is not an InferenceService"):
        serving.apply_isvc({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "x"}}, api=RecordingApi())


def test_promote_replaces_the_current_object_without_canary_percent():
    api = RecordingApi(get=copy.deepcopy(CANARY_ISVC))
    serving.promote("iris-rollout", "default", api=api)
    assert [call[0] for call in api.calls] == ["get", "replace"]
    body = api.calls[1][-1]
    assert "canaryTrafficPercent" not in body["spec"]["predictor"]
    assert body["metadata"]["resourceVersion"] == "4242"
    assert "status" not in body


def test_rollback_sends_a_merge_patch_of_zero():
    api = RecordingApi()
    serving.rollback("iris-rollout", "default", api=api)
    assert api.calls == [
        (
            "patch",
            *GVP,
            "default",
            "inferenceservices",
            "iris-rollout",
            {"spec": {"predictor": {"canaryTrafficPercent": 0}}},
        )
    ]


def test_patch_refuses_an_empty_patch():
    with pytest.raises(WorkshopError, match="non-empty mapping"):
        serving.patch_isvc("iris", {}, api=RecordingApi())


@pytest.mark.parametrize(
    "error, kind, text",
    [
        (api_exception(404, "NotFound", 'inferenceservices "x" not found'), serving.IsvcNotFound, "not found"),
        (api_exception(403, "Forbidden", "cannot get"), WorkshopError, "access denied"),
        (api_exception(409, "Conflict", "the object has been modified"), WorkshopError, "conflict"),
        (api_exception(503, "ServiceUnavailable", "etcd"), serving.ApiUnavailable, "answered 503"),
        (ConnectionRefusedError("refused"), serving.ApiUnavailable, "cannot reach the cluster"),
    ],
)
def test_client_errors_become_one_clear_message(error, kind, text):
    with pytest.raises(kind, match=text):
        serving.get_isvc("x", api=RecordingApi(get=error))


def test_delete_is_quiet_about_a_missing_object_unless_asked():
    missing = api_exception(404, "NotFound", "not found")
    assert serving.delete_isvc("x", api=RecordingApi(delete=missing)) is False
    with pytest.raises(serving.IsvcNotFound):
        serving.delete_isvc("x", api=RecordingApi(delete=missing), missing_ok=False)


def test_delete_with_wait_polls_until_gone():
    api = RecordingApi(get=[{"metadata": {}}, {"metadata": {}}, api_exception(404, "NotFound")])
    sleeps = []
    assert serving.delete_isvc("x", api=api, wait=True, sleep=sleeps.append) is True
    assert [call[0] for call in api.calls] == ["delete", "get", "get", "get"]
    assert sleeps == [2, 2]


def test_get_traffic_reads_the_api_object():
    traffic = serving.get_traffic("iris-rollout", api=RecordingApi(get=CANARY_ISVC))
    assert [(t.tag, t.percent) for t in traffic] == [("latest", 20), ("prev", 80)]


# ------------------------------------------------------------------------------------- waiting


class FakeClock:
    def __init__(self):
        self.now = 0.0
        self.sleeps: list[float] = []

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds

    def __call__(self) -> float:
        return self.now


def scripted_get(*objects):
    """A get function answering each poll with the next object (the last one repeats)."""
    calls = []

    def get(name, namespace):
        calls.append((name, namespace))
        item = objects[min(len(calls) - 1, len(objects) - 1)]
        if isinstance(item, Exception):
            raise item
        return item

    get.calls = calls
    return get


NOT_READY = with_status(conditions=ready_condition("False", "RevisionMissing", "Revision is not ready"))


def test_wait_ready_polls_with_backoff_until_ready():
    clock = FakeClock()
    get = scripted_get(NOT_READY, NOT_READY, NOT_READY, CANARY_ISVC)
    result = serving.wait_ready("iris-rollout", get=get, sleep=clock.sleep, clock=clock, timeout=60)
    assert result["metadata"]["name"] == "iris-rollout"
    assert len(get.calls) == 4 and get.calls[0] == ("iris-rollout", "default")
    assert clock.sleeps == [1, 2, 4]


def test_wait_ready_waits_for_the_expected_generation():
    stale = with_status(observedGeneration=1)  # Ready=True, but for the previous spec
    clock = FakeClock()
    get = scripted_get(stale, stale, CANARY_ISVC)
    serving.wait_ready("iris-rollout", expected_generation=2, get=get, sleep=clock.sleep, clock=clock)
    assert len(get.calls) == 3


def test_wait_ready_times_out_with_the_diagnosis():
    clock = FakeClock()
    with pytest.raises(WorkshopError) as info:
        serving.wait_ready(
            "iris-rollout",
            expected_generation=3,
            timeout=30,
            get=scripted_get(CANARY_ISVC),
            explain=lambda name, ns: f"DIAGNOSIS of {ns}/{name}: pods Pending (Insufficient cpu)",
            sleep=clock.sleep,
            clock=clock,
            max_interval=10,
        )
    text = str(info.value)
    assert "is not Ready after 30s" in text
    assert "Waiting for generation 3; the controller has observed 2" in text
    assert "DIAGNOSIS of default/iris-rollout: pods Pending" in text
    assert clock.now == 30  # never sleeps past the bound
    assert clock.sleeps == [1, 2, 4, 8, 10, 5]


def test_wait_ready_falls_back_to_the_raw_conditions_when_diagnose_fails():
    def broken(name, namespace):
        raise RuntimeError("diagnose unavailable")

    clock = FakeClock()
    with pytest.raises(WorkshopError, match="Ready=False \\(RevisionMissing: Revision is not ready\\)"):
        serving.wait_ready(
            "iris-rollout", timeout=5, get=scripted_get(NOT_READY), explain=broken, sleep=clock.sleep, clock=clock
        )


def test_wait_ready_retries_api_hiccups_but_not_a_missing_object():
    clock = FakeClock()
    hiccup = serving.ApiUnavailable("the API server answered 503")
    get = scripted_get(hiccup, hiccup, CANARY_ISVC)
    serving.wait_ready("iris-rollout", get=get, sleep=clock.sleep, clock=clock)
    assert len(get.calls) == 3
    with pytest.raises(serving.IsvcNotFound):
        serving.wait_ready("nope", get=scripted_get(serving.IsvcNotFound("not found")), sleep=clock.sleep, clock=clock)


def test_wait_ready_says_when_the_api_never_answered():
    clock = FakeClock()
    with pytest.raises(WorkshopError, match="The API server never answered"):
        serving.wait_ready(
            "x",
            timeout=3,
            get=scripted_get(serving.ApiUnavailable("refused")),
            explain=lambda n, ns: "",
            sleep=clock.sleep,
            clock=clock,
        )


# ------------------------------------------------------------------------------------- ingress


@pytest.fixture
def listener():
    """Something listening on a free loopback port."""
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    sock.listen()
    yield sock.getsockname()[1]
    sock.close()


def test_kind_ingress_is_the_port_mapping_when_it_answers(monkeypatch, listener):
    monkeypatch.setattr(ingress, "KIND_INGRESS_URL", f"http://127.0.0.1:{listener}")
    assert serving.ingress_endpoint("kind-kserve-workshop") == f"http://127.0.0.1:{listener}"


def test_kind_ingress_not_answering_without_port_forward_is_an_error(monkeypatch):
    monkeypatch.setattr(ingress, "KIND_INGRESS_URL", f"http://127.0.0.1:{free_port()}")
    with pytest.raises(WorkshopError, match="the kind port mapping"):
        serving.ingress_endpoint("kind-kserve-workshop", allow_port_forward=False)


def test_kind_ingress_falls_back_to_a_port_forward(monkeypatch):
    monkeypatch.setattr(ingress, "KIND_INGRESS_URL", f"http://127.0.0.1:{free_port()}")
    monkeypatch.setattr(ingress, "_shared_port_forward", lambda context: f"forwarded for {context}")
    assert serving.ingress_endpoint("kind-kserve-workshop") == "forwarded for kind-kserve-workshop"


class GatewayApi:
    def __init__(self, service):
        self.service = service

    def read_namespaced_service(self, name, namespace):
        assert (name, namespace) == ("istio-ingressgateway", "istio-system")
        return self.service


LB_SERVICE = {"spec": {"type": "LoadBalancer"}, "status": {"loadBalancer": {"ingress": [{"ip": "34.1.2.3"}]}}}


def test_gke_ingress_is_the_load_balancer_address():
    assert serving.ingress_endpoint("gke_proj_europe-west1_workshop", api=GatewayApi(LB_SERVICE)) == "http://34.1.2.3"


def test_gke_ingress_without_an_address_yet_is_an_error_with_a_hint():
    pending = {"spec": {"type": "LoadBalancer"}, "status": {"loadBalancer": {}}}
    with pytest.raises(WorkshopError, match="no load-balancer address yet") as info:
        serving.ingress_endpoint("gke_p_z_c", api=GatewayApi(pending), allow_port_forward=False)
    assert "-w" in info.value.hint


@pytest.mark.parametrize(
    "service, address",
    [
        (LB_SERVICE, "34.1.2.3"),
        (
            {"spec": {"type": "LoadBalancer"}, "status": {"loadBalancer": {"ingress": [{"hostname": "lb.example"}]}}},
            "lb.example",
        ),
        ({"spec": {"type": "NodePort"}, "status": {"loadBalancer": {"ingress": [{"ip": "1.2.3.4"}]}}}, None),
        ({"spec": {"type": "LoadBalancer"}}, None),
    ],
)
def test_load_balancer_address(service, address):
    assert serving.load_balancer_address(service) == address


def test_ingress_endpoint_without_any_context_says_how_to_get_one(monkeypatch):
    from kserve_workshop import kube

    monkeypatch.setattr(kube, "kube_contexts", lambda: ([], None))
    monkeypatch.delenv(kube.LAB_CONTEXT_ENV, raising=False)
    with pytest.raises(WorkshopError, match="no workshop cluster in your kubeconfig") as info:
        serving.ingress_endpoint()
    assert "invoke up" in info.value.hint and "WORKSHOP_KUBE_CONTEXT" in info.value.hint


def test_port_forward_command_binds_loopback_only():
    forward = serving.ingress_port_forward("kind-kserve-workshop", port=18080)
    assert forward.argv(18080) == [
        "kubectl",
        "--context",
        "kind-kserve-workshop",
        "port-forward",
        "--address",
        "127.0.0.1",
        "-n",
        "istio-system",
        "svc/istio-ingressgateway",
        "18080:80",
    ]
    assert forward.ready_urls(18080) == ["tcp://127.0.0.1:18080"]


FAKE_KUBECTL = """\
#!{python}
# Stands in for `kubectl port-forward`: listens on the local port it is given, like kubectl does.
import socket, sys, time
local = int(sys.argv[-1].split(":")[0])
if "{mode}" == "fail":
    print("error: services \\"istio-ingressgateway\\" not found", flush=True)
    sys.exit(1)
server = socket.socket(); server.bind(("127.0.0.1", local)); server.listen()
print("Forwarding from 127.0.0.1:%d -> 8080" % local, flush=True)
time.sleep(60)
"""


def fake_kubectl(tmp_path, mode: str) -> str:
    path = tmp_path / f"kubectl-{mode}"
    path.write_text(FAKE_KUBECTL.format(python=sys.executable, mode=mode))
    path.chmod(0o755)
    return str(path)


def test_port_forward_starts_waits_for_the_port_and_stops(tmp_path):
    forward = serving.ingress_port_forward(
        "kind-kserve-workshop", kubectl=fake_kubectl(tmp_path, "ok"), startup_timeout=10
    )
    with forward:
        assert serving.port_open("127.0.0.1", forward.port)
        assert forward.url == f"http://127.0.0.1:{forward.port}"
    assert not forward.running  # stopped on exit
    assert not serving.port_open("127.0.0.1", forward.port)


def test_port_forward_that_fails_shows_kubectls_message(tmp_path):
    forward = serving.ingress_port_forward(
        "kind-kserve-workshop", kubectl=fake_kubectl(tmp_path, "fail"), startup_timeout=10
    )
    with pytest.raises(WorkshopError, match='services "istio-ingressgateway" not found'):
        forward.start()
    assert not forward.running


def test_port_forward_without_kubectl_is_a_clear_error(tmp_path):
    with pytest.raises(WorkshopError, match="missing tool"):
        serving.ingress_port_forward(kubectl=str(tmp_path / "no-kubectl")).start()


# --------------------------------------------------------------- calling through an "ingress"


class _Recorder(BaseHTTPRequestHandler):
    """Answers like the model server and records the Host header and path it was called with."""

    seen: list[tuple[str, str]] = []

    def do_POST(self):  # noqa: N802 - http.server's naming
        length = int(self.headers.get("Content-Length", 0))
        body = json.loads(self.rfile.read(length))
        _Recorder.seen.append((self.headers["Host"], self.path))
        if self.path.endswith(":predict"):
            answer = {"predictions": [1] * len(body["instances"])}
        else:
            rows = body["inputs"][0]["shape"][0]
            answer = {
                "model_name": "x",
                "outputs": [{"name": "output-0", "shape": [rows], "datatype": "INT64", "data": [1] * rows}],
            }
        payload = json.dumps(answer).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)

    def log_message(self, *args):
        pass


@pytest.fixture(scope="module")
def recorder():
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Recorder)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


@pytest.mark.parametrize(
    "protocol, path", [("v1", "/v1/models/iris-rollout:predict"), ("v2", "/v2/models/iris-rollout/infer")]
)
def test_predict_via_ingress_sends_the_host_from_status_url(recorder, protocol, path, monkeypatch):
    monkeypatch.setattr(ingress, "get_isvc", lambda name, namespace, **kw: CANARY_ISVC)
    _Recorder.seen.clear()
    answer = serving.predict_via_ingress(
        "iris-rollout", "default", [[6.8, 2.8, 4.8, 1.4], [6.0, 3.4, 4.5, 1.6]], protocol=protocol, base_url=recorder
    )
    assert answer == [1, 1]
    assert _Recorder.seen == [("iris-rollout.default.example.com", path)]


def test_ingress_target_for_a_tag_uses_the_tagged_host(recorder, monkeypatch):
    monkeypatch.setattr(ingress, "get_isvc", lambda name, namespace, **kw: CANARY_ISVC)
    _Recorder.seen.clear()
    target = serving.ingress_target("iris-rollout", tag="prev", base_url=recorder)
    target.predict([[5.0, 3.0, 1.5, 0.2]])
    assert _Recorder.seen == [("prev-iris-rollout-predictor.default.example.com", "/v1/models/iris-rollout:predict")]


def test_a_missing_tag_explains_tag_routing(monkeypatch):
    untagged = copy.deepcopy(CANARY_ISVC)
    for entry in untagged["status"]["components"]["predictor"]["traffic"]:
        entry.pop("url")
    monkeypatch.setattr(ingress, "get_isvc", lambda name, namespace, **kw: untagged)
    with pytest.raises(WorkshopError, match="has no 'latest' route") as info:
        serving.ingress_target("iris-rollout", tag="latest", base_url="http://127.0.0.1:1")
    assert serving.TAG_ROUTING_ANNOTATION in info.value.hint


def test_predict_via_ingress_rejects_empty_instances_and_unknown_protocols(monkeypatch):
    with pytest.raises(WorkshopError, match="non-empty list"):
        serving.predict_via_ingress("iris", "default", [])
    target = serving.IngressTarget("http://127.0.0.1:1", "iris.default.example.com", "iris")
    with pytest.raises(WorkshopError, match="protocol must be 'v1' or 'v2'"):
        target.predict([[1, 2, 3, 4]], protocol="grpc")


def test_lab_manifests_use_the_pinned_runtime_and_small_resources():
    for path in sorted((REPO_ROOT / "manifests" / "labs").glob("0[24]-*/*.yaml")):
        manifest = serving.load_manifest(path)
        model = manifest["spec"]["predictor"]["model"]
        assert model["runtime"] == "kserve-sklearnserver", path
        assert model["resources"] == serving.DEFAULT_RESOURCES, path


def test_without_a_kubeconfig_cluster_calls_say_how_to_get_a_cluster(tmp_path, monkeypatch):
    monkeypatch.setenv("KUBECONFIG", str(tmp_path / "no-such-kubeconfig"))
    monkeypatch.delenv("WORKSHOP_KUBE_CONTEXT", raising=False)
    with pytest.raises(WorkshopError, match="no workshop cluster in your kubeconfig") as info:
        serving.get_isvc("sklearn-iris")
    assert "invoke up" in info.value.hint
    with pytest.raises(WorkshopError, match="no usable kube context 'kind-kserve-workshop'"):
        serving.core_api("kind-kserve-workshop")


class _NotFound(BaseHTTPRequestHandler):
    """Answers 404 with an empty body, as an Envoy with no route for the request does."""

    def do_POST(self):  # noqa: N802 - http.server's naming
        self.rfile.read(int(self.headers.get("Content-Length", 0)))
        self.send_response(404)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, *args):
        pass


def test_a_failed_call_through_the_ingress_is_explained_by_diagnose():
    server = ThreadingHTTPServer(("127.0.0.1", 0), _NotFound)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        target = serving.IngressTarget(
            f"http://127.0.0.1:{server.server_address[1]}", "iris.default.example.com", "iris"
        )
        with pytest.raises(WorkshopError) as info:
            target.predict([[6.8, 2.8, 4.8, 1.4]])
    finally:
        server.shutdown()
        server.server_close()
    text = info.value.message
    assert "answered 404" in text
    assert "Most likely" in text and "svc/istio-ingressgateway" in text


def test_an_unreachable_ingress_is_explained_by_diagnose():
    target = serving.IngressTarget("http://127.0.0.1:1", "iris.default.example.com", "iris")
    with pytest.raises(WorkshopError) as info:
        target.predict([[6.8, 2.8, 4.8, 1.4]], protocol="v2")
    assert "cannot reach" in info.value.message and "Nothing answered at the ingress address" in info.value.message


# ------------------------------------------------------------------ a model version in the spec


def test_use_model_sets_the_storage_uri_of_a_model_spec():
    manifest = serving.load_manifest(LAB2_MANIFEST)
    uri = "s3://models/sklearn-iris/0123456789abcdef"
    served = serving.use_model(manifest, uri)
    assert serving.storage_uri_of(served) == uri
    assert serving.storage_uri_of(manifest) != uri  # the caller's manifest is not modified
    assert {k: v for k, v in served["spec"]["predictor"]["model"].items() if k != "storageUri"} == {
        k: v for k, v in manifest["spec"]["predictor"]["model"].items() if k != "storageUri"
    }


def test_use_model_sets_storage_uri_env_of_a_custom_predictor():
    manifest = serving.load_manifest("manifests/labs/06-custom-transformer/iris-custom-predictor.yaml")
    served = serving.use_model(manifest, "s3://models/lab6-iris/0123456789abcdef")
    container = served["spec"]["predictor"]["containers"][0]
    storage_env = [e for e in container["env"] if e["name"] == "STORAGE_URI"]
    assert storage_env == [{"name": "STORAGE_URI", "value": "s3://models/lab6-iris/0123456789abcdef"}]
    assert served["spec"]["transformer"] == manifest["spec"]["transformer"]


@pytest.mark.parametrize("uri", ["models/x", "ftp://x/y", "", None])
def test_use_model_refuses_what_is_not_a_storage_uri(uri):
    with pytest.raises(WorkshopError, match="invalid storage URI"):
        serving.use_model(serving.load_manifest(LAB2_MANIFEST), uri)


def test_use_model_refuses_a_predictor_without_model_or_container():
    manifest = serving.load_manifest(LAB2_MANIFEST)
    manifest["spec"]["predictor"] = {"sklearn": {"storageUri": "gs://x/y"}}
    with pytest.raises(WorkshopError, match="neither a model spec nor a kserve-container"):
        serving.use_model(manifest, "s3://models/a/0123456789abcdef")


# ------------------------------------------------------------------ replace keeps others' metadata


def test_replace_carries_labels_annotations_and_finalizers_over_from_the_live_object():
    live = {
        "metadata": {
            "name": "sklearn-iris",
            "resourceVersion": "77",
            "labels": {"team": "ml", "app": "old"},
            "annotations": {"example.com/owner": "ops", "serving.kserve.io/deploymentMode": "Knative"},
            "finalizers": ["inferenceservice.finalizers"],
        }
    }
    api = RecordingApi(get=live)
    manifest = serving.load_manifest(LAB2_MANIFEST)
    manifest["metadata"]["labels"] = {"app": "new"}
    serving.replace_isvc(manifest, api=api)
    body = api.calls[-1][-1]
    assert body["metadata"]["labels"] == {"team": "ml", "app": "new"}  # the manifest's own value wins
    assert body["metadata"]["annotations"]["example.com/owner"] == "ops"
    assert body["metadata"]["finalizers"] == ["inferenceservice.finalizers"]
    assert body["metadata"]["resourceVersion"] == "77"
    assert body["spec"] == manifest["spec"]  # the spec is the manifest's, whole


def test_replace_of_a_live_object_sends_it_unchanged_with_its_resource_version():
    current = copy.deepcopy(CANARY_ISVC)
    api = RecordingApi(get=[current])
    serving.promote("iris-rollout", api=api)
    assert [call[0] for call in api.calls] == ["get", "replace"]  # no second read between them
    assert api.calls[-1][-1]["metadata"]["resourceVersion"] == "4242"


# ------------------------------------------------------------------ which cluster the helpers use


def test_cluster_helpers_default_to_the_labs_context(monkeypatch):
    """The InferenceService helpers look at the cluster upload_model puts models in (kube.lab_context)."""
    from kserve_workshop import kube
    from kserve_workshop.kube import client as kube_client

    asked = []
    monkeypatch.setattr(
        kube_client,
        "load_configuration",
        lambda context=None, retries=None: asked.append(context) or __import__("kubernetes").client.Configuration(),
    )
    monkeypatch.setattr(kube, "kube_contexts", lambda: (["prod", "kind-kserve-workshop"], "prod"))
    monkeypatch.delenv(kube.LAB_CONTEXT_ENV, raising=False)
    serving.custom_objects_api()
    serving.core_api()
    assert asked == ["kind-kserve-workshop", "kind-kserve-workshop"]


# ------------------------------------------------------------------ waiting with a transformer


def transformer_isvc(
    *,
    predictor: tuple[str, str],
    transformer: tuple[str, str] = ("t-00001", "t-00001"),
    observed: int = 1,
    generation: int = 2,
    ready: str = "True",
) -> dict:
    """A transformer InferenceService as KServe v0.20 reports it: status.observedGeneration comes from
    the transformer's Knative Service (PropagateStatus runs for the transformer last)."""

    def component(created, latest_ready, prefix):
        return {
            "latestCreatedRevision": f"iris-custom-{prefix}-{created[-5:]}",
            "latestReadyRevision": f"iris-custom-{prefix}-{latest_ready[-5:]}",
            "traffic": [
                {"latestRevision": True, "percent": 100, "revisionName": f"iris-custom-{prefix}-{latest_ready[-5:]}"}
            ],
        }

    return {
        "apiVersion": "serving.kserve.io/v1beta1",
        "kind": "InferenceService",
        "metadata": {"name": "iris-custom", "namespace": "default", "generation": generation},
        "spec": {
            "predictor": {"model": {"modelFormat": {"name": "sklearn"}}},
            "transformer": {"containers": [{"name": "kserve-container", "image": "x"}]},
        },
        "status": {
            "observedGeneration": observed,
            "url": "http://iris-custom.default.example.com",
            "conditions": [
                {"type": "PredictorReady", "status": ready},
                {"type": "TransformerReady", "status": "True"},
                {"type": "Ready", "status": ready},
            ],
            "components": {
                "predictor": component(*predictor, "predictor"),
                "transformer": component(*transformer, "transformer"),
            },
        },
    }


STALE = transformer_isvc(predictor=("p-00001", "p-00001"))  # before the controller acted
ROLLING = transformer_isvc(predictor=("p-00002", "p-00001"))  # new predictor revision not ready
ROLLED = transformer_isvc(predictor=("p-00002", "p-00002"))  # new predictor revision serving


def test_a_predictor_only_change_of_a_transformer_isvc_is_waited_for_not_timed_out():
    clock = FakeClock()
    get = scripted_get(STALE, ROLLING, ROLLING, ROLLED)
    result = serving.wait_ready(
        "iris-custom", expected_generation=2, get=get, sleep=clock.sleep, clock=clock, timeout=120
    )
    assert len(get.calls) == 4  # not at the first, stale Ready=True
    assert result["status"]["components"]["predictor"]["latestReadyRevision"] == "iris-custom-predictor-00002"
    assert result["status"]["observedGeneration"] == 1  # the transformer's: it never reached 2


def test_a_transformer_isvc_whose_change_moved_nothing_is_accepted_once_settled():
    clock = FakeClock()
    get = scripted_get(ROLLED)
    serving.wait_ready(
        "iris-custom", expected_generation=3, get=get, sleep=clock.sleep, clock=clock, timeout=120, settle=15
    )
    assert clock.now >= 15 and len(get.calls) > 1


def test_a_new_revision_that_is_not_ready_yet_is_not_ready():
    assert not serving.is_ready(ROLLING)
    assert serving.is_ready(ROLLED)
    predictor_only = copy.deepcopy(CANARY_ISVC)
    predictor_only["status"]["components"]["predictor"]["latestCreatedRevision"] = "iris-rollout-predictor-00003"
    assert not serving.is_ready(predictor_only, 2)


def test_with_a_transformer_observed_generation_alone_proves_nothing():
    assert not serving.is_ready(transformer_isvc(predictor=("p-00001", "p-00001"), observed=2), 2)


def test_a_predictor_only_isvc_whose_knative_service_lags_is_accepted_when_it_moves():
    """First reconcile failed (gen 1), the fix is gen 2, the Knative Service is created at its generation 1."""
    failing = with_status(
        observedGeneration=None,
        components={},
        conditions=ready_condition("False", "RuntimeNotRecognized", "Waiting for runtime"),
    )
    lagging = with_status(observedGeneration=1)
    clock = FakeClock()
    get = scripted_get(failing, lagging)
    serving.wait_ready("iris-rollout", expected_generation=2, get=get, sleep=clock.sleep, clock=clock, timeout=60)
    assert len(get.calls) == 2


def test_a_stale_predictor_only_isvc_still_times_out():
    clock = FakeClock()
    with pytest.raises(WorkshopError, match="Waiting for generation 3; the controller has observed 2"):
        serving.wait_ready(
            "iris-rollout",
            expected_generation=3,
            timeout=30,
            get=scripted_get(CANARY_ISVC),
            explain=lambda name, ns: "",
            sleep=clock.sleep,
            clock=clock,
        )
