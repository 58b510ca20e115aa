"""Latency of requests sent one after another on one connection, and its summary statistics
(what ``invoke local`` prints). Concurrent load is ``load.generator``'s job.
"""

from __future__ import annotations

import time
from typing import Any, Sequence

from ..dataplane.client import infer_v2, predict_v1, session_for
from ..errors import WorkshopError


def time_sequential_requests(
    base_url: str, model_name: str, instances: Any, *, count: int = 100, protocol: str = "v1", timeout: float = 10
) -> list[float]:
    """Send ``count`` requests one after another on one connection; their latencies in seconds."""
    if not isinstance(count, int) or count < 1:
        raise WorkshopError(f"count must be a positive integer, got {count!r}")
    call = predict_v1 if protocol == "v1" else infer_v2
    latencies: list[float] = []
    with session_for(base_url) as session:
        for _ in range(count):
            started = time.perf_counter()
            call(base_url, model_name, instances, timeout=timeout, session=session)
            latencies.append(time.perf_counter() - started)
    return latencies


def latency_summary(latencies: Sequence[float]) -> dict[str, float]:
    """Count, mean and percentiles (milliseconds) of sequential latencies, and the request rate."""
    if not latencies:
        raise WorkshopError("no latencies to summarise")
    import numpy as np

    values = np.asarray(latencies, dtype=float)
    p50, p90, p99 = np.percentile(values, [50, 90, 99]) * 1000
    return {
        "count": int(values.size),
        "mean_ms": float(values.mean() * 1000),
        "p50_ms": float(p50),
        "p90_ms": float(p90),
        "p99_ms": float(p99),
        "max_ms": float(values.max() * 1000),
        "requests_per_s": float(values.size / values.sum()),
    }
