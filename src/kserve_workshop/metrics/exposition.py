"""The Prometheus text exposition a model server answers on ``GET /metrics``: read it, pick a
metric's lines, and read a histogram's ``_count`` and ``_sum``.
"""

from __future__ import annotations

from ..dataplane.client import check_base_url, http_request
from ..errors import WorkshopError


def read_metrics(base_url: str, *, timeout: float = 5) -> str:
    """The Prometheus text exposition of ``GET /metrics``."""
    base_url = check_base_url(base_url)
    response = http_request("GET", f"{base_url}/metrics", timeout=timeout)
    if not response.ok:
        raise WorkshopError(f"{base_url}/metrics answered HTTP {response.status_code}")
    return response.text


def metric_lines(text: str, metric: str, **labels: str) -> list[str]:
    """Lines of a metrics text for ``metric`` (its ``_bucket``/``_count``/``_sum`` series too),
    optionally only those carrying the given label values, e.g. ``model_name="sklearn-iris"``."""
    wanted = [f'{key}="{value}"' for key, value in labels.items()]
    selected = []
    for line in text.splitlines():
        if line.startswith("#") or not line.startswith(metric):
            continue
        series = line.split("{", 1)[0].split(" ", 1)[0]
        if series in {metric, f"{metric}_bucket", f"{metric}_count", f"{metric}_sum"} and all(
            label in line for label in wanted
        ):
            selected.append(line)
    return selected


def _histogram_series(text: str, metric: str, suffix: str, labels: dict[str, str]) -> float:
    for line in metric_lines(text, metric, **labels):
        if line.split("{", 1)[0].split(" ", 1)[0] == f"{metric}{suffix}":
            return float(line.rsplit(" ", 1)[1])
    return 0.0


def histogram_count(text: str, metric: str, **labels: str) -> float:
    """The ``_count`` of a histogram in a metrics text (0 when the series is absent)."""
    return _histogram_series(text, metric, "_count", labels)


def histogram_sum(text: str, metric: str, **labels: str) -> float:
    """The ``_sum`` of a histogram (total seconds, for a ``*_seconds`` one; 0 when absent)."""
    return _histogram_series(text, metric, "_sum", labels)
