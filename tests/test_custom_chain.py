"""Lab 6's chain for real: the transformer and the predictor as two KServe servers on 127.0.0.1.

One predictor and a transformer in front of it that calls it over V2 (the lab's cluster setup) are
shared by the module; clients call the transformer over V1 and V2 and compare with the predictor's
own answers. (The V1 predictor call is covered in-process, test_custom_transformer.py.) The last
server test stops the chain and checks both processes are gone.
"""

from __future__ import annotations

import subprocess
import sys

import process_guard
import psutil
import pytest
from sklearn.datasets import load_iris

from kserve_workshop.dataplane import PayloadError, predict_v1, server_live
from kserve_workshop.metrics.exposition import read_metrics
from kserve_workshop.custom import chain as chain_lib
from kserve_workshop.custom.chain import LocalChain, LocalTransformer, post, predict_labels
from kserve_workshop.runtime.features import DOCS_FLOWERS, named_flowers
from kserve_workshop.errors import WorkshopError
from kserve_workshop.processes import LOOPBACK, wait_until_gone
from kserve_workshop.training import IRIS_CLASSES, save_model, train_iris

NAME = "iris-chain"


#: Tests using these fixtures start servers: marked slow (see conftest.py).
SLOW_FIXTURES = {"servers"}


@pytest.fixture(scope="module")
def servers(tmp_path_factory):
    model_dir = tmp_path_factory.mktemp("lab6") / "model"
    save_model(train_iris(), model_dir)
    chain = LocalChain(model_dir, NAME, predictor_protocol="v2").start()
    try:
        yield chain
    finally:
        chain.stop()


def direct_labels(server, rows):
    return [IRIS_CLASSES[index] for index in predict_v1(server.url, NAME, rows)]


@pytest.mark.parametrize("client_protocol", ["v1", "v2"])
def test_the_chain_answers_like_the_predictor_for_every_iris_flower(servers, client_protocol):
    rows = load_iris().data.round(1).tolist()
    expected = direct_labels(servers.predictor, rows)
    assert predict_labels(servers.url, NAME, named_flowers(rows), protocol=client_protocol) == expected
    assert set(expected) == set(IRIS_CLASSES)  # the comparison covers every class


def test_the_docs_flowers_are_versicolor_both_ways(servers):
    for protocol in ("v1", "v2"):
        assert predict_labels(servers.url, NAME, DOCS_FLOWERS, protocol=protocol) == ["versicolor"] * 2


def test_the_raw_answers_have_the_protocols_shape(servers):
    v1 = post(servers.url, NAME, {"instances": DOCS_FLOWERS[:1]}, protocol="v1")
    assert v1.status_code == 200 and v1.json() == {"predictions": ["versicolor"]}
    body = {
        "id": "lab6-1",
        "inputs": [
            {"name": name, "shape": [1], "datatype": "FP64", "data": [value]} for name, value in DOCS_FLOWERS[0].items()
        ],
    }
    v2 = post(servers.url, NAME, body, protocol="v2").json()
    assert v2["id"] == "lab6-1" and v2["model_name"] == NAME
    (output,) = v2["outputs"]
    assert {key: output[key] for key in ("name", "shape", "datatype", "data")} == {
        "name": "label",
        "shape": [1],
        "datatype": "BYTES",
        "data": ["versicolor"],
    }


@pytest.mark.parametrize(
    "protocol, body, message",
    [
        ("v1", {"instances": [{**DOCS_FLOWERS[0], "petal_widht": 1.4}]}, "unknown feature 'petal_widht'"),
        ("v1", {"instances": [{"sepal_length": 6.8}]}, "missing sepal_width, petal_length, petal_width"),
        ("v1", {"instances": [{**DOCS_FLOWERS[0], "sepal_width": "wide"}]}, "sepal_width must be a number"),
        ("v1", {"instances": [[6.8, 2.8, 4.8, 1.4]]}, "not a dict of named features"),
        (
            "v2",
            {"inputs": [{"name": "sepal_length", "shape": [1], "datatype": "BYTES", "data": ["6.8"]}]},
            "datatype BYTES",
        ),
        (
            "v2",
            {"inputs": [{"name": n, "shape": [1], "datatype": "FP32", "data": [1.0]} for n in ("a", "b")]},
            "unknown feature 'a'",
        ),
    ],
)
def test_bad_payloads_get_a_400_that_says_what_is_expected(servers, protocol, body, message):
    answer = post(servers.url, NAME, body, protocol=protocol)
    assert answer.status_code == 400, answer.text
    assert message in chain_lib.error_message(answer)


