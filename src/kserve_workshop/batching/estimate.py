"""What KServe's batcher gives at an arrival rate, estimated from a measured ``BatchingCurve``.

How the batcher works (KServe v0.20.0, ``pkg/batcher/handler.go``; it runs in the agent sidecar,
``cmd/agent/main.go``):

- it batches only V1 predict calls (paths ending in ``:predict``) with a non-empty ``instances``
  list; everything else, V2 ``/infer`` included, passes through unbatched;
- one loop collects the ``instances`` of arriving requests; it sends them to the model as **one**
  V1 request when the batch holds at least ``maxBatchSize`` instances, or when ``maxLatency``
  milliseconds have passed since the batch's first request arrived;
- while the model answers that batch the loop takes no new requests: one batch at a time;
- each client gets its own slice of ``predictions``, plus the batch's ``batchId`` (the same for every
  request of one batch) and a ``message`` (empty, or the model's error: that answer's HTTP status
  is still 200);
- defaults: ``maxBatchSize`` 32 and ``maxLatency`` 5000 ms (the agent's flags), used when the
  InferenceService's ``batcher`` leaves them out. The CRD's ``timeout`` is not passed to the agent.

The estimate, for requests of one row arriving at ``rate`` per second: a batch opens with its first
request and then fills at ``rate``; it closes full after ``(maxBatchSize - 1) / rate`` seconds, or
on time after ``maxLatency`` with ``1 + rate * maxLatency`` rows. Its first request waits that long,
then at worst for the previous batch to leave the model, then for its own: the **worst-case
latency** is ``fill wait + 2 * service time``. The model is busy ``rate * service / batch size`` of
the time (its **utilisation**); at 1 or more the queue grows without end.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from ..errors import WorkshopError
from .measure import BatchingCurve

#: The agent's defaults (``--max-batchsize``, ``--max-latency`` in cmd/agent/main.go).
AGENT_MAX_BATCH_SIZE = 32
AGENT_MAX_LATENCY_MS = 5000
#: Utilisation above which a queue's waiting time climbs steeply: the margin the lab keeps.
UTILISATION_LIMIT = 0.8


@dataclass(frozen=True)
class Scenario:
    """A traffic the batcher must serve: one-row requests at ``rate`` per second within ``budget_ms``."""

    rate: float
    budget_ms: float

    @property
    def budget(self) -> float:
        return self.budget_ms / 1000


#: Lab 7's graded scenario: more requests than one model server answers one by one, a tight budget.
LAB_SCENARIO = Scenario(rate=2500, budget_ms=20)


@dataclass(frozen=True)
class CostModel:
    """One request of N rows costs ``fixed + per_row * N`` seconds (a straight line through the curve)."""

    fixed: float
    per_row: float

    def seconds(self, rows: float) -> float:
        return self.fixed + self.per_row * rows


def fit_cost(curve: BatchingCurve) -> CostModel:
    """Least-squares line through the batched times of ``curve``."""
    if len(curve.points) < 2:
        raise WorkshopError("a straight line needs at least two measured sizes")
    per_row, fixed = np.polyfit([p.size for p in curve.points], [p.one_request for p in curve.points], 1)
    return CostModel(fixed=float(fixed), per_row=float(per_row))


@dataclass(frozen=True)
class BatcherEstimate:
    """The batcher ``max_batch_size``/``max_latency_ms`` at ``rate`` one-row requests per second."""

    rate: float
    max_batch_size: int
    max_latency_ms: int
    batch_size: float  # rows in a batch, on average
    fill_wait: float  # seconds a batch's first request waits for the batch to close
    service: float  # seconds the model takes for one batch
    closes_when: str  # "full" or "on time"

    @property
    def utilisation(self) -> float:
        return self.rate * self.service / self.batch_size

    @property
    def stable(self) -> bool:
        return self.utilisation < 1

    @property
    def worst_latency(self) -> float:
        """Seconds from arrival to answer for a batch's first request, at worst (``inf`` when unstable)."""
        return self.fill_wait + 2 * self.service if self.stable else math.inf

    @property
    def model_requests_per_second(self) -> float:
        """Requests per second the model server gets instead of ``rate``."""
        return self.rate / self.batch_size

    def fits(self, budget: float, utilisation_limit: float = UTILISATION_LIMIT) -> bool:
        """Within a latency ``budget`` (seconds) with the model busy at most ``utilisation_limit``."""
        return self.worst_latency <= budget and self.utilisation <= utilisation_limit

    def describe(self) -> str:
        latency = "unbounded (the model cannot keep up)" if not self.stable else f"{1000 * self.worst_latency:.1f} ms"
        return (
            f"maxBatchSize {self.max_batch_size}, maxLatency {self.max_latency_ms} ms at {self.rate:g} req/s: "
            f"batches of {self.batch_size:.1f} rows close {self.closes_when} after {1000 * self.fill_wait:.1f} ms, "
            f"the model takes {1000 * self.service:.2f} ms per batch and is busy {100 * self.utilisation:.0f} % "
            f"of the time; worst-case latency {latency}"
        )


def check_batcher_settings(max_batch_size: object, max_latency_ms: object) -> tuple[int, int]:
    """The two settings as the agent accepts them: whole numbers, at least 1 (else it exits)."""
    for name, value, unit in (("maxBatchSize", max_batch_size, "rows"), ("maxLatency", max_latency_ms, "milliseconds")):
        if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1:
            raise WorkshopError(
                f"{name} must be a whole number of {unit}, at least 1, not {value!r}",
                hint="the CRD types both as integers; maxLatency is in milliseconds",
            )
    return int(max_batch_size), int(max_latency_ms)


def estimate_batcher(curve: BatchingCurve, rate: float, max_batch_size: int, max_latency_ms: int) -> BatcherEstimate:
    """The estimate (see the module's docstring) from ``curve``'s batched times."""
    max_batch_size, max_latency_ms = check_batcher_settings(max_batch_size, max_latency_ms)
    if isinstance(rate, bool) or not isinstance(rate, (int, float)) or not 0 < rate < math.inf:
        raise WorkshopError(f"rate must be a positive number of requests per second, not {rate!r}")
    full_after = (max_batch_size - 1) / rate
    window = max_latency_ms / 1000
    if full_after <= window:
        batch_size, fill_wait, closes = float(max_batch_size), full_after, "full"
    else:
        batch_size, fill_wait, closes = 1 + rate * window, window, "on time"
    if batch_size > curve.sizes[-1]:
        raise WorkshopError(
            f"batches of {batch_size:.0f} rows are beyond the measured sizes (up to {curve.sizes[-1]})",
            hint="choose settings whose batches you measured, or measure larger sizes",
        )
    return BatcherEstimate(
        rate=float(rate),
        max_batch_size=max_batch_size,
        max_latency_ms=max_latency_ms,
        batch_size=batch_size,
        fill_wait=fill_wait,
        service=curve.latency(batch_size),
        closes_when=closes,
    )
