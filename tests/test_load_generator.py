"""The load generator against KServe's real model server (LocalModelServer) on 127.0.0.1."""

from __future__ import annotations

import asyncio
import math

import pytest

from kserve_workshop.errors import WorkshopError
from kserve_workshop.load import check_target, run_load
from kserve_workshop.load.generator import _request_headers, encode_payload
from kserve_workshop.processes import LocalModelServer, free_port
from kserve_workshop.training import DOCS_IRIS_INPUT, save_model, train_iris

PAYLOAD = {"instances": DOCS_IRIS_INPUT}


#: Tests using these fixtures start servers: marked slow (see conftest.py).
SLOW_FIXTURES = {"server"}


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    model_dir = tmp_path_factory.mktemp("iris-model")
    save_model(train_iris(kind="tree"), model_dir)
    with LocalModelServer(model_dir) as running:
        yield running


def test_closed_loop_sends_exactly_the_requested_number(server):
    result = run_load(server.v1_url, PAYLOAD, concurrency=4, max_requests=60, duration=None)
    assert result.requests == 60
    assert result.errors == 0 and result.error_kinds == {}
    assert len(result.latencies) == 60 and len(result.timeline) == 60
    p = result.percentiles
    assert 0 < p["p50"] <= p["p90"] <= p["p95"] <= p["p99"] < 1.0
    assert result.throughput > 0


def test_closed_loop_obeys_littles_law(server):
    # With N requests always in flight, throughput x mean latency is N (minus the generator's own
    # time between answer and next request). A timing bug breaks this.
    result = run_load(server.v1_url, PAYLOAD, concurrency=4, duration=0.8)
    in_flight = result.throughput * result.mean_latency
    assert 0.6 * 4 <= in_flight <= 1.05 * 4, in_flight


def test_progress_says_what_runs(server, capsys):
    run_load(server.v1_url, PAYLOAD, concurrency=2, max_requests=3, duration=None, progress=True)
    out = capsys.readouterr().out
    assert f"load on {server.v1_url}: concurrency 2, closed loop, up to 3 requests" in out


def test_duration_bounds_the_run(server):
    result = run_load(server.v1_url, PAYLOAD, concurrency=2, duration=0.5)
    assert 0.5 <= result.elapsed < 1.5
    # No request starts after the deadline.
    assert max(start for start, _, _ in result.timeline) < 0.5
    assert result.requests > 10


def test_open_loop_sends_at_the_target_rate(server):
    result = run_load(server.v1_url, PAYLOAD, concurrency=4, rate=100, duration=1.0)
    assert result.requests == 100
    starts = sorted(start for start, _, _ in result.timeline)
    # Requests are due every 10 ms, whatever the server does (sent within the timer's precision).
    assert starts == pytest.approx([i / 100 for i in range(100)], abs=0.02)
    assert result.errors == 0


def test_open_loop_counts_falling_behind_as_latency(server):
    # 400 requests due within 20 ms, one connection: the server needs far longer to answer them
    # all, and latency (measured from the due time) must show the queue instead of hiding it.
    result = run_load(server.v1_url, PAYLOAD, concurrency=1, rate=20_000, max_requests=400, duration=None)
    timeline = result.timeline
    assert result.requests == 400
    assert timeline[-1][1] > 0.05
    assert timeline[-1][1] > 10 * timeline[0][1]


def test_http_errors_are_counted_by_kind(server):
    url = f"{server.url}/v1/models/no-such-model:predict"
    result = run_load(url, PAYLOAD, concurrency=2, max_requests=10, duration=None)
    assert result.error_kinds == {"http_404": 10}
    assert result.errors == 10 and result.throughput == 0
    assert all(math.isnan(v) for v in result.percentiles.values())
    assert result.summary()["latency_ms"]["p50"] is None


def test_timeouts_are_counted_as_timeouts(server):
    result = run_load(server.v1_url, PAYLOAD, concurrency=1, max_requests=3, duration=None, timeout=1e-6)
    assert result.error_kinds == {"timeout": 3}


