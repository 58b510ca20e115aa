"""PromQL for KServe's model server metrics, built in one place for the lab, the checks and tests.

What KServe 0.20's Python model server exposes on ``/metrics`` (``kserve/metrics.py``): four
histograms with one label, ``model_name`` — ``request_preprocess_seconds``,
``request_predict_seconds``, ``request_postprocess_seconds``, ``request_explain_seconds`` — with
prometheus_client's default buckets (5 ms ... 10 s), plus the Python process collectors. The
timers observe a request whether or not it raised, and there is no counter of failed requests or
of HTTP status codes: the server cannot tell you its error ratio (see ``client_side``).

In the cluster the scrape adds ``namespace`` and ``pod`` labels; the helpers select on them when
given, so the same query works on both tiers.
"""

from __future__ import annotations

import re

from ..errors import WorkshopError

PREDICT_HISTOGRAM = "request_predict_seconds"
MODEL_SERVER_HISTOGRAMS = (
    "request_preprocess_seconds",
    "request_predict_seconds",
    "request_postprocess_seconds",
    "request_explain_seconds",
)
#: prometheus_client's default bucket bounds (seconds), which KServe's histograms use.
DEFAULT_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.25, 0.5, 0.75, 1.0, 2.5, 5.0, 7.5, 10.0)
QUANTILES = {"p50": 0.5, "p95": 0.95, "p99": 0.99}
#: Rate window for the local lab (Prometheus scrapes every second there).
DEFAULT_WINDOW = "5s"
#: Rate window for the cluster (the PodMonitor scrapes every 5 s; a window needs several scrapes).
CLUSTER_WINDOW = "1m"

_WINDOW = re.compile(r"^([0-9]+(ms|s|m|h|d|w|y))+$")
_LABEL_NAME = re.compile(r"^[a-zA-Z_][a-zA-Z0-9_]*$")


def selector(**labels: str | None) -> str:
    """A label matcher ``{a="x",b="y"}`` (labels that are None are left out; "" when none)."""
    parts = []
    for name, value in labels.items():
        if value is None:
            continue
        if not _LABEL_NAME.match(name):
            raise WorkshopError(f"not a Prometheus label name: {name!r}")
        if not isinstance(value, str):
            raise WorkshopError(f"label {name} must be a string, not {value!r}")
        escaped = value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")
        parts.append(f'{name}="{escaped}"')
    return "{" + ",".join(parts) + "}" if parts else ""


def _window(window: str) -> str:
    if not isinstance(window, str) or not _WINDOW.match(window):
        raise WorkshopError(f"not a PromQL range: {window!r}",
                            hint="use a duration like '10s' or '1m' (at least a few scrape intervals)")
    return window


def _by(by: tuple[str, ...] | list[str]) -> str:
    for name in by:
        if not _LABEL_NAME.match(name):
            raise WorkshopError(f"not a Prometheus label name: {name!r}")
    return f" by ({', '.join(by)})" if by else ""


def request_rate(model_name: str | None = None, *, namespace: str | None = None, window: str = DEFAULT_WINDOW,
                 by: tuple[str, ...] = ("model_name",), histogram: str = PREDICT_HISTOGRAM) -> str:
    """Requests per second (predict calls), per ``by`` labels, averaged over ``window``."""
    series = f"{histogram}_count{selector(model_name=model_name, namespace=namespace)}"
    return f"sum{_by(by)} (rate({series}[{_window(window)}]))"


def latency_quantile(quantile: float, model_name: str | None = None, *, namespace: str | None = None,
                     window: str = DEFAULT_WINDOW, by: tuple[str, ...] = ("model_name",),
                     histogram: str = PREDICT_HISTOGRAM) -> str:
    """The ``quantile`` (0..1) of request latency in seconds, estimated from the histogram buckets.

    ``histogram_quantile`` interpolates linearly inside a bucket, so the estimate can only be as
    fine as the bucket bounds (with the default buckets: "somewhere below 5 ms" for a fast model).
    """
    if isinstance(quantile, bool) or not isinstance(quantile, (int, float)) or not 0 <= quantile <= 1:
        raise WorkshopError(f"a quantile is a number between 0 and 1, not {quantile!r}", hint="p95 is 0.95")
    series = f"{histogram}_bucket{selector(model_name=model_name, namespace=namespace)}"
    keep = ("le", *[label for label in by if label != "le"])
    return f"histogram_quantile({quantile:g}, sum{_by(keep)} (rate({series}[{_window(window)}])))"


def latency_quantiles(model_name: str | None = None, **kwargs) -> dict[str, str]:
    """p50, p95 and p99 latency queries (same arguments as :func:`latency_quantile`)."""
    return {name: latency_quantile(q, model_name, **kwargs) for name, q in QUANTILES.items()}


def mean_latency(model_name: str | None = None, *, namespace: str | None = None, window: str = DEFAULT_WINDOW,
                 by: tuple[str, ...] = ("model_name",), histogram: str = PREDICT_HISTOGRAM) -> str:
    """Mean latency in seconds: increase of the sum over increase of the count (exact, no buckets)."""
    matcher = selector(model_name=model_name, namespace=namespace)
    span = _window(window)
    return (f"sum{_by(by)} (rate({histogram}_sum{matcher}[{span}]))"
            f" / sum{_by(by)} (rate({histogram}_count{matcher}[{span}]))")


def bucket_counts(model_name: str | None = None, *, namespace: str | None = None,
                  histogram: str = PREDICT_HISTOGRAM) -> str:
    """Cumulative count per bucket bound ``le`` since the server started."""
    return f"sum by (le) ({histogram}_bucket{selector(model_name=model_name, namespace=namespace)})"
