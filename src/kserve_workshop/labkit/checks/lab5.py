"""Lab 5 (monitoring): graded PromQL, evaluated against the lab's live Prometheus.

Each PromQL check runs the learner's query and the reference query over the same time range on the
same Prometheus (``prom`` in the notebook) and compares the curves (``metrics.compare``): any
spelling that gives the same numbers passes; a wrong window, quantile or metric does not.
Malformed PromQL is a failed check carrying Prometheus's own message, never an exception.

The range is the lab's traffic run (``traffic``: from a window before it started to shortly after
it ended), so the verdict is the same whenever the check runs. A comparison on degenerate data
would prove nothing (every query is "all zero" or "no data" when nothing was sent): when the range
holds no requests, the check refuses to judge and says how to get data again.
"""

from __future__ import annotations

import math
import re
import time
from typing import Any

from ...errors import WorkshopError
from ..check_registry import lab_check
from ..grading import CheckFailed, quoted
from ...metrics import client_side, promql
from ...metrics.client import PromQLError
from ...metrics.compare import compare_queries
from .answers import distinct_figures, real_number, same_at_shown_precision

WINDOW = promql.DEFAULT_WINDOW
#: Without a traffic run to anchor on, compare the last few minutes.
LOOKBACK_SECONDS = 180.0
#: Requests the range must hold before a comparison means anything (the lab's run sends ~340).
MIN_REQUESTS = 20
#: The error ratio is shown to one decimal of a percent (2.3 %): three decimals of the fraction.
ERROR_RATIO_DECIMALS = 3


def _seconds(window: str) -> float:
    match = re.fullmatch(r"(\d+)(ms|s|m|h)", window)
    scale = {"ms": 0.001, "s": 1, "m": 60, "h": 3600}
    return float(match.group(1)) * scale[match.group(2)] if match else 5.0


def _require_query(answer: Any, variable: str) -> str:
    if not isinstance(answer, str) or not answer.strip():
        raise CheckFailed(
            f"`{variable}` must be a PromQL query (a non-empty string)",
            expected="a string such as 'sum(rate(...))'",
            found=quoted(answer),
            hint="PromQL is text: put the query in quotes",
        )
    return answer.strip()


def _require_prometheus(prom: Any) -> Any:
    if not callable(getattr(prom, "query_range", None)):
        raise CheckFailed(
            "`prom` is not a Prometheus connection",
            expected="the LocalPrometheus started above",
            found=type(prom).__name__,
            hint="Run the cell that starts Prometheus (prom = ...).",
        )
    return prom


def _time_range(traffic: Any) -> tuple[float, float, str]:
    """(start, end, what) of the comparison: around the traffic run, or the last minutes."""
    now = time.time()
    started, ended = getattr(traffic, "started_at", None), getattr(traffic, "ended_at", None)
    if isinstance(started, (int, float)) and isinstance(ended, (int, float)) and started <= ended <= now:
        window = _seconds(WINDOW)
        clock = time.strftime("%H:%M:%S", time.localtime(started))
        return started - window, min(now, ended + 2 * window + 3), f"the traffic run of {clock}"
    return now - LOOKBACK_SECONDS, now, f"the last {LOOKBACK_SECONDS / 60:g} minutes"


def _require_traffic(prom: Any, start: float, end: float, what: str) -> None:
    """Refuse to compare curves over a range in which the model server answered (almost) nothing."""
    try:
        rates = prom.query_range(promql.request_rate(window=WINDOW, by=()), start, end, "1s")
        # Each request adds 1/window to `window` one-second instants: the rates add up to the requests.
        requests = float(rates["value"].fillna(0).sum()) if not rates.empty else 0.0
    except (PromQLError, KeyError):  # an unreachable Prometheus (WorkshopError) is reported as such
        requests = 0.0
    if requests < MIN_REQUESTS:
        raise CheckFailed(
            f"no traffic to compare on: Prometheus holds (almost) no requests for {what}",
            expected=f"at least {MIN_REQUESTS} requests scraped from the model server",
            found=f"about {requests:.0f} requests",
            hint="run the traffic cell again (traffic = run_traffic(...)), then this check. If you "
            "restarted the model server or Prometheus, run the cells from the server's on",
        )


def _graded(prom: Any, answer: Any, variable: str, reference: str, traffic: Any, *, unit: str = "") -> str:
    query = _require_query(answer, variable)
    prom = _require_prometheus(prom)
    start, end, what = _time_range(traffic)
    try:
        _require_traffic(prom, start, end, what)
        verdict = compare_queries(prom, query, reference, start=start, end=end, unit=unit)
    except PromQLError as exc:
        raise CheckFailed(
            "Prometheus could not run your query",
            expected="PromQL that parses",
            found=f"{exc.error_type}: {exc.detail}",
            hint="Prometheus's message says where: check the brackets, quotes and function names",
        ) from None
    except WorkshopError as exc:
        raise CheckFailed(
            "could not ask Prometheus",
            found=exc.message,
            hint="Is Prometheus still running? Re-run the cell that starts it and the traffic cell.",
        ) from None
    if not verdict:
        raise CheckFailed(
            f"{verdict.reason} (over {what})",
            expected=verdict.expected,
            found=verdict.found,
            hint=_promql_hint(query, reference),
        )
    return f"your query matches the reference over {what} ({verdict.reason})"


