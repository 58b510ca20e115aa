"""Graded checks of Lab 1 (train, package and serve a model).

Each check's parameters are the notebook variables it grades. Payloads are judged by the same
validators the clients use (``clients.validate_v1_request`` / ``validate_v2_request``), so an
answer that passes here is one the model server accepts.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np

from ...dataplane.payloads import PayloadError, flatten, v2_outputs, validate_v1_request, validate_v2_request
from ..check_registry import lab_check
from ..grading import CheckFailed, quoted
from ...runtime.received import answers_received
from ...training import IRIS_CLASSES, class_names, iris_split
from .answers import MIN_DECIMALS, class_indices, decimals_shown, distinct_figures, real_number, same_at_shown_precision
from .fitted_on import ALL_ROWS, HELD_OUT, TRAINING, fitted_on

#: KServe's documented iris input, the check's own copy (an answer cannot change it).
DOCUMENTED_INPUT = ((6.8, 2.8, 4.8, 1.4), (6.0, 3.4, 4.5, 1.6))
MIN_ACCURACY = 0.9
N_FEATURES = len(DOCUMENTED_INPUT[0])
FLOAT_DATATYPES = ("FP32", "FP64")
DEFAULT_INPUT_NAME = "input-0"


def _score(model: Any, rows: Any, labels: Any, what: str) -> float:
    try:
        return float(model.score(rows, labels))
    except Exception as exc:  # noqa: BLE001 - any failure means the model cannot be scored as asked
        raise CheckFailed(
            f"`model` could not be scored on {what}",
            expected="a fitted classifier: model.score(split.X_test, split.y_test) works",
            found=f"{type(exc).__name__}: {exc}",
            hint="fit the model on split.X_train, split.y_train first",
        ) from None


def _predict(model: Any, rows: Any, what: str) -> list:
    try:
        return np.asarray(model.predict(rows)).tolist()
    except Exception as exc:  # noqa: BLE001
        raise CheckFailed(
            f"{what} could not predict", expected="a fitted classifier", found=f"{type(exc).__name__}: {exc}"
        ) from None


def _json_safe(name: str, payload: Any) -> None:
    try:
        json.dumps(payload)
    except (TypeError, ValueError) as exc:
        raise CheckFailed(
            f"`{name}` cannot be sent as JSON",
            expected="plain lists, numbers and strings",
            found=str(exc),
            hint="turn numpy arrays into lists with .tolist()",
        ) from None


def _payload_failed(name: str, error: PayloadError, payload: Any, example: str) -> CheckFailed:
    return CheckFailed(
        f"`{name}` is not a valid request body: {error.message}",
        expected=example,
        found=quoted(payload),
        hint=error.hint,
    )


@lab_check("lab1", hint="Fit on split.X_train / split.y_train, then score on split.X_test / split.y_test.")
def accuracy(accuracy, model):
    """The held-out accuracy of a model fitted on the training rows only (the lab's own split)."""
    split = iris_split()  # the split the lab gives, whatever the notebook's `split` now holds
    value = real_number(
        accuracy,
        "accuracy",
        expected="a fraction between 0 and 1, e.g. 0.95",
        hint="model.score(X, y) returns the fraction of right answers",
    )
    if not 0.0 <= value <= 1.0:
        raise CheckFailed(
            "`accuracy` is outside 0..1",
            expected="a fraction between 0 and 1",
            found=quoted(accuracy),
            hint="model.score returns a fraction; do not multiply by 100",
        )
    rows = fitted_on(model, split)
    if rows in (HELD_OUT, ALL_ROWS):
        raise CheckFailed(
            f"`model` was fitted on {rows}",
            expected="a model fitted on split.X_train, split.y_train",
            found=f"a model that answers like one fitted on {rows}",
            hint="fit on the training rows only: a model that has seen the held-out flowers "
            "scores well on them without telling how it does on new flowers",
        )
    held_out = _score(model, split.X_test, split.y_test, "the held-out rows")
    if not same_at_shown_precision(value, held_out):
        training = _score(model, split.X_train, split.y_train, "the training rows")
        if same_at_shown_precision(value, training):
            hint = (
                "that is the score on the training rows, which the model has seen: score on split.X_test, split.y_test"
            )
        elif decimals_shown(value) < MIN_DECIMALS:
            hint = "give at least two decimals (or the exact value of model.score)"
        elif 0 < held_out - value < 10 ** -decimals_shown(value):
            hint = "that is the score cut off, not rounded: round(accuracy, 3) rounds to the nearest"
        else:
            hint = "score the model on split.X_test, split.y_test"
        expected, found = distinct_figures(held_out, value)
        raise CheckFailed(
            "`accuracy` is not the model's score on the held-out rows", expected=expected, found=found, hint=hint
        )
    note = "" if rows == TRAINING else " (the check could not tell which rows `model` was fitted on)"
    if held_out < MIN_ACCURACY:
        raise CheckFailed(
            "the model is not accurate enough to serve",
            expected=f">= {MIN_ACCURACY}",
            found=f"{held_out:.3f}",
            hint="an SVC with gamma='scale' reaches about 0.95 on iris",
        )
    return f"held-out accuracy {held_out:.3f}{note}"


@lab_check("lab1", hint="save_model(model, MODEL_DIR) writes MODEL_DIR/model.joblib and nothing else.")
def saved_model(model_path, model=None):
    """model.joblib exists, is the only model file of its directory and loads to the same model."""
    import joblib

    from ...errors import WorkshopError
    from ...runtime.sklearn_model import find_model_file

    if not isinstance(model_path, (str, Path)):
        raise CheckFailed(
            "`model_path` must be a path",
            expected="a pathlib.Path to model.joblib",
            found=quoted(model_path),
            hint="save_model(...) returns the path: keep what it returns",
        )
    path = Path(model_path)
    if path.is_dir():
        raise CheckFailed(
            f"`model_path` is a directory ({path.name}/)",
            expected="the path of the saved file",
            found=str(path),
            hint="model_path is the file save_model returns (…/model.joblib), not the directory",
        )
    if not path.is_file():
        raise CheckFailed(f"no file at {path}", expected="the saved model file", found=str(path))
    if path.suffix not in {".joblib", ".pkl", ".pickle"}:
        raise CheckFailed(
            "the runtime only loads .joblib, .pkl or .pickle files", expected="model.joblib", found=path.name
        )
    try:
        only = find_model_file(path.parent)
    except WorkshopError as exc:
        raise CheckFailed(
            exc.message,
            expected="exactly one model file in the directory",
            found=sorted(p.name for p in path.parent.iterdir()),
            hint=exc.hint,
        ) from None
    if only.resolve() != path.resolve():  # pragma: no cover - find_model_file found another single file
        raise CheckFailed("the directory's model file is not model_path", expected=str(path), found=str(only))
    try:
        loaded = joblib.load(path)
    except Exception as exc:  # noqa: BLE001
        raise CheckFailed(
            f"{path.name} does not load with joblib",
            expected="a joblib dump of the model",
            found=f"{type(exc).__name__}: {exc}",
        ) from None
    if model is not None:
        rows = iris_split().X_test
        if _predict(loaded, rows, "the saved model") != _predict(model, rows, "`model`"):
            raise CheckFailed(
                "the saved file predicts differently from `model`",
                expected="the model you trained above",
                found="another model",
                hint="save again after training: save_model(model, MODEL_DIR)",
            )
    return f"{path.name} is the only model file in {path.parent.name}/"


@lab_check("lab1", hint='A V1 body is {"instances": [[...4 numbers...], [...]]}: one row per flower.')
def v1_payload(v1_payload):
    """A V1 request body holding the docs' two iris flowers, in order."""
    example = str({"instances": [list(row) for row in DOCUMENTED_INPUT]})
    try:
        validate_v1_request(v1_payload, n_features=N_FEATURES)
    except PayloadError as error:
        raise _payload_failed("v1_payload", error, v1_payload, example) from None
    _json_safe("v1_payload", v1_payload)
    instances = np.asarray(v1_payload["instances"], dtype=float)
    if instances.shape != (len(DOCUMENTED_INPUT), N_FEATURES) or not np.allclose(instances, DOCUMENTED_INPUT):
        count = len(instances)
        hint = (
            "the documented input is two flowers: send DOCS_IRIS_INPUT as it is, without adding rows"
            if count > len(DOCUMENTED_INPUT)
            else "use DOCS_IRIS_INPUT, both rows, in that order"
        )
        raise CheckFailed(
            f"the instances are not the docs' two flowers ({count} row(s) found)",
            expected=[list(row) for row in DOCUMENTED_INPUT],
            found=quoted(v1_payload["instances"]),
            hint=hint,
        )
    return "a valid V1 body with 2 instances of 4 features"


@lab_check("lab1", hint="One input: name 'input-0', shape [2, 4], datatype 'FP32' and the 8 numbers row by row.")
def v2_payload(v2_payload):
    """A V2 request body: one FP32 input of shape [2, 4] whose data are the docs' flowers, row-major.

    Any input name passes: KServe's sklearn runtime takes its one input whatever it is called
    (``input-0`` is the name KServe's own examples use), so the name cannot make the answer wrong.
    """
    example = (
        '{"inputs": [{"name": "input-0", "shape": [2, 4], "datatype": "FP32", '
        '"data": [6.8, 2.8, 4.8, 1.4, 6.0, 3.4, 4.5, 1.6]}]}'
    )
    try:
        validate_v2_request(v2_payload, n_features=N_FEATURES)
    except PayloadError as error:
        raise _payload_failed("v2_payload", error, v2_payload, example) from None
    _json_safe("v2_payload", v2_payload)
    inputs = v2_payload["inputs"]
    if len(inputs) != 1:
        raise CheckFailed(
            "the sklearn model takes one input tensor",
            expected="1 input",
            found=f"{len(inputs)} inputs",
            hint="put all 8 numbers in one input of shape [2, 4]",
        )
    tensor = inputs[0]
    if tensor["datatype"] not in FLOAT_DATATYPES:
        raise CheckFailed(
            "FP16 is too coarse for the iris features"
            if tensor["datatype"] == "FP16"
            else "iris features are decimals",
            expected="datatype 'FP32' (or 'FP64')",
            found=quoted(tensor["datatype"]),
            hint="FP16 keeps only about 3 significant digits: use FP32"
            if tensor["datatype"] == "FP16"
            else "integer datatypes would drop the decimals",
        )
    if list(tensor["shape"]) != [len(DOCUMENTED_INPUT), N_FEATURES]:
        raise CheckFailed(
            "the shape is not the docs' two flowers of 4 numbers",
            expected=[2, 4],
            found=quoted(tensor["shape"]),
            hint="shape is [rows, features]: [2, 4]",
        )
    data = np.asarray(flatten(tensor["data"]), dtype=float)
    if not np.allclose(data, np.asarray(DOCUMENTED_INPUT, dtype=float).ravel()):
        raise CheckFailed(
            "the data are not the docs' flowers, row by row",
            expected=flatten(DOCUMENTED_INPUT),
            found=quoted(tensor["data"]),
            hint="flatten row by row: first flower's 4 numbers, then the second's",
        )
    if tensor["name"] != DEFAULT_INPUT_NAME:
        return (
            f"a valid V2 body: FP32 [2, 4] (input name {tensor['name']!r}: fine, the sklearn runtime reads "
            f"its one input whatever its name; KServe's examples call it {DEFAULT_INPUT_NAME!r})"
        )
    return "a valid V2 body: FP32 [2, 4]"


@lab_check("lab1", hint="Take outputs[0]['data'] of the V2 response and map each index to IRIS_CLASSES.")
def v2_classes(v2_classes, v2_response):
    """Class names parsed from the server's V2 response, in order."""
    try:
        expected = class_names(v2_outputs(v2_response))
    except PayloadError as error:
        raise CheckFailed(
            "`v2_response` is not the server's V2 response",
            expected="the dict returned by the /infer call",
            found=quoted(v2_response),
            hint=f"run the cell that sends v2_payload ({error.message})",
        ) from None
    if hasattr(v2_classes, "tolist") and not isinstance(v2_classes, str):
        v2_classes = v2_classes.tolist()
    if not isinstance(v2_classes, (list, tuple)) or not all(isinstance(name, str) for name in v2_classes):
        raise CheckFailed(
            "`v2_classes` must be a list of class names",
            expected=expected,
            found=quoted(v2_classes),
            hint=f"names come from IRIS_CLASSES = {list(IRIS_CLASSES)}: IRIS_CLASSES[index]",
        )
    if list(v2_classes) != expected:
        hint = (
            "one name per flower, in the order of the response's data"
            if len(v2_classes) != len(expected)
            else "read outputs[0]['data'] of v2_response (not another answer) and map each index"
        )
        raise CheckFailed(
            "these are not the classes in the response", expected=expected, found=quoted(list(v2_classes)), hint=hint
        )
    return f"parsed {expected}"


@lab_check("lab1", hint="predict_v1(server.url, MODEL_NAME, split.X_test.tolist()) returns the server's answers.")
def server_predictions(server_predictions, model, server=None):
    """The model server's answers for every held-out flower, as the server gave them.

    The check reads what the server received (``received``): ``model.predict`` in the notebook gives
    the same numbers without asking the server, and must not pass.
    """
    rows = iris_split().X_test
    wanted = _predict(model, rows, "`model`")
    values = class_indices(server_predictions, "server_predictions", expected=f"{len(wanted)} class indices")
    if len(values) != len(wanted):
        raise CheckFailed(
            "one prediction per held-out flower",
            expected=f"{len(wanted)} predictions",
            found=f"{len(values)} predictions",
            hint="send all of split.X_test, not a part of it",
        )
    served = answers_received(server, rows)
    if served is None:
        raise CheckFailed(
            "`server` is not the model server started in this lab",
            expected="a LocalModelServer",
            found=quoted(server),
            hint="run the cell that starts it (server = LocalModelServer(...))",
        )
    asked = sum(answer is not None for answer in served)
    if asked < len(rows):
        message = (
            f"the model server received only {asked} of the {len(rows)} held-out flowers"
            if asked
            else "the model server never received the held-out flowers"
        )
        hint = (
            "send them with predict_v1(server.url, MODEL_NAME, split.X_test.tolist()); model.predict runs "
            "the model here, in the notebook, not on the server"
            if values == wanted or not asked
            else "send every row of split.X_test.tolist() to the server"
        )
        raise CheckFailed(
            message,
            expected=f"all {len(rows)} sent to {getattr(server, 'url', 'the server')}",
            found=f"{asked} received",
            hint=hint,
        )
    if values != served:
        differ = sum(a != b for a, b in zip(values, served))
        hint = (
            "these are model.predict's answers from the notebook, not the server's: keep the list predict_v1 returns"
            if values == wanted
            else "keep the list predict_v1 returns, in the order of split.X_test"
        )
        raise CheckFailed(
            f"`server_predictions` differs from what the server answered on {differ} flowers",
            expected=served,
            found=quoted(values),
            hint=hint,
        )
    mismatches = sum(1 for got, want in zip(values, wanted) if got != want)
    if mismatches:
        raise CheckFailed(
            f"the server disagrees with `model` on {mismatches} flowers",
            expected=wanted,
            found=quoted(values),
            hint="the server serves the file it loaded when it started: save the model again, "
            "then restart the server (server.stop(); server.start()) and send the flowers again",
        )
    return f"{len(wanted)} of {len(wanted)} answers came from the server and equal the in-process model's"


@lab_check("lab1", hint="Call the InferenceService through the ingress with the same input as v1_predictions.")
def cluster_predictions(cluster_predictions, v1_predictions):
    """Predictions through the cluster's ingress equal the local server's for the same input."""
    local = class_indices(v1_predictions, "v1_predictions", expected="the local V1 predictions, e.g. [1, 1]")
    if not local:
        raise CheckFailed(
            "`v1_predictions` (from the local server) is empty",
            expected="the local V1 predictions",
            found=quoted(v1_predictions),
            hint="run the local V1 cell of part 4 again",
        )
    remote = class_indices(cluster_predictions, "cluster_predictions", expected=local)
    if remote != local:
        raise CheckFailed(
            "the cluster answers differently from the local server",
            expected=local,
            found=quoted(remote),
            hint="is the InferenceService serving the model you uploaded (storageUri)?",
        )
    return "the cluster and the local server agree"
