"""Graded checks of Lab 3 (autoscaling).

Every answer is graded against the reference computation on the learner's *own* measurements
(``load.capacity``), so a slow laptop and a fast one both pass with their own numbers, and
answers that do not follow from the measurements fail with a hint that says why.
"""

from __future__ import annotations

import math
import numbers
from typing import Any

from ...errors import WorkshopError
from ..grading import CheckFailed, lab_check
from ...load import LoadResult
from ...load.capacity import (KNATIVE_UTILISATION, CapacityPoint, CapacitySweep, find_knee, recommend_scale_target,
                             replicas_for)

#: A usable sweep spans this much: from one request at a time to well past the knee.
MIN_LEVELS = 4
MIN_HIGHEST_LEVEL = 16
MIN_REQUESTS_PER_LEVEL = 50
#: A knee answer passes when its throughput/latency is within this fraction of the best level's.
KNEE_TOLERANCE = 0.85


def _points(sweep: Any) -> list[CapacityPoint]:
    points = sweep.points if isinstance(sweep, CapacitySweep) else sweep
    if not isinstance(points, (list, tuple)) or not points or not all(isinstance(p, CapacityPoint) for p in points):
        raise CheckFailed("`sweep` is not the result of a capacity sweep",
                          expected="the CapacitySweep returned by measure_capacity(...)", found=sweep,
                          hint="run the sweep cell: sweep = measure_capacity(server.v1_url, payload, levels=LEVELS)")
    return sorted(points, key=lambda p: p.concurrency)


def _whole_number(value: Any, variable: str) -> int:
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise CheckFailed(f"`{variable}` must be a whole number", expected="an int, e.g. 8", found=value,
                          hint="Knative's scale settings and pod counts are integers: round with int() or math.ceil()")
    return int(value)


@lab_check("lab3", hint="Little's law: requests in flight = throughput (requests/s) x mean latency (s)")
def in_flight(in_flight, closed_run):
    """Little's law on the learner's closed-loop run: throughput x mean latency."""
    if not isinstance(closed_run, LoadResult) or not closed_run.latencies:
        raise CheckFailed("`closed_run` is not a load run with answers", expected="the LoadResult of run_load(...)",
                          found=closed_run, hint="run the closed-loop cell again (is the server running?)")
    if isinstance(in_flight, bool) or not isinstance(in_flight, numbers.Real) or not math.isfinite(in_flight):
        raise CheckFailed("`in_flight` must be a number", found=in_flight)
    expected = closed_run.throughput * closed_run.mean_latency
    if abs(in_flight - expected) <= 0.05 * expected:
        return (f"{in_flight:.2f} requests in flight on average, for {closed_run.concurrency} workers: the rest "
                "of the time each worker spends between an answer and its next request")
    if abs(in_flight / 1000 - expected) <= 0.05 * expected:
        hint = "latencies are in seconds in LoadResult (mean_latency); you used milliseconds"
    elif abs(in_flight - closed_run.throughput * closed_run.percentiles["p50"]) <= 0.02 * expected:
        hint = "Little's law holds for the mean latency (closed_run.mean_latency), not the median"
    else:
        hint = None
    raise CheckFailed("that is not throughput x mean latency of `closed_run`", expected=round(expected, 2),
                      found=in_flight, hint=hint)


@lab_check("lab3", hint="Sweep from 1 to at least 16 concurrent requests, about a second per level: "
                        "measure_capacity(server.v1_url, payload, levels=LEVELS, duration=1.0)")
def sweep(sweep):
    """The capacity sweep itself: enough levels, past the knee, enough requests, no errors."""
    points = _points(sweep)
    levels = [p.concurrency for p in points]
    if len(levels) < MIN_LEVELS or levels[0] != 1 or levels[-1] < MIN_HIGHEST_LEVEL:
        raise CheckFailed("the sweep does not span enough concurrency levels",
                          expected=f"at least {MIN_LEVELS} levels from 1 up to {MIN_HIGHEST_LEVEL} or more",
                          found=levels)
    failing = [p.concurrency for p in points if p.errors]
    if failing:
        raise CheckFailed("some levels had failed requests", expected="no errors", found=f"errors at {failing}",
                          hint="is the model server still running? (server.running) Restart it and sweep again")
    thin = [p.concurrency for p in points if p.requests < MIN_REQUESTS_PER_LEVEL]
    if thin:
        raise CheckFailed("some levels saw too few requests to trust their percentiles",
                          expected=f"at least {MIN_REQUESTS_PER_LEVEL} requests per level", found=f"too few at {thin}",
                          hint="give each level a longer duration (about a second)")
    return f"{len(levels)} levels from 1 to {levels[-1]}, peak {max(p.throughput for p in points):.0f} req/s"


@lab_check("lab3", hint="The knee is the level with the most throughput per unit of latency: "
                        "max(sweep.points, key=lambda p: p.throughput / p.p50).concurrency")