def _promql_hint(query: str, reference: str) -> str | None:
    """The usual slip behind a query whose numbers differ (the verdict itself is on the numbers)."""
    compact = re.sub(r"\s+", "", query)
    windows = set(re.findall(r"\[([0-9a-z]+)\]", compact))
    if "irate(" in compact:
        return f"irate() uses only the last two samples of each window: use rate(...[{WINDOW}])"
    if "increase(" in compact:
        return "increase() counts per window; rate() gives the per-second value asked for"
    if "rate(" not in compact and "rate(" in reference:
        return f"a counter (or bucket) only grows since the server started: take its rate() over [{WINDOW}]"
    if windows - {WINDOW}:
        return f"use the lab's window [{WINDOW}], not [{', '.join(sorted(windows - {WINDOW}))}]"
    if "histogram_quantile" in reference and "histogram_quantile(0.95," not in compact:
        return "the 95th percentile is histogram_quantile(0.95, ...) over the bucket rates"
    if "histogram_quantile" in compact and "sum(" in compact and "by(le" not in compact and "by(" not in compact:
        return "keep the `le` label when you sum the buckets: sum by (le) (rate(..._bucket[5s]))"
    return None


@lab_check(
    "lab5",
    hint=f"Requests per second: the per-second rate() of the histogram's _count counter over "
    f"[{WINDOW}], summed over series with sum().",
)
def request_rate_query(request_rate_query, prom, traffic=None):
    """Predict requests per second over the lab's window."""
    return _graded(
        prom,
        request_rate_query,
        "request_rate_query",
        promql.request_rate(window=WINDOW, by=()),
        traffic,
        unit=" req/s",
    )


@lab_check(
    "lab5",
    hint=f"histogram_quantile(0.95, ...) over the per-bucket rates: keep the `le` label when you "
    f"sum, e.g. sum by (le) (rate(request_predict_seconds_bucket[{WINDOW}])).",
)
def p95_query(p95_query, prom, traffic=None):
    """The 95th percentile of predict latency (seconds) from the histogram buckets."""
    return _graded(
        prom, p95_query, "p95_query", promql.latency_quantile(0.95, window=WINDOW, by=()), traffic, unit=" s"
    )


@lab_check(
    "lab5",
    hint=f"The mean is total time over number of requests: the rate of the _sum series divided by "
    f"the rate of the _count series, both over [{WINDOW}].",
)
def mean_latency_query(mean_latency_query, prom, traffic=None):
    """Mean predict latency (seconds) from the histogram's _sum and _count."""
    return _graded(
        prom, mean_latency_query, "mean_latency_query", promql.mean_latency(window=WINDOW, by=()), traffic, unit=" s"
    )


@lab_check(
    "lab5",
    hint="Errors are only visible to the client here: failed requests / all requests, "
    "from the load generator's results (traffic.errors and traffic.requests).",
)
def error_ratio(error_ratio, traffic):
    """The client-measured fraction of failed requests (a number between 0 and 1), at the precision
    the lesson shows it (one decimal of a percent) or finer."""
    try:
        measured = client_side.error_ratio(traffic)
    except WorkshopError:
        raise CheckFailed(
            "`traffic` is not the traffic run",
            expected="the TrafficResult of run_traffic(...)",
            found=quoted(traffic),
            hint="run the traffic cell again",
        ) from None
    if math.isnan(measured):
        raise CheckFailed(
            "the traffic run sent no requests",
            expected="a run with requests",
            found="0 requests",
            hint="run the traffic cell again (is the server running?)",
        )
    value = real_number(error_ratio, "error_ratio", expected="a fraction between 0 and 1, e.g. 0.023")
    if not 0 <= value <= 1:
        failed = sum(run.errors for run in client_side.load_results(traffic))
        if value == failed and not math.isclose(value, 100 * measured):  # (8 of 100 reads as both)
            hint = "that is the number of failed requests: divide it by all requests (traffic.requests)"
        elif value <= 100:
            hint = "a ratio is a fraction: divide by 100 (2.3 % is 0.023)"
        else:
            hint = "failed requests / all requests is at most 1"
        raise CheckFailed(
            "a ratio is between 0 and 1 (not a percentage)",
            expected=round(measured, 4),
            found=quoted(error_ratio),
            hint=hint,
        )
    if not same_at_shown_precision(value, measured, min_decimals=ERROR_RATIO_DECIMALS):
        expected, found = distinct_figures(measured, value)
        if same_at_shown_precision(value, 1 - measured, min_decimals=ERROR_RATIO_DECIMALS):
            hint = "that is the share of requests that succeeded: the error ratio is failed / all"
        elif measured < 1 and same_at_shown_precision(
            value, measured / (1 - measured), min_decimals=ERROR_RATIO_DECIMALS
        ):
            hint = "divide by all requests (traffic.requests), not by the successful ones"
        elif value > 0 and abs(value - measured) <= 0.5 * 10 ** -(ERROR_RATIO_DECIMALS - 1):
            hint = f"give at least {ERROR_RATIO_DECIMALS} decimals (the lesson shows one decimal of a percent)"
        else:
            hint = "traffic.errors / traffic.requests, both counted over the whole run"
        raise CheckFailed(
            "that is not the fraction of failed requests in this run", expected=expected, found=found, hint=hint
        )
    return f"{value:.1%} of the requests failed"
