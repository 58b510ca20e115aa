"""Lab 6's transformer: a ``kserve.Model`` between people and the iris predictor.

KServe runs it like any model (``kserve.ModelServer``: V1 and V2 routes, health, ``/metrics``) and
calls its three handlers for every request:

1. ``preprocess``: named flowers (V1 ``{"instances": [{"sepal_length": 6.8, ...}]}``, or V2 with one
   input tensor per feature) -> the predictor's request: rows of 4 numbers, in the protocol the
   predictor speaks (``--predictor_protocol v1``: ``{"instances": [[...]]}``; ``v2``: an
   ``InferRequest`` with one FP32 tensor of shape [n, 4]). A request it cannot translate is an
   ``InvalidInput``, which KServe answers with HTTP 400 and the message.
2. ``predict`` (KServe's own): POST to the predictor at ``--predictor_host``. Errors from there are
   reported as what they are (the predictor rejected the request, or cannot be reached).
3. ``postprocess``: class indices -> class names, answered in the protocol the *client* used.

The client's protocol and the predictor's are independent (a V1 caller can sit in front of a V2
predictor), so ``preprocess`` notes the client's protocol in a context variable: KServe awaits the
three handlers one after another in the request's own task, so ``postprocess`` sees what
``preprocess`` of the same request set, and concurrent requests never see each other's.
"""

from __future__ import annotations

import contextvars
from dataclasses import dataclass
from typing import Any, Callable, Sequence

import httpx
import kserve
from kserve import InferInput, InferOutput, InferRequest, InferResponse
from kserve.errors import InferenceError, InvalidInput
from kserve.utils.utils import generate_uuid

from .features import (
    FEATURE_NAMES,
    FeatureError,
    class_indices,
    class_labels,
    feature_rows,
    flowers_from_v1,
    flowers_from_v2,
)

PREDICTOR_PROTOCOLS = ("v1", "v2")
#: Name of the predictor's input tensor (what KServe's sklearn runtime expects: any one input).
PREDICTOR_INPUT = "input-0"
#: Name of the transformer's V2 output.
LABEL_OUTPUT = "label"


@dataclass(frozen=True)
class _Inbound:
    """What ``postprocess`` must know about the client's request."""

    protocol: str
    request_id: str | None = None


_INBOUND: contextvars.ContextVar[_Inbound | None] = contextvars.ContextVar("iris_transformer_inbound", default=None)


