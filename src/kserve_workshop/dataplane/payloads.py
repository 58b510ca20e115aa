"""Payloads of KServe's data plane: build and check V1 (``{"instances": [...]}``) and V2 / Open
Inference Protocol (``{"inputs": [tensor, ...]}``) request bodies, and read V2 answers.

Checks say what is wrong and what was expected (``PayloadError``), before anything is sent. The
same validators grade the learners' payloads in Lab 1, so what the checks accept is exactly what
the server accepts.
"""

from __future__ import annotations

import math
import numbers
from typing import Any, Iterable, Mapping, Sequence

from ..errors import WorkshopError
from ..runtime.features import flatten

#: Tensor datatypes of the Open Inference Protocol.
V2_DATATYPES = (
    "BOOL",
    "UINT8",
    "UINT16",
    "UINT32",
    "UINT64",
    "INT8",
    "INT16",
    "INT32",
    "INT64",
    "FP16",
    "FP32",
    "FP64",
    "BYTES",
)
_INTEGER_TYPES = {t for t in V2_DATATYPES if "INT" in t}
_FLOAT_TYPES = {"FP16", "FP32", "FP64"}
_V2_INPUT_FIELDS = {"name", "shape", "datatype", "data", "parameters"}
_V2_REQUEST_FIELDS = {"id", "inputs", "outputs", "parameters"}
DEFAULT_INPUT_NAME = "input-0"


class PayloadError(WorkshopError):
    """A request the model server cannot accept, with what was expected instead."""


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
        raise PayloadError(
            f"rows have different lengths: {[len(row) if isinstance(row, (list, tuple)) else '-' for row in data]}",
            hint="every instance must have the same number of features",
        )
    return [len(data), *inner[0]]


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
            raise PayloadError(
                f"instances must be {expected}; instance {index} is {_describe(row)}, not a row",
                hint=(
                    "the V1 protocol takes rows of numbers, not named features: list the values "
                    f"in the model's column order; {example}"
                    if isinstance(row, dict)
                    else f"wrap a single instance in a list: [[...]]; {example}"
                ),
            )
        bad = [value for value in row if not _is_number(value)]
        if bad:
            raise PayloadError(
                f"instance {index} holds non-numeric values {bad[:3]!r}; expected {expected}",
                hint="send numbers (floats), not strings or booleans",
            )
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
        raise PayloadError(
            f"a V1 request needs the key 'instances'; found keys {sorted(map(str, payload))}",
            hint="{'instances': [[6.8, 2.8, 4.8, 1.4]]}",
        )
    validate_instances(payload["instances"], n_features=n_features)


def build_v2_request(
    data: Any, *, datatype: str = "FP32", shape: Sequence[int] | None = None, name: str = DEFAULT_INPUT_NAME
) -> dict:
    """An Open Inference Protocol request with one input tensor (data flattened row-major)."""
    data = _tolist(data)
    if shape is None:
        shape = shape_of(data)
        if len(shape) < 1:
            raise PayloadError(f"data must be a list (of rows), got {_describe(data)}")
    payload = {
        "inputs": [{"name": name, "shape": [int(s) for s in shape], "datatype": datatype, "data": flatten(data)}]
    }
    validate_v2_request(payload)
    return payload


def validate_v2_request(payload: Any, *, n_features: int | None = None) -> None:
    """Check a V2 request body: inputs with name, shape, datatype and data that agree with each other."""
    example = (
        '{"inputs": [{"name": "input-0", "shape": [2, 4], "datatype": "FP32", '
        '"data": [6.8, 2.8, 4.8, 1.4, 6.0, 3.4, 4.5, 1.6]}]}'
    )
    if not isinstance(payload, Mapping):
        raise PayloadError(f"a V2 request is a dict with 'inputs', got {_describe(payload)}", hint=example)
    unknown = set(map(str, payload)) - _V2_REQUEST_FIELDS
    if unknown:
        raise PayloadError(
            f"unknown field(s) {sorted(unknown)} in the V2 request; allowed: {sorted(_V2_REQUEST_FIELDS)}", hint=example
        )
    inputs = payload.get("inputs")
    if not isinstance(inputs, list) or not inputs:
        raise PayloadError(f"'inputs' must be a non-empty list of tensors, got {_describe(inputs)}", hint=example)
    for index, tensor in enumerate(inputs):
        _validate_v2_tensor(index, tensor, n_features, example)