def knee(knee, sweep):
    """The concurrency where latency bends, graded on the learner's sweep (noise-tolerant)."""
    points = _points(sweep)
    value = _whole_number(knee, "knee")
    by_level = {p.concurrency: p for p in points}
    reference = find_knee(points)
    if value not in by_level:
        raise CheckFailed("`knee` is not one of the levels you measured", expected=f"one of {sorted(by_level)}",
                          found=value)
    chosen = by_level[value]
    if chosen.power >= KNEE_TOLERANCE * reference.power:
        return f"concurrency {value}: {chosen.throughput:.0f} req/s at p50 {chosen.p50 * 1000:.2f} ms"
    busiest = max(points, key=lambda p: p.throughput)
    hint = None
    if value == busiest.concurrency and value > reference.concurrency:
        hint = ("the highest throughput is not the knee: past the knee throughput barely grows while "
                "latency keeps rising. Compare throughput / p50 across levels")
    elif value > reference.concurrency:
        hint = "past the knee each extra request in flight only adds queueing time: look further left"
    else:
        hint = "below the knee the server still idles between requests: look further right"
    raise CheckFailed(f"at concurrency {value} throughput per latency is {chosen.power / reference.power:.0%} "
                      "of the best level's", expected=f"about {reference.concurrency}", found=value, hint=hint)


@lab_check("lab3", hint="scaleTarget is the concurrency one pod can hold while p95 stays within the budget: the "
                        "highest level of your sweep whose p95 <= latency_budget (or a little above, towards "
                        "the level that breaks it)")
def scale_target(scale_target, sweep, latency_budget):
    """A Knative concurrency target consistent with the learner's capacity and latency budget."""
    points = _points(sweep)
    value = _whole_number(scale_target, "scale_target")
    try:
        advice = recommend_scale_target(points, latency_budget)
    except WorkshopError as exc:
        raise CheckFailed(exc.message, hint=exc.hint) from None
    low, high = advice.acceptable_range()
    expected = (f"between {low} and {high}: p95 met the {advice.latency_budget * 1000:g} ms budget up to "
                f"concurrency {advice.measured}, and reaches it near {advice.estimate:.1f}")
    if low <= value <= high:
        return (f"scaleTarget {value}: Knative will keep about {value * KNATIVE_UTILISATION:.1f} requests in "
                f"flight per pod ({KNATIVE_UTILISATION:.0%} utilisation), within your budget")
    if value <= 0:
        raise CheckFailed("scaleTarget must be at least 1", expected=expected, found=value)
    if value == 100:
        raise CheckFailed("100 is Knative's default target, not one derived from your measurements",
                          expected=expected, found=value,
                          hint="with the default a pod takes 100 requests in flight before a second one starts; "
                               "read your own sweep against the budget")
    if value < low:
        if low <= value / KNATIVE_UTILISATION <= high + 1:
            hint = ("it looks like you multiplied by the 70 % utilisation yourself: Knative already aims at "
                    "scaleTarget x target-utilization, so that factor would be applied twice")
        else:
            hint = (f"too low: one pod met the budget with {advice.measured} requests in flight, so this target "
                    "starts pods that are not needed")
        raise CheckFailed("the target is lower than your measurements justify", expected=expected, found=value,
                          hint=hint)
    over = [p for p in points if p.concurrency <= value and p.p95 > advice.latency_budget]
    detail = (f"at concurrency {over[0].concurrency} your p95 was already {over[0].p95 * 1000:.1f} ms"
              if over else f"your sweep shows p95 growing with concurrency past {advice.measured}")
    raise CheckFailed("the target lets pods take more requests than the latency budget allows",
                      expected=expected, found=value,
                      hint=f"{detail}, over the {advice.latency_budget * 1000:g} ms budget")


@lab_check("lab3", hint="Knative wants ceil(total concurrency / (scaleTarget x 0.7)) pods")
def replicas_needed(replicas_needed, scale_target, peak_concurrency):
    """How many pods Knative's autoscaler wants for the peak load, with the learner's scaleTarget."""
    value = _whole_number(replicas_needed, "replicas_needed")
    target = _whole_number(scale_target, "scale_target")
    if target < 1 or not isinstance(peak_concurrency, numbers.Real) or peak_concurrency <= 0:
        raise CheckFailed("scale_target and peak_concurrency must be positive", found=(target, peak_concurrency))
    expected = replicas_for(peak_concurrency, target)
    if value == expected:
        return f"{value} pods, each near {peak_concurrency / value:.1f} requests in flight"
    if value == math.ceil(peak_concurrency / target - 1e-9):
        hint = ("Knative aims below the target: at scaleTarget x target-utilization (70 %) per pod, which is "
                "the headroom for bursts; divide by scale_target * 0.7")
    elif value == math.floor(peak_concurrency / (target * KNATIVE_UTILISATION)):
        hint = "rounding down leaves every pod above its target: a fraction of a pod is one more pod (math.ceil)"
    else:
        hint = None
    raise CheckFailed("that is not the pod count Knative would want", expected=expected, found=value, hint=hint)
