"""Reaching models through the Istio ingress: where the gateway answers (the kind port mapping, a
LoadBalancer address, or a port-forward), the Host header from ``status.url``, and calls through it.

An ``IngressTarget`` is resolved once (base URL, Host header, model name) and then called as
often as needed; a failed call is explained by ``diagnose`` (wrong Host, path, model name...).
"""

from __future__ import annotations

import socket
from contextlib import closing
from dataclasses import dataclass
from typing import Mapping
from urllib.parse import urlparse

from .console import step
from .dataplane.client import CallFailed, check_protocol, predict, predict_path, predict_url
from .errors import WorkshopError
from .isvc.api import get_isvc
from .isvc.manifest import TAG_ROUTING_ANNOTATION
from .isvc.status import host_from_status, tagged_hosts
from .kube import lab_context
from .kube.client import core_api
from .kube.errors import api_errors
from .kube.port_forward import PortForward
from .load.targets import LoadTarget, load_target
from .namespace import workshop_namespace

#: On kind the gateway is a NodePort (31080) mapped to this address by the kind config.
KIND_INGRESS_URL = "http://127.0.0.1:8080"
INGRESS_NAMESPACE = "istio-system"
INGRESS_SERVICE = "istio-ingressgateway"


def check_base_url(base_url: str) -> str:
    """``base_url`` when it is an ingress address (``http(s)://HOST[:PORT]``); WorkshopError otherwise."""
    try:  # urlparse itself raises on a broken IPv6 literal ('http://[::1')
        parts = urlparse(base_url.strip()) if isinstance(base_url, str) else None
        port_ok = parts is not None and (parts.port is None or 0 < parts.port < 65536)
    except ValueError:
        parts, port_ok = None, False
    if (
        parts is None
        or parts.scheme not in ("http", "https")
        or not parts.hostname
        or not port_ok
        or parts.path not in ("", "/")
        or parts.query
        or parts.fragment
    ):
        raise WorkshopError(
            f"not an ingress address: {base_url!r}",
            hint=f"give scheme, host and port only, e.g. {KIND_INGRESS_URL} (kind) or "
            "http://34.1.2.3 (the gateway's LoadBalancer IP on GKE)",
        )
    return base_url.strip().rstrip("/")


def port_open(host: str, port: int, timeout: float = 1.0) -> bool:
    """Does something accept TCP connections on host:port?"""
    try:
        with closing(socket.create_connection((host, port), timeout=timeout)):
            return True
    except OSError:
        return False


_shared_port_forwards: dict[str, PortForward] = {}


def ingress_endpoint(context: str | None = None, *, allow_port_forward: bool = True, api=None) -> str:
    """Base URL of the Istio ingress gateway for ``context`` (``kube.lab_context()`` when None).

    - kind (``kind-*`` contexts): ``http://127.0.0.1:8080``, the kind config's mapping of the
      gateway's NodePort; when nothing answers there, a shared port-forward (one per context).
    - otherwise (GKE...): the gateway Service's LoadBalancer address; a port-forward when the
      Service has no load balancer.
    """
    context = lab_context(context)
    if context.startswith("kind-"):
        parsed = urlparse(KIND_INGRESS_URL)
        if port_open(parsed.hostname, parsed.port):
            return KIND_INGRESS_URL
        if not allow_port_forward:
            raise WorkshopError(
                f"nothing answers on {KIND_INGRESS_URL} (the kind port mapping)",
                hint="was the cluster created with manifests/cluster/kind-config.yaml?",
            )
        return _shared_port_forward(context)
    address = load_balancer_address(_read_gateway_service(context, api))
    if address:
        return f"http://{address}"
    if not allow_port_forward:
        raise WorkshopError(
            f"svc/{INGRESS_SERVICE} in {INGRESS_NAMESPACE} has no load-balancer address yet",
            hint=f"kubectl get svc {INGRESS_SERVICE} -n {INGRESS_NAMESPACE} -w",
        )
    return _shared_port_forward(context)


def load_balancer_address(service: Mapping) -> str | None:
    """The external IP (or hostname) of a LoadBalancer Service, None when not assigned (or not a LB)."""
    spec, status = service.get("spec") or {}, service.get("status") or {}
    if spec.get("type") != "LoadBalancer":
        return None
    for entry in (status.get("loadBalancer") or {}).get("ingress") or []:
        if entry.get("ip") or entry.get("hostname"):
            return entry.get("ip") or entry.get("hostname")
    return None


