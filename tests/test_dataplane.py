"""The data plane: payload validation (offline), real V1/V2 calls to KServe's model server on 127.0.0.1,
its /metrics text and sequential latencies."""

from __future__ import annotations

import asyncio
import time

import numpy as np
import pytest

from kserve_workshop import dataplane, training
from kserve_workshop.dataplane import PayloadError
from kserve_workshop.load import latency
from kserve_workshop.metrics import exposition
from kserve_workshop.errors import WorkshopError
from kserve_workshop.processes import LocalModelServer, free_port

DOCS = training.DOCS_IRIS_INPUT
NAME = "sklearn-iris"


# -- validation without a server -------------------------------------------------------------------


def test_v1_request_is_built_from_lists_and_numpy():
    assert dataplane.build_v1_request(DOCS) == {"instances": DOCS}
    assert dataplane.build_v1_request(np.asarray(DOCS)) == {"instances": DOCS}


@pytest.mark.parametrize(
    "instances, message",
    [
        ([], "instances must be a list of rows"),
        (None, "instances must be a list of rows"),
        ("6.8, 2.8", "instances must be a list of rows"),
        ([6.8, 2.8, 4.8, 1.4], "instance 0 is float 6.8, not a row"),
        ([[6.8, "2.8", 4.8, 1.4]], "non-numeric values \\['2.8'\\]"),
        ([[True, 1.0, 1.0, 1.0]], "non-numeric"),
        ([[6.8, 2.8, 4.8, 1.4], [6.0, 3.4]], "different lengths \\[2, 4\\]"),
        ([[float("nan"), 1.0, 1.0, 1.0]], "NaN"),
    ],
)
def test_bad_v1_instances_are_payload_errors(instances, message):
    with pytest.raises(PayloadError, match=message):
        dataplane.build_v1_request(instances)


def test_v1_feature_count_is_checked_when_known():
    with pytest.raises(PayloadError, match="must have 4 features, got 3"):
        dataplane.validate_v1_request({"instances": [[1.0, 2.0, 3.0]]}, n_features=4)
    with pytest.raises(PayloadError, match="needs the key 'instances'; found keys \\['inputs'\\]"):
        dataplane.validate_v1_request({"inputs": DOCS})
    with pytest.raises(PayloadError, match="a V1 request is a dict"):
        dataplane.validate_v1_request([DOCS])


def test_v2_request_is_built_with_shape_and_row_major_data():
    body = dataplane.build_v2_request(DOCS)
    assert body == {
        "inputs": [
            {"name": "input-0", "shape": [2, 4], "datatype": "FP32", "data": [6.8, 2.8, 4.8, 1.4, 6.0, 3.4, 4.5, 1.6]}
        ]
    }
    flat = dataplane.build_v2_request([1, 2, 3, 4, 5, 6], shape=[3, 2], datatype="INT64")
    assert flat["inputs"][0]["shape"] == [3, 2]


@pytest.mark.parametrize(
    "changes, message",
    [
        ({"datatype": "FLOAT"}, "datatype 'FLOAT' is not a V2 datatype; expected one of BOOL"),
        ({"datatype": "INT32"}, "INT32 holds integers but the data has decimals"),
        ({"datatype": "BYTES"}, "BYTES carries strings"),
        ({"shape": [4, 2, 2]}, "needs 16 values, data has 8"),
        ({"shape": [2, "4"]}, "shape must be a list of non-negative integers"),
        ({"shape": []}, "shape must be a list"),
        ({"data": "6.8 2.8"}, "data must be a list of values"),
        ({"data": [6.8, 2.8, 4.8, 1.4, 6.0, 3.4, 4.5, "x"]}, "FP32 needs numbers; found \\['x'\\]"),
        ({"name": ""}, "name must be a non-empty string"),
        ({"dtype": "FP32"}, "unknown \\['dtype'\\]"),
    ],
)
def test_bad_v2_tensors_are_payload_errors(changes, message):
    tensor = {"name": "input-0", "shape": [2, 4], "datatype": "FP32", "data": dataplane.flatten(DOCS)}
    tensor.update(changes)
    with pytest.raises(PayloadError, match=message):
        dataplane.validate_v2_request({"inputs": [tensor]})


def test_v2_request_level_mistakes_and_feature_count():
    with pytest.raises(PayloadError, match="'inputs' must be a non-empty list"):
        dataplane.validate_v2_request({"inputs": []})
    with pytest.raises(PayloadError, match="unknown field\\(s\\) \\['instances'\\]"):
        dataplane.validate_v2_request({"instances": DOCS})
    with pytest.raises(PayloadError, match="missing \\['datatype'\\]"):
        dataplane.validate_v2_request({"inputs": [{"name": "x", "shape": [1, 4], "data": [1, 2, 3, 4]}]})
    with pytest.raises(PayloadError, match="shape must be \\[rows, 4\\]"):
        dataplane.validate_v2_request(dataplane.build_v2_request([[1.0, 2.0], [3.0, 4.0]]), n_features=4)
    with pytest.raises(PayloadError, match="rows have different lengths"):
        dataplane.build_v2_request([[1.0, 2.0], [3.0]])


