"""Graded checks of Lab 6 (a custom transformer with kserve.Model).

The learner writes the transformer's two conversions as plain functions; the checks call them on
the inputs a server meets (key orders, integers, numpy numbers) and on the mistakes clients make,
and compare with the reference in ``custom.features``. A mistake must raise ``ValueError``: the
transformer turns exactly that into KServe's ``InvalidInput`` (HTTP 400 with the message), while
any other exception becomes a 500 that tells the client nothing.
"""

from __future__ import annotations

import copy
import json
from typing import Any, Callable

import numpy as np

from ...dataplane.payloads import PayloadError, validate_v2_request
from ...runtime.features import DOCS_FLOWERS, FEATURE_NAMES, FeatureError, class_labels, feature_rows, \
    flowers_from_v2
from ..grading import CheckFailed, lab_check, quoted

#: The docs' flowers and rows, the check's own copies (an answer cannot change them).
_DOCS = [dict(flower) for flower in DOCS_FLOWERS]
_DOCS_ROWS = [[6.8, 2.8, 4.8, 1.4], [6.0, 3.4, 4.5, 1.6]]
_FLOWER = _DOCS[0]
FLOAT_DATATYPES = ("FP32", "FP64")


def _without(name: str, **extra: Any) -> dict:
    return {**{k: v for k, v in _FLOWER.items() if k != name}, **extra}


#: (what the case is, the flowers, texts of which the ValueError's message must hold one). Every
#: call gets a fresh deep copy: a learner's function that changes its argument cannot spoil them.
_BAD_FLOWERS = [
    ("a flower without petal_width", [_without("petal_width")], ("petal_width",)),
    ("a misspelt feature 'sepal_lenght'", [_without("sepal_length", sepal_lenght=6.8)], ("sepal_lenght", "sepal_length")),
    ("an unknown extra feature 'colour'", [{**_FLOWER, "colour": 1.0}], ("colour",)),
    ("sepal_length given as the text '6.8'", [{**_FLOWER, "sepal_length": "6.8"}], ("sepal_length",)),
    ("petal_width given as True", [{**_FLOWER, "petal_width": True}], ("petal_width",)),
    ("sepal_width given as the text 'wide'", [{**_FLOWER, "sepal_width": "wide"}], ("sepal_width",)),
]
_GOOD_FLOWERS = [
    ("the docs' two flowers", _DOCS),
    ("one flower with its keys in another order", [{name: _FLOWER[name] for name in reversed(FEATURE_NAMES)}]),
    ("whole numbers", [{"sepal_length": 5, "sepal_width": 3, "petal_length": 1, "petal_width": 0}]),
    ("numpy numbers", [{name: np.float64(value) for name, value in _FLOWER.items()}]),
]
_GOOD_PREDICTIONS = [[1, 1], [0, 2, 1], [], [np.int64(2)]]
_BAD_PREDICTIONS = [([3], "class 3 does not exist"),
                    ([-1], "-1 is not a class (IRIS_CLASSES[-1] would silently say 'virginica')")]


def _callable(name: str, value: Any) -> Callable:
    if not callable(value):
        raise CheckFailed(f"`{name}` must be a function", expected=f"def {name}(...): ...", found=quoted(value),
                          hint=f"define it with def {name}(...): and run that cell")
    return value


def _call(function: Callable, argument: Any, what: str) -> Any:
    try:
        return function(copy.deepcopy(argument))
    except Exception as exc:  # noqa: BLE001 - the learner's code may raise anything
        raise CheckFailed(f"it raised on {what}, which is a valid input",
                          expected="an answer", found=f"{type(exc).__name__}: {exc}",
                          hint="only refuse what cannot be translated; valid input must give an answer") from None


def _must_reject(function: Callable, argument: Any, what: str, mentions: tuple[str, ...] = ()) -> None:
    try:
        answer = function(copy.deepcopy(argument))
    except ValueError as exc:
        if mentions and not any(text in str(exc) for text in mentions):
            raise CheckFailed(f"the error for {what} does not say what is wrong",
                              expected=f"a ValueError whose message names {' or '.join(map(repr, mentions))}",
                              found=f"ValueError: {exc}",
                              hint="the message goes back to the client in the 400 answer: name the feature") from None
        return
    except Exception as exc:  # noqa: BLE001
        raise CheckFailed(f"{what} raised {type(exc).__name__}, not ValueError",
                          expected="ValueError (KServe's server answers 400 Bad Request with its message)",
                          found=f"{type(exc).__name__}: {exc}",
                          hint="check before you index: anything but a ValueError becomes a 500 Internal "
                               "Server Error") from None
    hint = "a transformer must refuse input it cannot translate, rather than guess"
    if "text" in what or "True" in what:
        hint = ("text and booleans are not measurements, even when float() would convert them: check the type "
                "(isinstance(value, bool) or not isinstance(value, (int, float)))")
    raise CheckFailed(f"it accepted {what}", expected="raise ValueError(...)", found=f"returned {answer!r}", hint=hint)


