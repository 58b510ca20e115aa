"""V2 (Open Inference Protocol) requests with named features, and what KServe's runtimes make of them.

A V2 request carries named tensors. KServe's Python runtimes (sklearn, LightGBM, XGBoost and the
predictive server) read them with ``kserve.utils.utils.get_predict_input``: by default only the
**first** input tensor, as an array; with the request parameter ``{"content_type": "pd"}`` every
input tensor becomes a column of a pandas DataFrame, named after the tensor, in the order of the
inputs (kserve v0.20.0 ``python/kserve/kserve/utils/utils.py``,
``python/kserve/kserve/protocol/infer_type.py`` ``InferRequest.as_dataframe``). Models trained on
plain arrays read those columns by position: the names label the columns, the order decides.
"""

from __future__ import annotations

import math
from typing import Any, Mapping, Sequence

import numpy as np

from ..errors import WorkshopError
from .data import FEATURE_NAMES

PANDAS_CONTENT_TYPE = {"content_type": "pd"}


def named_v2_request(rows, feature_names: Sequence[str] = FEATURE_NAMES, *, datatype: str = "FP64") -> dict:
    """The V2 body for ``rows``: one input per feature (name, shape [rows], datatype, that column)."""
    matrix = np.asarray(rows, dtype=float)
    if matrix.ndim != 2 or matrix.shape[1] != len(feature_names):
        raise WorkshopError(
            f"expected rows of {len(feature_names)} numbers, got an array of shape {list(matrix.shape)}"
        )
    return {
        "parameters": dict(PANDAS_CONTENT_TYPE),
        "inputs": [
            {"name": name, "shape": [matrix.shape[0]], "datatype": datatype, "data": matrix[:, column].tolist()}
            for column, name in enumerate(feature_names)
        ],
    }


class RuntimeRejects(WorkshopError):
    """What the model server would answer instead of predictions (``status`` is its HTTP code)."""

    def __init__(self, message: str, status: int, hint: str | None = None):
        super().__init__(message, hint=hint)
        self.status = status


def runtime_input(body: Mapping[str, Any], model_name: str = "model"):
    """The model input a KServe runtime builds from V2 ``body``: a DataFrame (``content_type: pd``) or an array.

    Decoded with KServe's own code (the REST data model, ``InferRequest``, ``get_predict_input``),
    so it is what the server's ``predict`` receives. A body the server refuses raises
    ``RuntimeRejects`` with the status it would answer (422 for a malformed body, 400 for bad input).
    """
    from kserve.errors import InvalidInput
    from kserve.protocol.infer_type import InferRequest
    from kserve.protocol.rest.v2_datamodels import InferenceRequest
    from kserve.utils.utils import get_predict_input
    from pydantic import ValidationError

    try:
        parsed = InferenceRequest.model_validate(body)
    except ValidationError as exc:
        problems = "; ".join(f"{'.'.join(str(p) for p in error['loc'])}: {error['msg']}" for error in exc.errors()[:3])
        raise RuntimeRejects(f"the server refuses the body (HTTP 422): {problems}", 422) from None
    try:
        request = InferRequest.from_inference_request(parsed, model_name)
        return get_predict_input(request)
    except InvalidInput as exc:
        raise RuntimeRejects(f"the server refuses the input (HTTP 400): {exc}", 400) from None
    except (ValueError, TypeError) as exc:
        raise RuntimeRejects(f"the runtime cannot read the input (HTTP 500): {exc}", 500) from None


def describe_outputs(response: Mapping[str, Any]) -> list[dict]:
    """Name, shape and datatype of each output of a V2 response (without the data)."""
    outputs = response.get("outputs") if isinstance(response, Mapping) else None
    if not isinstance(outputs, list):
        raise WorkshopError(f"not a V2 response (no 'outputs' list): {str(response)[:200]}")
    return [{"name": o.get("name"), "shape": o.get("shape"), "datatype": o.get("datatype")} for o in outputs]


def output_array(response: Mapping[str, Any]) -> np.ndarray:
    """The first output of a V2 response as an array of its declared shape."""
    described = describe_outputs(response)
    if not described:
        raise WorkshopError("the V2 response has no outputs")
    output = response["outputs"][0]
    data = np.asarray(output.get("data"))
    shape = output.get("shape") or [data.size]
    if math.prod(shape) != data.size:
        raise WorkshopError(f"output {output.get('name')!r} declares shape {shape} but holds {data.size} values")
    return data.reshape(shape)
