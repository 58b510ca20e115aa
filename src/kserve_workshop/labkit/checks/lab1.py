"""Graded checks of Lab 1 (train, package and serve a model).

Each check's parameters are the notebook variables it grades. Payloads are judged by the same
validators the clients use (``clients.validate_v1_request`` / ``validate_v2_request``), so an
answer that passes here is one the model server accepts.
"""

from __future__ import annotations

import json
import numbers
from pathlib import Path
from typing import Any

import numpy as np

from ...dataplane.payloads import PayloadError, flatten, v2_outputs, validate_v1_request, validate_v2_request
from ..grading import CheckFailed, lab_check
from ...training import DOCS_IRIS_INPUT, IRIS_CLASSES, class_names

MIN_ACCURACY = 0.9
N_FEATURES = len(DOCS_IRIS_INPUT[0])
FLOAT_DATATYPES = ("FP32", "FP64")


def _number(value: Any) -> bool:
    return isinstance(value, numbers.Real) and not isinstance(value, bool)


def _held_out_accuracy(model: Any, split: Any) -> float:
    try:
        return float(model.score(split.X_test, split.y_test))
    except Exception as exc:  # noqa: BLE001 - any failure means the model cannot be scored as asked
        raise CheckFailed("`model` could not be scored on the held-out rows",
                          expected="a fitted classifier: model.score(split.X_test, split.y_test) works",
                          found=f"{type(exc).__name__}: {exc}",
                          hint="fit the model on split.X_train, split.y_train first") from None


def _predict(model: Any, rows: Any, what: str) -> list:
    try:
        return np.asarray(model.predict(rows)).tolist()
    except Exception as exc:  # noqa: BLE001
        raise CheckFailed(f"{what} could not predict", expected="a fitted classifier",
                          found=f"{type(exc).__name__}: {exc}") from None


def _json_safe(name: str, payload: Any) -> None:
    try:
        json.dumps(payload)
    except (TypeError, ValueError) as exc:
        raise CheckFailed(f"`{name}` cannot be sent as JSON", expected="plain lists, numbers and strings",
                          found=str(exc), hint="turn numpy arrays into lists with .tolist()") from None


def _payload_failed(name: str, error: PayloadError, payload: Any, example: str) -> CheckFailed:
    return CheckFailed(f"`{name}` is not a valid request body: {error.message}", expected=example,
                       found=payload, hint=error.hint)


@lab_check("lab1", hint="Fit on split.X_train / split.y_train, then score on split.X_test / split.y_test.")
def accuracy(accuracy, model=None, split=None):
    """The held-out accuracy: a fraction, at least 0.9, and really the model's score on the test rows."""
    if not _number(accuracy):
        raise CheckFailed("`accuracy` must be a number", expected="a fraction between 0 and 1, e.g. 0.95",
                          found=accuracy)
    if not 0.0 <= float(accuracy) <= 1.0:
        raise CheckFailed("`accuracy` is outside 0..1", expected="a fraction between 0 and 1", found=accuracy,
                          hint="model.score returns a fraction; do not multiply by 100")
    if model is not None and split is not None:
        held_out = _held_out_accuracy(model, split)
        if abs(held_out - float(accuracy)) > 1e-9:
            raise CheckFailed("`accuracy` is not the model's accuracy on the held-out rows",
                              expected=round(held_out, 4), found=accuracy,
                              hint="score on split.X_test / split.y_test: accuracy on the training rows "
                                   "says little about new flowers")
    if float(accuracy) < MIN_ACCURACY:
        raise CheckFailed("the model is not accurate enough to serve", expected=f">= {MIN_ACCURACY}",
                          found=accuracy, hint="an SVC with gamma='scale' reaches about 0.95 on iris")
    return f"held-out accuracy {float(accuracy):.3f}"


@lab_check("lab1", hint="save_model(model, MODEL_DIR) writes MODEL_DIR/model.joblib and nothing else.")
def saved_model(model_path, model=None, split=None):
    """model.joblib exists, is the only model file of its directory and loads to the same model."""
    import joblib

    from ...errors import WorkshopError
    from ...runtime.sklearn_model import find_model_file

    if not isinstance(model_path, (str, Path)):
        raise CheckFailed("`model_path` must be a path", expected="a pathlib.Path to model.joblib",
                          found=model_path)
    path = Path(model_path)
    if not path.is_file():
        raise CheckFailed(f"no file at {path}", expected="the saved model file", found=str(path))
    if path.suffix not in {".joblib", ".pkl", ".pickle"}:
        raise CheckFailed("the runtime only loads .joblib, .pkl or .pickle files", expected="model.joblib",
                          found=path.name)
    try:
        only = find_model_file(path.parent)
    except WorkshopError as exc:
        raise CheckFailed(exc.message, expected="exactly one model file in the directory",
                          found=sorted(p.name for p in path.parent.iterdir()), hint=exc.hint) from None
    if only.resolve() != path.resolve():  # pragma: no cover - find_model_file found another single file
        raise CheckFailed("the directory's model file is not model_path", expected=str(path), found=str(only))
    try:
        loaded = joblib.load(path)
    except Exception as exc:  # noqa: BLE001
        raise CheckFailed(f"{path.name} does not load with joblib", expected="a joblib dump of the model",
                          found=f"{type(exc).__name__}: {exc}") from None
    if model is not None and split is not None:
        if _predict(loaded, split.X_test, "the saved model") != _predict(model, split.X_test, "`model`"):
            raise CheckFailed("the saved file predicts differently from `model`",
                              expected="the model you trained above", found="another model",
                              hint="save again after training: save_model(model, MODEL_DIR)")
    return f"{path.name} is the only model file in {path.parent.name}/"


