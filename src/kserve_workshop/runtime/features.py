"""Named iris features in, class labels out: the pure conversions behind Lab 6's transformer.

A person would rather send ``{"sepal_length": 6.8, "sepal_width": 2.8, ...}`` than remember that
the model wants ``[6.8, 2.8, 4.8, 1.4]`` in that order, and read ``"versicolor"`` rather than ``1``.
These functions do that translation and say precisely what is wrong with a request they cannot
translate (``FeatureError``, a ``ValueError``; the transformer answers it with HTTP 400).

No kserve import here: the functions are unit-tested, graded against (``checks/lab6``) and shown
in the notebook on their own, and the server image needs nothing beyond kserve and scikit-learn.
"""

from __future__ import annotations

import difflib
import math
import numbers
from typing import Any, Iterable, Mapping, Sequence

from .frozen import freeze
from .iris import DOCS_IRIS_INPUT, IRIS_CLASSES

#: The names a request uses, in the order the model's columns have (``training.IRIS_FEATURES``).
FEATURE_NAMES = ("sepal_length", "sepal_width", "petal_length", "petal_width")
#: Class index -> name, as the model was trained.
CLASS_NAMES = IRIS_CLASSES
#: V2 datatypes that carry numbers (named feature tensors must use one of them).
NUMERIC_DATATYPES = ("FP16", "FP32", "FP64", "INT8", "INT16", "INT32", "INT64", "UINT8", "UINT16", "UINT32", "UINT64")
_EXPECTED = ", ".join(FEATURE_NAMES)


class FeatureError(ValueError):
    """A request the transformer cannot turn into model input (or an answer it cannot label)."""


def _is_number(value: Any) -> bool:
    return isinstance(value, numbers.Real) and not isinstance(value, bool)


def _describe(value: Any) -> str:
    text = repr(value)
    return f"{type(value).__name__} {text if len(text) <= 40 else text[:37] + '...'}"


def _suggest(name: str) -> str:
    close = difflib.get_close_matches(str(name), FEATURE_NAMES, n=1)
    return f" (did you mean {close[0]!r}?)" if close else ""


# ----------------------------------------------------------------------------- requests -> rows


def feature_rows(instances: Any) -> list[list[float]]:
    """Named flowers (a list of dicts) -> rows of 4 floats in the model's column order.

    Each flower must have exactly the four ``FEATURE_NAMES`` (any key order), each a finite number.
    """
    if not isinstance(instances, (list, tuple)) or not instances:
        raise FeatureError(
            f"expected a non-empty list of flowers, each a dict of {_EXPECTED}; got {_describe(instances)}"
        )
    rows = []
    for index, flower in enumerate(instances):
        if not isinstance(flower, Mapping):
            raise FeatureError(
                f"flower {index} is a {type(flower).__name__}, not a dict of named features; expected keys {_EXPECTED}"
            )
        unknown = [key for key in flower if key not in FEATURE_NAMES]
        if unknown:
            raise FeatureError(
                f"flower {index} has unknown feature {unknown[0]!r}{_suggest(unknown[0])}; expected exactly {_EXPECTED}"
            )
        missing = [name for name in FEATURE_NAMES if name not in flower]
        if missing:
            raise FeatureError(f"flower {index} is missing {', '.join(missing)}; expected exactly {_EXPECTED}")
        row = []
        for name in FEATURE_NAMES:
            value = flower[name]
            if not _is_number(value):
                raise FeatureError(f"flower {index}: {name} must be a number (in cm), got {_describe(value)}")
            if not math.isfinite(value):
                raise FeatureError(f"flower {index}: {name} must be a finite number, got {value!r}")
            row.append(float(value))
        rows.append(row)
    return rows


def flowers_from_v1(payload: Any) -> list:
    """The flowers of a V1 request body, ``{"instances": [{...}, ...]}`` (checked by ``feature_rows``)."""
    if not isinstance(payload, Mapping) or "instances" not in payload:
        found = sorted(map(str, payload)) if isinstance(payload, Mapping) else _describe(payload)
        raise FeatureError(f'a V1 request is {{"instances": [{{"sepal_length": ..., ...}}, ...]}}; found {found}')
    return payload["instances"]


