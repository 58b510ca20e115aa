"""Prometheus for the workshop: run one locally, query it (or the cluster's), build PromQL, plot.

- ``LocalPrometheus``: a real Prometheus on 127.0.0.1 scraping local model servers.
- ``PrometheusClient``: instant and range queries as tidy pandas DataFrames; ``PromQLError``.
- ``promql``: the queries (request rate, latency quantiles from ``request_predict_seconds``).
- ``traffic``: the lab's two-phase request mix, sent with the load generator.
- ``client_side``: what only the client can measure (error ratio over time, from the load generator).
- ``compare``: do two PromQL queries give the same curve? (graded exercises)
- ``plots``: metrics over time as matplotlib figures.
- ``cluster``: port-forward to the cluster's Prometheus (kube-prometheus-stack).
- ``dashboard`` / ``podmonitor``: read and check the Grafana dashboard JSON and the PodMonitor.
"""

from .client import PrometheusClient, PromQLError
from .local_prometheus import LocalPrometheus, build_config, find_prometheus
from .promql import latency_quantile, latency_quantiles, request_rate

__all__ = [
    "LocalPrometheus",
    "PrometheusClient",
    "PromQLError",
    "build_config",
    "find_prometheus",
    "latency_quantile",
    "latency_quantiles",
    "request_rate",
]
