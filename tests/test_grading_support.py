"""What the checks stand on: read-only constants, manifest diffs, the server's record, guarded calls."""

from __future__ import annotations

import copy
import json
import os
import pickle
import signal
import threading

import numpy as np
import pytest
import yaml

from kserve_workshop.labkit import check_guard
from kserve_workshop.runtime import received
from kserve_workshop.runtime.frozen import FrozenDict, FrozenList, freeze
from kserve_workshop.labkit.grading import CheckFailed, answered, check, passes
from kserve_workshop.isvc.diff import changed_fields, describe, unified_diff

# -- frozen constants ----------------------------------------------------------------------------

CONSTANT = freeze([{"a": [1, 2]}, {"b": 3}])


@pytest.mark.parametrize(
    "change",
    [
        lambda c: c.append(1),
        lambda c: c.extend([1]),
        lambda c: c.insert(0, 1),
        lambda c: c.pop(),
        lambda c: c.remove(c[0]),
        lambda c: c.clear(),
        lambda c: c.sort(),
        lambda c: c.reverse(),
        lambda c: c.__setitem__(0, 1),
        lambda c: c.__delitem__(0),
        lambda c: c.__iadd__([1]),
        lambda c: c[0].__setitem__("x", 1),
        lambda c: c[0].update(x=1),
        lambda c: c[0].pop("a"),
        lambda c: c[0].setdefault("x", 1),
        lambda c: c[0].clear(),
        lambda c: c[0]["a"].append(3),
    ],
)
def test_a_frozen_constant_refuses_every_change(change):
    with pytest.raises(TypeError, match="copy"):
        change(CONSTANT)
    assert CONSTANT == [{"a": [1, 2]}, {"b": 3}]


def test_a_frozen_constant_is_still_a_list_and_dict_everywhere():
    assert isinstance(CONSTANT, list) and isinstance(CONSTANT[0], dict)
    assert json.loads(json.dumps(CONSTANT)) == CONSTANT
    assert yaml.safe_load(yaml.safe_dump(CONSTANT)) == CONSTANT
    assert repr(CONSTANT) == "[{'a': [1, 2]}, {'b': 3}]"
    assert np.asarray(freeze([[1.0, 2.0]])).shape == (1, 2)


def test_copies_of_a_frozen_constant_are_plain_and_changeable():
    for duplicate in (copy.deepcopy(CONSTANT), pickle.loads(pickle.dumps(CONSTANT))):
        assert type(duplicate) is list and type(duplicate[0]) is dict and type(duplicate[0]["a"]) is list
        duplicate[0]["a"].append(3)
    assert type(copy.copy(CONSTANT)) is list and type(CONSTANT[:1]) is list
    assert type(dict(CONSTANT[0])) is dict and type({**CONSTANT[0]}) is dict
    assert not isinstance(copy.deepcopy(CONSTANT)[0], FrozenDict) and isinstance(CONSTANT, FrozenList)


# -- manifest diffs ------------------------------------------------------------------------------


def test_changed_fields_name_every_change_and_ignore_equal_numbers():
    before = {"spec": {"predictor": {"minReplicas": 1, "model": {"uri": "a"}}}, "keep": 20}
    after = {"spec": {"predictor": {"minReplicas": 2, "model": {"uri": "a"}, "maxReplicas": 3}}, "keep": 20.0}
    changes = changed_fields(before, after)
    assert changes == [("spec.predictor.minReplicas", 1, 2), ("spec.predictor.maxReplicas", "(absent)", 3)]
    assert describe(changes) == "spec.predictor.minReplicas: 1 -> 2; spec.predictor.maxReplicas: '(absent)' -> 3"
    assert changed_fields({"a": True}, {"a": 1}) == [("a", True, 1)]


def test_unified_diff_shows_numpy_numbers_as_numbers():
    diff = unified_diff({"percent": 10}, {"percent": np.int64(20), "rows": np.array([1, 2])}, "old", "new")
    assert "-percent: 10" in diff and "+percent: 20" in diff and "+- 1" in diff


