"""Test helper: capacity sweeps written by hand, for Lab 3's checks and learner answers."""

from __future__ import annotations

from kserve_workshop.load import CapacityPoint, CapacitySweep


def point(concurrency, throughput, p50_ms, p95_ms, errors=0, requests=1000) -> CapacityPoint:
    """One sweep level from milliseconds (p99 taken as 1.3 × p95)."""
    return CapacityPoint(concurrency, throughput, p50_ms / 1000, p95_ms / 1000, p95_ms * 1.3 / 1000, requests, errors)


def laptop_sweep() -> CapacitySweep:
    """A laptop's sweep: saturated from concurrency 2 at ~2000 req/s; p95 meets its percentile budget
    (3.95 ms) up to concurrency 4 and p50 up to 8."""
    return CapacitySweep(
        [
            point(1, 1000, 0.8, 1.0),
            point(2, 1900, 0.96, 1.2),
            point(4, 2000, 1.76, 2.2),
            point(8, 2000, 3.5, 4.4),
            point(16, 2000, 7.0, 8.8),
            point(32, 2000, 14.0, 17.6),
        ]
    )
