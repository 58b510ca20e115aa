"""Lab 3's graded checks accept answers consistent with the learner's own sweep and reject the rest
with a hint."""

from __future__ import annotations

import pytest

from kserve_workshop.labkit.grading import check
from kserve_workshop.load import CapacitySweep, LoadResult, percentile_budget

from support.checks import lab_runner
from support.sweeps import laptop_sweep, point


run = lab_runner("lab3")


LAPTOP = laptop_sweep()
#: A slower machine: a quarter of the throughput, four times the latency.
SLOW = CapacitySweep([point(p.concurrency, p.throughput / 4, p.p50 * 4000, p.p95 * 4000) for p in LAPTOP.points])
BUDGET = 0.010


# ---------------------------------------------------------------------------------------- sweep


def test_a_complete_sweep_passes():
    result = run("sweep", sweep=LAPTOP)
    assert result.passed, result.text()
    assert "6 levels from 1 to 32" in result.message


@pytest.mark.parametrize(
    "bad, words",
    [
        (CapacitySweep([point(1, 1000, 0.8, 1.0), point(2, 1900, 0.9, 1.2), point(4, 2000, 1.7, 2.2)]), "span enough"),
        (CapacitySweep([point(c, 1000, 1, 2) for c in (2, 4, 8, 16)]), "span enough"),
        (CapacitySweep([point(c, 1000, 1, 2, errors=3 if c == 8 else 0) for c in (1, 2, 4, 8, 16)]), "failed requests"),
        (CapacitySweep([point(c, 1000, 1, 2, requests=10) for c in (1, 2, 4, 8, 16)]), "too few requests"),
        ([(1, 1000)], "not the result of a capacity sweep"),
    ],
)
def test_a_poor_sweep_fails(bad, words):
    result = run("sweep", sweep=bad)
    assert not result.passed
    assert words in result.message
    assert result.hint


# ----------------------------------------------------------------------------------------- knee


def test_the_knee_of_the_learners_own_sweep_passes():
    assert run("knee", knee=2, sweep=LAPTOP).passed
    assert run("knee", knee=2, sweep=SLOW).passed


def test_the_knee_is_exactly_the_best_level_of_this_sweep():
    # c=2 and c=4 are close; the verdict is the argmax of throughput / p50, the same on every re-run.
    noisy = CapacitySweep(
        [
            point(1, 1000, 0.8, 1.0),
            point(2, 1900, 0.96, 1.2),
            point(4, 3500, 1.9, 2.4),
            point(8, 3600, 3.9, 4.4),
            point(16, 3600, 7.8, 8.8),
        ]
    )
    assert run("knee", knee=2, sweep=noisy).passed
    result = run("knee", knee=4, sweep=noisy)
    assert not result.passed and "93%" in result.message and "further left" in result.hint


def test_the_busiest_level_is_not_the_knee():
    busiest = CapacitySweep([*LAPTOP.points[:-1], point(32, 2050, 14.0, 17.6)])
    result = run("knee", knee=32, sweep=busiest)
    assert not result.passed
    assert "highest throughput" in result.hint
    assert result.expected == "2"


@pytest.mark.parametrize("answer, words", [(1, "lowest latency"), (16, "further left")])
def test_a_wrong_knee_points_the_way(answer, words):
    result = run("knee", knee=answer, sweep=LAPTOP)
    assert not result.passed and words in result.hint


@pytest.mark.parametrize("answer", [3, 2.5, "2", True])
def test_a_knee_that_is_not_a_measured_level_fails(answer):
    assert not run("knee", knee=answer, sweep=LAPTOP).passed


# ----------------------------------------------------------------------------------- scaleTarget
# The budget is the lab's: halfway between p50 and p95 at concurrency 8 of the sweep. On LAPTOP that
# is 3.95 ms, met by p95 up to concurrency 4 and reached near 7.2 (p95 4.4 ms at 8).


@pytest.mark.parametrize("answer", [4, 5, 7])
def test_targets_consistent_with_the_sweep_pass(answer):
    result = run("scale_target", scale_target=answer, sweep=LAPTOP)
    assert result.passed, result.text()


def test_a_slower_machine_is_graded_on_its_own_sweep():
    # SLOW is LAPTOP four times slower: the budget scales with it, and so the same levels pass.
    assert percentile_budget(SLOW) == pytest.approx(4 * percentile_budget(LAPTOP))
    assert run("scale_target", scale_target=4, sweep=SLOW).passed
    assert not run("scale_target", scale_target=8, sweep=SLOW).passed


def test_a_target_over_the_budget_fails_naming_the_level():
    result = run("scale_target", scale_target=16, sweep=LAPTOP)
    assert not result.passed
    assert "at concurrency 8 your p95 was already 4.40 ms" in result.hint
    assert result.expected.startswith("4 (or up to 7)")


def test_reading_the_median_gets_its_own_hint():
    result = run("scale_target", scale_target=8, sweep=LAPTOP)
    assert not result.passed and "median" in result.hint


def test_applying_the_utilisation_twice_gets_its_own_hint():
    result = run("scale_target", scale_target=3, sweep=LAPTOP)  # 4 x 0.7, rounded
    assert not result.passed
    assert "applied twice" in result.hint


