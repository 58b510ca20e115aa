"""Lab 3 answers as learners write them, graded on a fixed measurement (the same verdict every run)."""

from __future__ import annotations

import math
import statistics
import time

import numpy as np
import pytest

from answer_cases import FAIL, PASS, Case, cases, grade, judge
from support.sweeps import laptop_sweep, point
from kserve_workshop.load import (
    CapacitySweep,
    LoadResult,
    percentile_budget,
    recommend_scale_target,
    replicas_for,
)


SWEEP = laptop_sweep()
BUDGET = percentile_budget(SWEEP)


def open_loop() -> LoadResult:
    """2.05 s of an open loop at 480 req/s with 8 workers: 90 % of answers in 1 ms, 10 % in 5 ms."""
    latencies = [0.001] * 900 + [0.005] * 100
    return LoadResult(
        "http://127.0.0.1:8080/v1/models/m:predict",
        8,
        480.0,
        time.time() - 10,
        2.05,
        [i / 480 for i in range(1000)],
        latencies,
        [True] * 1000,
    )


RUN = open_loop()
LITTLE = RUN.throughput * RUN.mean_latency


def test_the_fixture_separates_the_methods():
    assert BUDGET == pytest.approx(0.00395)
    assert RUN.concurrency != pytest.approx(LITTLE, rel=0.5)
    assert RUN.throughput * RUN.percentiles["p50"] < 0.8 * LITTLE


@pytest.mark.parametrize(
    "case",
    cases(
        Case("throughput-times-mean", {"open_run": RUN, "in_flight": RUN.throughput * RUN.mean_latency}, PASS),
        Case("arrival-rate-times-mean", {"open_run": RUN, "in_flight": RUN.rate * RUN.mean_latency}, PASS),
        Case(
            "statistics-mean",
            {"open_run": RUN, "in_flight": RUN.requests / RUN.elapsed * statistics.mean(RUN.latencies)},
            PASS,
        ),
        Case("rounded", {"open_run": RUN, "in_flight": round(LITTLE, 2)}, PASS),
        Case("float32", {"open_run": RUN, "in_flight": np.float32(LITTLE)}, PASS),
        Case("the-worker-cap", {"open_run": RUN, "in_flight": RUN.concurrency}, FAIL, "workers"),
        Case("median", {"open_run": RUN, "in_flight": RUN.throughput * RUN.percentiles["p50"]}, FAIL, "not the median"),
        Case(
            "milliseconds",
            {"open_run": RUN, "in_flight": RUN.throughput * RUN.mean_latency * 1000},
            FAIL,
            "milliseconds",
        ),
        Case("rate-alone", {"open_run": RUN, "in_flight": RUN.rate}, FAIL, "multiply it by the mean time"),
        Case("one-decimal", {"open_run": RUN, "in_flight": round(LITTLE, 1)}, FAIL, "2 or more decimals"),
        Case("text", {"open_run": RUN, "in_flight": f"{LITTLE:.2f}"}, FAIL, "is text"),
    ),
)
def test_in_flight(case):
    judge("lab3.in_flight", case)


@pytest.mark.parametrize(
    "case",
    cases(
        Case("the-sweep", {"sweep": SWEEP}, PASS),
        Case("its-points", {"sweep": SWEEP.points}, PASS),
        Case("a-dataframe", {"sweep": SWEEP.to_dataframe()}, FAIL, "measure_capacity"),
        Case("three-levels", {"sweep": CapacitySweep(SWEEP.points[:3])}, FAIL, "LEVELS"),
        Case(
            "errors",
            {"sweep": CapacitySweep([*SWEEP.points[:-1], point(32, 2000, 14, 17.6, errors=5)])},
            FAIL,
            "still running",
        ),
        Case(
            "wrong-url",
            {"sweep": CapacitySweep([point(p.concurrency, 0, 1, 2, errors=1000) for p in SWEEP.points])},
            FAIL,
            "server.v1_url",
        ),
        Case(
            "too-short",
            {"sweep": CapacitySweep([point(p.concurrency, 100, 1, 2, requests=20) for p in SWEEP.points])},
            FAIL,
            "longer duration",
        ),
    ),
)
def test_sweep(case):
    judge("lab3.sweep", case)


@pytest.mark.parametrize(
    "case",
    cases(
        Case(
            "max-power",
            {"sweep": SWEEP, "knee": max(SWEEP.points, key=lambda p: p.throughput / p.p50).concurrency},
            PASS,
        ),
        Case("numpy", {"sweep": SWEEP, "knee": np.int64(2)}, PASS),
        Case("float", {"sweep": SWEEP, "knee": np.float64(2.0)}, PASS),
        Case(
            "argmax",
            {"sweep": SWEEP, "knee": SWEEP.levels[int(np.argmax([p.throughput / p.p50 for p in SWEEP.points]))]},
            PASS,
        ),
        Case(
            "busiest",
            {"sweep": SWEEP, "knee": max(SWEEP.points, key=lambda p: p.throughput).concurrency},
            FAIL,
            "highest throughput",
        ),
        Case(
            "fastest",
            {"sweep": SWEEP, "knee": min(SWEEP.points, key=lambda p: p.p50).concurrency},
            FAIL,
            "lowest latency",
        ),
        Case("past-it", {"sweep": SWEEP, "knee": 16}, FAIL, "further left"),
        Case("not-a-level", {"sweep": SWEEP, "knee": 3}, FAIL, ".concurrency"),
        Case("the-point", {"sweep": SWEEP, "knee": SWEEP.points[1]}, FAIL, "point.concurrency"),
        Case("an-empty-selection", {"sweep": SWEEP, "knee": []}, FAIL, "nothing passed the condition"),
        Case("a-list", {"sweep": SWEEP, "knee": [2, 4]}, FAIL, "not one number"),
    ),
)
def test_knee(case):
    judge("lab3.knee", case)


