"""PromQL for KServe's model server metrics, built in one place for the lab, the checks and tests.

What KServe 0.20's Python model server exposes on ``/metrics`` (``kserve/metrics.py``): four
histograms with one label, ``model_name`` — ``request_preprocess_seconds``,
``request_predict_seconds``, ``request_postprocess_seconds``, ``request_explain_seconds`` — with
prometheus_client's default buckets (5 ms ... 10 s), plus the Python process collectors. The
timers observe a request whether or not it raised, and there is no counter of failed requests or
of HTTP status codes: the server cannot tell you its error ratio (see ``client_side``).

In the cluster the scrape adds ``namespace`` and ``pod`` labels, and the PodMonitor copies the pod's
``component`` (predictor, transformer) and ``inferenceservice``; the helpers select on them when
given, so the same query works on both tiers, and ``for_cluster`` adjusts a query written for the
local Prometheus (a learner's own) for the cluster's.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

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
        raise WorkshopError(
            f"not a PromQL range: {window!r}",
            hint="use a duration like '10s' or '1m' (at least a few scrape intervals)",
        )
    return window


def _by(by: tuple[str, ...] | list[str]) -> str:
    for name in by:
        if not _LABEL_NAME.match(name):
            raise WorkshopError(f"not a Prometheus label name: {name!r}")
    return f" by ({', '.join(by)})" if by else ""


def request_rate(
    model_name: str | None = None,
    *,
    namespace: str | None = None,
    window: str = DEFAULT_WINDOW,
    by: tuple[str, ...] = ("model_name",),
    histogram: str = PREDICT_HISTOGRAM,
) -> str:
    """Requests per second (predict calls), per ``by`` labels, averaged over ``window``."""
    series = f"{histogram}_count{selector(model_name=model_name, namespace=namespace)}"
    return f"sum{_by(by)} (rate({series}[{_window(window)}]))"


def latency_quantile(
    quantile: float,
    model_name: str | None = None,
    *,
    namespace: str | None = None,
    window: str = DEFAULT_WINDOW,
    by: tuple[str, ...] = ("model_name",),
    histogram: str = PREDICT_HISTOGRAM,
) -> str:
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


def mean_latency(
    model_name: str | None = None,
    *,
    namespace: str | None = None,
    window: str = DEFAULT_WINDOW,
    by: tuple[str, ...] = ("model_name",),
    histogram: str = PREDICT_HISTOGRAM,
) -> str:
    """Mean latency in seconds: increase of the sum over increase of the count (exact, no buckets)."""
    matcher = selector(model_name=model_name, namespace=namespace)
    span = _window(window)
    return (
        f"sum{_by(by)} (rate({histogram}_sum{matcher}[{span}]))"
        f" / sum{_by(by)} (rate({histogram}_count{matcher}[{span}]))"
    )


def bucket_counts(
    model_name: str | None = None, *, namespace: str | None = None, histogram: str = PREDICT_HISTOGRAM
) -> str:
    """Cumulative count per bucket bound ``le`` since the server started."""
    return f"sum by (le) ({histogram}_bucket{selector(model_name=model_name, namespace=namespace)})"


# ------------------------------------------------------------------ a local query, for the cluster

#: What the cluster's PodMonitor puts on every model-server series that a query should select on
#: (``manifests/platform/monitoring/podmonitor-kserve.yaml``: the scrape adds ``namespace``; its
#: relabelings copy the pod's ``component``). ``model_name`` is the model server's own label.
CLUSTER_SELECTORS = ("namespace", "model_name", "component")
#: Matchers of the local scrape that mean nothing in the cluster (its job is the PodMonitor's).
LOCAL_SCRAPE_LABELS = ("job", "instance")
_MODEL_SERVER_SERIES = re.compile(r"^request_\w+_seconds(?:_bucket|_count|_sum)?$")
_MATCHER = re.compile(
    r'\s*([a-zA-Z_][a-zA-Z0-9_]*)\s*(=~|!~|!=|=)\s*("(?:[^"\\]|\\.)*"|\'(?:[^\'\\]|\\.)*\'|`[^`]*`)\s*'
)


@dataclass(frozen=True)
class ClusterQuery:
    """A query written for the local Prometheus, and the same query for the cluster's."""

    local: str
    query: str
    #: What changed, one short line each (for the learner to read).
    changes: tuple[str, ...]