def test_v2_outputs_reshape_and_reject_malformed_responses():
    response = {
        "outputs": [{"name": "output-0", "shape": [2, 3], "datatype": "FP64", "data": [0.1, 0.8, 0.1, 0.2, 0.7, 0.1]}]
    }
    assert dataplane.v2_outputs(response) == [[0.1, 0.8, 0.1], [0.2, 0.7, 0.1]]
    assert dataplane.v2_outputs(
        {"outputs": [{"name": "a", "shape": [1], "data": [2]}, {"name": "b", "shape": [1], "data": [0]}]}, name="b"
    ) == [0]
    for bad in (
        None,
        {},
        {"outputs": []},
        {"outputs": [{"name": "x"}]},
        [1, 1],
        {"outputs": [{"name": "x", "shape": [3], "data": [1]}]},
    ):
        with pytest.raises(PayloadError):
            dataplane.v2_outputs(bad)
    with pytest.raises(PayloadError, match="no output named 'z'"):
        dataplane.v2_outputs(response, name="z")


def test_metric_lines_select_a_histogram_and_its_labels():
    text = "\n".join(
        [
            "# HELP request_predict_seconds predict latency",
            'request_predict_seconds_bucket{le="0.005",model_name="a"} 3.0',
            'request_predict_seconds_count{model_name="a"} 3.0',
            'request_predict_seconds_count{model_name="b"} 7.0',
            'request_predict_seconds_sum{model_name="b"} 0.25',
            'request_predict_seconds_created{model_name="a"} 1.7e9',
            'request_preprocess_seconds_count{model_name="a"} 3.0',
        ]
    )
    assert exposition.metric_lines(text, "request_predict_seconds", model_name="a") == [
        'request_predict_seconds_bucket{le="0.005",model_name="a"} 3.0',
        'request_predict_seconds_count{model_name="a"} 3.0',
    ]
    assert exposition.histogram_count(text, "request_predict_seconds", model_name="b") == 7.0
    assert exposition.histogram_sum(text, "request_predict_seconds", model_name="b") == 0.25
    assert exposition.histogram_sum(text, "request_predict_seconds", model_name="a") == 0.0
    assert exposition.histogram_count(text, "request_explain_seconds") == 0.0


def test_latency_summary_figures():
    summary = latency.latency_summary([0.001, 0.002, 0.003, 0.004])
    assert summary["count"] == 4
    assert summary["p50_ms"] == pytest.approx(2.5)
    assert summary["mean_ms"] == pytest.approx(2.5)
    assert summary["requests_per_s"] == pytest.approx(400.0)
    with pytest.raises(WorkshopError):
        latency.latency_summary([])


def test_unreachable_server_and_bad_urls_are_clear_errors():
    url = f"http://127.0.0.1:{free_port()}"  # nothing listens there
    with pytest.raises(WorkshopError, match="cannot reach .*nothing answers there"):
        dataplane.predict_v1(url, NAME, DOCS, timeout=2)
    with pytest.raises(WorkshopError, match="base_url must look like http"):
        dataplane.predict_v1("127.0.0.1:8080", NAME, DOCS)


# -- against KServe's model server -----------------------------------------------------------------

#: Tests using these fixtures start servers: marked slow (see conftest.py).
SLOW_FIXTURES = {"server"}


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    model_dir = tmp_path_factory.mktemp("clients-model")
    training.save_model(training.train_iris(), model_dir)
    with LocalModelServer(model_dir, NAME) as running:
        yield running


def test_predict_v1_returns_the_docs_answer(server):
    assert dataplane.predict_v1(server.url, NAME, DOCS) == [1, 1]


def test_infer_v2_returns_outputs_that_parse_to_class_names(server):
    response = dataplane.infer_v2(server.url, NAME, DOCS)
    assert response["model_name"] == NAME
    assert response["outputs"][0]["shape"] == [2]
    assert training.class_names(dataplane.v2_outputs(response)) == ["versicolor", "versicolor"]


def test_async_sdk_client_answers_like_the_sync_one(server):
    assert asyncio.run(dataplane.infer_async(server.url, NAME, DOCS, protocol="v1")) == [1, 1]
    response = asyncio.run(dataplane.infer_async(server.url, NAME, DOCS, protocol="v2"))
    assert dataplane.v2_outputs(response) == [1, 1]
    assert "from_grpc" not in response


def test_wrong_model_name_names_the_served_models(server):
    with pytest.raises(PayloadError, match=r"model 'iris' is not served at .*; it serves \['sklearn-iris'\]"):
        dataplane.predict_v1(server.url, "iris", DOCS)
    with pytest.raises(PayloadError, match="model 'iris' is not served"):
        asyncio.run(dataplane.infer_async(server.url, "iris", DOCS, protocol="v2"))


