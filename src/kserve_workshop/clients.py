"""Clients for KServe's data plane: V1 (``:predict``) and V2 / Open Inference Protocol (``/infer``).

Synchronous helpers use ``requests``; ``infer_async`` goes through the ``kserve`` SDK's own
``InferenceRESTClient``. Payloads are checked before they are sent (shape, datatype, numbers), and
an error answer from the server (unknown model, wrong number of features, ...) is decoded into a
``PayloadError`` that says what was expected, instead of a bare HTTP status.

The same validators grade the learners' payloads in Lab 1 (``validate_v1_request``,
``validate_v2_request``), so what the checks accept is exactly what the server accepts.
"""

from __future__ import annotations

import math
import numbers
import re
import time
from typing import Any, Iterable, Mapping, Sequence
from urllib.parse import urlsplit

import requests

from .errors import WorkshopError

#: Tensor datatypes of the Open Inference Protocol.
V2_DATATYPES = ("BOOL", "UINT8", "UINT16", "UINT32", "UINT64", "INT8", "INT16", "INT32", "INT64",
                "FP16", "FP32", "FP64", "BYTES")
_INTEGER_TYPES = {t for t in V2_DATATYPES if "INT" in t}
_FLOAT_TYPES = {"FP16", "FP32", "FP64"}
_V2_INPUT_FIELDS = {"name", "shape", "datatype", "data", "parameters"}
_V2_REQUEST_FIELDS = {"id", "inputs", "outputs", "parameters"}
DEFAULT_INPUT_NAME = "input-0"


class PayloadError(WorkshopError):
    """A request the model server cannot accept, with what was expected instead."""


class CallFailed(WorkshopError):
    """A request that was sent and failed: ``status_code`` is None when nothing answered."""

    def __init__(self, message: str, *, status_code: int | None, body: str = "", error: str | None = None,
                 hint: str | None = None):
        super().__init__(message, hint=hint)
        self.status_code = status_code
        self.body = body
        self.error = error


class RejectedPayload(PayloadError, CallFailed):
    """The server answered that the payload is wrong: HTTP 400, a model-name 404, or the HTTP 500 with
    scikit-learn's message that KServe's sklearn runtime sends (it wraps every predict error as
    ``InferenceError``, which KServe answers with 500)."""


# scikit-learn's and numpy's messages for a request the model cannot predict on, as KServe's sklearn
# runtime passes them on in a 500 answer (kserve python/sklearnserver/sklearnserver/model.py).
_PAYLOAD_ERROR_TEXT = re.compile(r"X has \d+ features?, but \w+ is expecting|cannot reshape array|"
                                 r"could not convert string to float|Input (?:X )?contains (?:NaN|infinity)|"
                                 r"setting an array element with a sequence|Expected 2D array")


# -- building and checking payloads ----------------------------------------------------------------


def _is_number(value: Any) -> bool:
    return isinstance(value, numbers.Real) and not isinstance(value, bool)


def _tolist(value: Any) -> Any:
    return value.tolist() if hasattr(value, "tolist") and not isinstance(value, (str, bytes)) else value


def shape_of(data: Any) -> list[int]:
    """The shape of a nested list (``[[1, 2], [3, 4]]`` -> ``[2, 2]``); PayloadError when ragged."""
    data = _tolist(data)
    if not isinstance(data, (list, tuple)):
        return []
    if not data:
        return [0]
    inner = [shape_of(item) for item in data]
    if any(s != inner[0] for s in inner):
        raise PayloadError(f"rows have different lengths: {[len(row) if isinstance(row, (list, tuple)) else '-' for row in data]}",
                           hint="every instance must have the same number of features")
    return [len(data), *inner[0]]


def flatten(data: Any) -> list:
    """Row-major flattening of a nested list (how V2 JSON carries tensor data)."""
    data = _tolist(data)
    if not isinstance(data, (list, tuple)):
        return [data]
    out: list = []
    for item in data:
        out.extend(flatten(item))
    return out


