"""Plots of load runs: latency percentiles, latency and throughput over time, capacity curves.

Every function draws on ``ax`` when given (so figures can be composed) and otherwise on a new
figure; it returns the figure. Latencies are shown in milliseconds.
"""

from __future__ import annotations

import math
from typing import Mapping, Sequence

import matplotlib.pyplot as plt
from matplotlib.ticker import FuncFormatter, LogLocator, NullFormatter

from .capacity import CapacityPoint, CapacitySweep, find_knee
from .results import LoadResult


def _axes(ax, figsize=(7, 4)):
    if ax is not None:
        return ax.figure, ax
    fig, ax = plt.subplots(figsize=figsize, layout="constrained")
    return fig, ax


def _labelled(results: LoadResult | Sequence[LoadResult] | Mapping[str, LoadResult]) -> list[tuple[str, LoadResult]]:
    if isinstance(results, LoadResult):
        return [(f"concurrency {results.concurrency}", results)]
    if isinstance(results, Mapping):
        return list(results.items())
    return [(f"concurrency {r.concurrency}" + (f", {r.rate:g} req/s" if r.rate else ""), r) for r in results]


def plot_latency(
    results: LoadResult | Sequence[LoadResult] | Mapping[str, LoadResult],
    ax=None,
    *,
    title: str = "Latency percentiles",
):
    """Bars of p50/p90/p95/p99 for one run, or grouped bars for several (a dict gives their labels)."""
    runs = _labelled(results)
    if not runs:
        raise ValueError("nothing to plot: no load results given")
    fig, ax = _axes(ax)
    names = list(runs[0][1].percentiles)
    width = 0.8 / len(runs)
    for index, (label, result) in enumerate(runs):
        values = [result.percentiles[name] * 1000 for name in names]
        positions = [i + (index - (len(runs) - 1) / 2) * width for i in range(len(names))]
        bars = ax.bar(positions, values, width=width, label=label)
        ax.bar_label(bars, fmt="%.1f", fontsize=8, padding=2)
    ax.set_xticks(range(len(names)), names)
    ax.set_ylabel("latency (ms)")
    ax.set_title(title)
    if len(runs) > 1:
        ax.legend()
    return fig


def plot_timeline(result: LoadResult, ax=None, *, bin_seconds: float | None = None, title: str = "Load over time"):
    """Every request's latency (dots; failures as red crosses) and the throughput per time bin.

    Bins are 1 s long, or a tenth of the run when it is shorter than 10 s.
    """
    if bin_seconds is None:
        bin_seconds = 1.0 if result.elapsed >= 10 else max(result.elapsed / 10, 0.01)
    fig, ax = _axes(ax, figsize=(8, 4))
    timeline = result.timeline
    ok_t = [t for t, _, ok in timeline if ok]
    ok_ms = [d * 1000 for _, d, ok in timeline if ok]
    ax.scatter(ok_t, ok_ms, s=2, alpha=0.3, color="tab:blue", label="latency of a request")
    failed = [(t, d * 1000) for t, d, ok in timeline if not ok]
    if failed:
        ax.scatter(*zip(*failed), s=12, marker="x", color="tab:red", label="failed request")
    ax.set_xlabel("seconds since start")
    ax.set_ylabel("latency (ms)")
    _plain_log_scale(ax)
    rates = result.per_second(bin_seconds)
    right = ax.twinx()
    centres = [t + width / 2 for t, width in zip(rates["t"], rates["width"])]
    right.plot(centres, rates["throughput"], color="tab:green", marker="o", label="throughput")
    right.set_ylabel("requests / s")
    right.set_ylim(bottom=0)
    handles = ax.get_legend_handles_labels()[0] + right.get_legend_handles_labels()[0]
    ax.legend(handles=handles, loc="upper left", fontsize=8)
    ax.set_title(title)
    return fig


def _plain_log_scale(ax) -> None:
    """A log y axis labelled 1, 2, 5, 10... instead of powers of ten (latencies spread over decades)."""
    ax.set_yscale("log")
    ax.yaxis.set_major_locator(LogLocator(base=10, subs=(1.0, 2.0, 5.0)))
    ax.yaxis.set_major_formatter(FuncFormatter(lambda value, _: f"{value:g}"))
    ax.yaxis.set_minor_formatter(NullFormatter())


def plot_capacity(
    sweep: CapacitySweep | Sequence[CapacityPoint],
    ax=None,
    *,
    latency_budget: float | None = None,
    knee: int | None = None,
    title: str = "Capacity of one model server",
):
    """Throughput (left) and p50/p95 latency (right) against concurrency; the knee and budget marked.

    ``knee`` defaults to :func:`find_knee` of the sweep; pass ``knee=0`` to leave it out.
    """
    points = sweep.points if isinstance(sweep, CapacitySweep) else sorted(sweep, key=lambda p: p.concurrency)
    if not points:
        raise ValueError("nothing to plot: the sweep has no points")
    fig, ax = _axes(ax, figsize=(8, 4.5))
    levels = [p.concurrency for p in points]
    ax.plot(levels, [p.throughput for p in points], color="tab:green", marker="o", label="throughput")
    ax.set_xscale("log", base=2)
    ax.set_xticks(levels, [str(level) for level in levels])
    ax.set_xlabel("concurrent requests (closed loop)")
    ax.set_ylabel("requests / s", color="tab:green")
    ax.set_ylim(bottom=0)
    right = ax.twinx()
    right.plot(levels, [p.p50 * 1000 for p in points], color="tab:blue", marker="s", label="p50 latency")
    right.plot(levels, [p.p95 * 1000 for p in points], color="tab:purple", marker="^", label="p95 latency")
    right.set_ylabel("latency (ms)", color="tab:blue")
    right.set_ylim(bottom=0)
    if latency_budget is not None and not math.isnan(latency_budget):
        right.axhline(
            latency_budget * 1000, color="tab:red", linestyle="--", label=f"p95 budget {latency_budget * 1000:g} ms"
        )
    knee_level = find_knee(points).concurrency if knee is None else knee
    if knee_level:
        ax.axvline(knee_level, color="grey", linestyle=":", label=f"knee (concurrency {knee_level})")
    handles = ax.get_legend_handles_labels()[0] + right.get_legend_handles_labels()[0]
    # Below the axes: inside, the legend would sit on a curve whatever the corner.
    ax.legend(handles=handles, loc="upper center", bbox_to_anchor=(0.5, -0.15), ncols=3, fontsize=8)
    ax.set_title(title)
    return fig