def test_the_knee_verdict_is_exact_not_a_tolerance():
    # Level 4 is within 15 % of the best power here; it used to pass or fail with timing noise.
    close = CapacitySweep(
        [
            point(1, 1000, 0.8, 1.0),
            point(2, 1900, 0.96, 1.2),
            point(4, 3500, 1.9, 2.4),
            point(8, 3600, 3.9, 4.4),
            point(16, 3600, 7.8, 8.8),
        ]
    )
    assert grade("lab3.knee", {"sweep": close, "knee": 2}).passed
    assert not grade("lab3.knee", {"sweep": close, "knee": 4}).passed


def highest_within(budget):
    return max(p.concurrency for p in SWEEP.points if p.p95 <= budget)


@pytest.mark.parametrize(
    "case",
    cases(
        Case(
            "highest-p95-within",
            {"sweep": SWEEP, "latency_budget": BUDGET, "scale_target": highest_within(BUDGET)},
            PASS,
        ),
        Case("numpy", {"sweep": SWEEP, "latency_budget": BUDGET, "scale_target": np.int64(4)}, PASS),
        Case("float", {"sweep": SWEEP, "latency_budget": BUDGET, "scale_target": 4.0}, PASS),
        Case(
            "library-refinement",
            {
                "sweep": SWEEP,
                "latency_budget": BUDGET,
                "scale_target": recommend_scale_target(SWEEP, BUDGET).scale_target,
            },
            PASS,
        ),
        Case(
            "read-off-p50",
            {
                "sweep": SWEEP,
                "latency_budget": BUDGET,
                "scale_target": max(p.concurrency for p in SWEEP.points if p.p50 <= BUDGET),
            },
            FAIL,
            "median",
        ),
        Case("knative-default", {"sweep": SWEEP, "latency_budget": BUDGET, "scale_target": 100}, FAIL, "default"),
        Case(
            "times-utilisation",
            {"sweep": SWEEP, "latency_budget": BUDGET, "scale_target": round(4 * 0.7)},
            FAIL,
            "applied twice",
        ),
        Case("too-high", {"sweep": SWEEP, "latency_budget": BUDGET, "scale_target": 16}, FAIL, "budget"),
        Case("zero", {"sweep": SWEEP, "latency_budget": BUDGET, "scale_target": 0}, FAIL, "no request per pod"),
        Case("text", {"sweep": SWEEP, "latency_budget": BUDGET, "scale_target": "4"}, FAIL, "is text"),
        Case("a-fraction", {"sweep": SWEEP, "latency_budget": BUDGET, "scale_target": 4.5}, FAIL, "round it"),
        Case(
            "the-point",
            {"sweep": SWEEP, "latency_budget": BUDGET, "scale_target": SWEEP.points[2]},
            FAIL,
            "scale_target = point.concurrency",
        ),
        Case(
            "budget-edited",
            {"sweep": SWEEP, "latency_budget": 0.02, "scale_target": highest_within(0.02)},
            FAIL,
            "the check uses the given latency_budget",
            where="message",
        ),
    ),
)
def test_scale_target(case):
    judge("lab3.scale_target", case)


@pytest.mark.parametrize(
    "case",
    cases(
        Case("ceil", {"scale_target": 4, "peak_concurrency": 40, "replicas_needed": math.ceil(40 / (4 * 0.7))}, PASS),
        Case(
            "numpy-ceil", {"scale_target": 4, "peak_concurrency": 40, "replicas_needed": np.ceil(40 / (4 * 0.7))}, PASS
        ),
        Case("library", {"scale_target": 4, "peak_concurrency": 40, "replicas_needed": replicas_for(40, 4)}, PASS),
        Case("integer-maths", {"scale_target": 4, "peak_concurrency": 40, "replicas_needed": -(-400 // 28)}, PASS),
        Case(
            "no-utilisation",
            {"scale_target": 4, "peak_concurrency": 40, "replicas_needed": math.ceil(40 / 4)},
            FAIL,
            "scale_target * 0.7",
        ),
        Case(
            "rounded-down",
            {"scale_target": 4, "peak_concurrency": 40, "replicas_needed": int(40 / 2.8)},
            FAIL,
            "math.ceil",
        ),
        Case("not-rounded", {"scale_target": 4, "peak_concurrency": 40, "replicas_needed": 40 / 2.8}, FAIL, "round it"),
        Case(
            "peak-edited",
            {"scale_target": 4, "peak_concurrency": 20, "replicas_needed": math.ceil(20 / 2.8)},
            FAIL,
            "the peak is given",
        ),
        Case("text", {"scale_target": 4, "peak_concurrency": 40, "replicas_needed": "15"}, FAIL, "is text"),
        Case(
            "target-not-done", {"scale_target": None, "peak_concurrency": 40, "replicas_needed": 15}, FAIL, "Exercise 4"
        ),
    ),
)
def test_replicas_needed(case):
    judge("lab3.replicas_needed", case)