def validate_instances(instances: Any, *, n_features: int | None = None) -> list[list[float]]:
    """Check V1 ``instances``: a non-empty list of rows, each a list of numbers of equal length."""
    instances = _tolist(instances)
    expected = f"a list of rows of {n_features} numbers" if n_features else "a list of rows of numbers"
    example = "e.g. [[6.8, 2.8, 4.8, 1.4], [6.0, 3.4, 4.5, 1.6]]"
    if not isinstance(instances, (list, tuple)) or not instances:
        raise PayloadError(f"instances must be {expected}, got {_describe(instances)}", hint=example)
    rows = [_tolist(row) for row in instances]
    for index, row in enumerate(rows):
        if not isinstance(row, (list, tuple)):
            raise PayloadError(f"instances must be {expected}; instance {index} is {_describe(row)}, not a row",
                               hint=f"wrap a single instance in a list: [[...]]; {example}")
        bad = [value for value in row if not _is_number(value)]
        if bad:
            raise PayloadError(f"instance {index} holds non-numeric values {bad[:3]!r}; expected {expected}",
                               hint="send numbers (floats), not strings or booleans")
        if any(isinstance(v, float) and not math.isfinite(v) for v in row):
            raise PayloadError(f"instance {index} holds NaN or infinity; JSON cannot carry them")
    lengths = {len(row) for row in rows}
    if len(lengths) > 1:
        raise PayloadError(f"instances have different lengths {sorted(lengths)}; expected {expected}")
    (length,) = lengths
    if n_features is not None and length != n_features:
        raise PayloadError(f"each instance must have {n_features} features, got {length}", hint=example)
    return [list(row) for row in rows]


def build_v1_request(instances: Any, *, n_features: int | None = None) -> dict:
    """``{"instances": [...]}`` after checking the instances."""
    return {"instances": validate_instances(instances, n_features=n_features)}


def validate_v1_request(payload: Any, *, n_features: int | None = None) -> None:
    """Check a V1 request body (a dict with ``instances``); PayloadError naming what is wrong."""
    if not isinstance(payload, Mapping):
        raise PayloadError(f"a V1 request is a dict like {{'instances': [[...], ...]}}, got {_describe(payload)}")
    if "instances" not in payload:
        raise PayloadError(f"a V1 request needs the key 'instances'; found keys {sorted(map(str, payload))}",
                           hint="{'instances': [[6.8, 2.8, 4.8, 1.4]]}")
    validate_instances(payload["instances"], n_features=n_features)


def build_v2_request(data: Any, *, datatype: str = "FP32", shape: Sequence[int] | None = None,
                     name: str = DEFAULT_INPUT_NAME) -> dict:
    """An Open Inference Protocol request with one input tensor (data flattened row-major)."""
    data = _tolist(data)
    if shape is None:
        shape = shape_of(data)
        if len(shape) < 1:
            raise PayloadError(f"data must be a list (of rows), got {_describe(data)}")
    payload = {"inputs": [{"name": name, "shape": [int(s) for s in shape], "datatype": datatype,
                           "data": flatten(data)}]}
    validate_v2_request(payload)
    return payload


def validate_v2_request(payload: Any, *, n_features: int | None = None) -> None:
    """Check a V2 request body: inputs with name, shape, datatype and data that agree with each other."""
    example = ('{"inputs": [{"name": "input-0", "shape": [2, 4], "datatype": "FP32", '
               '"data": [6.8, 2.8, 4.8, 1.4, 6.0, 3.4, 4.5, 1.6]}]}')
    if not isinstance(payload, Mapping):
        raise PayloadError(f"a V2 request is a dict with 'inputs', got {_describe(payload)}", hint=example)
    unknown = set(map(str, payload)) - _V2_REQUEST_FIELDS
    if unknown:
        raise PayloadError(f"unknown field(s) {sorted(unknown)} in the V2 request; allowed: {sorted(_V2_REQUEST_FIELDS)}",
                           hint=example)
    inputs = payload.get("inputs")
    if not isinstance(inputs, list) or not inputs:
        raise PayloadError(f"'inputs' must be a non-empty list of tensors, got {_describe(inputs)}", hint=example)
    for index, tensor in enumerate(inputs):
        _validate_v2_tensor(index, tensor, n_features, example)