class IrisTransformer(kserve.Model):
    """Named iris features in, class names out; the model itself runs in the predictor.

    ``to_rows`` (named flowers -> rows) and ``to_labels`` (class indices -> names) default to the
    library's ``features.feature_rows`` / ``features.class_labels``; Lab 6 plugs in the learner's
    own. ``predictor_protocol`` overrides the server's ``--predictor_protocol`` (in-process use).
    """

    def __init__(
        self,
        name: str,
        *,
        to_rows: Callable[[list], list] = feature_rows,
        to_labels: Callable[[list], list] = class_labels,
        predictor_protocol: str | None = None,
    ):
        super().__init__(name)
        if predictor_protocol is not None and predictor_protocol not in PREDICTOR_PROTOCOLS:
            raise ValueError(f"predictor_protocol must be one of {PREDICTOR_PROTOCOLS}, not {predictor_protocol!r}")
        self.to_rows = to_rows
        self.to_labels = to_labels
        self._predictor_protocol = predictor_protocol

    def load(self) -> bool:
        # Nothing to load: the transformer holds no model. Ready means "can take requests".
        self.ready = True
        return self.ready

    @property
    def predictor_protocol(self) -> str:
        if self._predictor_protocol is not None:
            return self._predictor_protocol
        config = self.predictor_config
        return config.protocol if config is not None else "v1"

    # -- 1. preprocess -------------------------------------------------------------------------

    async def preprocess(self, payload: dict | InferRequest, headers: dict | None = None) -> dict | InferRequest:
        """Client's request (V1 dict or V2 ``InferRequest``) -> the predictor's request."""
        try:
            if isinstance(payload, InferRequest):
                inbound = _Inbound("v2", payload.id)
                flowers = flowers_from_v2([_tensor(item) for item in payload.inputs])
            else:
                inbound = _Inbound("v1")
                flowers = flowers_from_v1(payload)
            rows = self.to_rows(flowers)
        except ValueError as exc:  # FeatureError, or a learner's ValueError: the client's mistake
            raise InvalidInput(str(exc)) from exc
        _INBOUND.set(inbound)
        return self.predictor_request(rows, request_id=inbound.request_id)

    def predictor_request(
        self, rows: Sequence[Sequence[float]], *, request_id: str | None = None
    ) -> dict | InferRequest:
        """Rows of 4 numbers in the predictor's protocol."""
        rows = [[float(value) for value in row] for row in rows]
        if self.predictor_protocol == "v1":
            return {"instances": rows}
        data = [value for row in rows for value in row]
        tensor = InferInput(PREDICTOR_INPUT, [len(rows), len(FEATURE_NAMES)], "FP32", data)
        return InferRequest(model_name=self.name, infer_inputs=[tensor], request_id=request_id)

    # -- 2. predict: KServe's, with the predictor's failures explained ------------------------------

    async def predict(
        self, payload: dict | InferRequest, headers: dict | None = None, response_headers: dict | None = None
    ) -> dict | InferResponse:
        try:
            return await super().predict(payload, headers, response_headers)
        except httpx.HTTPStatusError as exc:
            status, said = exc.response.status_code, _error_text(exc.response)
            if status == 404:
                raise InferenceError(
                    f"the predictor at {self._predictor_url()} does not serve a model named "
                    f"{self.name!r} ({said}); the transformer's --model_name must be the "
                    "predictor's model name"
                ) from exc
            if 400 <= status < 500:
                raise InvalidInput(f"the predictor rejected the request (HTTP {status}): {said}") from exc
            raise InferenceError(f"the predictor at {self._predictor_url()} failed with HTTP {status}: {said}") from exc
        except httpx.RequestError as exc:
            raise InferenceError(
                f"cannot reach the predictor at {self._predictor_url()} ({type(exc).__name__}: {exc}); is it running?"
            ) from exc

    def _predictor_url(self) -> str:
        config = self.predictor_config
        return config.predictor_base_url if config is not None and config.predictor_host else "(no --predictor_host)"

    # -- 3. postprocess ------------------------------------------------------------------------

    async def postprocess(
        self, result: dict | InferResponse, headers: dict | None = None, response_headers: dict | None = None
    ) -> dict | InferResponse:
        """The predictor's answer -> class names, in the client's protocol."""
        try:
            labels = list(self.to_labels(class_indices(predictions_of(result))))
        except ValueError as exc:
            raise InferenceError(f"the predictor's answer cannot be labelled: {exc}") from exc
        # Unset only when postprocess runs on its own (tests): answer like the predictor's protocol.
        inbound = _INBOUND.get() or _Inbound("v2" if isinstance(result, InferResponse) else "v1")
        if inbound.protocol == "v1":
            return {"predictions": labels}
        output = InferOutput(LABEL_OUTPUT, [len(labels)], "BYTES", labels)
        return InferResponse(
            response_id=inbound.request_id or generate_uuid(), model_name=self.name, infer_outputs=[output]
        )


def predictions_of(result: Any) -> list:
    """The per-flower predictions of a predictor's answer (V1 dict or V2 ``InferResponse``/dict)."""
    if isinstance(result, InferResponse):
        if not result.outputs:
            raise FeatureError("the predictor's V2 answer has no outputs")
        output = result.outputs[0]
        data = output.data if output.data is not None else output.as_numpy()
        return _rows(data, output.shape)
    if isinstance(result, dict) and "predictions" in result:
        return list(result["predictions"])
    if isinstance(result, dict) and isinstance(result.get("outputs"), list) and result["outputs"]:
        output = result["outputs"][0]
        return _rows(output.get("data"), output.get("shape"))
    raise FeatureError(f"expected a V1 answer with 'predictions' or a V2 answer with 'outputs', got {str(result)[:80]}")


def _rows(data: Any, shape: Any) -> list:
    """V2 data (flat or nested) -> one entry per flower: a value, or a row for shape [n, k]."""
    values = data.tolist() if hasattr(data, "tolist") else list(data)
    if values and isinstance(values[0], list):
        return values
    if isinstance(shape, (list, tuple)) and len(shape) == 2 and shape[1] > 1:
        width = int(shape[1])
        return [values[i : i + width] for i in range(0, len(values), width)]
    return values


def _tensor(item: InferInput) -> dict:
    data = item.data if item.data is not None else item.as_numpy()
    return {"name": item.name, "shape": list(item.shape), "datatype": item.datatype, "data": data}


def _error_text(response: httpx.Response) -> str:
    try:
        body = response.json()
    except ValueError:
        return response.text.strip()[:300] or "no body"
    return str(body.get("error", body)) if isinstance(body, dict) else str(body)[:300]
