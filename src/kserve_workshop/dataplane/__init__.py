"""KServe's data plane from the caller's side: payloads (``dataplane.payloads``) and the clients that
send them (``dataplane.client``). Every public name of both is importable from here.

Reading a server's Prometheus metrics is ``metrics.exposition``'s job; timing sequential requests
``load.latency``'s.
"""

from .client import (
    PROTOCOLS,
    CallFailed,
    RejectedPayload,
    check_base_url,
    check_protocol,
    infer_async,
    infer_v2,
    list_models,
    model_metadata,
    model_ready,
    post_json,
    predict,
    predict_path,
    predict_url,
    predict_v1,
    server_live,
    server_ready,
    session_for,
)
from .payloads import (
    DEFAULT_INPUT_NAME,
    V2_DATATYPES,
    PayloadError,
    build_v1_request,
    build_v2_request,
    class_names,
    flatten,
    shape_of,
    v2_outputs,
    validate_instances,
    validate_v1_request,
    validate_v2_request,
)

__all__ = [
    "DEFAULT_INPUT_NAME",
    "PROTOCOLS",
    "V2_DATATYPES",
    "CallFailed",
    "PayloadError",
    "RejectedPayload",
    "build_v1_request",
    "build_v2_request",
    "check_base_url",
    "check_protocol",
    "class_names",
    "flatten",
    "infer_async",
    "infer_v2",
    "list_models",
    "model_metadata",
    "model_ready",
    "post_json",
    "predict",
    "predict_path",
    "predict_url",
    "predict_v1",
    "server_live",
    "server_ready",
    "session_for",
    "shape_of",
    "v2_outputs",
    "validate_instances",
    "validate_v1_request",
    "validate_v2_request",
]
