"""Graded checks of Lab 3 (autoscaling).

Every answer is graded against the reference computation on the learner's *own* measurements
(``load.capacity``), so a slow laptop and a fast one both pass with their own numbers. Each verdict
is an exact function of those measurements: the same sweep always gets the same verdict, whatever
the timing noise of the run was. The given values (the latency budget, the peak concurrency) are
the lab's, recomputed here: editing them in the exercise cell changes nothing but the answer.

The exercises are worded so that the tempting shortcut gives another number than the method: the
open loop's worker cap is not the requests in flight (Little's law), and the budget lies between
the median and the p95 of one level, so a target read off p50 differs from one read off p95.
"""

from __future__ import annotations

import math
from typing import Any

from ...errors import WorkshopError
from ..check_registry import lab_check
from ..grading import CheckFailed, quoted
from ...load import LoadResult
from ...load.capacity import (
    KNATIVE_UTILISATION,
    CapacityPoint,
    CapacitySweep,
    find_knee,
    percentile_budget,
    recommend_scale_target,
    replicas_for,
)
from .answers import distinct_figures, real_number, same_at_shown_precision, whole_number

#: A usable sweep spans this much: from one request at a time to well past the knee.
MIN_LEVELS = 4
MIN_HIGHEST_LEVEL = 16
MIN_REQUESTS_PER_LEVEL = 50
#: The lab's given peak: requests in flight in total at the busiest time.
PEAK_CONCURRENCY = 40


def _points(sweep: Any) -> list[CapacityPoint]:
    points = sweep.points if isinstance(sweep, CapacitySweep) else sweep
    if not isinstance(points, (list, tuple)) or not points or not all(isinstance(p, CapacityPoint) for p in points):
        raise CheckFailed(
            "`sweep` is not the result of a capacity sweep",
            expected="the CapacitySweep returned by measure_capacity(...)",
            found=quoted(sweep),
            hint="run the sweep cell: sweep = measure_capacity(server.v1_url, PAYLOAD, levels=LEVELS)",
        )
    return sorted(points, key=lambda p: p.concurrency)


def _run(run: Any, variable: str) -> LoadResult:
    if not isinstance(run, LoadResult) or not run.latencies:
        raise CheckFailed(
            f"`{variable}` is not a load run with answers",
            expected="the LoadResult of run_load(...)",
            found=quoted(run),
            hint="run the load cell again (is the server running?)",
        )
    return run


@lab_check("lab3", hint="Little's law: requests in flight = throughput (requests/s) x mean latency (s)")
def in_flight(in_flight, open_run):
    """Little's law on the learner's open-loop run: throughput (or the arrival rate) x mean latency."""
    run = _run(open_run, "open_run")
    value = real_number(in_flight, "in_flight", expected="a number of requests, e.g. 1.3")
    exact = run.throughput * run.mean_latency
    by_rate = (run.rate or 0.0) * run.mean_latency  # the arrival rate is λ too: the same law
    if same_at_shown_precision(value, exact) or (by_rate and same_at_shown_precision(value, by_rate)):
        return (
            f"{value:.2f} requests in flight on average, although the open loop could use "
            f"{run.concurrency} workers: the rate and the latency decide, not the number of workers"
        )
    if value == run.concurrency:
        hint = (
            f"{run.concurrency} is how many workers the open loop may use (a cap), not how many requests "
            "are in flight: compute open_run.throughput * open_run.mean_latency"
        )
    elif same_at_shown_precision(value / 1000, exact):
        hint = "latencies are in seconds in LoadResult (mean_latency); you used milliseconds"
    elif same_at_shown_precision(value, run.throughput * run.percentiles["p50"]):
        hint = "Little's law holds for the mean latency (open_run.mean_latency), not the median"
    elif same_at_shown_precision(value, run.throughput) or (run.rate and value == run.rate):
        hint = "that is the rate λ alone: multiply it by the mean time W a request stays (mean_latency)"
    else:
        hint = "use open_run's own numbers: open_run.throughput * open_run.mean_latency"
    expected, found = distinct_figures(exact, value)
    raise CheckFailed(
        "that is not throughput x mean latency of `open_run`",
        expected=expected,
        found=found,
        hint=hint + " (an answer rounded to 2 or more decimals passes)",
    )


