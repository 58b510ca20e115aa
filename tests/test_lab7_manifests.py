"""Lab 7's manifests against the real schemas (KServe's CRD, Kubernetes 1.34), the rules KServe's webhook
adds, and the cluster helpers that render the sink and say where S3 logging writes."""

from __future__ import annotations

import copy

import pytest
import yaml

from kserve_workshop.labkit.checks import lab7
from kserve_workshop.errors import WorkshopError
from kserve_workshop.payload_logging import cluster
from kserve_workshop.payload_logging.sink_process import HEALTH_PATH
from kserve_workshop.validate import errors, validate_object, validate_paths

LAB = cluster.LAB_MANIFESTS
IMAGE = "kserve-workshop/custom-model:0.1.0"


def load(name: str) -> list[dict]:
    return [obj for obj in yaml.safe_load_all((LAB / name).read_text()) if obj]


def test_every_lab7_manifest_is_valid(isvc_schema):
    files = sorted(path.name for path in LAB.glob("*.yaml"))
    assert files == ["iris-logger-s3.yaml", "iris-unbatched.yaml", "payload-sink.yaml"]
    assert errors(validate_paths([LAB])) == []


@pytest.mark.parametrize(
    "path, value, words",
    [
        (("spec", "predictor", "batcher"), {"maxBatchsize": 8}, "maxBatchsize"),
        (("spec", "predictor", "batcher"), {"maxBatchSize": "8"}, "wrong type"),
        (("spec", "predictor", "logger"), {"mode": "everything"}, "everything"),
        (("spec", "predictor", "logger"), {"mode": "all", "storage": {"pth": "x"}}, "pth"),
        (("spec", "predictor", "logger"), {"mode": "all", "metadataHeaders": "X-Request-Id"}, "wrong type"),
    ],
)
def test_a_misspelt_or_mistyped_batcher_or_logger_is_rejected(isvc_schema, path, value, words):
    manifest = copy.deepcopy(load("iris-unbatched.yaml")[0])
    target = manifest
    for key in path[:-1]:
        target = target[key]
    target[path[-1]] = value
    found = " ".join(str(issue) for issue in errors(validate_object(manifest)))
    assert words in found, found


def test_the_s3_logger_sets_what_kserves_webhook_requires():
    # pkg/apis/serving/v1beta1/component.go (validateLogger): a mode, and with storage all of path,
    # parameters and key; the agent stores nothing without path (cmd/agent/main.go).
    logger = load("iris-logger-s3.yaml")[0]["spec"]["predictor"]["logger"]
    assert logger["mode"] in ("all", "request", "response")
    assert {"path", "parameters", "key"} <= set(logger["storage"])
    assert logger["url"] == f"s3://{cluster.LOG_BUCKET}/{cluster.LOG_PREFIX}"
    assert logger["storage"]["parameters"]["format"] in ("json", "csv", "parquet")
    assert logger["storage"]["serviceAccountName"] == "kserve-models"  # the platform's, with the store's keys


def test_a_typo_in_the_sinks_deployment_is_rejected():
    deployment = copy.deepcopy(load("payload-sink.yaml")[0])
    deployment["spec"]["template"]["spec"]["containers"][0]["readinesProbe"] = deployment["spec"]["template"]["spec"][
        "containers"
    ][0].pop("readinessProbe")
    found = " ".join(str(issue) for issue in errors(validate_object(deployment)))
    assert "readinesProbe" in found, found


def test_the_sink_manifest_agrees_with_the_sink_and_the_check():
    deployment, service = load("payload-sink.yaml")
    container = deployment["spec"]["template"]["spec"]["containers"][0]
    assert container["command"][-1].endswith(cluster.SINK_FILE_NAME)
    assert container["args"][container["args"].index("--store") + 1] == cluster.SINK_STORE
    assert container["readinessProbe"]["httpGet"]["path"] == HEALTH_PATH
    assert service["metadata"]["name"] == cluster.SINK_NAME == lab7.SINK_SERVICE
    assert service["spec"]["ports"][0]["port"] == 80
    assert cluster.sink_url("learner-03").split("//")[1].rstrip("/") in lab7.sink_hosts("learner-03")
    volume = next(v for v in deployment["spec"]["template"]["spec"]["volumes"] if "configMap" in v)
    assert volume["configMap"]["name"] == cluster.SINK_NAME


def test_sink_objects_run_the_given_image_and_change_nothing_else(tmp_path):
    original = load("payload-sink.yaml")
    rendered = cluster.sink_objects("registry.example.com/team/custom-model:1.2")
    assert (
        rendered[0]["spec"]["template"]["spec"]["containers"][0]["image"]
        == "registry.example.com/team/custom-model:1.2"
    )
    rendered[0]["spec"]["template"]["spec"]["containers"][0]["image"] = IMAGE
    assert rendered == original
    written = cluster.write_sink_manifest(IMAGE, tmp_path / "sub" / "sink.yaml")
    assert errors(validate_paths([written])) == []


@pytest.mark.parametrize("image", ["kserve-workshop/custom-model:latest", "Custom:1", "no-tag", ""])
def test_a_bad_image_for_the_sink_is_refused(image):
    with pytest.raises(WorkshopError):
        cluster.sink_objects(image)


def test_the_logged_object_key_follows_kserves_layout():
    # pkg/logger/store.go: <url path>/<namespace>/<isvc>/<component>/<storage.path>/<id>-<type>.<ext>
    key = cluster.logged_object_key(
        "s3://payload-logs/lab7",
        namespace="default",
        inference_service="iris-logger-s3",
        component="predictor",
        store_path="iris",
        event_id="abc",
        kind="request",
    )
    assert key == "lab7/default/iris-logger-s3/predictor/iris/abc-request.json"
    bare = cluster.logged_object_key(
        "s3://payload-logs",
        namespace="ns",
        inference_service="m",
        component="",
        store_path="",
        event_id="x",
        kind="response",
        extension="parquet",
    )
    assert bare == "ns/m/x-response.parquet"


@pytest.mark.parametrize(
    "url, kind", [("http://payload-sink/", "request"), ("s3://", "request"), ("s3://bucket/p", "reply")]
)
def test_bad_logged_object_arguments_are_refused(url, kind):
    with pytest.raises(WorkshopError):
        cluster.logged_object_key(
            url, namespace="n", inference_service="i", component="c", store_path="p", event_id="x", kind=kind
        )
