"""Lab 3's graded checks accept answers consistent with the learner's own sweep and reject the rest
with a hint."""

from __future__ import annotations

import pytest

from kserve_workshop.labkit.grading import check
from kserve_workshop.load import CapacityPoint, CapacitySweep, LoadResult

from support.checks import lab_runner


run = lab_runner("lab3")


def point(concurrency, throughput, p50_ms, p95_ms, errors=0, requests=1000):
    return CapacityPoint(concurrency, throughput, p50_ms / 1000, p95_ms / 1000, p95_ms * 1.3 / 1000, requests, errors)


#: A laptop's sweep: saturated from concurrency 2 at ~2000 req/s.
LAPTOP = CapacitySweep([point(1, 1000, 0.8, 1.0), point(2, 1900, 0.96, 1.2), point(4, 2000, 1.76, 2.2),
                        point(8, 2000, 3.5, 4.4), point(16, 2000, 7.0, 8.8), point(32, 2000, 14.0, 17.6)])
#: A slower machine: a quarter of the throughput, four times the latency.
SLOW = CapacitySweep([point(p.concurrency, p.throughput / 4, p.p50 * 4000, p.p95 * 4000) for p in LAPTOP.points])
BUDGET = 0.010


# ---------------------------------------------------------------------------------------- sweep

def test_a_complete_sweep_passes():
    result = run("sweep", sweep=LAPTOP)
    assert result.passed, result.text()
    assert "6 levels from 1 to 32" in result.message


@pytest.mark.parametrize("bad, words", [
    (CapacitySweep([point(1, 1000, 0.8, 1.0), point(2, 1900, 0.9, 1.2), point(4, 2000, 1.7, 2.2)]), "span enough"),
    (CapacitySweep([point(c, 1000, 1, 2) for c in (2, 4, 8, 16)]), "span enough"),
    (CapacitySweep([point(c, 1000, 1, 2, errors=3 if c == 8 else 0) for c in (1, 2, 4, 8, 16)]), "failed requests"),
    (CapacitySweep([point(c, 1000, 1, 2, requests=10) for c in (1, 2, 4, 8, 16)]), "too few requests"),
    ([(1, 1000)], "not the result of a capacity sweep"),
])
def test_a_poor_sweep_fails(bad, words):
    result = run("sweep", sweep=bad)
    assert not result.passed
    assert words in result.message
    assert result.hint


# ----------------------------------------------------------------------------------------- knee

def test_the_knee_of_the_learners_own_sweep_passes():
    assert run("knee", knee=2, sweep=LAPTOP).passed
    assert run("knee", knee=2, sweep=SLOW).passed


def test_a_level_almost_as_good_as_the_knee_passes():
    # Measurements are noisy: c=2 and c=4 with nearly equal throughput/latency are both knees.
    noisy = CapacitySweep([point(1, 1000, 0.8, 1.0), point(2, 1900, 0.96, 1.2), point(4, 3500, 1.9, 2.4),
                           point(8, 3600, 3.9, 4.4), point(16, 3600, 7.8, 8.8)])
    assert run("knee", knee=2, sweep=noisy).passed
    assert run("knee", knee=4, sweep=noisy).passed
    assert not run("knee", knee=8, sweep=noisy).passed


def test_the_busiest_level_is_not_the_knee():
    busiest = CapacitySweep([*LAPTOP.points[:-1], point(32, 2050, 14.0, 17.6)])
    result = run("knee", knee=32, sweep=busiest)
    assert not result.passed
    assert "highest throughput is not the knee" in result.hint
    assert result.expected == "about 2"


@pytest.mark.parametrize("answer, words", [(1, "further right"), (16, "further left")])
def test_a_wrong_knee_points_the_way(answer, words):
    result = run("knee", knee=answer, sweep=LAPTOP)
    assert not result.passed and words in result.hint


@pytest.mark.parametrize("answer", [3, 2.0, "2", True])
def test_a_knee_that_is_not_a_measured_level_fails(answer):
    assert not run("knee", knee=answer, sweep=LAPTOP).passed


# ----------------------------------------------------------------------------------- scaleTarget

@pytest.mark.parametrize("answer", [12, 16, 18, 20])
def test_targets_consistent_with_the_sweep_pass(answer):
    # p95 8.8 ms at 16 and 17.6 ms at 32: the 10 ms budget is reached near 18.2.
    result = run("scale_target", scale_target=answer, sweep=LAPTOP, latency_budget=BUDGET)
    assert result.passed, result.text()


def test_the_same_answer_is_wrong_on_a_slower_machine():
    # On SLOW, p95 is 8.8 ms at 4 and 17.6 ms at 8: the budget is reached near 4.5.
    assert not run("scale_target", scale_target=16, sweep=SLOW, latency_budget=BUDGET).passed
    assert run("scale_target", scale_target=4, sweep=SLOW, latency_budget=BUDGET).passed