def test_predict_labels_raises_a_payload_error_on_a_400(servers):
    with pytest.raises(PayloadError, match="unknown feature 'colour'"):
        predict_labels(servers.url, NAME, [{**DOCS_FLOWERS[0], "colour": 1.0}])


def test_kserve_gives_the_transformer_health_and_metrics(servers):
    url = servers.url
    assert server_live(url)
    predict_labels(url, NAME, DOCS_FLOWERS)
    metrics = read_metrics(url)
    assert f'request_preprocess_seconds_count{{model_name="{NAME}"}}' in metrics
    assert f'request_postprocess_seconds_count{{model_name="{NAME}"}}' in metrics


def test_every_server_listens_on_loopback_only(servers):
    for server in (servers.predictor, servers.transformer):
        process = psutil.Process(server.pid)
        listening = [c.laddr for c in process_guard._connections(process) if c.status == psutil.CONN_LISTEN]
        assert (LOOPBACK, server.port) in [(address.ip, address.port) for address in listening]
        assert process_guard.non_loopback_listeners([process]) == []


@pytest.mark.slow
def test_a_transformer_without_its_predictor_says_so_and_everything_stops(servers):
    pids = servers.pids
    assert len(pids) == 2
    servers.predictor.stop()
    answer = post(servers.url, NAME, {"instances": DOCS_FLOWERS})
    assert answer.status_code == 500
    assert "cannot reach the predictor at http://127.0.0.1:" in chain_lib.error_message(answer)
    servers.stop()
    assert wait_until_gone(pids) == []


# ------------------------------------------------------------------------ without servers


def test_transformer_command_line(tmp_path):
    transformer = LocalTransformer(NAME, "http://127.0.0.1:9001", predictor_protocol="v2")
    argv = transformer.argv(8123)
    assert argv[:3] == [sys.executable, "-m", "kserve_workshop.runtime.transformer_server"]
    flags = dict(zip(argv[3::2], argv[4::2]))
    assert flags["--model_name"] == NAME and flags["--predictor_host"] == "127.0.0.1:9001"
    assert flags["--predictor_protocol"] == "v2" and flags["--http_port"] == "8123"
    assert flags["--configure_logging"] == "false"
    assert transformer.ready_urls(8123) == [
        "http://127.0.0.1:8123/v2/health/ready",
        f"http://127.0.0.1:8123/v2/models/{NAME}/ready",
    ]


@pytest.mark.parametrize(
    "predictor, message",
    [
        ("", "cannot tell the predictor's address"),
        ("http://127.0.0.1:9001/v1/models", "HOST:PORT"),
        (None, "cannot tell"),
    ],
)
def test_bad_predictor_addresses_are_refused(predictor, message):
    with pytest.raises(WorkshopError, match=message):
        LocalTransformer(NAME, predictor).argv(1)


def test_bad_protocols_are_refused():
    with pytest.raises(WorkshopError, match="predictor_protocol must be 'v1' or 'v2'"):
        LocalTransformer(NAME, "127.0.0.1:1", predictor_protocol="grpc-v2")
    with pytest.raises(WorkshopError, match="protocol must be 'v1' or 'v2'"):
        chain_lib.endpoint("http://127.0.0.1:1", NAME, "v3")


@pytest.mark.parametrize(
    "args, message",
    [
        ([], "--predictor_host is required"),
        (["--predictor_host", "http://predictor"], "without scheme or path"),
        (
            ["--predictor_host", "127.0.0.1:1", "--predictor_protocol", "grpc-v2"],
            "--predictor_protocol must be one of v1, v2",
        ),
    ],
)
@pytest.mark.slow
def test_server_main_rejects_bad_flags_with_one_message(args, message):
    done = subprocess.run(
        [sys.executable, "-m", "kserve_workshop.runtime.transformer_server", *args],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 2
    assert message in done.stderr and "Traceback" not in done.stderr


def test_a_chain_that_cannot_start_its_transformer_stops_its_predictor(tmp_path, monkeypatch):
    save_model(train_iris(), tmp_path / "model")
    chain = LocalChain(tmp_path / "model", NAME)
    calls = []
    monkeypatch.setattr(chain.predictor, "start", lambda: calls.append("predictor.start"))
    monkeypatch.setattr(chain.predictor, "stop", lambda: calls.append("predictor.stop"))

    def failing_start():
        calls.append("transformer.start")
        raise WorkshopError("no transformer")

    monkeypatch.setattr(chain.transformer, "start", failing_start)
    with pytest.raises(WorkshopError, match="no transformer"):
        chain.start()
    assert calls == ["predictor.start", "transformer.start", "predictor.stop"]