def _validate_v2_tensor(index: int, tensor: Any, n_features: int | None, example: str) -> None:
    where = f"inputs[{index}]"
    if not isinstance(tensor, Mapping):
        raise PayloadError(f"{where} must be a dict with name, shape, datatype and data, got {_describe(tensor)}",
                           hint=example)
    unknown = set(map(str, tensor)) - _V2_INPUT_FIELDS
    missing = {"name", "shape", "datatype", "data"} - set(tensor)
    if unknown or missing:
        details = "; ".join(part for part in (f"missing {sorted(missing)}" if missing else "",
                                              f"unknown {sorted(unknown)}" if unknown else "") if part)
        raise PayloadError(f"{where} needs exactly name, shape, datatype, data ({details})", hint=example)
    if not isinstance(tensor["name"], str) or not tensor["name"]:
        raise PayloadError(f"{where}.name must be a non-empty string, got {_describe(tensor['name'])}")
    shape = tensor["shape"]
    if (not isinstance(shape, (list, tuple)) or not shape
            or not all(isinstance(s, int) and not isinstance(s, bool) and s >= 0 for s in shape)):
        raise PayloadError(f"{where}.shape must be a list of non-negative integers like [2, 4], got {shape!r}")
    datatype = tensor["datatype"]
    if datatype not in V2_DATATYPES:
        raise PayloadError(f"{where}.datatype {datatype!r} is not a V2 datatype; expected one of "
                           f"{', '.join(V2_DATATYPES)}", hint="iris features are floats: use 'FP32'")
    values = flatten(tensor["data"]) if isinstance(_tolist(tensor["data"]), (list, tuple)) else None
    if values is None:
        raise PayloadError(f"{where}.data must be a list of values, got {_describe(tensor['data'])}")
    needed = math.prod(shape)
    if len(values) != needed:
        raise PayloadError(f"{where}: shape {list(shape)} needs {needed} values, data has {len(values)}",
                           hint="shape is [rows, features]; data holds rows x features numbers, row by row")
    _check_datatype(where, datatype, values)
    if n_features is not None and (len(shape) != 2 or shape[1] != n_features):
        raise PayloadError(f"{where}.shape must be [rows, {n_features}] for this model, got {list(shape)}")


def _check_datatype(where: str, datatype: str, values: list) -> None:
    if datatype == "BYTES":
        if not all(isinstance(v, (str, bytes)) for v in values):
            raise PayloadError(f"{where}: datatype BYTES carries strings; the data holds numbers",
                               hint="use FP32 for numeric features")
        return
    if datatype == "BOOL":
        if not all(isinstance(v, bool) for v in values):
            raise PayloadError(f"{where}: datatype BOOL needs true/false values")
        return
    bad = [v for v in values if not _is_number(v)]
    if bad:
        raise PayloadError(f"{where}: datatype {datatype} needs numbers; found {bad[:3]!r}")
    if datatype in _INTEGER_TYPES and any(isinstance(v, float) and not v.is_integer() for v in values):
        raise PayloadError(f"{where}: datatype {datatype} holds integers but the data has decimals",
                           hint="use FP32 (or FP64) for decimal features")
    if datatype.startswith("UINT") and any(v < 0 for v in values):
        raise PayloadError(f"{where}: datatype {datatype} cannot hold negative values")


def _describe(value: Any) -> str:
    text = repr(value)
    return f"{type(value).__name__} {text if len(text) <= 60 else text[:57] + '...'}"


# -- talking to a server ---------------------------------------------------------------------------


def _session_for(base_url: str) -> requests.Session:
    session = requests.Session()
    # Proxy settings from the environment must not capture calls to this machine.
    if urlsplit(base_url).hostname in {"127.0.0.1", "localhost", "::1"}:
        session.trust_env = False
    return session


def _check_base_url(base_url: Any) -> str:
    if not isinstance(base_url, str) or urlsplit(base_url).scheme not in {"http", "https"} \
            or not urlsplit(base_url).hostname:
        raise WorkshopError(f"base_url must look like http://127.0.0.1:8080, got {base_url!r}",
                            hint="use server.url for a local server")
    return base_url.rstrip("/")


