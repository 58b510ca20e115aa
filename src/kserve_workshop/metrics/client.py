"""Query a Prometheus server over its HTTP API and get tidy pandas results.

The same client talks to the local Prometheus of the lab and to the cluster's Prometheus through a
port-forward. Bad PromQL comes back from Prometheus as HTTP 400 with ``errorType: bad_data``; it
is raised as :class:`PromQLError` carrying Prometheus's own message, never as a raw HTTP error.
"""

from __future__ import annotations

import math
from time import monotonic, sleep
from datetime import datetime, timedelta, timezone
from typing import Any

import pandas as pd
import requests

from ..errors import WorkshopError

#: Seconds to wait for one API answer (a lab's queries are tiny; a stuck server is a real problem).
DEFAULT_TIMEOUT = 10.0

TimeLike = datetime | pd.Timestamp | float | int | str


class PromQLError(WorkshopError):
    """Prometheus refused a query (``bad_data``: PromQL that does not parse or does not type-check)."""

    def __init__(self, promql: str, error_type: str, detail: str):
        self.promql = promql
        self.error_type = error_type
        self.detail = detail
        super().__init__(
            f"Prometheus rejected the query ({error_type}): {detail}\n  query: {promql}",
            hint="Check brackets, quotes and function names; try the query in the Prometheus UI (/graph).",
        )


class PrometheusClient:
    """A small Prometheus HTTP API client: instant and range queries as DataFrames."""

    def __init__(self, url: str, *, timeout: float = DEFAULT_TIMEOUT):
        self.url = url.rstrip("/")
        self.timeout = timeout
        self._session = requests.Session()
        # Never route loopback traffic (or anything else) through a proxy from the environment.
        self._session.trust_env = False

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.url!r})"

    # ------------------------------------------------------------------------------------ queries

    def query(self, promql: str, *, time: TimeLike | None = None) -> pd.DataFrame:
        """Evaluate ``promql`` at one instant (default: now).

        One row per series: a column per label, plus ``timestamp`` (UTC) and ``value`` (float;
        ``NaN`` where PromQL says NaN, e.g. a quantile over no requests).
        """
        params = {"query": _require_promql(promql)}
        if time is not None:
            params["time"] = to_unix(time)
        data = self._api("/api/v1/query", params, promql)
        return _tidy(data["resultType"], data["result"])

    def query_range(self, promql: str, start: TimeLike, end: TimeLike, step: str | float = "1s") -> pd.DataFrame:
        """Evaluate ``promql`` from ``start`` to ``end`` every ``step`` (seconds, or "5s", "1m").

        Long format: one row per series and instant, label columns plus ``timestamp`` and ``value``.
        """
        params = {
            "query": _require_promql(promql),
            "start": to_unix(start),
            "end": to_unix(end),
            "step": _to_step(step),
        }
        data = self._api("/api/v1/query_range", params, promql)
        return _tidy(data["resultType"], data["result"])

    def query_value(self, promql: str, *, time: TimeLike | None = None) -> float:
        """The single number a query returns (a scalar or a one-series vector).

        Raises WorkshopError when the query returns no series or several (say which).
        """
        frame = self.query(promql, time=time)
        if frame.empty:
            raise WorkshopError(
                f"the query returned no data: {promql}",
                hint="Has the target been scraped and has load run inside the rate window?",
            )
        if len(frame) > 1:
            labels = [c for c in frame.columns if c not in ("timestamp", "value")]
            raise WorkshopError(
                f"the query returned {len(frame)} series, expected one: {promql}",
                hint=f"Aggregate with sum(...) or sum by (...) (labels present: {labels}).",
            )
        return float(frame["value"].iloc[0])

    # ------------------------------------------------------------------------------------- status

    def is_ready(self) -> bool:
        """True when the server answers ``/-/ready`` with 200 (never raises)."""
        try:
            return self._session.get(f"{self.url}/-/ready", timeout=2).status_code == 200
        except requests.RequestException:
            return False

    def targets(self) -> list[dict[str, Any]]:
        """Active scrape targets with ``health``, ``scrapeUrl`` and ``lastError``."""
        return self._api("/api/v1/targets", {"state": "active"}, "(targets)")["activeTargets"]

    def wait_for_targets_up(self, job: str | None = None, *, timeout: float = 30.0, interval: float = 0.25) -> None:
        """Wait until every active target (of ``job``) is up; on timeout say which is down and why."""
        deadline = monotonic() + timeout
        while True:
            try:
                targets = [t for t in self.targets() if job is None or t["labels"].get("job") == job]
            except WorkshopError:
                targets = []
            if targets and all(t.get("health") == "up" for t in targets):
                return
            if monotonic() >= deadline:
                down = [
                    f"{t.get('scrapeUrl')}: {t.get('health')} {t.get('lastError') or ''}".strip()
                    for t in targets
                    if t.get("health") != "up"
                ] or ["no active targets"]
                raise WorkshopError(
                    f"Prometheus at {self.url}: scrape targets not up after {timeout:.0f} s: " + "; ".join(down),
                    hint="Is the model server running and serving /metrics on that port?",
                )
            sleep(interval)

    def wait_for_scrape(
        self, after: float, selector: str = "", *, timeout: float = 30.0, interval: float = 0.25
    ) -> None:
        """Wait until every target matching ``selector`` (e.g. ``{job="x"}``) was scraped successfully
        after the Unix time ``after``: Prometheus only knows what it has scraped."""
        deadline = monotonic() + timeout
        while True:
            stamps = self.query(f"timestamp(up{selector})")
            health = self.query(f"up{selector}")
            if (
                not stamps.empty
                and (stamps["value"] > after).all()
                and not health.empty
                and (health["value"] == 1).all()
            ):
                return
            if monotonic() >= deadline:
                raise WorkshopError(
                    f"Prometheus at {self.url} has not scraped up{selector} successfully within {timeout:.0f} s",
                    hint="Is the target still running? (prom.client.targets())",
                )
            sleep(interval)

    def wait_for_data(self, promql: str, *, timeout: float = 120.0, interval: float = 2.0) -> pd.DataFrame:
        """Wait until ``promql`` returns at least one series (e.g. a new pod's first scrapes)."""
        deadline = monotonic() + timeout
        while True:
            frame = self.query(promql)
            if not frame.empty:
                return frame
            if monotonic() >= deadline:
                raise WorkshopError(
                    f"no data for {promql} after {timeout:.0f} s",
                    hint="Is the target scraped? Look at Status > Targets in the Prometheus UI.",
                )
            sleep(interval)

    # ---------------------------------------------------------------------------------- internals

    def _api(self, path: str, params: dict[str, Any], promql: str) -> dict[str, Any]:
        try:
            response = self._session.get(f"{self.url}{path}", params=params, timeout=self.timeout)
        except requests.RequestException as exc:
            raise WorkshopError(
                f"cannot reach Prometheus at {self.url}: {type(exc).__name__}",
                hint="Is it running? (LocalPrometheus, or the port-forward to the cluster's)",
            ) from exc
        try:
            body = response.json()
        except ValueError as exc:
            raise WorkshopError(
                f"Prometheus at {self.url} answered HTTP {response.status_code} "
                f"with something that is not JSON (is this a Prometheus server?)"
            ) from exc
        if body.get("status") != "success":
            error_type = body.get("errorType", f"HTTP {response.status_code}")
            detail = body.get("error", "no detail")
            if error_type in {"bad_data", "execution"}:
                raise PromQLError(promql, error_type, detail)
            raise WorkshopError(f"Prometheus query failed ({error_type}): {detail}\n  query: {promql}")
        return body["data"]