def test_a_target_over_the_budget_fails_naming_the_level():
    result = run("scale_target", scale_target=32, sweep=LAPTOP, latency_budget=BUDGET)
    assert not result.passed
    assert "at concurrency 32 your p95 was already 17.6 ms" in result.hint
    assert result.expected.startswith("between 12 and 20")


def test_applying_the_utilisation_twice_gets_its_own_hint():
    result = run("scale_target", scale_target=11, sweep=LAPTOP, latency_budget=BUDGET)  # 16 x 0.7
    assert not result.passed
    assert "applied twice" in result.hint


def test_knatives_default_is_not_an_answer():
    result = run("scale_target", scale_target=100, sweep=LAPTOP, latency_budget=0.5)
    assert not result.passed and "default" in result.message


def test_a_wasteful_target_fails():
    result = run("scale_target", scale_target=2, sweep=LAPTOP, latency_budget=BUDGET)
    assert not result.passed and "too low" in result.hint


@pytest.mark.parametrize("answer", [0, -3, 12.5, "16", None])
def test_malformed_targets_fail(answer):
    assert not run("scale_target", scale_target=answer, sweep=LAPTOP, latency_budget=BUDGET).passed


def test_an_impossible_budget_is_explained():
    result = run("scale_target", scale_target=1, sweep=LAPTOP, latency_budget=0.0001)
    assert not result.passed
    assert "no level of the sweep meets" in result.message
    assert "more pods cannot make one request faster" in result.hint


def test_missing_answer_is_reported_not_raised():
    result = check("lab3.scale_target", {"sweep": LAPTOP, "latency_budget": BUDGET}, show=False)
    assert not result.passed and "not defined" in result.message


# ----------------------------------------------------------------------------------------- replicas

def test_replicas_follow_knatives_formula():
    # 40 in flight, target 18 at 70 %: 40 / 12.6 = 3.17 -> 4 pods.
    assert run("replicas_needed", replicas_needed=4, scale_target=18, peak_concurrency=40).passed


@pytest.mark.parametrize("answer, words", [(3, "70 %"), (2, None), (5, None)])
def test_wrong_replica_counts_fail(answer, words):
    # 40 / 18 = 2.2 -> 3 ignores the utilisation; 3.17 rounded down is 3 as well.
    result = run("replicas_needed", replicas_needed=answer, scale_target=18, peak_concurrency=40)
    assert not result.passed
    assert result.expected == "4"
    if words:
        assert words in result.hint


def test_rounding_down_gets_its_own_hint():
    # 30 / (10 x 0.7) = 4.29: floor 4, ceil 5; without utilisation 3.
    result = run("replicas_needed", replicas_needed=4, scale_target=10, peak_concurrency=30)
    assert not result.passed and "math.ceil" in result.hint


# -------------------------------------------------------------------------------------- in flight

def closed_run(latencies_ms, elapsed):
    n = len(latencies_ms)
    return LoadResult(url="http://127.0.0.1:1/x", concurrency=4, rate=None, started_at=0.0, elapsed=elapsed,
                      starts=[0.0] * n, durations=[ms / 1000 for ms in latencies_ms], oks=[True] * n)


# 1000 requests in 0.5 s (2000 req/s) with a mean latency of 1.8 ms: 3.6 in flight.
RUN = closed_run([1.0] * 500 + [2.6] * 500, elapsed=0.5)


def test_littles_law_on_the_learners_run_passes():
    assert run("in_flight", in_flight=3.6, closed_run=RUN).passed
    assert run("in_flight", in_flight=3.5, closed_run=RUN).passed  # within 5 %


def test_latency_in_milliseconds_gets_its_own_hint():
    result = run("in_flight", in_flight=3600, closed_run=RUN)
    assert not result.passed and "milliseconds" in result.hint


def test_the_number_of_workers_is_not_the_measured_in_flight():
    # 4 workers, but the generator's own time between requests keeps the average at 3.6.
    result = run("in_flight", in_flight=4, closed_run=RUN)
    assert not result.passed
    assert result.expected == "3.6"


def test_the_median_instead_of_the_mean_gets_its_own_hint():
    skewed = closed_run([1.0] * 600 + [4.0] * 400, elapsed=0.5)  # p50 1 ms, mean 2.2 ms
    result = run("in_flight", in_flight=2000 * 0.001, closed_run=skewed)
    assert not result.passed and "mean latency" in result.hint


@pytest.mark.parametrize("answer, run_value", [(4, "not a run"), ("3.6", RUN), (float("nan"), RUN)])
def test_malformed_in_flight_answers_fail(answer, run_value):
    assert not run("in_flight", in_flight=answer, closed_run=run_value).passed
