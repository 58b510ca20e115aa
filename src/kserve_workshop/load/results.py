"""What a load run measured: throughput, errors, latency percentiles and a per-request timeline."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any

import numpy as np

#: The percentiles every summary reports.
PERCENTILES = (50, 90, 95, 99)


@dataclass
class LoadResult:
    """One run of the load generator.

    ``starts``, ``durations`` and ``oks`` hold one entry per request, in completion order:
    the request's start (seconds after the run began), its latency in seconds and whether it
    succeeded (a 2xx answer). In an open-loop run a request sent late (every worker busy) "starts"
    at its scheduled time, so a server that falls behind shows up as latency instead of being hidden.
    """

    url: str
    concurrency: int
    rate: float | None
    #: Wall-clock time (``time.time()``) when the run began, to line it up with other samples.
    started_at: float
    #: Seconds from the start of the run to the last answer.
    elapsed: float
    starts: list[float] = field(default_factory=list)
    durations: list[float] = field(default_factory=list)
    oks: list[bool] = field(default_factory=list)
    #: Failed requests by kind: ``"http_503"``, ``"timeout"``, ``"ClientConnectorError"``...
    error_kinds: dict[str, int] = field(default_factory=dict)
    #: Open loop: requests that were due before the deadline but never sent (every connection was
    #: still waiting for an answer when the run ended): the server could not keep up with the rate.
    not_sent: int = 0

    def __post_init__(self) -> None:
        if not len(self.starts) == len(self.durations) == len(self.oks):
            raise ValueError("starts, durations and oks must have one entry per request")

    @property
    def requests(self) -> int:
        return len(self.oks)

    @property
    def errors(self) -> int:
        return self.requests - sum(self.oks)

    @property
    def succeeded(self) -> int:
        return self.requests - self.errors

    @property
    def throughput(self) -> float:
        """Successful requests per second over the whole run."""
        return self.succeeded / self.elapsed if self.elapsed > 0 else 0.0

    @cached_property
    def latencies(self) -> list[float]:
        """Latencies (seconds) of the successful requests."""
        return [d for d, ok in zip(self.durations, self.oks) if ok]

    @property
    def timeline(self) -> list[tuple[float, float, bool]]:
        """``(start, latency, ok)`` for every request, ordered by start time (for plots)."""
        return sorted(zip(self.starts, self.durations, self.oks))

    @cached_property
    def percentiles(self) -> dict[str, float]:
        """``{"p50": s, "p90": s, "p95": s, "p99": s}`` of the successful requests' latencies.

        Linear interpolation between the closest ranks (numpy's default); NaN when nothing succeeded.
        """
        if not self.latencies:
            return {f"p{q}": math.nan for q in PERCENTILES}
        values = np.percentile(np.asarray(self.latencies), PERCENTILES)
        return {f"p{q}": float(v) for q, v in zip(PERCENTILES, values)}

    @property
    def mean_latency(self) -> float:
        return float(np.mean(self.latencies)) if self.latencies else math.nan

    def per_second(self, bin_seconds: float = 1.0) -> dict[str, list[float]]:
        """Per time bin: bin start and width, successful requests/s, errors/s and median latency (s).

        The last bin takes the remainder of the run (half a bin to one and a half), so the run's
        last few answers do not make a near-empty bin that reads as a collapse of throughput.
        """
        if bin_seconds <= 0:
            raise ValueError("bin_seconds must be positive")
        bins = max(1, round(self.elapsed / bin_seconds))
        ok_counts = [0] * bins
        err_counts = [0] * bins
        latencies: list[list[float]] = [[] for _ in range(bins)]
        for start, latency, ok in zip(self.starts, self.durations, self.oks):
            # A request counts in the bin where it finished: that is when its answer arrived.
            index = min(bins - 1, max(0, int((start + latency) / bin_seconds)))
            if ok:
                ok_counts[index] += 1
                latencies[index].append(latency)
            else:
                err_counts[index] += 1
        last = self.elapsed - (bins - 1) * bin_seconds
        widths = [bin_seconds] * (bins - 1) + [last if last > 0 else bin_seconds]
        return {
            "t": [i * bin_seconds for i in range(bins)],
            "width": widths,
            "throughput": [c / w for c, w in zip(ok_counts, widths)],
            "errors": [c / w for c, w in zip(err_counts, widths)],
            "p50": [float(np.median(values)) if values else math.nan for values in latencies],
        }

    def summary(self) -> dict[str, Any]:
        """The run as a JSON-ready dict; latencies in milliseconds."""

        def ms(value: float) -> float | None:
            return None if math.isnan(value) else round(value * 1000, 3)

        return {
            "url": self.url,
            "concurrency": self.concurrency,
            "rate": self.rate,
            "requests": self.requests,
            "succeeded": self.succeeded,
            "errors": self.errors,
            "error_kinds": dict(sorted(self.error_kinds.items())),
            "not_sent": self.not_sent,
            "duration_s": round(self.elapsed, 3),
            "throughput_rps": round(self.throughput, 1),
            "latency_ms": {
                **{name: ms(value) for name, value in self.percentiles.items()},
                "mean": ms(self.mean_latency),
                "max": ms(max(self.latencies)) if self.latencies else None,
            },
        }