def _require_promql(promql: object) -> str:
    if not isinstance(promql, str) or not promql.strip():
        raise WorkshopError(
            f"a PromQL query is a non-empty string, not {promql!r}", hint='for example: prom.query("up")'
        )
    return promql


# ------------------------------------------------------------------------------- tidy DataFrames


def _tidy(result_type: str, result: Any) -> pd.DataFrame:
    """Prometheus's JSON result as a long DataFrame: label columns, ``timestamp``, ``value``."""
    rows: list[dict[str, Any]] = []
    if result_type in {"scalar", "string"}:
        rows.append({"timestamp": result[0], "value": _number(result[1])})
    elif result_type == "vector":
        for series in result:
            rows.append({**series["metric"], "timestamp": series["value"][0], "value": _number(series["value"][1])})
    elif result_type == "matrix":
        for series in result:
            for stamp, value in series["values"]:
                rows.append({**series["metric"], "timestamp": stamp, "value": _number(value)})
    else:  # pragma: no cover - Prometheus has no other result types
        raise WorkshopError(f"unexpected Prometheus result type {result_type!r}")
    frame = pd.DataFrame(rows, columns=None if rows else ["timestamp", "value"])
    frame["timestamp"] = pd.to_datetime(frame["timestamp"].astype(float), unit="s", utc=True)
    frame["value"] = frame["value"].astype(float)
    labels = sorted(c for c in frame.columns if c not in ("timestamp", "value"))
    return frame[[*labels, "timestamp", "value"]]


def _number(text: str) -> float:
    # Prometheus sends numbers as strings, including "NaN", "+Inf" and "-Inf".
    return float(text)


def to_unix(value: TimeLike) -> float:
    if isinstance(value, (int, float)):
        if not math.isfinite(value):
            raise WorkshopError(f"not a usable time: {value!r}")
        return float(value)
    if isinstance(value, str):
        value = pd.Timestamp(value)
    if isinstance(value, datetime):  # pd.Timestamp is a datetime too
        if value.tzinfo is None:
            value = value.replace(tzinfo=timezone.utc)
        return value.timestamp()
    raise WorkshopError(f"not a usable time: {value!r}", hint="Give a datetime, a pandas Timestamp or Unix seconds.")


def _to_step(step: str | float | timedelta) -> str | float:
    if isinstance(step, timedelta):
        step = step.total_seconds()
    if isinstance(step, (int, float)):
        if step <= 0:
            raise WorkshopError(f"a range query's step must be positive, not {step!r}")
        return float(step)
    return step
