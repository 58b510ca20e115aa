"""Do two PromQL queries say the same thing? Compare their results over time, not their text.

Graded PromQL exercises use this: the learner's query and the reference query are evaluated by the
same Prometheus over the same time range and step, and their curves must agree point by point
(within a small relative tolerance, NaN where the other is NaN). Equivalent spellings pass
(``sum(rate(x[5s]))`` or ``sum by (model_name) (rate(x{model_name="m"}[5s]))`` when there is one
model); a wrong window, quantile, metric or a missing ``rate`` changes the curve and fails.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass

import pandas as pd

from .client import PrometheusClient, PromQLError, TimeLike, to_unix

#: Relative tolerance: equivalent queries over the same samples agree to rounding error.
DEFAULT_REL_TOL = 1e-3
DEFAULT_ABS_TOL = 1e-9


@dataclass(frozen=True)
class Comparison:
    """The verdict: ``same`` or not, and if not, why (``reason``, ``expected``, ``found``)."""

    same: bool
    reason: str = ""
    expected: str | None = None
    found: str | None = None
    points: int = 0

    def __bool__(self) -> bool:
        return self.same


def _labels(frame: pd.DataFrame) -> list[str]:
    return [c for c in frame.columns if c not in ("timestamp", "value", "__name__")]


def _split(frame: pd.DataFrame) -> dict[tuple, pd.Series]:
    """One value Series (indexed by timestamp) per label set."""
    labels = _labels(frame)
    if frame.empty:
        return {}
    if not labels:
        return {(): frame.set_index("timestamp")["value"]}
    out = {}
    for key, part in frame.groupby(labels, dropna=False, sort=True):
        key = key if isinstance(key, tuple) else (key,)
        named = tuple((k, v) for k, v in zip(labels, key) if isinstance(v, str))
        out[named] = part.set_index("timestamp")["value"]
    return out


def _describe_labels(key: tuple) -> str:
    return "{" + ", ".join(f'{k}="{v}"' for k, v in key) + "}"


def _close(a: float, b: float, rel_tol: float, abs_tol: float) -> bool:
    if math.isnan(a) or math.isnan(b):
        return math.isnan(a) and math.isnan(b)
    if math.isinf(a) or math.isinf(b):
        return a == b
    return math.isclose(a, b, rel_tol=rel_tol, abs_tol=abs_tol)


def _fmt(value: float, unit: str) -> str:
    if math.isnan(value):
        return "no value (NaN or no data)"
    return f"{value:.6g}{unit}"


def compare_frames(
    expected: pd.DataFrame,
    found: pd.DataFrame,
    *,
    rel_tol: float = DEFAULT_REL_TOL,
    abs_tol: float = DEFAULT_ABS_TOL,
    unit: str = "",
) -> Comparison:
    """Compare two ``query_range`` results (long frames) series by series, point by point."""
    reference, candidate = _split(expected), _split(found)
    if not reference:
        return Comparison(
            False,
            "the reference query has no data yet: nothing to compare with",
            expected="data from the model server",
            found="none",
        )
    if not candidate:
        return Comparison(
            False,
            "your query returns no data",
            expected=f"{len(reference)} series with values",
            found="no series (check the metric name, the label values and the window)",
        )
    if len(candidate) != len(reference):
        return Comparison(
            False,
            f"your query returns {len(candidate)} series, the answer has {len(reference)}",
            expected=f"{len(reference)} series",
            found=", ".join(_describe_labels(k) for k in candidate)[:300],
        )
    if len(reference) == 1:
        pairs = [(next(iter(reference.values())), next(iter(candidate.values())), "")]
    else:
        missing = [k for k in reference if k not in candidate]
        if missing:
            return Comparison(
                False,
                "your series do not carry the same labels as the answer's",
                expected=", ".join(_describe_labels(k) for k in reference)[:300],
                found=", ".join(_describe_labels(k) for k in candidate)[:300],
            )
        pairs = [(reference[k], candidate[k], _describe_labels(k)) for k in reference]
    points = 0
    for ref, cand, name in pairs:
        stamps = ref.index.union(cand.index)
        ref_values = ref.reindex(stamps)
        cand_values = cand.reindex(stamps)
        wrong = [t for t in stamps if not _close(float(ref_values[t]), float(cand_values[t]), rel_tol, abs_tol)]
        points += len(stamps)
        if wrong:
            first = wrong[0]
            where = f" {name}" if name else ""
            when = first.strftime("%H:%M:%S")
            return Comparison(
                False,
                f"your query gives other values{where} at {len(wrong)} of {len(stamps)} instants",
                expected=f"{_fmt(float(ref_values[first]), unit)} at {when}",
                found=f"{_fmt(float(cand_values[first]), unit)} at {when}",
                points=points,
            )
    return Comparison(True, f"same values at all {points} instants", points=points)


#: The label that tells the two sides apart inside the one combined query.
SIDE_LABEL = "workshop_compare_side"


def compare_queries(
    prom: PrometheusClient,
    candidate: str,
    reference: str,
    *,
    start: TimeLike | None = None,
    end: TimeLike | None = None,
    step: str | float = "1s",
    lookback: float = 180.0,
    rel_tol: float = DEFAULT_REL_TOL,
    unit: str = "",
) -> Comparison:
    """Evaluate both queries over the same range (default: the last ``lookback`` seconds) and compare.

    Both are evaluated in one request (``label_replace(ref) or label_replace(candidate)``), so they
    see exactly the same samples even while Prometheus keeps scraping. The candidate is first run
    on its own, so that a PromQL mistake comes back (as ``PromQLError``) with positions that match
    what the learner wrote.
    """
    end = end if end is not None else time.time()
    start = start if start is not None else to_unix(end) - lookback
    prom.query(candidate, time=end)  # raises PromQLError with the learner's own line and column
    combined = (
        f'label_replace(({reference}\n), "{SIDE_LABEL}", "expected", "", "")'
        f' or label_replace(({candidate}\n), "{SIDE_LABEL}", "found", "", "")'
    )
    try:
        both = prom.query_range(combined, start, end, step)
    except PromQLError as exc:
        # The candidate parses alone but cannot be labelled: it is a scalar or a string.
        return Comparison(
            False,
            "your query must return series (an instant vector), not a single number",
            expected="series with labels",
            found=exc.detail,
        )
    if both.empty:
        return compare_frames(both, both, rel_tol=rel_tol, unit=unit)
    sides = {side: _without_absent_labels(part.drop(columns=[SIDE_LABEL])) for side, part in both.groupby(SIDE_LABEL)}
    empty = both.iloc[0:0].drop(columns=[SIDE_LABEL])
    return compare_frames(sides.get("expected", empty), sides.get("found", empty), rel_tol=rel_tol, unit=unit)


def _without_absent_labels(frame: pd.DataFrame) -> pd.DataFrame:
    """Drop label columns that only the other side's series have (all NaN here)."""
    absent = [c for c in _labels(frame) if frame[c].isna().all()]
    return frame.drop(columns=absent)
