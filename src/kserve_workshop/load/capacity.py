"""How much one model server can take, and what that means for Knative's ``scaleTarget``.

A capacity sweep drives one server with a closed loop at rising concurrency and records
throughput and latency at each level. Two regimes show up:

* below the *knee* the server idles between requests: more concurrency buys more throughput at
  about the same latency;
* past the knee the server is saturated: throughput stays flat, and by Little's law
  (``concurrency = throughput x latency``) every extra request in flight only adds queueing
  time — latency grows in proportion to concurrency.

Knative's concurrency autoscaler (``scaleMetric: concurrency``) keeps the average number of
requests in flight per pod near ``scaleTarget x target-utilization`` (70 % by default) and adds
pods when it is exceeded. So a sensible ``scaleTarget`` is the per-pod concurrency at which the
latency objective still holds; Knative's utilisation factor then keeps pods below it, which is
the headroom for bursts while new pods start. (Do not multiply by the utilisation yourself: that
applies it twice.)
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass
from typing import Any, Iterable, Mapping, Sequence

from ..console import info
from ..errors import WorkshopError
from .generator import run_load
from .results import LoadResult

#: Knative Serving's default ``target-utilization-percentage`` (70 %).
KNATIVE_UTILISATION = 0.7
#: Concurrency levels of a default sweep.
DEFAULT_LEVELS = (1, 2, 4, 8, 16, 32)
#: Never trust a Little's-law extrapolation beyond this multiple of the highest level measured.
MAX_EXTRAPOLATION = 2.0


@dataclass(frozen=True)
class CapacityPoint:
    """One level of a sweep: closed-loop concurrency, throughput (req/s) and latencies (seconds)."""

    concurrency: int
    throughput: float
    p50: float
    p95: float
    p99: float
    requests: int
    errors: int

    @classmethod
    def from_result(cls, result: LoadResult) -> "CapacityPoint":
        p = result.percentiles
        return cls(result.concurrency, result.throughput, p["p50"], p["p95"], p["p99"], result.requests, result.errors)

    @property
    def power(self) -> float:
        """Throughput divided by median latency (Kleinrock's "power"); highest at the knee."""
        return self.throughput / self.p50 if self.p50 > 0 else 0.0


@dataclass
class CapacitySweep:
    """The points of a sweep, by rising concurrency."""

    points: list[CapacityPoint]

    def __post_init__(self) -> None:
        self.points = sorted(self.points, key=lambda p: p.concurrency)

    @property
    def levels(self) -> list[int]:
        return [p.concurrency for p in self.points]

    @property
    def max_throughput(self) -> float:
        return max((p.throughput for p in self.points), default=0.0)

    def knee(self) -> CapacityPoint:
        return find_knee(self.points)

    def table(self) -> list[dict[str, Any]]:
        """Rows for display (latencies in ms)."""
        return [
            {
                "concurrency": p.concurrency,
                "throughput_rps": round(p.throughput, 1),
                "p50_ms": round(p.p50 * 1000, 2),
                "p95_ms": round(p.p95 * 1000, 2),
                "p99_ms": round(p.p99 * 1000, 2),
                "errors": p.errors,
            }
            for p in self.points
        ]

    def to_dataframe(self):
        import pandas as pd

        return pd.DataFrame(self.table()).set_index("concurrency")

    def to_dict(self) -> dict[str, Any]:
        return {"points": [asdict(p) for p in self.points]}


def measure_capacity(
    url: str,
    payload: Any,
    *,
    levels: Iterable[int] = DEFAULT_LEVELS,
    duration: float = 1.5,
    warmup: float = 0.3,
    headers: Mapping[str, str] | None = None,
    allow_hosts: Sequence[str] = (),
    progress: bool = True,
) -> CapacitySweep:
    """Sweep ``levels`` of closed-loop concurrency, ``duration`` seconds each, against one server.

    A short warm-up at the highest level opens connections and warms the server's code paths
    first, so the first level does not pay for them. With ``progress`` each level prints one line
    as it completes.
    """
    levels = sorted({int(level) for level in levels})
    if not levels or levels[0] < 1:
        raise WorkshopError(f"levels must be positive concurrency values, got {levels!r}")
    if warmup > 0:
        run_load(url, payload, concurrency=levels[-1], duration=warmup, headers=headers, allow_hosts=allow_hosts)
    points = []
    for level in levels:
        result = run_load(url, payload, concurrency=level, duration=duration, headers=headers, allow_hosts=allow_hosts)
        point = CapacityPoint.from_result(result)
        points.append(point)
        if progress:  # one line per level as it completes: the sweep's progress and its raw figures
            info(
                f"concurrency {level:>3}: {point.throughput:7.0f} req/s, p50 {point.p50 * 1000:6.2f} ms, "
                f"p95 {point.p95 * 1000:6.2f} ms" + (f", {point.errors} errors" if point.errors else "")
            )
    return CapacitySweep(points)


def _points(sweep: CapacitySweep | Sequence[CapacityPoint]) -> list[CapacityPoint]:
    points = sweep.points if isinstance(sweep, CapacitySweep) else list(sweep)
    if not points:
        raise WorkshopError("the sweep has no points", hint="run measure_capacity(...) first")
    return sorted(points, key=lambda p: p.concurrency)


def find_knee(sweep: CapacitySweep | Sequence[CapacityPoint]) -> CapacityPoint:
    """The level where latency bends: the one with the highest throughput per unit of latency.

    Kleinrock's *power* (throughput / latency) rises while extra concurrency still buys throughput
    and falls once it only buys queueing, so its maximum is the knee of the curve. Levels with
    errors are skipped: an overloaded server is never the operating point.
    """
    points = [p for p in _points(sweep) if p.errors == 0 and p.p50 > 0] or _points(sweep)
    return max(points, key=lambda p: p.power)


@dataclass(frozen=True)
class ScaleTargetAdvice:
    """A recommended ``scaleTarget`` and how it was derived.

    ``measured`` is the highest swept concurrency whose p95 met the budget (safe: it was
    observed); ``estimate`` is where p95 reaches the budget, interpolated between the last level
    within the budget and the first one over it, or — when every level met it — extrapolated with
    Little's law (latency grows in proportion to concurrency once the server is saturated), capped
    at twice the highest level measured. ``scale_target`` is ``floor(estimate)``.
    """

    scale_target: int
    measured: int
    estimate: float
    latency_budget: float
    utilisation: float
    basis: str

    @property
    def steady_concurrency(self) -> float:
        """The in-flight requests per pod that Knative aims for (scaleTarget x utilisation)."""
        return self.scale_target * self.utilisation

    def acceptable_range(self) -> tuple[int, int]:
        """Answers consistent with the measurements: from the measured level down by a fifth
        (a little conservative is fine) up to the estimate plus a tenth (measurement noise)."""
        low = max(1, math.floor(self.measured * 0.8))
        high = max(self.measured, math.floor(self.estimate * 1.1))
        return low, high


def recommend_scale_target(
    sweep: CapacitySweep | Sequence[CapacityPoint], latency_budget: float, *, utilisation: float = KNATIVE_UTILISATION
) -> ScaleTargetAdvice:
    """Derive ``scaleTarget`` (Knative concurrency per pod) from a sweep and a p95 latency budget (s)."""
    if isinstance(latency_budget, bool) or not isinstance(latency_budget, (int, float)) or not latency_budget > 0:
        raise WorkshopError(f"the latency budget must be a positive number of seconds, got {latency_budget!r}")
    if not 0 < utilisation <= 1:
        raise WorkshopError(f"utilisation must be a fraction in (0, 1], got {utilisation!r}")
    points = [p for p in _points(sweep) if p.errors == 0 and not math.isnan(p.p95)]
    within = [p for p in points if p.p95 <= latency_budget]
    if not within:
        fastest = min((p.p95 for p in points), default=math.nan)
        raise WorkshopError(
            f"no level of the sweep meets a p95 budget of {latency_budget * 1000:.1f} ms "
            f"(the best p95 was {fastest * 1000:.1f} ms)",
            hint="more pods cannot make one request faster: raise the budget, or make the model faster",
        )
    low = within[-1]
    above = [p for p in points if p.concurrency > low.concurrency and p.p95 > latency_budget]
    if above:
        high = above[0]
        # Straight line between the two levels that bracket the budget.
        estimate = low.concurrency + (latency_budget - low.p95) * (high.concurrency - low.concurrency) / (
            high.p95 - low.p95
        )
        basis = (
            f"p95 was {low.p95 * 1000:.1f} ms at concurrency {low.concurrency} and "
            f"{high.p95 * 1000:.1f} ms at {high.concurrency}: the budget is reached near {estimate:.1f}"
        )
    else:
        # Little's law past the knee: latency grows in proportion to concurrency.
        estimate = min(low.concurrency * latency_budget / low.p95, MAX_EXTRAPOLATION * low.concurrency)
        basis = (
            f"every level met the budget; p95 grows about in proportion to concurrency past the knee, "
            f"so from {low.p95 * 1000:.1f} ms at {low.concurrency} the budget is reached near {estimate:.1f}"
        )
    return ScaleTargetAdvice(
        scale_target=max(1, math.floor(estimate)),
        measured=low.concurrency,
        estimate=estimate,
        latency_budget=float(latency_budget),
        utilisation=utilisation,
        basis=basis,
    )


#: The sweep level whose median and p95 latency set the lab's example budget (``percentile_budget``).
BUDGET_LEVEL = 8


def percentile_budget(sweep: CapacitySweep | Sequence[CapacityPoint], level: int = BUDGET_LEVEL) -> float:
    """A p95 latency budget (seconds) taken from the sweep itself: halfway between the median and
    the p95 measured at ``level`` (the swept level closest to it).

    A fixed budget suits one machine and no other: on a slow laptop no level would meet 10 ms, on a
    fast one every level would. Set between p50 and p95 of one level, the budget is met by that
    level's median but not by its p95, so reading the right percentile matters on every machine: a
    target read off p50 comes out higher than one read off p95.
    """
    points = [p for p in _points(sweep) if p.errors == 0 and p.p50 > 0] or _points(sweep)
    chosen = min(points, key=lambda p: (abs(p.concurrency - level), -p.concurrency))
    return (chosen.p50 + chosen.p95) / 2


def replicas_for(
    concurrency: float,
    scale_target: float,
    *,
    utilisation: float = KNATIVE_UTILISATION,
    min_replicas: int = 0,
    max_replicas: int | None = None,
) -> int:
    """Pods Knative's autoscaler wants for ``concurrency`` requests in flight in total.

    ``ceil(concurrency / (scale_target x utilisation))``, clamped to ``[min_replicas, max_replicas]``.
    The concurrency it sees is measured at the pods (by the queue-proxy), so time spent in the
    network and the ingress does not count: with a fast model it is often below what clients hold.
    """
    if not scale_target > 0 or not 0 < utilisation <= 1 or concurrency < 0:
        raise WorkshopError("replicas_for needs concurrency >= 0, scale_target > 0 and utilisation in (0, 1]")
    # The small epsilon keeps float noise (3.5 / 0.7 = 5.000000000000001) from adding a pod.
    wanted = math.ceil(concurrency / (scale_target * utilisation) - 1e-9) if concurrency > 0 else 0
    wanted = max(wanted, min_replicas)
    return min(wanted, max_replicas) if max_replicas is not None else wanted
