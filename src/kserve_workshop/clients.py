"""Deprecated (kept for one release): ``clients`` was split into ``dataplane`` (payloads and the
V1/V2 clients), ``metrics.exposition`` (the model server's ``/metrics`` text) and ``load.latency``
(sequential latencies and their summary). Import from those; every name this module had is still here.
"""

from .dataplane import *  # noqa: F403 - the whole public surface of dataplane, as clients had it
from .dataplane import __all__ as _dataplane_names
from .load.latency import latency_summary, time_sequential_requests
from .metrics.exposition import histogram_count, histogram_sum, metric_lines, read_metrics

__all__ = [
    *_dataplane_names,
    "histogram_count",
    "histogram_sum",
    "latency_summary",
    "metric_lines",
    "read_metrics",
    "time_sequential_requests",
]
