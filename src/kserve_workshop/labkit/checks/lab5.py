"""Lab 5 (monitoring): graded PromQL, evaluated against the lab's live Prometheus.

Each PromQL check runs the learner's query and the reference query over the same recent time range
on the same Prometheus (``prom`` in the notebook) and compares the curves (``metrics.compare``):
any spelling that gives the same numbers passes; a wrong window, quantile or metric does not.
Malformed PromQL is a failed check carrying Prometheus's own message, never an exception.
"""

from __future__ import annotations

import math
from typing import Any

from ...errors import WorkshopError
from ..grading import CheckFailed, lab_check
from ...metrics import client_side, promql
from ...metrics.client import PromQLError
from ...metrics.compare import compare_queries

WINDOW = promql.DEFAULT_WINDOW


def _require_query(answer: Any, variable: str) -> str:
    if not isinstance(answer, str) or not answer.strip():
        raise CheckFailed(f"`{variable}` must be a PromQL query (a non-empty string)",
                          expected="a string such as 'sum(rate(...))'", found=answer)
    return answer.strip()


def _require_prometheus(prom: Any) -> Any:
    if not callable(getattr(prom, "query_range", None)):
        raise CheckFailed("`prom` is not a Prometheus connection", expected="the LocalPrometheus started above",
                          found=type(prom).__name__, hint="Run the cell that starts Prometheus (prom = ...).")
    return prom


def _graded(prom: Any, answer: Any, variable: str, reference: str, *, unit: str = "") -> str:
    query = _require_query(answer, variable)
    try:
        verdict = compare_queries(_require_prometheus(prom), query, reference, unit=unit)
    except PromQLError as exc:
        raise CheckFailed("Prometheus could not run your query", expected="PromQL that parses",
                          found=f"{exc.error_type}: {exc.detail}") from None
    except WorkshopError as exc:
        raise CheckFailed("could not ask Prometheus", found=exc.message,
                          hint="Is Prometheus still running? Re-run the cell that starts it and the load cell.") from None
    if not verdict:
        raise CheckFailed(verdict.reason, expected=verdict.expected, found=verdict.found)
    return f"your query matches the reference ({verdict.reason})"


@lab_check("lab5", hint=f"Requests per second: the per-second rate() of the histogram's _count counter over "
                        f"[{WINDOW}], summed over series with sum().")
def request_rate_query(request_rate_query, prom):
    """Predict requests per second over the lab's window."""
    return _graded(prom, request_rate_query, "request_rate_query", promql.request_rate(window=WINDOW, by=()),
                   unit=" req/s")


@lab_check("lab5", hint=f"histogram_quantile(0.95, ...) over the per-bucket rates: keep the `le` label when you "
                        f"sum, e.g. sum by (le) (rate(request_predict_seconds_bucket[{WINDOW}])).")
def p95_query(p95_query, prom):
    """The 95th percentile of predict latency (seconds) from the histogram buckets."""
    return _graded(prom, p95_query, "p95_query", promql.latency_quantile(0.95, window=WINDOW, by=()), unit=" s")


@lab_check("lab5", hint=f"The mean is total time over number of requests: the rate of the _sum series divided by "
                        f"the rate of the _count series, both over [{WINDOW}].")
def mean_latency_query(mean_latency_query, prom):
    """Mean predict latency (seconds) from the histogram's _sum and _count."""
    return _graded(prom, mean_latency_query, "mean_latency_query", promql.mean_latency(window=WINDOW, by=()),
                   unit=" s")


@lab_check("lab5", hint="Errors are only visible to the client here: failed requests / all requests, "
                        "from the load generator's results (traffic.errors and traffic.requests).")
def error_ratio(error_ratio, traffic):
    """The client-measured fraction of failed requests (a number between 0 and 1)."""
    measured = client_side.error_ratio(traffic)
    if isinstance(error_ratio, bool) or not isinstance(error_ratio, (int, float)) or math.isnan(error_ratio):
        raise CheckFailed("`error_ratio` must be a number between 0 and 1", expected=round(measured, 4),
                          found=error_ratio)
    if not 0 <= error_ratio <= 1:
        raise CheckFailed("a ratio is between 0 and 1 (not a percentage)", expected=round(measured, 4),
                          found=error_ratio)
    if not math.isclose(error_ratio, measured, rel_tol=1e-6, abs_tol=1e-9):
        raise CheckFailed("that is not the fraction of failed requests in this run", expected=round(measured, 4),
                          found=round(float(error_ratio), 4))
    return f"{error_ratio:.1%} of the requests failed"