def _request(method: str, url: str, *, session: requests.Session | None = None, **kwargs) -> requests.Response:
    own = session is None
    session = session or _session_for(url)
    try:
        return session.request(method, url, **kwargs)
    except requests.ConnectionError as exc:
        raise CallFailed(f"cannot reach {url}: nothing answers there", status_code=None,
                         error=type(exc).__name__,
                         hint="is the server running? (server.running / server.start())") from exc
    except requests.Timeout as exc:
        raise CallFailed(f"{url} did not answer within {kwargs.get('timeout')} s", status_code=None,
                         error="timeout") from exc
    finally:
        if own:
            session.close()


def _error_text(response: requests.Response) -> str:
    try:
        body = response.json()
    except ValueError:
        return response.text.strip()[:500]
    if isinstance(body, dict) and "error" in body:
        return str(body["error"])
    return str(body)[:500]


def _raise_for_answer(response: requests.Response, base_url: str, model_name: str, protocol: str,
                      headers: Mapping[str, str] | None) -> None:
    """Turn a non-2xx answer into a PayloadError (our mistake) or WorkshopError (the server's)."""
    if response.ok:
        return
    text = _error_text(response)
    answer = {"status_code": response.status_code, "body": text}
    if response.status_code == 404 and "does not exist" in text:
        served = list_models(base_url, headers=headers)
        raise RejectedPayload(f"model {model_name!r} is not served at {base_url}"
                              + (f"; it serves {served}" if served else ""), **answer,
                              hint="the model name in the URL is the server's --model_name "
                                   "(in a cluster: the InferenceService name)")
    if response.status_code == 404:
        raise CallFailed(f"{response.url} answered 404 ({text or 'no body'})", **answer,
                         hint="behind an ingress: is the Host header the one from status.url?")
    if response.status_code == 400 or _PAYLOAD_ERROR_TEXT.search(text):
        as_500 = (" (KServe's sklearn runtime answers a request it cannot predict on with HTTP 500)"
                  if response.status_code == 500 else "")
        raise RejectedPayload(f"the model server rejected the {protocol} request: {text}{as_500}", **answer,
                              hint=("V1 body: {'instances': [[f1, f2, f3, f4], ...]}" if protocol == "V1" else
                                    "V2 body: one input with shape [rows, features], datatype FP32, "
                                    "data flattened row by row"))
    raise CallFailed(f"{response.request.method} {response.url} failed with HTTP {response.status_code}: {text}",
                     **answer)


def _json(response: requests.Response) -> Any:
    try:
        return response.json()
    except ValueError as exc:
        raise WorkshopError(f"{response.url} did not answer with JSON: {response.text[:200]!r}") from exc


def predict_v1(base_url: str, model_name: str, instances: Any, *, headers: Mapping[str, str] | None = None,
               timeout: float = 10, session: requests.Session | None = None) -> list:
    """POST ``/v1/models/<name>:predict`` and return the ``predictions`` list."""
    base_url = _check_base_url(base_url)
    body = build_v1_request(instances)
    response = _request("POST", f"{base_url}/v1/models/{model_name}:predict", json=body,
                        headers=dict(headers or {}), timeout=timeout, session=session)
    _raise_for_answer(response, base_url, model_name, "V1", headers)
    answer = _json(response)
    if not isinstance(answer, dict) or "predictions" not in answer:
        raise WorkshopError(f"unexpected V1 answer (no 'predictions'): {str(answer)[:200]}")
    return answer["predictions"]


def infer_v2(base_url: str, model_name: str, data: Any, *, datatype: str = "FP32",
             shape: Sequence[int] | None = None, input_name: str = DEFAULT_INPUT_NAME,
             headers: Mapping[str, str] | None = None, timeout: float = 10,
             session: requests.Session | None = None) -> dict:
    """POST ``/v2/models/<name>/infer`` with one input tensor; returns the response dict.

    ``data`` is a nested list (its shape is taken from it) or a flat list with ``shape``.
    """
    base_url = _check_base_url(base_url)
    body = build_v2_request(data, datatype=datatype, shape=shape, name=input_name)
    response = _request("POST", f"{base_url}/v2/models/{model_name}/infer", json=body,
                        headers=dict(headers or {}), timeout=timeout, session=session)
    _raise_for_answer(response, base_url, model_name, "V2", headers)
    answer = _json(response)
    if not isinstance(answer, dict) or not isinstance(answer.get("outputs"), list):
        raise WorkshopError(f"unexpected V2 answer (no 'outputs'): {str(answer)[:200]}")
    return answer


