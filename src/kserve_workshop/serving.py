"""Deprecated (kept for one release): ``serving`` was split into ``isvc`` (InferenceService
manifests, status, API calls and waits) and ``ingress`` (reaching models through the Istio
ingress). Import from those; every name this module had is still here.
"""

from .ingress import (
    INGRESS_NAMESPACE,
    INGRESS_SERVICE,
    KIND_INGRESS_URL,
    IngressTarget,
    ingress_endpoint,
    ingress_port_forward,
    ingress_target,
    load_balancer_address,
    port_open,
    predict_via_ingress,
)
from .isvc import *  # noqa: F403 - the whole public surface of isvc, as serving had it
from .isvc import __all__ as _isvc_names
from .kube import current_context
from .kube.client import core_api, custom_objects_api

__all__ = [
    *_isvc_names,
    "INGRESS_NAMESPACE",
    "INGRESS_SERVICE",
    "KIND_INGRESS_URL",
    "IngressTarget",
    "core_api",
    "current_context",
    "custom_objects_api",
    "ingress_endpoint",
    "ingress_port_forward",
    "ingress_target",
    "load_balancer_address",
    "port_open",
    "predict_via_ingress",
]
