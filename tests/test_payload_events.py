"""The logger's events as the workshop builds them: the header set KServe v0.20.0's agent sends, both
modes readable by the CloudEvents SDK, bodies shaped like a real KServe server's, and the graded set."""

from __future__ import annotations

import base64
import json
import re

import pytest
from cloudevents.http import from_http

from kserve_workshop.dataplane import infer_v2, predict_v1
from kserve_workshop.errors import WorkshopError
from kserve_workshop.processes import LocalModelServer
from kserve_workshop.payload_logging import AgentEvent, binary_delivery, sample_bodies, structured_delivery
from kserve_workshop.payload_logging.cases import graded_deliveries, judge_answers, judge_store
from kserve_workshop.payload_logging.events import REQUEST_TYPE, RESPONSE_TYPE, go_time
from kserve_workshop.training import DOCS_IRIS_INPUT, save_model, train_iris

# The headers KServe v0.20.0's worker sets (pkg/logger/worker.go), in Go's canonical case.
AGENT_HEADERS = {
    "Ce-Specversion",
    "Ce-Id",
    "Ce-Source",
    "Ce-Type",
    "Ce-Time",
    "Ce-Recordedtime",
    "Ce-Inferenceservicename",
    "Ce-Namespace",
    "Ce-Component",
    "Ce-Endpoint",
    "Ce-Metadata",
    "Content-Type",
}


def test_a_binary_delivery_has_exactly_the_agents_headers():
    event = AgentEvent.of("request", {"instances": DOCS_IRIS_INPUT}, id="abc")
    delivery = binary_delivery(event)
    assert set(delivery.headers) == AGENT_HEADERS
    assert delivery.headers["Ce-Type"] == REQUEST_TYPE == "org.kubeflow.serving.inference.request"
    assert delivery.headers["Ce-Id"] == "abc" and delivery.headers["Ce-Metadata"] == "{}"
    # The webhook passes the pod's name as --source-uri, empty at admission for a ReplicaSet's pod:
    # the agent's fallback.
    assert delivery.headers["Ce-Source"] == "http://localhost:9081/"
    assert json.loads(delivery.body) == {"instances": DOCS_IRIS_INPUT}


def test_the_source_is_the_agents_fallback_unless_given():
    event = AgentEvent.of("response", {"predictions": [1]}, inference_service="iris-logger")
    assert binary_delivery(event).headers["Ce-Source"] == "http://localhost:9081/"
    given = AgentEvent.of("response", {"predictions": [1]}, source="iris-logger-predictor-00001-deployment-abc-x1y2z")
    assert binary_delivery(given).headers["Ce-Source"] == "iris-logger-predictor-00001-deployment-abc-x1y2z"
    assert from_http(*_parts(structured_delivery(event)))["source"] == binary_delivery(event).headers["Ce-Source"]


def _parts(delivery):
    return delivery.headers, delivery.body


def test_annotations_are_sent_only_when_selected_and_metadata_is_json():
    plain = binary_delivery(AgentEvent.of("response", {"predictions": [1]}))
    assert "Ce-Annotations" not in plain.headers
    rich = binary_delivery(
        AgentEvent.of("response", {"predictions": [1]}, metadata={"X-Request-Id": ["7"]}, annotations={"team": "a"})
    )
    assert json.loads(rich.headers["Ce-Metadata"]) == {"X-Request-Id": ["7"]}
    assert json.loads(rich.headers["Ce-Annotations"]) == {"team": "a"}
    assert rich.headers["Ce-Type"] == RESPONSE_TYPE


def test_without_a_content_type_the_binary_delivery_has_none():
    assert "Content-Type" not in binary_delivery(AgentEvent.of("request", {"instances": []}, content_type=None)).headers


@pytest.mark.parametrize("to_delivery", [binary_delivery, structured_delivery])
def test_the_cloudevents_sdk_reads_both_modes_alike(to_delivery):
    event = AgentEvent.of("response", {"predictions": [1, 1]}, inference_service="iris", namespace="lab7")
    parsed = from_http(*(lambda d: (d.headers, d.body))(to_delivery(event)))
    assert parsed["id"] == event.id and parsed["type"] == RESPONSE_TYPE
    assert parsed["inferenceservicename"] == "iris" and parsed["namespace"] == "lab7"
    assert parsed["component"] == "predictor" and parsed["endpoint"] == ""
    assert parsed.data == {"predictions": [1, 1]}


def test_a_json_payload_goes_base64_when_asked_and_the_sdk_parses_it_all_the_same():
    event = AgentEvent.of("request", {"instances": [[1.0]]})
    document = json.loads(structured_delivery(event, as_base64=True).body)
    assert "data" not in document and json.loads(base64.b64decode(document["data_base64"])) == {"instances": [[1.0]]}
    # What Lab 7 tells the learner: the SDK tries JSON first, for data_base64 too; bytes only when that fails.
    assert from_http(*_parts(structured_delivery(event, as_base64=True))).data == {"instances": [[1.0]]}
    not_json = AgentEvent("request", "x", b"instances=1")
    assert from_http(*_parts(structured_delivery(not_json))).data == b"instances=1"
    assert from_http(*_parts(binary_delivery(not_json))).data == b"instances=1"