def flowers_from_v2(inputs: Sequence[Mapping[str, Any]]) -> list[dict]:
    """V2 inputs, one tensor per feature (``name``, ``shape`` [n] or [n, 1], numeric ``datatype``,
    ``data``), zipped into named flowers. Names are checked later by ``feature_rows``."""
    if not isinstance(inputs, (list, tuple)) or not inputs:
        raise FeatureError(
            f"a V2 request for this model has one input per feature ({_EXPECTED}), "
            "each with shape [n]; it has no inputs"
        )
    columns: dict[str, list] = {}
    for tensor in inputs:
        name, shape, datatype = tensor.get("name"), tensor.get("shape"), str(tensor.get("datatype", "")).upper()
        if name in columns:
            raise FeatureError(f"input {name!r} appears twice")
        if datatype not in NUMERIC_DATATYPES:
            raise FeatureError(
                f"input {name!r} has datatype {datatype or 'none'}; features are numbers: use FP32 (or FP64)"
            )
        if (
            not isinstance(shape, (list, tuple))
            or not shape
            or len(shape) > 2
            or any(not isinstance(s, int) or isinstance(s, bool) or s < 0 for s in shape)
            or (len(shape) == 2 and shape[1] != 1)
        ):
            raise FeatureError(
                f"input {name!r} has shape {shape!r}; each feature is one column: shape [n] (or [n, 1]) for n flowers"
            )
        values = flatten(tensor.get("data"))
        if len(values) != shape[0]:
            raise FeatureError(f"input {name!r}: shape {list(shape)} needs {shape[0]} values, data has {len(values)}")
        columns[str(name)] = values
    lengths = {len(values) for values in columns.values()}
    if len(lengths) > 1:
        raise FeatureError(
            "every feature input must hold the same number of flowers; lengths are "
            + ", ".join(f"{name}={len(values)}" for name, values in columns.items())
        )
    count = lengths.pop()
    return [{name: values[i] for name, values in columns.items()} for i in range(count)]


def flatten(data: Any) -> list:
    """Row-major flattening of nested lists (and arrays): how V2 JSON carries tensor data."""
    if hasattr(data, "tolist") and not isinstance(data, (str, bytes)):
        data = data.tolist()
    if not isinstance(data, (list, tuple)):
        return [data]
    out: list = []
    for item in data:
        out.extend(flatten(item))
    return out


# --------------------------------------------------------------------------- answers -> labels


def class_labels(predictions: Iterable[Any], classes: Sequence[str] = CLASS_NAMES) -> list[str]:
    """Class indices (``[1, 1]``) -> class names (``["versicolor", "versicolor"]``).

    An index must be a whole number in ``0..len(classes)-1``: a negative one would silently pick a
    class from the end of the list, and 1.5 is no class at all.
    """
    labels = []
    for position, value in enumerate(flatten(list(predictions))):
        if not _is_number(value) or not float(value).is_integer():
            raise FeatureError(
                f"prediction {position} is {_describe(value)}, not a class index (a whole number 0..{len(classes) - 1})"
            )
        index = int(value)
        if not 0 <= index < len(classes):
            raise FeatureError(
                f"prediction {position} is class {index}, but the model has classes "
                f"0..{len(classes) - 1} ({', '.join(classes)}): not a class index of this model"
            )
        labels.append(classes[index])
    return labels


def class_indices(predictions: Sequence[Any]) -> list:
    """Per flower, the class index; rows of probabilities (``PREDICT_PROBA=true``) become their argmax."""
    indices = []
    for value in predictions:
        if isinstance(value, (list, tuple)) and value and all(_is_number(p) for p in value):
            indices.append(max(range(len(value)), key=lambda i: value[i]))
        else:
            indices.append(value)
    return indices


# ------------------------------------------------------------------------------- request bodies


def v1_request(flowers: Sequence[Mapping[str, float]]) -> dict:
    """A V1 body for the transformer: ``{"instances": [named flower, ...]}``."""
    return {"instances": [dict(flower) for flower in flowers]}


def v2_request(flowers: Sequence[Mapping[str, float]], *, datatype: str = "FP32") -> dict:
    """A V2 body for the transformer: one input tensor per feature, shape ``[n]``."""
    return {
        "inputs": [
            {"name": name, "shape": [len(flowers)], "datatype": datatype, "data": [flower[name] for flower in flowers]}
            for name in FEATURE_NAMES
        ]
    }


def named_flowers(rows: Iterable[Sequence[float]]) -> list[dict]:
    """Rows of 4 numbers (the model's order) -> named flowers (the transformer's input)."""
    flowers = []
    for row in rows:
        if len(row) != len(FEATURE_NAMES):
            raise FeatureError(f"a row has {len(FEATURE_NAMES)} numbers ({_EXPECTED}), got {list(row)!r}")
        flowers.append({name: float(value) for name, value in zip(FEATURE_NAMES, row)})
    return flowers


#: The docs' two flowers (``training.DOCS_IRIS_INPUT``) as named features (read-only, see ``frozen``).
DOCS_FLOWERS = freeze(named_flowers(DOCS_IRIS_INPUT))
