"""Clients for KServe's data plane: V1 (``:predict``) and V2 / Open Inference Protocol (``/infer``).

The URLs of a model (``predict_url``), one session rule (loopback calls ignore proxy settings),
``predict`` (the one call every caller makes: V1 or V2, answers as a list), the two protocols'
own calls, health and metadata, and ``infer_async`` through the ``kserve`` SDK's own
``InferenceRESTClient``. Payloads are checked before they are sent (``dataplane.payloads``); an
error answer from the server (unknown model, wrong number of features, ...) is decoded into a
``RejectedPayload`` or ``CallFailed`` that says what went wrong, instead of a bare HTTP status.
"""

from __future__ import annotations

import re
from typing import Any, Mapping, Sequence
from urllib.parse import urlsplit

import requests

from ..errors import WorkshopError
from .payloads import DEFAULT_INPUT_NAME, PayloadError, build_v1_request, build_v2_request, v2_outputs

PROTOCOLS = ("v1", "v2")


class CallFailed(WorkshopError):
    """A request that was sent and failed: ``status_code`` is None when nothing answered."""

    def __init__(
        self,
        message: str,
        *,
        status_code: int | None,
        body: str = "",
        error: str | None = None,
        hint: str | None = None,
    ):
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
_PAYLOAD_ERROR_TEXT = re.compile(
    r"X has \d+ features?, but \w+ is expecting|cannot reshape array|"
    r"could not convert string to float|Input (?:X )?contains (?:NaN|infinity)|"
    r"setting an array element with a sequence|Expected 2D array"
)


def session_for(base_url: str) -> requests.Session:
    session = requests.Session()
    # Proxy settings from the environment must not capture calls to this machine.
    if urlsplit(base_url).hostname in {"127.0.0.1", "localhost", "::1"}:
        session.trust_env = False
    return session


def check_base_url(base_url: Any) -> str:
    if (
        not isinstance(base_url, str)
        or urlsplit(base_url).scheme not in {"http", "https"}
        or not urlsplit(base_url).hostname
    ):
        raise WorkshopError(
            f"base_url must look like http://127.0.0.1:8080, got {base_url!r}", hint="use server.url for a local server"
        )
    return base_url.rstrip("/")


def http_request(method: str, url: str, *, session: requests.Session | None = None, **kwargs) -> requests.Response:
    own = session is None
    session = session or session_for(url)
    try:
        return session.request(method, url, **kwargs)
    except requests.ConnectionError as exc:
        raise CallFailed(
            f"cannot reach {url}: nothing answers there",
            status_code=None,
            error=type(exc).__name__,
            hint="is the server running? (server.running / server.start())",
        ) from exc
    except requests.Timeout as exc:
        raise CallFailed(
            f"{url} did not answer within {kwargs.get('timeout')} s", status_code=None, error="timeout"
        ) from exc
    finally:
        if own:
            session.close()


def error_text(response: requests.Response) -> str:
    """The ``error`` text of a KServe error answer (or the raw body, shortened)."""
    try:
        body = response.json()
    except ValueError:
        return response.text.strip()[:500]
    if isinstance(body, dict) and "error" in body:
        return str(body["error"])
    return str(body)[:500]


def _raise_for_answer(
    response: requests.Response, base_url: str, model_name: str, protocol: str, headers: Mapping[str, str] | None
) -> None:
    """Turn a non-2xx answer into a PayloadError (our mistake) or WorkshopError (the server's)."""
    if response.ok:
        return
    text = error_text(response)
    answer = {"status_code": response.status_code, "body": text}
    if response.status_code == 404 and "does not exist" in text:
        served = list_models(base_url, headers=headers)
        raise RejectedPayload(
            f"model {model_name!r} is not served at {base_url}" + (f"; it serves {served}" if served else ""),
            **answer,
            hint="the model name in the URL is the server's --model_name (in a cluster: the InferenceService name)",
        )
    if response.status_code == 404:
        raise CallFailed(
            f"{response.url} answered 404 ({text or 'no body'})",
            **answer,
            hint="behind an ingress: is the Host header the one from status.url?",
        )
    if response.status_code == 400 or _PAYLOAD_ERROR_TEXT.search(text):
        as_500 = (
            " (KServe's sklearn runtime answers a request it cannot predict on with HTTP 500)"
            if response.status_code == 500
            else ""
        )
        raise RejectedPayload(
            f"the model server rejected the {protocol} request: {text}{as_500}",
            **answer,
            hint=(
                "V1 body: {'instances': [[f1, f2, f3, f4], ...]}"
                if protocol == "V1"
                else "V2 body: one input with shape [rows, features], datatype FP32, data flattened row by row"
            ),
        )
    raise CallFailed(
        f"{response.request.method} {response.url} failed with HTTP {response.status_code}: {text}", **answer
    )