@lab_check(
    "lab3",
    hint="Sweep from 1 to at least 16 concurrent requests, about a second per level: "
    "measure_capacity(server.v1_url, PAYLOAD, levels=LEVELS, duration=1.0)",
)
def sweep(sweep):
    """The capacity sweep itself: enough levels, past the knee, enough requests, no errors."""
    points = _points(sweep)
    levels = [p.concurrency for p in points]
    if len(levels) < MIN_LEVELS or levels[0] != 1 or levels[-1] < MIN_HIGHEST_LEVEL:
        raise CheckFailed(
            "the sweep does not span enough concurrency levels",
            expected=f"at least {MIN_LEVELS} levels from 1 up to {MIN_HIGHEST_LEVEL} or more",
            found=levels,
            hint="sweep the given LEVELS: measure_capacity(..., levels=LEVELS)",
        )
    failing = [p.concurrency for p in points if p.errors]
    if failing:
        if all(p.errors >= p.requests for p in points):
            hint = (
                "every request failed at every level: sweep the model's predict URL, server.v1_url "
                "(server.url alone has no model behind it), with the V1 PAYLOAD"
            )
        else:
            hint = "is the model server still running? (server.running) Restart it and sweep again"
        raise CheckFailed(
            "some levels had failed requests", expected="no errors", found=f"errors at {failing}", hint=hint
        )
    thin = [p.concurrency for p in points if p.requests < MIN_REQUESTS_PER_LEVEL]
    if thin:
        raise CheckFailed(
            "some levels saw too few requests to trust their percentiles",
            expected=f"at least {MIN_REQUESTS_PER_LEVEL} requests per level",
            found=f"too few at {thin}",
            hint="give each level a longer duration (about a second)",
        )
    return f"{len(levels)} levels from 1 to {levels[-1]}, peak {max(p.throughput for p in points):.0f} req/s"


@lab_check(
    "lab3",
    hint="The knee is the level with the most throughput per unit of latency: "
    "max(sweep.points, key=lambda p: p.throughput / p.p50).concurrency",
)
def knee(knee, sweep):
    """The level with the highest throughput / p50 in the learner's sweep (exactly: no tolerance,
    so the same sweep always gets the same verdict)."""
    points = _points(sweep)
    value = whole_number(knee, "knee", expected="one of the sweep's concurrency levels")
    by_level = {p.concurrency: p for p in points}
    reference = find_knee(points)
    if value not in by_level:
        raise CheckFailed(
            "`knee` is not one of the levels you measured",
            expected=f"one of {sorted(by_level)}",
            found=quoted(knee),
            hint="the knee is a point of sweep.points: take its .concurrency",
        )
    if value == reference.concurrency:
        chosen = by_level[value]
        return f"concurrency {value}: {chosen.throughput:.0f} req/s at p50 {chosen.p50 * 1000:.2f} ms"
    chosen = by_level[value]
    busiest = max(points, key=lambda p: p.throughput)
    fastest = min(points, key=lambda p: p.p50)
    if value == busiest.concurrency:
        hint = (
            "that is the level with the highest throughput: past the knee throughput barely grows while "
            "latency keeps rising. Compare throughput / p50 across levels"
        )
    elif value == fastest.concurrency:
        hint = (
            "that is the level with the lowest latency: there the server still idles between requests. "
            "Compare throughput / p50 across levels"
        )
    elif value > reference.concurrency:
        hint = "past the knee each extra request in flight only adds queueing time: look further left"
    else:
        hint = "below the knee the server still idles between requests: look further right"
    raise CheckFailed(
        f"at concurrency {value} throughput / p50 is {chosen.power / reference.power:.0%} of the best level's",
        expected=reference.concurrency,
        found=quoted(knee),
        hint=hint,
    )


def _given_note(variable: str, learner_value: Any, given: float, unit: str = "") -> str:
    """A note when the learner changed a given value (the check uses the given one anyway)."""
    try:
        if learner_value is None or math.isclose(float(learner_value), given, rel_tol=1e-9):
            return ""
    except (TypeError, ValueError):
        pass
    return f" (the check uses the given {variable} = {given:g}{unit}, not your {learner_value!r})"