def v2_outputs(response: Any, name: str | None = None) -> list:
    """The data of a V2 response's output (the first, or the one called ``name``), shaped as nested lists."""
    if not isinstance(response, Mapping) or not isinstance(response.get("outputs"), list) or not response["outputs"]:
        raise PayloadError(f"a V2 response is a dict with a non-empty 'outputs' list, got {_describe(response)}")
    outputs = response["outputs"]
    if name is not None:
        matching = [o for o in outputs if isinstance(o, Mapping) and o.get("name") == name]
        if not matching:
            raise PayloadError(f"no output named {name!r}; outputs are "
                               f"{[o.get('name') for o in outputs if isinstance(o, Mapping)]}")
        output = matching[0]
    else:
        output = outputs[0]
    if not isinstance(output, Mapping) or "data" not in output:
        raise PayloadError(f"a V2 output has 'name', 'shape', 'datatype' and 'data', got {_describe(output)}")
    data = flatten(output["data"])
    shape = output.get("shape") or [len(data)]
    if math.prod(shape) != len(data):
        raise PayloadError(f"output shape {shape} does not match its {len(data)} values")
    return _reshape(data, list(shape))


def _reshape(values: list, shape: list[int]) -> list:
    if len(shape) <= 1:
        return list(values)
    step = math.prod(shape[1:])
    return [_reshape(values[i * step:(i + 1) * step], shape[1:]) for i in range(shape[0])]


def list_models(base_url: str, *, headers: Mapping[str, str] | None = None, timeout: float = 5) -> list[str]:
    """Names of the models a server serves (``GET /v1/models``); [] when it cannot tell."""
    try:
        response = _request("GET", f"{base_url.rstrip('/')}/v1/models", headers=dict(headers or {}),
                            timeout=timeout)
        return list(response.json().get("models", [])) if response.ok else []
    except (WorkshopError, ValueError, AttributeError):
        return []


def _get_json(url: str, headers: Mapping[str, str] | None, timeout: float) -> tuple[int, Any]:
    response = _request("GET", url, headers=dict(headers or {}), timeout=timeout)
    try:
        return response.status_code, response.json()
    except ValueError:
        return response.status_code, response.text


def server_live(base_url: str, *, headers: Mapping[str, str] | None = None, timeout: float = 5) -> bool:
    """``GET /v2/health/live`` answers 200."""
    status, _ = _get_json(f"{_check_base_url(base_url)}/v2/health/live", headers, timeout)
    return status == 200


def server_ready(base_url: str, *, headers: Mapping[str, str] | None = None, timeout: float = 5) -> bool:
    """``GET /v2/health/ready`` answers 200 (every model is loaded)."""
    status, _ = _get_json(f"{_check_base_url(base_url)}/v2/health/ready", headers, timeout)
    return status == 200


def model_ready(base_url: str, model_name: str, *, headers: Mapping[str, str] | None = None,
                timeout: float = 5) -> bool:
    """``GET /v2/models/<name>/ready`` answers 200."""
    status, _ = _get_json(f"{_check_base_url(base_url)}/v2/models/{model_name}/ready", headers, timeout)
    return status == 200


def model_metadata(base_url: str, model_name: str, *, headers: Mapping[str, str] | None = None,
                   timeout: float = 5) -> dict:
    """``GET /v2/models/<name>``: name, versions, platform, inputs, outputs."""
    base_url = _check_base_url(base_url)
    response = _request("GET", f"{base_url}/v2/models/{model_name}", headers=dict(headers or {}), timeout=timeout)
    _raise_for_answer(response, base_url, model_name, "V2", headers)
    return _json(response)


