"""Graded checks of Lab 6 (a custom transformer and predictor: ``kserve.Model`` classes of your own).

The learner writes ``iris_model.py`` (``iris_model`` in the notebook is that file, imported): two
conversions, ``IrisTransformer`` and ``IrisPredictor``.

- ``to_feature_rows`` / ``to_labels``: the file's functions, called on the inputs a server meets
  (key orders, integers, numpy numbers) and on the mistakes clients make, compared with the
  reference in ``runtime.features``. A mistake must raise ``ValueError``: the transformer turns
  exactly that into KServe's ``InvalidInput`` (HTTP 400 with the message), while any other
  exception becomes a 500 that tells the client nothing.
- ``predictor`` / ``transformer``: the classes through KServe's model server (``lab6_serving``):
  requests in, answers out, bad requests answered 400.

A file changed since ``iris_model`` was loaded is loaded again: what is graded is the file as it is.
"""

from __future__ import annotations

import copy
from typing import Any, Callable

import numpy as np

from ...custom.model_file import current
from ...errors import WorkshopError
from ...runtime.features import DOCS_FLOWERS, FEATURE_NAMES, class_labels, feature_rows
from ..check_registry import lab_check
from ..grading import CheckFailed, quoted
from .lab6_serving import grade_predictor, grade_transformer

#: The docs' flowers and rows, the check's own copies (an answer cannot change them).
_DOCS = [dict(flower) for flower in DOCS_FLOWERS]
_FLOWER = _DOCS[0]


def _without(name: str, **extra: Any) -> dict:
    return {**{k: v for k, v in _FLOWER.items() if k != name}, **extra}