def test_knatives_default_is_not_an_answer():
    result = run("scale_target", scale_target=100, sweep=LAPTOP)
    assert not result.passed and "default" in result.message


def test_a_wasteful_target_fails():
    result = run("scale_target", scale_target=1, sweep=LAPTOP)
    assert not result.passed and "too low" in result.hint


def test_an_edited_budget_is_not_used_and_the_message_says_so():
    result = run("scale_target", scale_target=16, sweep=LAPTOP, latency_budget=BUDGET)
    assert not result.passed and "the check uses the given latency_budget" in result.message
    assert run("scale_target", scale_target=4, sweep=LAPTOP, latency_budget=percentile_budget(LAPTOP)).passed


@pytest.mark.parametrize("answer", [0, -3, 12.5, "16", None])
def test_malformed_targets_fail(answer):
    assert not run("scale_target", scale_target=answer, sweep=LAPTOP).passed


def test_a_sweep_no_level_of_which_meets_the_budget_is_explained():
    # Outliers at every low level: no p95 is under the budget taken at concurrency 8.
    odd = CapacitySweep(
        [
            point(1, 1000, 0.8, 9.0),
            point(2, 1900, 0.96, 9.0),
            point(4, 2000, 1.76, 9.0),
            point(8, 2000, 3.5, 4.4),
            point(16, 2000, 7.0, 8.8),
        ]
    )
    result = run("scale_target", scale_target=1, sweep=odd)
    assert not result.passed
    assert "no level of the sweep meets" in result.message
    assert "more pods cannot make one request faster" in result.hint


def test_missing_answer_is_reported_not_raised():
    result = check("lab3.scale_target", {"sweep": LAPTOP}, show=False)
    assert not result.passed and "not defined" in result.message


# ----------------------------------------------------------------------------------------- replicas


def test_replicas_follow_knatives_formula_for_the_given_peak():
    # 40 in flight, target 18 at 70 %: 40 / 12.6 = 3.17 -> 4 pods.
    assert run("replicas_needed", replicas_needed=4, scale_target=18, peak_concurrency=40).passed
    assert run("replicas_needed", replicas_needed=4.0, scale_target=18).passed


@pytest.mark.parametrize("answer, words", [(3, "70 %"), (2, None), (5, None)])
def test_wrong_replica_counts_fail(answer, words):
    result = run("replicas_needed", replicas_needed=answer, scale_target=18, peak_concurrency=40)
    assert not result.passed
    assert result.expected == "4"
    if words:
        assert words in result.hint


def test_rounding_down_gets_its_own_hint():
    # 40 / (10 x 0.7) = 5.71: floor 5, ceil 6; without utilisation 4.
    result = run("replicas_needed", replicas_needed=5, scale_target=10, peak_concurrency=40)
    assert not result.passed and "math.ceil" in result.hint


def test_an_edited_peak_is_not_used():
    # 30 / (10 x 0.7) = 4.29 -> 5 with the edited peak; the lab's 40 needs 6.
    result = run("replicas_needed", replicas_needed=5, scale_target=10, peak_concurrency=30)
    assert not result.passed and "the peak is given" in result.hint
    assert "peak_concurrency = 40" in result.message


# -------------------------------------------------------------------------------------- in flight


def open_run(latencies_ms, elapsed, rate=1800.0, concurrency=8):
    n = len(latencies_ms)
    return LoadResult(
        url="http://127.0.0.1:1/x",
        concurrency=concurrency,
        rate=rate,
        started_at=0.0,
        elapsed=elapsed,
        starts=[i / rate for i in range(n)],
        durations=[ms / 1000 for ms in latencies_ms],
        oks=[True] * n,
    )


# 1000 requests in 0.5 s (2000 req/s) with a mean latency of 1.8 ms: 3.6 in flight (8 workers allowed).
RUN = open_run([1.0] * 500 + [2.6] * 500, elapsed=0.5)


def test_littles_law_on_the_learners_run_passes():
    assert run("in_flight", in_flight=3.6, open_run=RUN).passed
    assert run("in_flight", in_flight=1800 * 0.0018, open_run=RUN).passed  # the arrival rate is λ too
    assert not run("in_flight", in_flight=3.5, open_run=RUN).passed  # not what these numbers give


def test_latency_in_milliseconds_gets_its_own_hint():
    result = run("in_flight", in_flight=3600, open_run=RUN)
    assert not result.passed and "milliseconds" in result.hint


def test_the_number_of_workers_is_not_the_measured_in_flight():
    result = run("in_flight", in_flight=8, open_run=RUN)
    assert not result.passed
    assert result.expected == "3.6" and "workers" in result.hint


def test_the_median_instead_of_the_mean_gets_its_own_hint():
    skewed = open_run([1.0] * 600 + [4.0] * 400, elapsed=0.5)  # p50 1 ms, mean 2.2 ms
    result = run("in_flight", in_flight=2000 * 0.001, open_run=skewed)
    assert not result.passed and "mean latency" in result.hint


@pytest.mark.parametrize("answer, run_value", [(4, "not a run"), ("3.6", RUN), (float("nan"), RUN)])
def test_malformed_in_flight_answers_fail(answer, run_value):
    assert not run("in_flight", in_flight=answer, open_run=run_value).passed
