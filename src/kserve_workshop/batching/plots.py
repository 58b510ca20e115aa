"""Plots of a batching measurement and of the batcher estimates derived from it."""

from __future__ import annotations

import math

import matplotlib.pyplot as plt

from .estimate import UTILISATION_LIMIT, estimate_batcher
from .measure import BatchingCurve


def _log2_axis(ax, sizes) -> None:
    ax.set_xscale("log", base=2)
    ax.set_xticks(sizes)
    ax.set_xticklabels([str(size) for size in sizes])
    ax.grid(True, which="major", alpha=0.3)


def plot_batching(curve: BatchingCurve, *, title: str | None = None):
    """Two panels, one above the other (side by side they shrink to unreadable text on a page's
    column): time to serve N rows, and rows served per second, batched vs one by one."""
    sizes = curve.sizes
    figure, (left, right) = plt.subplots(2, 1, figsize=(7, 7.5))
    left.plot(sizes, [1000 * p.one_request for p in curve.points], "o-", label="one request of N rows")
    left.plot(sizes, [1000 * p.one_by_one for p in curve.points], "s--", label="N requests of one row")
    left.set_yscale("log")
    left.set_xlabel("rows (N)")
    left.set_ylabel("time to serve them (ms)")
    left.set_title("Time")
    right.plot(sizes, [p.batched_rows_per_second for p in curve.points], "o-", label="one request of N rows")
    right.plot(sizes, [p.single_rows_per_second for p in curve.points], "s--", label="N requests of one row")
    right.set_yscale("log")
    right.set_xlabel("rows (N)")
    right.set_ylabel("rows per second")
    right.set_title("Throughput")
    for ax in (left, right):
        _log2_axis(ax, sizes)
        ax.legend(fontsize=10)
    figure.suptitle(title or "One request carrying N rows vs N requests of one row")
    figure.tight_layout()
    return figure


def plot_estimates(
    curve: BatchingCurve,
    rate: float,
    budget: float,
    *,
    chosen: int | None = None,
    max_latency_ms: int | None = None,
    title: str | None = None,
):
    """Worst-case latency and model utilisation for every ``maxBatchSize`` the curve covers.

    ``maxLatency`` is ``max_latency_ms`` when given, else just long enough for each batch to fill.
    """
    sizes = list(range(1, curve.sizes[-1] + 1))
    estimates = []
    for size in sizes:
        window = max_latency_ms or max(1, math.ceil(1000 * (size - 1) / rate))
        estimates.append(estimate_batcher(curve, rate, size, window))
    figure, latency_ax = plt.subplots(figsize=(8, 4))
    worst = [1000 * e.worst_latency if e.stable else float("nan") for e in estimates]
    latency_ax.plot(sizes, worst, "-", color="tab:blue", label="worst-case latency (ms)")
    latency_ax.axhline(1000 * budget, color="tab:red", linestyle=":", label=f"budget {1000 * budget:g} ms")
    over = [e.utilisation > UTILISATION_LIMIT for e in estimates]
    if any(over):
        last_over = max(size for size, bad in zip(sizes, over) if bad)
        latency_ax.axvspan(
            0.5, last_over + 0.5, color="tab:gray", alpha=0.2, label=f"model busy > {100 * UTILISATION_LIMIT:.0f} %"
        )
    if chosen is not None:
        latency_ax.axvline(chosen, color="tab:green", linestyle="--", label=f"your maxBatchSize {chosen}")
    latency_ax.set_xlabel("maxBatchSize")
    latency_ax.set_ylabel("worst-case latency (ms)")
    busy_ax = latency_ax.twinx()
    busy_ax.plot(sizes, [min(e.utilisation, 2.0) for e in estimates], color="tab:orange", alpha=0.7)
    busy_ax.set_ylabel("model utilisation", color="tab:orange")
    busy_ax.set_ylim(0, 2.05)
    latency_ax.legend(loc="upper left", fontsize=8)
    latency_ax.set_title(title or f"The batcher at {rate:g} requests/s")
    figure.tight_layout()
    return figure
