"""What only the client can measure: the error ratio, from the load generator's per-request records.

KServe 0.20's model server has no counter of failed requests and no HTTP status metric; its
``request_predict_seconds`` histogram times a predict call whether it succeeded or raised. So the
error ratio here is measured where errors are seen: by the client, request by request. Bins use the
moment an answer arrived (wall clock), so they line up with Prometheus's timestamps.
"""

from __future__ import annotations

import math
from typing import Iterable, Mapping

import numpy as np
import pandas as pd

from ..errors import WorkshopError
from ..load import LoadResult


def load_results(results: LoadResult | Iterable[LoadResult] | Mapping[str, LoadResult]) -> list[LoadResult]:
    """The load generator's runs in ``results`` (a LoadResult, several, or a TrafficResult's streams)."""
    if isinstance(results, LoadResult):
        return [results]
    if hasattr(results, "streams"):  # a traffic.TrafficResult
        results = results.streams
    if isinstance(results, Mapping):
        results = results.values()
    found = list(results)
    if not found or not all(isinstance(r, LoadResult) for r in found):
        raise WorkshopError("expected LoadResult objects from the load generator (run_load / run_traffic)")
    return found


def error_ratio(results) -> float:
    """Failed requests / all requests over the whole run (NaN when nothing was sent)."""
    runs = load_results(results)
    total = sum(r.requests for r in runs)
    return sum(r.errors for r in runs) / total if total else math.nan


def answers_over_time(results, *, bin_seconds: float = 1.0) -> pd.DataFrame:
    """Per time bin: ``timestamp`` (UTC, bin start), ``requests``, ``errors``, ``error_ratio``."""
    if bin_seconds <= 0:
        raise WorkshopError(f"bin_seconds must be positive, not {bin_seconds!r}")
    ended, failed = [], []
    for run in load_results(results):
        ended.extend(run.started_at + start + latency for start, latency in zip(run.starts, run.durations))
        failed.extend(not ok for ok in run.oks)
    if not ended:
        return pd.DataFrame(
            {"timestamp": pd.to_datetime([], utc=True), "requests": [], "errors": [], "error_ratio": []}
        )
    ended_arr = np.asarray(ended)
    bins = np.floor(ended_arr / bin_seconds) * bin_seconds
    frame = pd.DataFrame({"bin": bins, "failed": np.asarray(failed, dtype=int)})
    grouped = frame.groupby("bin")["failed"].agg(["size", "sum"]).reset_index()
    return pd.DataFrame(
        {
            "timestamp": pd.to_datetime(grouped["bin"], unit="s", utc=True),
            "requests": grouped["size"].astype(int),
            "errors": grouped["sum"].astype(int),
            "error_ratio": grouped["sum"] / grouped["size"],
        }
    )


def server_vs_client(prom, traffic, *, model_name: str | None = None, namespace: str | None = None) -> pd.DataFrame:
    """p50/p95/p99 and mean latency (ms) of the whole traffic run, as Prometheus estimates them from
    the predict histogram and as the client measured them (every request, failed ones included)."""
    from . import promql

    window = f"{math.ceil(traffic.ended_at - traffic.started_at) + 2}s"
    at = traffic.ended_at + 1.0
    durations = np.asarray([d for run in load_results(traffic) for d in run.durations])
    rows = {}
    for name, quantile in promql.QUANTILES.items():
        query = promql.latency_quantile(quantile, model_name, namespace=namespace, window=window)
        rows[name] = (prom.query_value(query, time=at), float(np.quantile(durations, quantile)))
    rows["mean"] = (
        prom.query_value(promql.mean_latency(model_name, namespace=namespace, window=window), time=at),
        float(durations.mean()),
    )
    return pd.DataFrame(
        {
            "server: predict (Prometheus, ms)": {k: v[0] * 1000 for k, v in rows.items()},
            "client: whole request (ms)": {k: v[1] * 1000 for k, v in rows.items()},
        }
    ).round(2)