#: (what the case is, the flowers, texts of which the ValueError's message must hold one). Every
#: call gets a fresh deep copy: a learner's function that changes its argument cannot spoil them.
_BAD_FLOWERS = [
    ("a flower without petal_width", [_without("petal_width")], ("petal_width",)),
    (
        "a misspelt feature 'sepal_lenght'",
        [_without("sepal_length", sepal_lenght=6.8)],
        ("sepal_lenght", "sepal_length"),
    ),
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
_BAD_PREDICTIONS = [
    ([3], "class 3 does not exist"),
    ([-1], "-1 is not a class (IRIS_CLASSES[-1] would silently say 'virginica')"),
]


def _function(iris_model: Any, name: str) -> Callable:
    """``name`` of the learner's model file (loaded again when the file changed since)."""
    if iris_model is None or isinstance(iris_model, (str, int, float, list, dict)):
        raise CheckFailed(
            "`iris_model` is not your model file",
            expected="iris_model = load_model_file(MODEL_FILE)",
            found=quoted(iris_model),
            hint="run the cell after the %%writefile cell",
        )
    try:
        module = current(iris_model)
    except WorkshopError as exc:
        raise CheckFailed("your model file cannot be imported", found=exc.message, hint=exc.hint) from None
    if not hasattr(module, name):
        raise CheckFailed(
            f"your model file has no `{name}`",
            expected=f"def {name}(...): ...",
            found=f"names in it: {', '.join(sorted(n for n in vars(module) if not n.startswith('_')))}",
            hint=f"keep the function {name} of the %%writefile cell (and run that cell)",
        )
    return _callable(name, getattr(module, name))


def _callable(name: str, value: Any) -> Callable:
    if not callable(value):
        raise CheckFailed(
            f"`{name}` must be a function",
            expected=f"def {name}(...): ...",
            found=quoted(value),
            hint=f"define it with def {name}(...): and run that cell",
        )
    return value


def _call(function: Callable, argument: Any, what: str) -> Any:
    try:
        return function(copy.deepcopy(argument))
    except Exception as exc:  # noqa: BLE001 - the learner's code may raise anything
        hint = "only refuse what cannot be translated; valid input must give an answer"
        if "numpy" in what:
            hint = (
                "numpy numbers are numbers too: test the type with isinstance(value, (int, float)) "
                "(np.float64 is a float) rather than type(value) in (int, float)"
            )
        raise CheckFailed(
            f"it raised on {what}, which is a valid input",
            expected="an answer",
            found=f"{type(exc).__name__}: {exc}",
            hint=hint,
        ) from None


def _must_reject(function: Callable, argument: Any, what: str, mentions: tuple[str, ...] = ()) -> None:
    try:
        answer = function(copy.deepcopy(argument))
    except ValueError as exc:
        if mentions and not any(text in str(exc) for text in mentions):
            raise CheckFailed(
                f"the error for {what} does not say what is wrong",
                expected=f"a ValueError whose message names {' or '.join(map(repr, mentions))}",
                found=f"ValueError: {exc}",
                hint="the message goes back to the client in the 400 answer: name the feature",
            ) from None
        return
    except Exception as exc:  # noqa: BLE001
        raise CheckFailed(
            f"{what} raised {type(exc).__name__}, not ValueError",
            expected="ValueError (KServe's server answers 400 Bad Request with its message)",
            found=f"{type(exc).__name__}: {exc}",
            hint="check before you index: anything but a ValueError becomes a 500 Internal Server Error",
        ) from None
    hint = "a transformer must refuse input it cannot translate, rather than guess"
    if "text" in what or "True" in what:
        hint = (
            "text and booleans are not measurements, even when float() would convert them: check the type "
            "(isinstance(value, bool) or not isinstance(value, (int, float)))"
        )
    raise CheckFailed(f"it accepted {what}", expected="raise ValueError(...)", found=f"returned {answer!r}", hint=hint)


def _as_matrix(rows: Any, what: str) -> np.ndarray:
    if not isinstance(rows, (list, tuple, np.ndarray)):
        raise CheckFailed(
            f"the rows for {what} are not a list",
            expected="a list of rows of 4 numbers",
            found=quoted(rows),
            hint="return a list with one row per flower (a generator or a map is used up once read: "
            "wrap it in list(...))",
        )
    try:
        return np.asarray(rows, dtype=float)
    except (TypeError, ValueError) as exc:
        raise CheckFailed(
            f"the rows for {what} are not numbers",
            expected="a list of rows of 4 numbers",
            found=f"{rows!r} ({exc})",
            hint="convert each value with float(...)",
        ) from None


@lab_check(
    "lab6",
    hint="For each flower: refuse unknown or missing names and non-numbers with ValueError, "
    "then list the values in FEATURE_NAMES order.",
)
def to_feature_rows(iris_model):
    """Named flowers -> rows in the model's column order; ValueError naming the feature on bad input."""
    function = _function(iris_model, "to_feature_rows")
    for what, flowers in _GOOD_FLOWERS:
        expected = feature_rows(copy.deepcopy(flowers))
        found = _call(function, flowers, what)
        matrix = _as_matrix(found, what)
        if matrix.shape != (len(expected), len(FEATURE_NAMES)) or not np.allclose(matrix, expected):
            raise CheckFailed(
                f"wrong rows for {what}",
                expected=expected,
                found=quoted(found),
                hint="one row per flower, values in FEATURE_NAMES order (not the dict's order)",
            )
    for what, flowers, mentions in _BAD_FLOWERS:
        _must_reject(function, flowers, what, mentions)
    return "right rows for valid flowers, a ValueError naming the feature for bad ones"


@lab_check("lab6", hint="Map each class index to IRIS_CLASSES, but raise ValueError for an index outside 0..2.")
def to_labels(iris_model):
    """Class indices -> class names; ValueError for an index that is no class."""
    function = _function(iris_model, "to_labels")
    for predictions in _GOOD_PREDICTIONS:
        expected = class_labels(predictions)
        found = _call(function, list(predictions), f"predictions {[int(p) for p in predictions]}")
        if hasattr(found, "tolist") and not isinstance(found, str):
            found = found.tolist()
        if not isinstance(found, (list, tuple)) or list(found) != expected:
            raise CheckFailed(
                f"wrong labels for predictions {[int(p) for p in predictions]}",
                expected=expected,
                found=quoted(found),
                hint="return a list of class names, one per prediction",
            )
    for predictions, what in _BAD_PREDICTIONS:
        _must_reject(function, predictions, what)
    return "names for every class, a ValueError for indices that are no class"


@lab_check(
    "lab6",
    hint="load(): joblib.load the .joblib file of self.model_dir, then self.ready = True; predict(): "
    "get_predict_input(payload), InvalidInput unless rows of 4 numbers, model.predict, "
    "get_predict_response(payload, result, self.name)",
)
def predictor(iris_model):
    """IrisPredictor of the file on KServe's model server, on a model of the check's own: V1, V2 and 400s."""
    return grade_predictor(iris_model)


@lab_check(
    "lab6",
    hint='preprocess: {"instances": to_feature_rows(payload["instances"])}, a ValueError turned into '
    'InvalidInput; postprocess: {"predictions": to_labels(response["predictions"])}',
)
def transformer(chain):
    """IrisTransformer of the file, running in front of a predictor: class names out, 400s that say why."""
    return grade_transformer(chain)