def _as_matrix(rows: Any, what: str) -> np.ndarray:
    try:
        return np.asarray(rows, dtype=float)
    except (TypeError, ValueError) as exc:
        raise CheckFailed(f"the rows for {what} are not numbers", expected="a list of rows of 4 numbers",
                          found=f"{rows!r} ({exc})", hint="convert each value with float(...)") from None


@lab_check("lab6", hint="For each flower: refuse unknown or missing names and non-numbers with ValueError, "
                        "then list the values in FEATURE_NAMES order.")
def to_feature_rows(to_feature_rows):
    """Named flowers -> rows in the model's column order; ValueError naming the feature on bad input."""
    function = _callable("to_feature_rows", to_feature_rows)
    for what, flowers in _GOOD_FLOWERS:
        expected = feature_rows(copy.deepcopy(flowers))
        found = _call(function, flowers, what)
        matrix = _as_matrix(found, what)
        if matrix.shape != (len(expected), len(FEATURE_NAMES)) or not np.allclose(matrix, expected):
            raise CheckFailed(f"wrong rows for {what}", expected=expected, found=quoted(found),
                              hint="one row per flower, values in FEATURE_NAMES order (not the dict's order)")
    for what, flowers, mentions in _BAD_FLOWERS:
        _must_reject(function, flowers, what, mentions)
    return "right rows for valid flowers, a ValueError naming the feature for bad ones"


@lab_check("lab6", hint="Map each class index to IRIS_CLASSES, but raise ValueError for an index outside 0..2.")
def to_labels(to_labels):
    """Class indices -> class names; ValueError for an index that is no class."""
    function = _callable("to_labels", to_labels)
    for predictions in _GOOD_PREDICTIONS:
        expected = class_labels(predictions)
        found = _call(function, list(predictions), f"predictions {[int(p) for p in predictions]}")
        if hasattr(found, "tolist") and not isinstance(found, str):
            found = found.tolist()
        if not isinstance(found, (list, tuple)) or list(found) != expected:
            raise CheckFailed(f"wrong labels for predictions {[int(p) for p in predictions]}", expected=expected,
                              found=quoted(found), hint="return a list of class names, one per prediction")
    for predictions, what in _BAD_PREDICTIONS:
        _must_reject(function, predictions, what)
    return "names for every class, a ValueError for indices that are no class"


@lab_check("lab6", hint="One input per feature: name, shape [2], datatype 'FP32', data = that feature of "
                        "both flowers.")
def v2_body(v2_body):
    """The transformer's V2 request for the docs' two flowers: one FP32 input tensor per named feature.

    The body must be one the Open Inference Protocol accepts as written (the same validator as Lab 1's
    V2 check): datatypes in capitals, integer datatypes only for whole numbers.
    """
    example = {"inputs": [{"name": "sepal_length", "shape": [2], "datatype": "FP32", "data": [6.8, 6.0]},
                          "... one such input for each of the other three features"]}
    if not isinstance(v2_body, dict) or not isinstance(v2_body.get("inputs"), list):
        raise CheckFailed("`v2_body` must be a dict with a list of 'inputs'", expected=example, found=quoted(v2_body),
                          hint='{"inputs": [ ...one dict per feature... ]}')
    try:
        json.dumps(v2_body)
    except (TypeError, ValueError) as exc:
        raise CheckFailed("`v2_body` cannot be sent as JSON", expected="lists, numbers and strings only",
                          found=str(exc), hint="turn numpy arrays into lists with .tolist()") from None
    try:
        validate_v2_request(v2_body)
    except PayloadError as error:
        raise CheckFailed(f"`v2_body` is not a valid V2 request: {error.message}", expected=example,
                          found=quoted(v2_body), hint=error.hint or "see the example: one input per feature") from None
    inputs = v2_body["inputs"]
    wrong_type = [tensor["datatype"] for tensor in inputs if tensor["datatype"] not in FLOAT_DATATYPES]
    if wrong_type:
        raise CheckFailed("iris features are decimals", expected="datatype 'FP32' (or 'FP64') for every input",
                          found=quoted(wrong_type[0]), hint="integer datatypes would drop the decimals")
    try:
        rows = feature_rows(flowers_from_v2(inputs))
    except FeatureError as exc:
        raise CheckFailed(f"the transformer would answer 400: {exc}", expected=example, found=quoted(v2_body),
                          hint="one input per name of FEATURE_NAMES, each with shape [2]") from None
    if len(rows) != len(_DOCS_ROWS) or not np.allclose(rows, _DOCS_ROWS):
        raise CheckFailed("these are not the docs' two flowers", expected=_DOCS,
                          found=[dict(zip(FEATURE_NAMES, row)) for row in rows],
                          hint="data[0] of every input belongs to the first flower, data[1] to the second")
    return "a V2 body the transformer turns into the docs' two flowers"