def _validate_v2_tensor(index: int, tensor: Any, n_features: int | None, example: str) -> None:
    where = f"inputs[{index}]"
    if not isinstance(tensor, Mapping):
        raise PayloadError(
            f"{where} must be a dict with name, shape, datatype and data, got {_describe(tensor)}", hint=example
        )
    unknown = set(map(str, tensor)) - _V2_INPUT_FIELDS
    missing = {"name", "shape", "datatype", "data"} - set(tensor)
    if unknown or missing:
        details = "; ".join(
            part
            for part in (
                f"missing {sorted(missing)}" if missing else "",
                f"unknown {sorted(unknown)}" if unknown else "",
            )
            if part
        )
        raise PayloadError(f"{where} needs exactly name, shape, datatype, data ({details})", hint=example)
    if not isinstance(tensor["name"], str) or not tensor["name"]:
        raise PayloadError(f"{where}.name must be a non-empty string, got {_describe(tensor['name'])}")
    shape = tensor["shape"]
    if (
        not isinstance(shape, (list, tuple))
        or not shape
        or not all(isinstance(s, int) and not isinstance(s, bool) and s >= 0 for s in shape)
    ):
        raise PayloadError(f"{where}.shape must be a list of non-negative integers like [2, 4], got {shape!r}")
    datatype = tensor["datatype"]
    if datatype not in V2_DATATYPES:
        raise PayloadError(
            f"{where}.datatype {datatype!r} is not a V2 datatype; expected one of {', '.join(V2_DATATYPES)}",
            hint="iris features are floats: use 'FP32'",
        )
    values = flatten(tensor["data"]) if isinstance(_tolist(tensor["data"]), (list, tuple)) else None
    if values is None:
        raise PayloadError(f"{where}.data must be a list of values, got {_describe(tensor['data'])}")
    needed = math.prod(shape)
    if len(values) != needed:
        raise PayloadError(
            f"{where}: shape {list(shape)} needs {needed} values, data has {len(values)}",
            hint="shape is [rows, features]; data holds rows x features numbers, row by row",
        )
    _check_datatype(where, datatype, values)
    if n_features is not None and (len(shape) != 2 or shape[1] != n_features):
        raise PayloadError(f"{where}.shape must be [rows, {n_features}] for this model, got {list(shape)}")


def _check_datatype(where: str, datatype: str, values: list) -> None:
    if datatype == "BYTES":
        if not all(isinstance(v, (str, bytes)) for v in values):
            raise PayloadError(
                f"{where}: datatype BYTES carries strings; the data holds numbers", hint="use FP32 for numeric features"
            )
        return
    if datatype == "BOOL":
        if not all(isinstance(v, bool) for v in values):
            raise PayloadError(f"{where}: datatype BOOL needs true/false values")
        return
    bad = [v for v in values if not _is_number(v)]
    if bad:
        raise PayloadError(f"{where}: datatype {datatype} needs numbers; found {bad[:3]!r}")
    if datatype in _INTEGER_TYPES and any(isinstance(v, float) and not v.is_integer() for v in values):
        raise PayloadError(
            f"{where}: datatype {datatype} holds integers but the data has decimals",
            hint="use FP32 (or FP64) for decimal features",
        )
    if datatype.startswith("UINT") and any(v < 0 for v in values):
        raise PayloadError(f"{where}: datatype {datatype} cannot hold negative values")


def _describe(value: Any) -> str:
    text = repr(value)
    return f"{type(value).__name__} {text if len(text) <= 60 else text[:57] + '...'}"


def v2_outputs(response: Any, name: str | None = None) -> list:
    """The data of a V2 response's output (the first, or the one called ``name``), shaped as nested lists."""
    if not isinstance(response, Mapping) or not isinstance(response.get("outputs"), list) or not response["outputs"]:
        raise PayloadError(f"a V2 response is a dict with a non-empty 'outputs' list, got {_describe(response)}")
    outputs = response["outputs"]
    if name is not None:
        matching = [o for o in outputs if isinstance(o, Mapping) and o.get("name") == name]
        if not matching:
            raise PayloadError(
                f"no output named {name!r}; outputs are {[o.get('name') for o in outputs if isinstance(o, Mapping)]}"
            )
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
    return [_reshape(values[i * step : (i + 1) * step], shape[1:]) for i in range(shape[0])]


def class_names(predictions: Iterable[Any], classes: Sequence[str]) -> list[str]:
    """Map predicted class indices to names (``[1, 2]`` -> ``['versicolor', 'virginica']``).

    The rule is the transformer's (``runtime.features.class_labels``); a row where an index should
    be, or anything else that is not a class index, is a ``PayloadError``.
    """
    from ..runtime.features import FeatureError, class_labels

    values = [_tolist(value) for value in predictions]
    for position, value in enumerate(values):
        if isinstance(value, (list, tuple)):
            raise PayloadError(
                f"prediction {position} is {_describe(value)}, not a class index (a whole number 0..{len(classes) - 1})"
            )
    try:
        return class_labels(values, classes)
    except FeatureError as exc:
        raise PayloadError(str(exc)) from None