def test_a_payload_that_is_not_json_goes_base64_in_structured_mode():
    event = AgentEvent("request", "x", b"instances=1")
    document = json.loads(structured_delivery(event).body)
    assert "data" not in document and document["data_base64"] == "aW5zdGFuY2VzPTE="


def test_go_time_has_nanoseconds_and_z():
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{9}Z", go_time())


@pytest.mark.parametrize(
    "kwargs, words", [({"kind": "reply"}, "request' or a 'response"), ({"body": {"a": 1}}, "bytes")]
)
def test_bad_events_are_refused(kwargs, words):
    arguments = {"kind": "request", "id": "x", "body": b"{}", **kwargs}
    with pytest.raises(WorkshopError, match=words):
        AgentEvent(**arguments)


def test_sample_bodies_refuse_an_unknown_protocol():
    with pytest.raises(WorkshopError, match="v1' or 'v2"):
        sample_bodies("v3")


@pytest.mark.slow
def test_sample_bodies_are_shaped_like_a_real_kserve_servers(tmp_path):
    save_model(train_iris(), tmp_path)
    with LocalModelServer(tmp_path) as server:
        v1_answer = predict_v1(server.url, server.model_name, DOCS_IRIS_INPUT, timeout=10)
        v2_answer = infer_v2(server.url, server.model_name, DOCS_IRIS_INPUT, timeout=10)
    v1_request, v1_response = sample_bodies("v1", model_name=server.model_name)
    assert v1_response == {"predictions": v1_answer}
    v2_request, v2_response = sample_bodies("v2", predictions=v1_answer, model_name=server.model_name)
    assert set(v2_response) == set(v2_answer)
    assert set(v2_response["outputs"][0]) == set(v2_answer["outputs"][0])
    assert v2_response["outputs"][0]["datatype"] == v2_answer["outputs"][0]["datatype"]
    assert v2_response["outputs"][0]["data"] == v2_answer["outputs"][0]["data"]


# ------------------------------------------------------------------------------- the graded set


def test_the_graded_set_covers_what_the_issue_asks_for():
    graded = graded_deliveries()
    accepted = [case.delivery for case in graded.cases if case.accept]
    refused = [case.delivery for case in graded.cases if not case.accept]
    assert len(graded.pairs) == 5 and len(refused) >= 7
    kinds = {(d.headers.get("Ce-Type") or json.loads(d.body).get("type")) for d in accepted}
    assert kinds == {REQUEST_TYPE, RESPONSE_TYPE}
    protocols = {"v2" if "inputs" in pair["request"] else "v1" for pair in graded.pairs.values()}
    assert protocols == {"v1", "v2"}
    modes = {
        "structured" if d.headers.get("Content-Type") == "application/cloudevents+json" else "binary" for d in accepted
    }
    assert modes == {"binary", "structured"}
    # A structured event with data_base64 must be accepted; a payload that is not a JSON object refused.
    documents = [
        json.loads(d.body) for d in accepted if d.headers.get("Content-Type") == "application/cloudevents+json"
    ]
    assert any("data_base64" in document for document in documents)
    refused_payloads = []
    for delivery in refused:
        try:
            refused_payloads.append(json.loads(delivery.body))
        except ValueError:
            pass
    assert [1, 1] in refused_payloads
    assert graded_deliveries().pairs.keys().isdisjoint(graded.pairs)  # fresh ids every time


def test_judging_answers_names_each_mistake():
    graded = graded_deliveries()
    right = [200 if case.accept else 400 for case in graded.cases]
    assert judge_answers(graded.cases, right) == []
    wrong = list(right)
    wrong[0], wrong[-1] = 400, 500
    problems = judge_answers(graded.cases, wrong)
    assert len(problems) == 2 and "expected a 2xx" in problems[0] and "5xx says the sink broke" in problems[1]
    assert "no answer" in judge_answers(graded.cases[:1], ["ConnectionError"])[0]


def test_judging_the_store_finds_missing_wrong_duplicate_and_stray_pairs():
    graded = graded_deliveries()
    kept = [dict(pair) for pair in graded.pairs.values()]
    assert judge_store(graded, kept) == []
    first, second = list(graded.pairs)[:2]
    broken = [dict(pair) for pair in kept[1:]]  # first missing
    broken[0] = {**broken[0], "response": {"predictions": [0]}}  # second wrong
    broken.append(dict(broken[1]))  # third kept twice
    broken.append(
        {"id": next(iter(graded.absent)), "inferenceservice": "x", "namespace": "y", "request": {}, "response": {}}
    )
    broken.append("not an object")
    problems = " | ".join(judge_store(graded, broken))
    assert f"{first}" in problems and "was not kept" in problems
    assert f"the pair {second}: response" in problems
    assert "kept twice" in problems and "one of its events was refused" in problems
    assert "not a JSON object" in problems
