"""The payload-logging sink for real: the master's solution (the file the notebook writes) run as a
server on 127.0.0.1, graded with the agent's events, and a bounded burst at 1,000 events/s counted."""

from __future__ import annotations

import json

import pytest
import requests

from kserve_workshop.errors import WorkshopError
from kserve_workshop.processes import loopback_session
from kserve_workshop.payload_logging.burst import burst_deliveries, post_deliveries, send_burst
from kserve_workshop.payload_logging.cases import graded_deliveries, judge_answers, judge_store
from kserve_workshop.payload_logging.sink_process import SinkProcess
from kserve_workshop.payload_logging.store import read_pairs

from support.lab7_files import write_sink


@pytest.mark.slow
def test_the_master_sink_answers_and_keeps_what_the_grader_expects(tmp_path):
    graded = graded_deliveries()
    with SinkProcess(write_sink(tmp_path), tmp_path / "pairs.jsonl") as sink:
        statuses = post_deliveries(sink.event_url, [case.delivery for case in graded.cases])
        with loopback_session() as session:
            stats = session.get(f"{sink.url}/stats", timeout=5).json()
            served = session.get(f"{sink.url}/pairs", timeout=5).text  # what the cluster part reads
    assert judge_answers(graded.cases, statuses) == []
    assert judge_store(graded, read_pairs(tmp_path / "pairs.jsonl")) == []
    assert [json.loads(line) for line in served.splitlines()] == read_pairs(tmp_path / "pairs.jsonl")
    # The request whose response never came, and the two whose responses were malformed, wait.
    assert stats == {"pairs": len(graded.pairs), "pending": 3}


@pytest.mark.slow
def test_the_master_sink_refuses_a_duplicate_with_409(tmp_path):
    graded = graded_deliveries()
    first = graded.cases[0].delivery
    with SinkProcess(write_sink(tmp_path), tmp_path / "pairs.jsonl") as sink:
        assert post_deliveries(sink.event_url, [first, first]) == [200, 409]


@pytest.mark.slow
def test_a_burst_at_1000_events_per_second_loses_none(tmp_path):
    pairs = 1000
    with SinkProcess(write_sink(tmp_path), tmp_path / "pairs.jsonl") as sink:
        result = send_burst(sink.event_url, burst_deliveries(pairs), rate=1000, timeout=60)
    assert result.events == 2 * pairs
    assert result.accepted == 2 * pairs, result.summary()
    kept = read_pairs(tmp_path / "pairs.jsonl")
    assert len(kept) == pairs and len({pair["id"] for pair in kept}) == pairs
    assert result.elapsed >= 1.9  # it really was spread over two seconds


@pytest.mark.slow
def test_a_burst_counts_what_a_sink_refuses(tmp_path):
    refusing = write_sink(tmp_path, {'KINDS = {REQUEST_TYPE: "request", RESPONSE_TYPE: "response"}': "KINDS = {}"})
    with SinkProcess(refusing, tmp_path / "pairs.jsonl") as sink:
        result = send_burst(sink.event_url, burst_deliveries(20), rate=500)
    assert result.accepted == 0 and result.failed == 40 and result.statuses == {"400": 40}


@pytest.mark.parametrize(
    "kwargs, words",
    [
        ({"rate": 0}, "rate"),
        ({"rate": float("inf")}, "rate"),
        ({"rate": "fast"}, "rate"),
        ({"concurrency": 0}, "concurrency"),
        ({"concurrency": 1.5}, "concurrency"),
        ({"timeout": 0}, "timeout"),
        ({"url": "http://10.0.0.1:8080/"}, "refusing"),
    ],
)
def test_bad_burst_arguments_are_one_clear_message(kwargs, words):
    arguments = {"url": "http://127.0.0.1:9/", "rate": 100, **kwargs}
    with pytest.raises(WorkshopError, match=words):
        send_burst(arguments.pop("url"), burst_deliveries(1), **arguments)


def test_an_empty_burst_is_refused():
    with pytest.raises(WorkshopError, match="1 to"):
        send_burst("http://127.0.0.1:9/", [], rate=10)


def test_a_sink_that_is_not_running_shows_as_failed_calls():
    statuses = post_deliveries("http://127.0.0.1:9/", [graded_deliveries().cases[0].delivery], timeout=1)
    assert statuses == ["ConnectionError"]


def test_the_sink_process_refuses_files_that_cannot_be_a_sink(tmp_path):
    with pytest.raises(WorkshopError, match="no sink file"):
        SinkProcess(tmp_path / "missing.py", tmp_path / "pairs.jsonl")
    text = tmp_path / "sink.txt"
    text.write_text("")
    with pytest.raises(WorkshopError, match="not a Python file"):
        SinkProcess(text, tmp_path / "pairs.jsonl")
    with pytest.raises(WorkshopError, match="is a directory"):
        SinkProcess(write_sink(tmp_path), tmp_path)


@pytest.mark.slow
def test_a_sink_that_crashes_at_start_says_why(tmp_path):
    broken = write_sink(tmp_path, {"def main():": "def main():\n    raise SystemExit('no port for you')"})
    with pytest.raises(WorkshopError, match="no port for you"):
        SinkProcess(broken, tmp_path / "pairs.jsonl", startup_timeout=20).start()


def test_reading_a_store_with_a_broken_line_names_the_line(tmp_path):
    store = tmp_path / "pairs.jsonl"
    store.write_text('{"id": "a"}\n{"id": "b"}{"id": "c"}\n')
    with pytest.raises(WorkshopError, match="line 2"):
        read_pairs(store)
    assert read_pairs(tmp_path / "none.jsonl") == []


@pytest.mark.slow
def test_fresh_starts_from_an_empty_store(tmp_path):
    store = tmp_path / "pairs.jsonl"
    store.write_text('{"id": "old"}\n')
    with SinkProcess(write_sink(tmp_path), store, fresh=True) as sink:
        assert requests.get(f"{sink.url}/healthz", timeout=5, proxies={"http": None}).status_code == 200
    assert read_pairs(store) == []
