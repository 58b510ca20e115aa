"""Metrics over time as matplotlib figures: request rate, latency quantiles, error ratio, buckets."""

from __future__ import annotations

import math
from typing import Any

import matplotlib.dates as mdates
import matplotlib.pyplot as plt
import pandas as pd

from . import promql
from .client import PrometheusClient, TimeLike
from .client_side import answers_over_time


def _series(frame: pd.DataFrame):
    """(label text, sub-frame) for each series of a long query_range frame."""
    labels = [c for c in frame.columns if c not in ("timestamp", "value", "__name__")]
    if not labels:
        yield "", frame
        return
    for key, part in frame.groupby(labels, dropna=False, sort=True):
        key = key if isinstance(key, tuple) else (key,)
        yield ", ".join(f"{k}={v}" for k, v in zip(labels, key) if isinstance(v, str)), part


def plot_series(
    frame: pd.DataFrame,
    *,
    ax=None,
    title: str | None = None,
    ylabel: str | None = None,
    scale: float = 1.0,
    label: str | None = None,
    **line_kwargs: Any,
):
    """Draw every series of a ``query_range`` result as a line over time; returns the axes."""
    if ax is None:
        _, ax = plt.subplots(figsize=(8, 3))
    for text, part in _series(frame):
        name = label if label is not None else (text or None)
        ax.plot(part["timestamp"], part["value"] * scale, label=name, **line_kwargs)
    _time_axis(ax)
    if title:
        ax.set_title(title)
    if ylabel:
        ax.set_ylabel(ylabel)
    return ax


def _time_axis(ax) -> None:
    ax.xaxis.set_major_formatter(mdates.DateFormatter("%H:%M:%S"))
    ax.grid(True, alpha=0.3)


def plot_model_metrics(
    prom: PrometheusClient | Any,
    start: TimeLike,
    end: TimeLike,
    *,
    model_name: str | None = None,
    namespace: str | None = None,
    window: str = promql.DEFAULT_WINDOW,
    step: str | float = "1s",
    traffic=None,
):
    """Request rate, latency p50/p95/p99 (and the mean), and, given the load generator's results
    (``traffic``), the client-side error ratio: one figure, panels sharing the time axis."""
    selectors = {"model_name": model_name, "namespace": namespace, "window": window}
    panels = 3 if traffic is not None else 2
    fig, axes = plt.subplots(panels, 1, figsize=(9, 2.6 * panels), sharex=True, constrained_layout=True)

    rate = prom.query_range(promql.request_rate(by=(), **selectors), start, end, step)
    plot_series(
        rate,
        ax=axes[0],
        title=f"Request rate (predict calls/s, rate over {window})",
        ylabel="requests/s",
        label="all requests",
    )

    for name, query in promql.latency_quantiles(by=(), **selectors).items():
        plot_series(prom.query_range(query, start, end, step), ax=axes[1], scale=1000, label=name)
    plot_series(
        prom.query_range(promql.mean_latency(by=(), **selectors), start, end, step),
        ax=axes[1],
        scale=1000,
        label="mean",
        linestyle="--",
        color="grey",
    )
    axes[1].set_title("Predict latency from request_predict_seconds (quantiles interpolated in buckets)")
    axes[1].set_ylabel("ms")
    axes[1].legend(loc="upper left", fontsize="small")

    if traffic is not None:
        answers = answers_over_time(traffic)
        axes[2].step(answers["timestamp"], answers["error_ratio"] * 100, where="post", color="tab:red")
        axes[2].set_title("Error ratio measured by the client (the server exports no error counter)")
        axes[2].set_ylabel("% failed")
        axes[2].set_ylim(bottom=0)
        _time_axis(axes[2])
    return fig


def bucket_table(
    prom: PrometheusClient | Any,
    *,
    model_name: str | None = None,
    namespace: str | None = None,
    time: TimeLike | None = None,
) -> pd.DataFrame:
    """How many predictions fell in each bucket: ``le`` bound, cumulative count, count in bucket."""
    frame = prom.query(promql.bucket_counts(model_name, namespace=namespace), time=time)
    if frame.empty:
        return pd.DataFrame(columns=["le", "cumulative", "in_bucket"])
    frame = frame.assign(le=frame["le"].astype(float)).sort_values("le")
    cumulative = frame["value"].to_numpy()
    in_bucket = [cumulative[0], *(cumulative[1:] - cumulative[:-1])]
    return pd.DataFrame({"le": frame["le"].to_numpy(), "cumulative": cumulative, "in_bucket": in_bucket})


def plot_buckets(table: pd.DataFrame, *, ax=None, client_latencies: list[float] | None = None):
    """Bar chart of requests per bucket (upper bound ``le`` in ms), optionally with the client's view
    of the same requests sorted into the same buckets. Empty buckets past the last used one are left out."""
    if ax is None:
        _, ax = plt.subplots(figsize=(8, 3))
    bounds = [float(le) for le in table["le"]]
    server = [float(count) for count in table["in_bucket"]]
    client = [0] * len(bounds)
    for value in client_latencies or []:
        client[next(i for i, bound in enumerate(bounds) if value <= bound)] += 1
    used = [i for i in range(len(bounds)) if server[i] or client[i]]
    shown = range((max(used) + 1) if used else len(bounds))
    labels = ["+Inf" if math.isinf(bounds[i]) else f"≤{bounds[i] * 1000:g}" for i in shown]
    positions = list(range(len(labels)))
    ax.bar(positions, [server[i] for i in shown], color="tab:blue", label="server: predict time")
    if client_latencies:
        ax.bar(positions, [client[i] for i in shown], color="tab:orange", alpha=0.5, label="client: whole request")
        ax.legend(fontsize="small")
    ax.set_xticks(positions, labels, rotation=45, fontsize="small")
    ax.set_xlabel("bucket upper bound (ms)")
    ax.set_ylabel("requests (log scale)")
    ax.set_yscale("log")
    ax.set_title("Where the requests fall: request_predict_seconds buckets")
    return ax