def read_metrics(base_url: str, *, timeout: float = 5) -> str:
    """The Prometheus text exposition of ``GET /metrics``."""
    base_url = _check_base_url(base_url)
    response = _request("GET", f"{base_url}/metrics", timeout=timeout)
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
        if series in {metric, f"{metric}_bucket", f"{metric}_count", f"{metric}_sum"} \
                and all(label in line for label in wanted):
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


async def infer_async(base_url: str, model_name: str, data: Any, *, protocol: str = "v1",
                      headers: Mapping[str, str] | None = None, timeout: float = 10,
                      datatype: str = "FP32") -> Any:
    """One inference through the ``kserve`` SDK's ``InferenceRESTClient`` (async).

    Returns the V1 ``predictions`` list, or for V2 a response dict like ``infer_v2``'s.
    """
    import httpx
    from kserve import InferenceRESTClient, RESTConfig

    if protocol not in {"v1", "v2"}:
        raise WorkshopError(f"protocol must be 'v1' or 'v2', got {protocol!r}")
    base_url = _check_base_url(base_url)
    body = build_v1_request(data) if protocol == "v1" else build_v2_request(data, datatype=datatype)
    client = InferenceRESTClient(RESTConfig(protocol=protocol, timeout=timeout))
    try:
        answer = await client.infer(base_url, body, model_name=model_name, headers=dict(headers or {}))
    except httpx.HTTPStatusError as exc:
        _raise_for_answer(_as_requests_response(exc.response), base_url, model_name, protocol.upper(), headers)
        raise  # pragma: no cover - _raise_for_answer always raises for a non-2xx answer
    except httpx.TransportError as exc:
        raise WorkshopError(f"cannot reach {base_url}: {type(exc).__name__}",
                            hint="is the server running?") from exc
    finally:
        await client.close()
    if protocol == "v1":
        return answer["predictions"]
    answer = answer.to_dict() if hasattr(answer, "to_dict") else dict(answer)
    answer.pop("from_grpc", None)  # an SDK detail, not part of the protocol's response
    return answer


def _as_requests_response(response) -> requests.Response:
    """Adapt an httpx response so the one error decoder serves both clients."""
    adapted = requests.Response()
    adapted.status_code = response.status_code
    adapted._content = response.content
    adapted.url = str(response.url)
    adapted.request = requests.Request(response.request.method, str(response.url)).prepare()
    return adapted


def time_sequential_requests(base_url: str, model_name: str, instances: Any, *, count: int = 100,
                             protocol: str = "v1", timeout: float = 10) -> list[float]:
    """Send ``count`` requests one after another on one connection; their latencies in seconds."""
    if not isinstance(count, int) or count < 1:
        raise WorkshopError(f"count must be a positive integer, got {count!r}")
    call = predict_v1 if protocol == "v1" else infer_v2
    latencies: list[float] = []
    with _session_for(base_url) as session:
        for _ in range(count):
            started = time.perf_counter()
            call(base_url, model_name, instances, timeout=timeout, session=session)
            latencies.append(time.perf_counter() - started)
    return latencies


def latency_summary(latencies: Sequence[float]) -> dict[str, float]:
    """Count, mean and percentiles (milliseconds) of sequential latencies, and the request rate."""
    if not latencies:
        raise WorkshopError("no latencies to summarise")
    import numpy as np

    values = np.asarray(latencies, dtype=float)
    p50, p90, p99 = np.percentile(values, [50, 90, 99]) * 1000
    return {"count": int(values.size), "mean_ms": float(values.mean() * 1000), "p50_ms": float(p50),
            "p90_ms": float(p90), "p99_ms": float(p99), "max_ms": float(values.max() * 1000),
            "requests_per_s": float(values.size / values.sum())}


def class_names(predictions: Iterable[Any], classes: Sequence[str]) -> list[str]:
    """Map predicted class indices to names (``[1, 2]`` -> ``['versicolor', 'virginica']``)."""
    names = []
    for value in predictions:
        if not (_is_number(value) and float(value).is_integer() and 0 <= int(value) < len(classes)):
            raise PayloadError(f"prediction {value!r} is not a class index 0..{len(classes) - 1}")
        names.append(classes[int(value)])
    return names