def for_cluster(
    query: str, *, model_name: str, namespace: str, component: str | None = "predictor", window: str = CLUSTER_WINDOW
) -> ClusterQuery:
    """``query`` with every model-server series selected as in the cluster, and its ranges set to ``window``.

    Each selector of a ``request_*_seconds`` series gets ``namespace``, ``model_name`` (the
    InferenceService's name) and ``component`` matchers (replacing matchers on those labels, and
    dropping ``job``/``instance``, which name the local scrape). Range selectors (``[5s]``) become
    ``[window]``: the cluster scrapes every 5 s, and a rate needs several scrapes in its window.
    Subqueries and selectors of other series are left as they are.
    """
    if not isinstance(query, str) or not query.strip():
        raise WorkshopError(
            "a query is a non-empty PromQL string", hint="e.g. sum(rate(request_predict_seconds_count[5s]))"
        )
    wanted = {"namespace": namespace, "model_name": model_name, "component": component}
    for name, value in wanted.items():
        if value is not None and (not isinstance(value, str) or not value):
            raise WorkshopError(f"{name} must be a non-empty string, not {value!r}")
    window = _window(window)
    out, changes, selected = [], [], 0
    #: The functions whose parentheses are open (None for grouping parentheses); the last identifier read.
    calls: list[str | None] = []
    last_name: str | None = None
    i, text = 0, query
    while i < len(text):
        char = text[i]
        if char == "(":
            calls.append(last_name.lower() if last_name else None)
        elif char == ")" and calls:
            calls.pop()
        if not char.isspace():
            last_name = None
        if char in "\"'`":
            end = _string_end(text, i)
            out.append(text[i:end])
            i = end
        elif char.isalpha() or char in "_:":
            end = i
            while end < len(text) and (text[end].isalnum() or text[end] in "_:"):
                end += 1
            name, after = text[i:end], _skip_space(text, end)
            if _MODEL_SERVER_SERIES.match(name) and not text.startswith("(", after):
                matchers, end = _matchers_at(text, after) if text.startswith("{", after) else ([], end)
                out.append(name + _cluster_selector(matchers, wanted, changes))
                selected += 1
            else:
                out.append(name)
                last_name = name
            i = end
        elif char == "#":  # a comment runs to the end of its line
            end = text.find("\n", i)
            end = len(text) if end < 0 else end
            out.append(text[i:end])
            i = end
        elif char == "{":
            matchers, end = _matchers_at(text, i)
            names = [value for label, op, value in matchers if label == "__name__" and op == "="]
            if names and _MODEL_SERVER_SERIES.match(names[0][1:-1]):
                out.append(_cluster_selector(matchers, wanted, changes))
                selected += 1
            else:
                out.append(text[i:end])
            i = end
        elif char == "[":
            end = text.find("]", i)
            if end < 0:
                raise WorkshopError(f"unclosed [ in {query!r}")
            inside = text[i + 1 : end].strip()
            if _WINDOW.match(inside) and inside != window:
                function = calls[-1] if calls else None
                if function in _WINDOW_SIZED:
                    raise WorkshopError(
                        f"{function}(...[{inside}]) in {query!r} counts over its window, so it cannot be moved to "
                        f"the cluster's [{window}] without changing what it means",
                        hint=f"write it per second, which any window keeps: rate(...[{inside}])",
                    )
                changes.append(f"window [{inside}] -> [{window}]")
                out.append(f"[{window}]")
            else:
                out.append(text[i : end + 1])
            i = end + 1
        else:
            out.append(char)
            i += 1
    if not selected:
        raise WorkshopError(
            f"no series of KServe's model server (request_*_seconds) in {query!r}",
            hint="the lab's queries read request_predict_seconds_count, _bucket or _sum",
        )
    return ClusterQuery(query, "".join(out), tuple(dict.fromkeys(changes)))


#: Functions whose value grows with the range's length (a count or a sum over it): a wider window
#: changes their meaning, where rate() and the *_over_time averages and quantiles keep theirs.
_WINDOW_SIZED = frozenset({"increase", "delta", "changes", "resets", "sum_over_time", "count_over_time"})


def _string_end(text: str, start: int) -> int:
    quote, i = text[start], start + 1
    while i < len(text):
        if text[i] == "\\" and quote != "`":
            i += 2
            continue
        if text[i] == quote:
            return i + 1
        i += 1
    raise WorkshopError(f"unclosed string in {text!r}")


def _skip_space(text: str, i: int) -> int:
    while i < len(text) and text[i].isspace():
        i += 1
    return i


def _matchers_at(text: str, start: int) -> tuple[list[tuple[str, str, str]], int]:
    """The matchers of the ``{...}`` block at ``start`` and the index after its ``}``."""
    i, matchers = start + 1, []
    while True:
        i = _skip_space(text, i)
        if i < len(text) and text[i] == "}":
            return matchers, i + 1
        match = _MATCHER.match(text, i)
        if not match:
            raise WorkshopError(
                f"cannot read the label matchers in {text[start : start + 60]!r}",
                hint='matchers look like {model_name="iris", le="0.5"}',
            )
        matchers.append(match.groups())
        i = _skip_space(text, match.end())
        if i < len(text) and text[i] == ",":
            i += 1


def _cluster_selector(matchers: list[tuple[str, str, str]], wanted: dict[str, str | None], changes: list[str]) -> str:
    kept = []
    for label, op, value in matchers:
        if label in LOCAL_SCRAPE_LABELS:
            changes.append(f"dropped {label}{op}{value} (a label of the local scrape)")
        elif label in wanted and wanted[label] is not None:
            if (op, value[1:-1]) != ("=", wanted[label]):
                changes.append(f'{label}{op}{value} -> {label}="{wanted[label]}"')
        else:
            kept.append(f"{label}{op}{value}")
    added = selector(**wanted)[1:-1]
    present = {label for label, _, _ in matchers}
    for name, value in wanted.items():
        if value is not None and name not in present:
            changes.append(f'added {name}="{value}"')
    return "{" + ",".join([*kept, added] if added else kept) + "}"