@lab_check("lab1", hint='A V1 body is {"instances": [[...4 numbers...], [...]]}: one row per flower.')
def v1_payload(v1_payload):
    """A V1 request body holding the docs' two iris flowers."""
    example = {"instances": DOCS_IRIS_INPUT}
    try:
        validate_v1_request(v1_payload, n_features=N_FEATURES)
    except PayloadError as error:
        raise _payload_failed("v1_payload", error, v1_payload, str(example)) from None
    _json_safe("v1_payload", v1_payload)
    instances = np.asarray(v1_payload["instances"], dtype=float)
    if instances.shape != (len(DOCS_IRIS_INPUT), N_FEATURES) or not np.allclose(instances, DOCS_IRIS_INPUT):
        raise CheckFailed("the instances are not the docs' two flowers", expected=DOCS_IRIS_INPUT,
                          found=v1_payload["instances"], hint="use DOCS_IRIS_INPUT, in that order")
    return "a valid V1 body with 2 instances of 4 features"


@lab_check("lab1", hint="One input: name, shape [2, 4], datatype 'FP32' and the 8 numbers row by row.")
def v2_payload(v2_payload):
    """A V2 request body: one FP32 input of shape [2, 4] whose data are the docs' flowers, row-major."""
    example = ('{"inputs": [{"name": "input-0", "shape": [2, 4], "datatype": "FP32", '
               '"data": [6.8, 2.8, 4.8, 1.4, 6.0, 3.4, 4.5, 1.6]}]}')
    try:
        validate_v2_request(v2_payload, n_features=N_FEATURES)
    except PayloadError as error:
        raise _payload_failed("v2_payload", error, v2_payload, example) from None
    _json_safe("v2_payload", v2_payload)
    inputs = v2_payload["inputs"]
    if len(inputs) != 1:
        raise CheckFailed("the sklearn model takes one input tensor", expected="1 input", found=f"{len(inputs)} inputs")
    tensor = inputs[0]
    if tensor["datatype"] not in FLOAT_DATATYPES:
        raise CheckFailed("iris features are decimals", expected="datatype 'FP32' (or 'FP64')",
                          found=tensor["datatype"], hint="integer datatypes would drop the decimals")
    data = np.asarray(flatten(tensor["data"]), dtype=float)
    if not np.allclose(data, np.asarray(DOCS_IRIS_INPUT, dtype=float).ravel()):
        raise CheckFailed("the data are not the docs' flowers, row by row", expected=flatten(DOCS_IRIS_INPUT),
                          found=tensor["data"], hint="flatten row by row: first flower's 4 numbers, then the second's")
    return "a valid V2 body: FP32 [2, 4]"


@lab_check("lab1", hint="Take outputs[0]['data'] of the V2 response and map each index to IRIS_CLASSES.")
def v2_classes(v2_classes, v2_response):
    """Class names parsed from the server's V2 response, in order."""
    try:
        expected = class_names(v2_outputs(v2_response))
    except PayloadError as error:
        raise CheckFailed("`v2_response` is not the server's V2 response", expected="the dict returned by "
                          "the /infer call", found=v2_response, hint=f"run the cell that sends v2_payload ({error.message})") from None
    if not isinstance(v2_classes, (list, tuple)) or not all(isinstance(name, str) for name in v2_classes):
        raise CheckFailed("`v2_classes` must be a list of class names", expected=expected, found=v2_classes,
                          hint=f"names come from IRIS_CLASSES = {list(IRIS_CLASSES)}")
    if list(v2_classes) != expected:
        raise CheckFailed("these are not the classes in the response", expected=expected, found=list(v2_classes))
    return f"parsed {expected}"


@lab_check("lab1", hint="predict_v1(server.url, MODEL_NAME, split.X_test.tolist()) returns the server's answers.")
def server_predictions(server_predictions, model, split):
    """The served model answers exactly like the in-process model on every held-out flower."""
    wanted = _predict(model, split.X_test, "`model`")
    if not isinstance(server_predictions, (list, tuple)):
        raise CheckFailed("`server_predictions` must be the list of predictions", expected=f"{len(wanted)} class "
                          "indices", found=server_predictions)
    if len(server_predictions) != len(wanted):
        raise CheckFailed("one prediction per held-out flower", expected=f"{len(wanted)} predictions",
                          found=f"{len(server_predictions)} predictions", hint="send all of split.X_test")
    mismatches = sum(1 for got, want in zip(server_predictions, wanted) if got != want)
    if mismatches:
        raise CheckFailed(f"the server disagrees with the model on {mismatches} flowers", expected=wanted,
                          found=list(server_predictions),
                          hint="is the server serving the model you saved last? restart it after saving")
    return f"{len(wanted)} of {len(wanted)} server predictions equal the in-process model's"


@lab_check("lab1", hint="Call the InferenceService through the ingress with the same input as v1_predictions.")
def cluster_predictions(cluster_predictions, v1_predictions):
    """Predictions through the cluster's ingress equal the local server's for the same input."""
    if not isinstance(v1_predictions, (list, tuple)) or not v1_predictions:
        raise CheckFailed("`v1_predictions` (from the local server) is missing or empty",
                          expected="the local V1 predictions", found=v1_predictions)
    if not isinstance(cluster_predictions, (list, tuple)):
        raise CheckFailed("`cluster_predictions` must be a list", expected=list(v1_predictions),
                          found=cluster_predictions)
    if list(cluster_predictions) != list(v1_predictions):
        raise CheckFailed("the cluster answers differently from the local server", expected=list(v1_predictions),
                          found=list(cluster_predictions),
                          hint="is the InferenceService serving the model you uploaded (storageUri)?")
    return "the cluster and the local server agree"
