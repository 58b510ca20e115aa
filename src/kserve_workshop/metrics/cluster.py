"""Reach the cluster's Prometheus (kube-prometheus-stack) from this machine: a port-forward.

Service names follow the chart's own naming: ``<fullname>-prometheus`` where fullname is the release
name plus ``-kube-prometheus-stack``, cut to 26 characters (chart helper
``kube-prometheus-stack.fullname``); for the release ``prometheus`` that is
``prometheus-kube-prometheus-prometheus`` on port 9090 in namespace ``monitoring``.
"""

from __future__ import annotations

from ..errors import WorkshopError
from ..kube.port_forward import PortForward
from ..platform.monitoring import RELEASE as DEFAULT_RELEASE  # the release the platform installs
from ..versions import pin
from .client import PrometheusClient

CHART_NAME = "kube-prometheus-stack"
PROMETHEUS_PORT = 9090


def monitoring_namespace() -> str:
    return pin("monitoring", "namespace")


def stack_fullname(release: str = DEFAULT_RELEASE) -> str:
    """The chart's ``fullname`` for ``release`` (the prefix of the Prometheus Service's name)."""
    if not release:
        raise WorkshopError("a helm release name is needed")
    name = release if CHART_NAME in release else f"{release}-{CHART_NAME}"
    return name[:26].rstrip("-")


def prometheus_service(release: str = DEFAULT_RELEASE) -> str:
    return f"{stack_fullname(release)}-prometheus"


#: The port-forward the monitoring helpers return (``kube.port_forward.PortForward``).
ServicePortForward = PortForward


def port_forward_prometheus(
    context: str | None = None, *, release: str = DEFAULT_RELEASE, namespace: str | None = None
) -> ServicePortForward:
    """A started port-forward to the cluster's Prometheus (use ``.url``; ``stop()`` when done)."""
    forward = ServicePortForward(
        prometheus_service(release),
        namespace or monitoring_namespace(),
        PROMETHEUS_PORT,
        ready_path="/-/ready",
        context=context,
    )
    return forward.start()


def cluster_prometheus(forward: ServicePortForward) -> PrometheusClient:
    """A query client for the Prometheus behind ``forward``."""
    return PrometheusClient(forward.url)