def test_wrong_feature_count_is_decoded_from_the_server(server):
    # The client cannot know the model wants 4 features: the server's 400 is decoded instead.
    with pytest.raises(PayloadError, match="rejected the V1 request: expected 4 features per instance, got 3"):
        dataplane.predict_v1(server.url, NAME, [[1.0, 2.0, 3.0]])
    with pytest.raises(PayloadError, match="rejected the V2 request: expected 4 features"):
        dataplane.infer_v2(server.url, NAME, [[1.0, 2.0, 3.0]])
    with pytest.raises(PayloadError, match="expected 4 features"):
        asyncio.run(dataplane.infer_async(server.url, NAME, [[1.0, 2.0, 3.0]]))


@pytest.mark.parametrize(
    "body, content_type, says",
    [
        (b'{"rows": [[6.8, 2.8, 4.8, 1.4]]}', "application/json", "no 'instances' key"),
        (
            b'{"inputs": [{"name": "x", "shape": [1, 4], "datatype": "FP32", "data": [6.8, 2.8, 4.8, 1.4]}]}',
            "application/json",
            "looks like a V2 body",
        ),
        (b'{"instances": [[6.8, 2.8, 4.8, 1.4]]}', "application/x-www-form-urlencoded", "not read as JSON"),
    ],
)
def test_the_real_server_answers_wrong_v1_bodies_with_400_and_no_traceback(server, body, content_type, says):
    import requests

    url = f"{server.url}/v1/models/{NAME}:predict"
    response = requests.post(url, data=body, headers={"Content-Type": content_type}, timeout=10)
    assert response.status_code == 400 and says in response.json()["error"], response.text
    assert "Traceback" not in server.log_path.read_text()


def test_a_client_hanging_up_mid_body_is_one_line_in_the_real_servers_log(server):
    import socket

    before = server.log_path.read_text().count("disconnected before sending its whole request")
    with socket.create_connection(("127.0.0.1", server.port), timeout=5) as conn:
        conn.sendall(
            f"POST /v1/models/{NAME}:predict HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
            'Content-Length: 1000\r\n\r\n{"instances"'.encode()
        )
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        log = server.log_path.read_text()
        if log.count("disconnected before sending its whole request") > before:
            break
        time.sleep(0.1)
    assert log.count("disconnected before sending its whole request") == before + 1, log[-2000:]
    assert "Traceback" not in log


def test_health_metadata_and_metrics(server):
    assert dataplane.server_live(server.url)
    assert dataplane.server_ready(server.url)
    assert dataplane.model_ready(server.url, NAME)
    assert not dataplane.model_ready(server.url, "other")
    assert dataplane.model_metadata(server.url, NAME)["name"] == NAME
    before = exposition.histogram_count(exposition.read_metrics(server.url), "request_predict_seconds", model_name=NAME)
    latencies = latency.time_sequential_requests(server.url, NAME, DOCS, count=5)
    assert len(latencies) == 5 and all(0 < value < 10 for value in latencies)
    after = exposition.histogram_count(exposition.read_metrics(server.url), "request_predict_seconds", model_name=NAME)
    assert after - before == 5


# -- what KServe's sklearn runtime answers (no runtime image here: its documented answer, served locally) --
# KServe v0.20's sklearn runtime wraps every error of predict as InferenceError, answered with HTTP 500
# and {"error": <the exception's text>} (sklearnserver/model.py, kserve/errors.py).


def _runtime_answering(status: int, error: str):
    from support.fake_ingress import FakeIngress

    return FakeIngress([(status, {"error": error})])


@pytest.mark.parametrize(
    "error",
    [
        "X has 3 features, but SVC is expecting 4 features as input.",
        "Input X contains NaN.\nSVC does not accept missing values encoded as NaN natively.",
        "could not convert string to float: 'petal'",
        "Expected 2D array, got 1D array instead:\narray=[6.8 2.8 4.8 1.4].",
    ],
)
def test_a_500_carrying_a_predict_error_is_a_payload_error(error):
    with _runtime_answering(500, error) as runtime:
        with pytest.raises(dataplane.RejectedPayload) as info:
            dataplane.predict_v1(runtime.url, NAME, [[6.8, 2.8, 4.8]])
    assert info.value.status_code == 500
    assert error.splitlines()[0] in info.value.message
    assert "answers a request it cannot predict on with HTTP 500" in info.value.message
    assert "instances" in info.value.hint


def test_a_500_without_a_predict_error_stays_a_server_failure():
    with _runtime_answering(500, "ValueError : the model file is corrupt") as runtime:
        with pytest.raises(dataplane.CallFailed) as info:
            dataplane.predict_v1(runtime.url, NAME, DOCS)
    assert not isinstance(info.value, dataplane.RejectedPayload)
    assert "failed with HTTP 500" in info.value.message