def _json(response: requests.Response) -> Any:
    try:
        return response.json()
    except ValueError as exc:
        raise WorkshopError(f"{response.url} did not answer with JSON: {response.text[:200]!r}") from exc


def check_protocol(protocol: Any) -> str:
    """``protocol`` when it is ``"v1"`` or ``"v2"``; WorkshopError otherwise."""
    if protocol not in PROTOCOLS:
        raise WorkshopError(f"protocol must be 'v1' or 'v2', not {protocol!r}")
    return protocol


def predict_path(model_name: str, protocol: str = "v1") -> str:
    """Where a model answers predictions: ``/v1/models/<name>:predict`` or ``/v2/models/<name>/infer``."""
    check_protocol(protocol)
    return f"/v1/models/{model_name}:predict" if protocol == "v1" else f"/v2/models/{model_name}/infer"


def predict_url(base_url: str, model_name: str, protocol: str = "v1") -> str:
    """``predict_path`` under ``base_url`` (a model server's, or the ingress's with a Host header)."""
    return base_url.rstrip("/") + predict_path(model_name, protocol)


def post_json(
    url: str, body: Any, *, headers: Mapping[str, str] | None = None, timeout: float = 10, hint: str | None = None
) -> requests.Response:
    """POST any JSON ``body`` (well-formed or not) and return the raw answer; no checks on either side.

    Nothing answering is a ``CallFailed`` (with ``hint`` when given).
    """
    try:
        return http_request("POST", url, json=body, headers=dict(headers or {}), timeout=timeout)
    except CallFailed as exc:
        if hint:
            exc.hint = hint
        raise


def predict(
    base_url: str,
    model_name: str,
    instances: Any,
    *,
    protocol: str = "v1",
    headers: Mapping[str, str] | None = None,
    timeout: float = 10,
    session: requests.Session | None = None,
) -> list:
    """Predictions for rows of features, over V1 (``predictions``) or V2 (the first output's data)."""
    if check_protocol(protocol) == "v1":
        return predict_v1(base_url, model_name, instances, headers=headers, timeout=timeout, session=session)
    return v2_outputs(infer_v2(base_url, model_name, instances, headers=headers, timeout=timeout, session=session))


def predict_v1(
    base_url: str,
    model_name: str,
    instances: Any,
    *,
    headers: Mapping[str, str] | None = None,
    timeout: float = 10,
    session: requests.Session | None = None,
) -> list:
    """POST ``/v1/models/<name>:predict`` and return the ``predictions`` list."""
    base_url = check_base_url(base_url)
    body = build_v1_request(instances)
    response = http_request(
        "POST",
        predict_url(base_url, model_name, "v1"),
        json=body,
        headers=dict(headers or {}),
        timeout=timeout,
        session=session,
    )
    _raise_for_answer(response, base_url, model_name, "V1", headers)
    answer = _json(response)
    if not isinstance(answer, dict) or "predictions" not in answer:
        raise WorkshopError(f"unexpected V1 answer (no 'predictions'): {str(answer)[:200]}")
    return answer["predictions"]


