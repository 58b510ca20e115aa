"""Open the cluster's Grafana (kube-prometheus-stack): port-forward, admin credentials, dashboard URL.

The chart's Grafana runs as Service ``<release>-grafana`` (port 80) in the monitoring namespace;
its admin user and password are in the Secret of the same name (keys ``admin-user`` and
``admin-password``). The workshop's dashboard (``manifests/platform/monitoring/dashboards/
kserve-models.json``) is provisioned by the chart's dashboard sidecar; its uid gives its URL.
"""

from __future__ import annotations

import base64
import binascii
from dataclasses import dataclass
from functools import lru_cache

from ..errors import WorkshopError
from .cluster import DEFAULT_RELEASE, ServicePortForward, monitoring_namespace
from .dashboard import DASHBOARD_FILE, load_dashboard

GRAFANA_PORT = 80


@dataclass(frozen=True)
class GrafanaLogin:
    user: str
    password: str

    def __repr__(self) -> str:  # keep the password out of logs and notebook outputs by default
        return f"GrafanaLogin(user={self.user!r}, password='***')"


def grafana_service(release: str = DEFAULT_RELEASE) -> str:
    """The Grafana subchart's fullname: the release name, plus ``-grafana`` unless it has it."""
    if not release:
        raise WorkshopError("a helm release name is needed")
    name = release if "grafana" in release else f"{release}-grafana"
    return name[:63].rstrip("-")


@lru_cache(maxsize=1)
def dashboard_uid() -> str:
    """The uid of the workshop's dashboard, read from its JSON (the single source)."""
    uid = load_dashboard(DASHBOARD_FILE).get("uid")
    if not uid:
        raise WorkshopError(f"the dashboard {DASHBOARD_FILE} has no uid")
    return uid


def grafana_login(
    context: str | None = None, *, release: str = DEFAULT_RELEASE, namespace: str | None = None, api=None
) -> GrafanaLogin:
    """Grafana's admin user and password from the chart's Secret (``api``: a CoreV1Api, for tests)."""
    namespace = namespace or monitoring_namespace()
    name = grafana_service(release)
    if api is None:
        from kubernetes.client import CoreV1Api

        from ..kube.client import api_client

        api = CoreV1Api(api_client(context))
    try:
        secret = api.read_namespaced_secret(name, namespace)
    except Exception as exc:  # noqa: BLE001 - ApiException, connection errors: one clear message
        status = getattr(exc, "status", None)
        detail = "not found" if status == 404 else (getattr(exc, "reason", None) or type(exc).__name__)
        raise WorkshopError(
            f"cannot read Secret {namespace}/{name}: {detail}",
            hint="is the monitoring component installed with Grafana? (invoke status)",
        ) from exc
    data = getattr(secret, "data", None) or (secret.get("data") if isinstance(secret, dict) else None) or {}
    try:
        user, password = (
            base64.b64decode(data[key], validate=True).decode() for key in ("admin-user", "admin-password")
        )
    except (KeyError, binascii.Error, UnicodeDecodeError) as exc:
        raise WorkshopError(
            f"Secret {namespace}/{name} has no readable admin-user/admin-password",
            hint="was Grafana installed with an existing admin Secret? Look there.",
        ) from exc
    return GrafanaLogin(user, password)


def port_forward_grafana(
    context: str | None = None, *, release: str = DEFAULT_RELEASE, namespace: str | None = None, port: int | None = None
) -> ServicePortForward:
    """A started port-forward to Grafana on 127.0.0.1 (``.url``; ``stop()`` when done)."""
    forward = ServicePortForward(
        grafana_service(release),
        namespace or monitoring_namespace(),
        GRAFANA_PORT,
        ready_path="/api/health",
        context=context,
        port=port,
    )
    return forward.start()


def dashboard_url(base_url: str) -> str:
    """The workshop dashboard's address on a Grafana at ``base_url``."""
    return f"{base_url.rstrip('/')}/d/{dashboard_uid()}"