def test_unreachable_server_is_one_clear_error():
    url = f"http://127.0.0.1:{free_port()}/v1/models/x:predict"
    with pytest.raises(WorkshopError, match="cannot connect to") as info:
        run_load(url, PAYLOAD, concurrency=2, duration=5)
    assert "server running" in info.value.hint


def test_works_inside_a_running_event_loop(server):
    # Notebook kernels already run an event loop; run_load must still work there.
    async def from_a_coroutine():
        return run_load(server.v1_url, PAYLOAD, concurrency=2, max_requests=5, duration=None)

    assert asyncio.run(from_a_coroutine()).requests == 5


@pytest.mark.parametrize(
    "url",
    [
        "http://10.1.2.3/v1/models/x:predict",
        "https://example.com/",
        "http://localhost.evil.example/",
        "http://192.168.0.1:8080/",
    ],
)
def test_refuses_targets_off_this_machine_before_sending(url):
    with pytest.raises(WorkshopError, match="refusing to send load") as info:
        run_load(url, PAYLOAD, max_requests=1, duration=None)
    assert "allow_hosts" in info.value.hint


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1:8080/x",
        "http://127.9.9.9/x",
        "http://localhost:1/x",
        "http://[::1]:8080/x",
        "http://[::ffff:127.0.0.1]/x",
    ],
)
def test_accepts_loopback_targets(url):
    assert check_target(url)


def test_ingress_host_must_be_allowed_explicitly():
    url = "http://34.1.2.3/v1/models/iris:predict"
    with pytest.raises(WorkshopError):
        check_target(url)
    assert check_target(url, allow_hosts=["34.1.2.3"]) == "34.1.2.3"
    with pytest.raises(WorkshopError):
        check_target(url, allow_hosts=["34.1.2.4"])


@pytest.mark.parametrize("url", ["ftp://127.0.0.1/x", "127.0.0.1:8080/x", "http://127.0.0.1:99999/x", ""])
def test_malformed_urls_are_refused(url):
    with pytest.raises(WorkshopError):
        check_target(url)


@pytest.mark.parametrize(
    "kwargs, word",
    [
        ({"concurrency": 0}, "concurrency"),
        ({"concurrency": 2.5}, "concurrency"),
        ({"concurrency": True}, "concurrency"),
        ({"concurrency": 5000}, "concurrency"),
        ({"rate": -1}, "rate"),
        ({"rate": 0}, "rate"),
        ({"duration": 0}, "duration"),
        ({"duration": None, "max_requests": None}, "bound"),
        ({"max_requests": 0}, "max_requests"),
        ({"timeout": 0}, "timeout"),
    ],
)
def test_bad_arguments_are_refused_with_the_argument_named(kwargs, word):
    with pytest.raises(WorkshopError, match=word):
        run_load("http://127.0.0.1:9/x", PAYLOAD, **kwargs)


def test_payloads_are_serialised_once_to_bytes():
    assert encode_payload({"instances": [[1, 2]]}) == b'{"instances":[[1,2]]}'
    assert encode_payload("{}") == b"{}" and encode_payload(b"raw") == b"raw" and encode_payload(None) is None
    with pytest.raises(WorkshopError, match="JSON"):
        encode_payload({"x": {1, 2}})


def test_headers_default_to_json_and_can_be_overridden():
    assert _request_headers(None, b"{}") == {"Content-Type": "application/json"}
    assert _request_headers(None, None) == {}
    merged = _request_headers({"content-type": "text/plain", "Host": "iris.default.example.com"}, b"x")
    assert merged == {"content-type": "text/plain", "Host": "iris.default.example.com"}
    with pytest.raises(WorkshopError, match="bad header"):
        _request_headers({"Host": 3}, b"x")
    with pytest.raises(WorkshopError, match="bad header"):
        _request_headers({"X-A": "1\nX-B: 2"}, b"x")