def _read_gateway_service(context: str, api=None) -> dict:
    from kubernetes.client import ApiClient

    api = api or core_api(context)
    with api_errors(
        f"read svc/{INGRESS_SERVICE} in {INGRESS_NAMESPACE}",
        not_found_hint="is Istio installed? `invoke status` checks the platform",
    ):
        service = api.read_namespaced_service(INGRESS_SERVICE, INGRESS_NAMESPACE)
    return service if isinstance(service, dict) else ApiClient().sanitize_for_serialization(service)


def ingress_port_forward(
    context: str | None = None, *, kubectl: str = "kubectl", startup_timeout: float = 20, port: int | None = None
) -> PortForward:
    """A (not yet started) port-forward of the Istio ingress gateway's port 80 to 127.0.0.1.

    Used when the kind port mapping (127.0.0.1:8080) does not answer, or on clusters whose gateway
    has neither a mapped NodePort nor a LoadBalancer address.
    """
    return PortForward(
        INGRESS_SERVICE,
        INGRESS_NAMESPACE,
        80,
        ready_path=None,
        context=context,
        kubectl=kubectl,
        startup_timeout=startup_timeout,
        port=port,
    )


def _shared_port_forward(context: str) -> str:
    forward = _shared_port_forwards.get(context)
    if forward is None or not forward.running:
        forward = ingress_port_forward(context)
        with step(f"no direct route to the ingress of {context}: port-forwarding it"):
            forward.start()
        _shared_port_forwards[context] = forward
    return forward.url


@dataclass(frozen=True)
class IngressTarget:
    """Where to send requests for one InferenceService: the ingress base URL and the Host header."""

    base_url: str
    host: str
    model_name: str

    @property
    def headers(self) -> dict[str, str]:
        """The Host header that routes the gateway's requests to this InferenceService."""
        return {"Host": self.host}

    def url(self, protocol: str = "v1") -> str:
        """The model's predict URL on the ingress (send it with ``headers``)."""
        return predict_url(self.base_url, self.model_name, protocol)

    def predict(self, instances: list, protocol: str = "v1", *, timeout: float = 10) -> list:
        """Predictions for ``instances`` over V1 (``predictions``) or V2 (the first output's data)."""
        check_protocol(protocol)
        try:
            return predict(
                self.base_url, self.model_name, instances, protocol=protocol, headers=self.headers, timeout=timeout
            )
        except CallFailed as exc:
            raise self._explained(exc, protocol) from exc

    def load_target(self, protocol: str = "v1") -> LoadTarget:
        """Where the load generator sends load for this model (the ingress's host allowed, the Host header set)."""
        return load_target(self.base_url, self.host, self.model_name, protocol=protocol)

    def _explained(self, exc: CallFailed, protocol: str) -> WorkshopError:
        """The failed call's error, followed by diagnose's explanation of it (Host, path, ingress)."""
        from .diagnose import explain_call_failure

        explanation = explain_call_failure(
            exc.status_code,
            exc.body,
            host=self.host,
            status_url=f"http://{self.host}",
            path=predict_path(self.model_name, protocol),
            model_name=self.model_name,
            error=exc.error,
        )
        return WorkshopError(f"{exc.message}\n\n{explanation.rstrip()}", hint=exc.hint)


def ingress_target(
    name: str,
    namespace: str | None = None,
    *,
    tag: str | None = None,
    context: str | None = None,
    base_url: str | None = None,
    api=None,
) -> IngressTarget:
    """Resolve once where requests for ``name`` go (``tag="latest"``/``"prev"`` for a tagged route)."""
    namespace = workshop_namespace(namespace)
    isvc = get_isvc(name, namespace, context=context, api=api)
    if tag is None:
        host = host_from_status(isvc)
    else:
        hosts = tagged_hosts(isvc)
        if tag not in hosts:
            raise WorkshopError(
                f"InferenceService {namespace}/{name} has no {tag!r} route (tagged routes: {sorted(hosts) or 'none'})",
                hint=f"set the annotation {TAG_ROUTING_ANNOTATION}: \"true\"; a 'prev' route exists "
                "only while a canary is split",
            )
        host = hosts[tag]
    return IngressTarget(base_url=base_url or ingress_endpoint(context), host=host, model_name=name)


def predict_via_ingress(
    name: str,
    namespace: str | None = None,
    instances: list | None = None,
    *,
    protocol: str = "v1",
    context: str | None = None,
    base_url: str | None = None,
    timeout: float = 10,
) -> list:
    """Call the InferenceService through the ingress with the Host header from ``status.url``.

    The model name in the path is the InferenceService name (the runtime passes ``--model_name``).
    """
    namespace = workshop_namespace(namespace)
    if not instances:
        raise WorkshopError("instances must be a non-empty list of feature rows, e.g. [[6.8, 2.8, 4.8, 1.4]]")
    target = ingress_target(name, namespace, context=context, base_url=base_url)
    return target.predict(instances, protocol, timeout=timeout)