# -- what the model server received ---------------------------------------------------------------


def test_the_record_keeps_each_distinct_row_once_with_its_latest_answer(tmp_path):
    recorder = received.Recorder(tmp_path / "record.jsonl")
    rows = np.array([[6.8, 2.8, 4.8, 1.4], [6.0, 3.4, 4.5, 1.6]])
    for _ in range(50):  # a load test repeating one request writes its rows once
        recorder.note(rows, np.array([1, 1]))
    recorder.note(rows[:1].astype(np.float32), [2])  # the same row as float32, answered differently
    assert len((tmp_path / "record.jsonl").read_text().splitlines()) == 3
    assert received.read_record(tmp_path / "record.jsonl") == {
        received.row_key(rows[0]): 2,
        received.row_key(rows[1]): 1,
    }


def test_the_record_skips_big_batches_and_never_raises(tmp_path):
    recorder = received.Recorder(tmp_path / "record.jsonl")
    recorder.note(np.zeros((received.MAX_BATCH + 1, 4)), np.zeros(received.MAX_BATCH + 1))
    assert not (tmp_path / "record.jsonl").exists()
    received.Recorder(tmp_path / "no-such-dir" / "record.jsonl").note([[1, 2]], [0])  # unwritable: ignored
    assert received.answers_received(object(), [[1, 2]]) is None


# -- guarded calls and lesson-cell guards ---------------------------------------------------------


def test_a_real_interrupt_still_stops_a_check():
    def interrupted():
        os.kill(os.getpid(), signal.SIGINT)
        for _ in range(10_000_000):
            pass

    with pytest.raises(check_guard.UserInterrupt):
        check_guard.call_guarded(lambda: interrupted(), {})
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler


def test_the_time_limit_stops_a_loop_and_is_cleared_afterwards():
    with pytest.raises(check_guard.CheckTimedOut):
        check_guard.call_guarded(lambda: [None for _ in iter(int, 1)], {}, time_limit=0.5)
    assert signal.getitimer(signal.ITIMER_REAL) == (0.0, 0.0)


def test_off_the_main_thread_a_check_is_a_plain_call():
    results = []
    thread = threading.Thread(target=lambda: results.append(check("lab4.n_requests", {"n_requests": 385}, show=False)))
    thread.start()
    thread.join()
    assert results[0].passed


def test_answered_and_passes_tell_a_lesson_cell_what_is_missing(capsys):
    assert answered("x", namespace={"x": 3})
    assert not answered("x", namespace={"x": ...}) and "still Ellipsis" in capsys.readouterr().out
    assert not answered("x", namespace={}) and "Finish the exercise above first" in capsys.readouterr().out
    assert passes("lab4.n_requests", namespace={"n_requests": 385})
    assert not passes("lab4.n_requests", namespace={"n_requests": 384})
    assert 'check("lab4.n_requests") does not pass yet' in capsys.readouterr().out


def test_a_whole_sweep_point_given_as_a_number_gets_the_point_hint_and_nothing_else_does():
    from kserve_workshop.labkit.checks.answers import real_number
    from kserve_workshop.load import CapacityPoint, LoadResult

    def hint_for(value, variable):
        with pytest.raises(CheckFailed) as failed:
            real_number(value, variable)
        return failed.value.hint or ""

    point = CapacityPoint(concurrency=4, requests=100, errors=0, throughput=50.0, p50=0.01, p95=0.02, p99=0.03)
    assert "scale_target = point.concurrency" in hint_for(point, "scale_target")
    run = LoadResult(
        url="http://127.0.0.1:1/",
        concurrency=4,
        rate=None,
        started_at=0.0,
        elapsed=1.0,
        starts=[],
        durations=[],
        oks=[],
        error_kinds={},
        not_sent=0,
    )  # a load run has a concurrency too, but it is not a sweep point
    assert "point.concurrency" not in hint_for(run, "error_ratio")