@lab_check("lab3", hint="The highest concurrency of your sweep whose p95 (not p50) stays within latency_budget")
def scale_target(scale_target, sweep, latency_budget=None):
    """The highest swept level whose p95 meets the lab's budget (or up to the interpolated level
    where p95 reaches it, as recommend_scale_target refines); the budget is the lab's, computed
    from the sweep, not the notebook's variable."""
    points = _points(sweep)
    budget = percentile_budget(points)
    value = whole_number(scale_target, "scale_target", expected="a whole number of requests in flight per pod")
    try:
        advice = recommend_scale_target(points, budget)
    except WorkshopError as exc:
        raise CheckFailed(exc.message, hint=exc.hint) from None
    low, high = advice.measured, max(advice.measured, math.floor(advice.estimate))
    note = _given_note("latency_budget", latency_budget, budget, " s")
    expected = (
        f"{low}"
        + (f" (or up to {high})" if high > low else "")
        + f": p95 met the {budget * 1000:.2f} ms budget up to concurrency {advice.measured}"
    )
    if low <= value <= high:
        return (
            f"scaleTarget {value}: Knative will keep about {value * KNATIVE_UTILISATION:.1f} requests in "
            f"flight per pod ({KNATIVE_UTILISATION:.0%} utilisation), within your budget{note}"
        )
    if value <= 0:
        raise CheckFailed(
            "scaleTarget must be at least 1",
            expected=expected,
            found=quoted(scale_target),
            hint="a target of 0 would mean no request per pod at all",
        )
    if value == 100:
        raise CheckFailed(
            "100 is Knative's default target, not one derived from your measurements",
            expected=expected,
            found=quoted(scale_target),
            hint="with the default a pod takes 100 requests in flight before a second one starts; "
            "read your own sweep against the budget",
        )
    if value < low:
        if low <= value / KNATIVE_UTILISATION <= high + 1:
            hint = (
                "it looks like you multiplied by the 70 % utilisation yourself: Knative already aims at "
                "scaleTarget x target-utilization, so that factor would be applied twice"
            )
        else:
            hint = (
                f"too low: one pod met the budget with {advice.measured} requests in flight, so this target "
                "starts pods that are not needed"
            )
        raise CheckFailed(
            "the target is lower than your measurements justify" + note,
            expected=expected,
            found=quoted(scale_target),
            hint=hint,
        )
    by_p50 = max((p.concurrency for p in points if p.p50 <= budget), default=None)
    if value == by_p50:
        hint = (
            f"you read the median (p50): the budget is on p95, and at concurrency {value} your p95 was "
            f"{next(p.p95 for p in points if p.concurrency == value) * 1000:.2f} ms"
        )
    else:
        over = [p for p in points if p.concurrency <= value and p.p95 > budget]
        hint = (
            f"at concurrency {over[0].concurrency} your p95 was already {over[0].p95 * 1000:.2f} ms"
            if over
            else f"your sweep shows p95 growing with concurrency past {advice.measured}"
        )
        hint += f", over the {budget * 1000:.2f} ms budget"
    raise CheckFailed(
        "the target lets pods take more requests than the latency budget allows" + note,
        expected=expected,
        found=quoted(scale_target),
        hint=hint,
    )


@lab_check("lab3", hint="Knative wants ceil(total concurrency / (scaleTarget x 0.7)) pods")
def replicas_needed(replicas_needed, scale_target, peak_concurrency=None):
    """How many pods Knative's autoscaler wants for the lab's peak (40 in flight) with the learner's
    scaleTarget (a wrong target is graded once, in its own check, not here again)."""
    value = whole_number(replicas_needed, "replicas_needed", expected="a whole number of pods")
    target = whole_number(
        scale_target,
        "scale_target",
        expected="your whole-number scaleTarget from Exercise 4",
        hint="finish Exercise 4 (scale_target) first",
    )
    if target < 1:
        raise CheckFailed(
            "scale_target must be at least 1", found=quoted(scale_target), hint="finish Exercise 4 (scale_target) first"
        )
    peak = PEAK_CONCURRENCY
    note = _given_note("peak_concurrency", peak_concurrency, peak)
    expected = replicas_for(peak, target)
    if value == expected:
        return f"{value} pods, each near {peak / value:.1f} requests in flight{note}"
    if note and value == _replicas_or_none(peak_concurrency, target):
        hint = f"the peak is given: {peak} requests in flight; you computed with another one"
    elif value == math.ceil(peak / target - 1e-9):
        hint = (
            "Knative aims below the target: at scaleTarget x target-utilization (70 %) per pod, which is "
            "the headroom for bursts; divide by scale_target * 0.7"
        )
    elif value == math.floor(peak / (target * KNATIVE_UTILISATION)):
        hint = "rounding down leaves every pod above its target: a fraction of a pod is one more pod (math.ceil)"
    else:
        hint = f"ceil({peak} / ({target} x 0.7))"
    raise CheckFailed(
        "that is not the pod count Knative would want" + note,
        expected=expected,
        found=quoted(replicas_needed),
        hint=hint,
    )


def _replicas_or_none(peak: Any, target: int) -> int | None:
    try:
        return replicas_for(float(peak), target)
    except (TypeError, ValueError, WorkshopError):
        return None
