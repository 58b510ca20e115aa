"""InferenceServices: their manifests, their status, their API calls and the wait for Ready.

- ``isvc.manifest``: build (with the KServe SDK's models), load and check manifests; promotion and
  rollback objects (pure);
- ``isvc.status``: readiness, conditions, traffic split, Host header (pure);
- ``isvc.rollout``: whether a change has rolled out, from what KServe really reports (pure);
- ``isvc.api``: get / apply / replace / patch / promote / roll back / delete on a cluster;
- ``isvc.wait``: ``wait_ready``, bounded, with ``diagnose``'s explanation on timeout.

Reaching a model through the ingress is ``kserve_workshop.ingress``'s job. Every public name of
the four modules is importable from here.
"""

from .api import (
    ApiUnavailable,
    IsvcExists,
    IsvcNotFound,
    apply_isvc,
    delete_isvc,
    get_isvc,
    get_traffic,
    patch_isvc,
    promote,
    replace_isvc,
    rollback,
)
from .manifest import (
    API_VERSION,
    DEFAULT_RESOURCES,
    GROUP,
    KIND,
    PLURAL,
    PROTOCOL_VERSIONS,
    PUBLIC_IRIS_MODEL,
    PUBLIC_IRIS_MODEL_2,
    SCALE_METRICS,
    STORAGE_SCHEMES,
    TAG_ROUTING_ANNOTATION,
    VERSION,
    build_isvc,
    check_isvc_shape,
    load_manifest,
    promotion_manifest,
    rollback_patch,
    storage_uri_of,
    use_model,
)
from .status import (
    TrafficTarget,
    condition,
    describe_conditions,
    host_from_status,
    is_ready,
    tagged_hosts,
    traffic_by_role,
    traffic_from_status,
)
from .wait import wait_ready

__all__ = [
    "API_VERSION",
    "DEFAULT_RESOURCES",
    "GROUP",
    "KIND",
    "PLURAL",
    "PROTOCOL_VERSIONS",
    "PUBLIC_IRIS_MODEL",
    "PUBLIC_IRIS_MODEL_2",
    "SCALE_METRICS",
    "STORAGE_SCHEMES",
    "TAG_ROUTING_ANNOTATION",
    "VERSION",
    "ApiUnavailable",
    "IsvcExists",
    "IsvcNotFound",
    "TrafficTarget",
    "apply_isvc",
    "build_isvc",
    "check_isvc_shape",
    "condition",
    "delete_isvc",
    "describe_conditions",
    "get_isvc",
    "get_traffic",
    "host_from_status",
    "is_ready",
    "load_manifest",
    "patch_isvc",
    "promote",
    "promotion_manifest",
    "replace_isvc",
    "rollback",
    "rollback_patch",
    "storage_uri_of",
    "tagged_hosts",
    "traffic_by_role",
    "traffic_from_status",
    "use_model",
    "wait_ready",
]