def infer_v2(
    base_url: str,
    model_name: str,
    data: Any,
    *,
    datatype: str = "FP32",
    shape: Sequence[int] | None = None,
    input_name: str = DEFAULT_INPUT_NAME,
    headers: Mapping[str, str] | None = None,
    timeout: float = 10,
    session: requests.Session | None = None,
) -> dict:
    """POST ``/v2/models/<name>/infer`` with one input tensor; returns the response dict.

    ``data`` is a nested list (its shape is taken from it) or a flat list with ``shape``.
    """
    base_url = check_base_url(base_url)
    body = build_v2_request(data, datatype=datatype, shape=shape, name=input_name)
    response = http_request(
        "POST",
        predict_url(base_url, model_name, "v2"),
        json=body,
        headers=dict(headers or {}),
        timeout=timeout,
        session=session,
    )
    _raise_for_answer(response, base_url, model_name, "V2", headers)
    answer = _json(response)
    if not isinstance(answer, dict) or not isinstance(answer.get("outputs"), list):
        raise WorkshopError(f"unexpected V2 answer (no 'outputs'): {str(answer)[:200]}")
    return answer


def list_models(base_url: str, *, headers: Mapping[str, str] | None = None, timeout: float = 5) -> list[str]:
    """Names of the models a server serves (``GET /v1/models``); [] when it cannot tell."""
    try:
        response = http_request(
            "GET", f"{base_url.rstrip('/')}/v1/models", headers=dict(headers or {}), timeout=timeout
        )
        return list(response.json().get("models", [])) if response.ok else []
    except (WorkshopError, ValueError, AttributeError):
        return []


def _get_json(url: str, headers: Mapping[str, str] | None, timeout: float) -> tuple[int, Any]:
    response = http_request("GET", url, headers=dict(headers or {}), timeout=timeout)
    try:
        return response.status_code, response.json()
    except ValueError:
        return response.status_code, response.text


def server_live(base_url: str, *, headers: Mapping[str, str] | None = None, timeout: float = 5) -> bool:
    """``GET /v2/health/live`` answers 200."""
    status, _ = _get_json(f"{check_base_url(base_url)}/v2/health/live", headers, timeout)
    return status == 200


def server_ready(base_url: str, *, headers: Mapping[str, str] | None = None, timeout: float = 5) -> bool:
    """``GET /v2/health/ready`` answers 200 (every model is loaded)."""
    status, _ = _get_json(f"{check_base_url(base_url)}/v2/health/ready", headers, timeout)
    return status == 200


def model_ready(
    base_url: str, model_name: str, *, headers: Mapping[str, str] | None = None, timeout: float = 5
) -> bool:
    """``GET /v2/models/<name>/ready`` answers 200."""
    status, _ = _get_json(f"{check_base_url(base_url)}/v2/models/{model_name}/ready", headers, timeout)
    return status == 200


def model_metadata(
    base_url: str, model_name: str, *, headers: Mapping[str, str] | None = None, timeout: float = 5
) -> dict:
    """``GET /v2/models/<name>``: name, versions, platform, inputs, outputs."""
    base_url = check_base_url(base_url)
    response = http_request("GET", f"{base_url}/v2/models/{model_name}", headers=dict(headers or {}), timeout=timeout)
    _raise_for_answer(response, base_url, model_name, "V2", headers)
    return _json(response)


async def infer_async(
    base_url: str,
    model_name: str,
    data: Any,
    *,
    protocol: str = "v1",
    headers: Mapping[str, str] | None = None,
    timeout: float = 10,
    datatype: str = "FP32",
) -> Any:
    """One inference through the ``kserve`` SDK's ``InferenceRESTClient`` (async).

    Returns the V1 ``predictions`` list, or for V2 a response dict like ``infer_v2``'s.
    """
    import httpx
    from kserve import InferenceRESTClient, RESTConfig

    check_protocol(protocol)
    base_url = check_base_url(base_url)
    body = build_v1_request(data) if protocol == "v1" else build_v2_request(data, datatype=datatype)
    client = InferenceRESTClient(RESTConfig(protocol=protocol, timeout=timeout))
    try:
        answer = await client.infer(base_url, body, model_name=model_name, headers=dict(headers or {}))
    except httpx.HTTPStatusError as exc:
        _raise_for_answer(_as_requests_response(exc.response), base_url, model_name, protocol.upper(), headers)
        raise  # pragma: no cover - _raise_for_answer always raises for a non-2xx answer
    except httpx.TransportError as exc:
        raise WorkshopError(f"cannot reach {base_url}: {type(exc).__name__}", hint="is the server running?") from exc
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
