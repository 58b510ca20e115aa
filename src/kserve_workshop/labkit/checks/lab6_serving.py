"""Lab 6's classes graded through KServe's model server: requests in, answers out.

- ``grade_predictor``: starts the learner's ``IrisPredictor`` on a model of the check's own (its
  classes renumbered, so a predictor that loads some other file than the one in ``model_dir``
  answers differently), then sends V1 and V2 rows, and rows that are not 4 numbers (400 expected).
- ``grade_transformer``: uses the learner's running chain (their transformer in front of a
  predictor), after checking it runs the file as it is now: named flowers in, class names out, the
  names of what the predictor answers for the same rows; and the mistakes clients make, which must
  be 400s that name what is wrong.

Every failure is a ``CheckFailed`` with the hint for the mistake found.
"""

from __future__ import annotations

import copy
import tempfile
from pathlib import Path
from typing import Any

import numpy as np

from ...custom.chain import error_message, post
from ...custom.model_file import PREDICTOR_CLASS, ModelFileServer
from ...errors import WorkshopError
from ...runtime.features import FEATURE_NAMES, class_labels, feature_rows
from ...runtime.model_file import check_model_file
from ..grading import CheckFailed, quoted

CHECK_MODEL_NAME = "iris-check"
#: The check's model answers class RENUMBER[i] where an iris model answers i.
RENUMBER = (2, 0, 1)
#: Iris rows (one per class twice over) the predictor is asked about.
IRIS_ROWS = [
    [5.1, 3.5, 1.4, 0.2],
    [7.0, 3.2, 4.7, 1.4],
    [6.3, 3.3, 6.0, 2.5],
    [4.9, 3.0, 1.4, 0.2],
    [6.4, 3.2, 4.5, 1.5],
    [5.8, 2.7, 5.1, 1.9],
]
BAD_ROWS = [
    ("rows of 3 numbers", {"instances": [[6.8, 2.8, 4.8]]}),
    ("rows of words", {"instances": [["long", "wide", "short", "thin"]]}),
]
SERVER_START_SECONDS = 45.0
V2_HINT = (
    "a V2 request arrives as an InferRequest and needs a V2 answer: read it with get_predict_input(payload) and "
    "answer with get_predict_response(payload, result, self.name)"
)

_FLOWER = dict(zip(FEATURE_NAMES, (6.8, 2.8, 4.8, 1.4)))


def _without(name: str, **extra: Any) -> dict:
    return {**{k: v for k, v in _FLOWER.items() if k != name}, **extra}


GOOD_REQUESTS = [
    ("the docs' two flowers", [dict(_FLOWER), dict(zip(FEATURE_NAMES, (6.0, 3.4, 4.5, 1.6)))]),
    ("a flower with its keys in another order", [{name: _FLOWER[name] for name in reversed(FEATURE_NAMES)}]),
    ("whole numbers", [{"sepal_length": 5, "sepal_width": 3, "petal_length": 1, "petal_width": 0}]),
    ("six iris flowers", [dict(zip(FEATURE_NAMES, row)) for row in IRIS_ROWS]),
]
#: (what, V1 body, texts of which the 400's message must hold one; empty: any message).
BAD_REQUESTS = [
    ("a flower without petal_width", {"instances": [_without("petal_width")]}, ("petal_width",)),
    (
        "a misspelt feature 'sepal_lenght'",
        {"instances": [_without("sepal_length", sepal_lenght=6.8)]},
        ("sepal_lenght", "sepal_length"),
    ),
    ("sepal_width given as the text 'wide'", {"instances": [{**_FLOWER, "sepal_width": "wide"}]}, ("sepal_width",)),
    ("petal_width given as True", {"instances": [{**_FLOWER, "petal_width": True}]}, ("petal_width",)),
    ("plain rows without names", {"instances": [[6.8, 2.8, 4.8, 1.4]]}, ()),
    ("a body without 'instances'", {"flowers": [dict(_FLOWER)]}, ()),
]


# ----------------------------------------------------------------------------------- predictor


def _check_model(directory: Path):
    """Save the check's model (an iris tree whose classes are renumbered) in ``directory``."""
    import joblib
    from sklearn.datasets import load_iris
    from sklearn.tree import DecisionTreeClassifier

    features, classes = load_iris(return_X_y=True)
    model = DecisionTreeClassifier(random_state=0).fit(features, np.asarray(RENUMBER)[classes])
    directory.mkdir(parents=True, exist_ok=True)
    joblib.dump(model, directory / "model.joblib")
    return model


def started_problem(server: ModelFileServer) -> str:
    """What the server's log says went wrong at start (its ``error:``/``hint:`` lines), else its last lines."""
    lines = server.log_tail(40).splitlines()
    said = [line.removeprefix("error: ") for line in lines if line.startswith("error: ")]
    hints = [line.removeprefix("hint: ") for line in lines if line.startswith("hint: ")]
    if said:
        return said[-1] + (f" (hint: {hints[-1]})" if hints else "")
    return " | ".join(lines[-3:]) or "it exited without saying why"


def grade_predictor(model_file: Any) -> str:
    file = _file_of(model_file)
    with tempfile.TemporaryDirectory(prefix="lab6-check-") as scratch:
        model = _check_model(Path(scratch) / "model")
        expected = model.predict(np.asarray(IRIS_ROWS)).tolist()
        server = ModelFileServer(
            file,
            PREDICTOR_CLASS,
            CHECK_MODEL_NAME,
            model_dir=Path(scratch) / "model",
            name=f"check-{PREDICTOR_CLASS}",
            startup_timeout=SERVER_START_SECONDS,
        )
        try:
            server.start()
        except WorkshopError as exc:
            problem = started_problem(server) if server.log_path else exc.message
            raise CheckFailed(
                f"{PREDICTOR_CLASS} did not start on KServe's model server",
                found=problem,
                hint="the server builds IrisPredictor(name, model_dir), calls load() and then needs "
                "self.ready to be True",
            ) from None
        try:
            _predictor_answers(server, expected)
        finally:
            server.stop()
    return (
        f"{PREDICTOR_CLASS} served the model of its model_dir over V1 and V2, and answered 400 to rows that "
        "are not 4 numbers"
    )


def _predictor_answers(server: ModelFileServer, expected: list) -> None:
    standard = [RENUMBER.index(value) for value in expected]  # what the lab's own iris model would say
    answer = post(server.url, CHECK_MODEL_NAME, {"instances": copy.deepcopy(IRIS_ROWS)})
    found = _json_field(answer, "predictions", "V1 rows")
    if found == standard and standard != expected:
        raise CheckFailed(
            "it answers like another model than the one in model_dir",
            expected=expected,
            found=quoted(found),
            hint="load the .joblib file of self.model_dir, not a fixed path: "
            "in the cluster the model is in /mnt/models",
        )
    if _plain(found) != expected:
        raise CheckFailed(
            "wrong predictions for V1 rows",
            expected=expected,
            found=quoted(found),
            hint="predict the rows of the request with the loaded model and answer "
            "get_predict_response(payload, result, self.name)",
        )
    v2_body = {
        "inputs": [
            {
                "name": "input-0",
                "shape": [len(IRIS_ROWS), len(FEATURE_NAMES)],
                "datatype": "FP32",
                "data": [value for row in IRIS_ROWS for value in row],
            }
        ]
    }
    answer = post(server.url, CHECK_MODEL_NAME, v2_body, protocol="v2")
    outputs = _json_field(answer, "outputs", "a V2 request", hint=V2_HINT)
    found = (
        outputs[0].get("data") if isinstance(outputs, list) and outputs and isinstance(outputs[0], dict) else outputs
    )
    if _plain(found) != expected:
        raise CheckFailed(
            "wrong answer to a V2 request",
            expected={"outputs": [{"data": expected, "...": "..."}]},
            found=quoted(answer.json()),
            hint=V2_HINT,
        )
    for what, body in BAD_ROWS:
        answer = post(server.url, CHECK_MODEL_NAME, copy.deepcopy(body))
        if answer.status_code != 400:
            raise CheckFailed(
                f"{what} got HTTP {answer.status_code}, not 400",
                expected="HTTP 400 Bad Request",
                found=f"HTTP {answer.status_code}: {error_message(answer)[:200]}",
                hint="check the rows before predicting: raise InvalidInput(...) when they are not "
                f"rows of {len(FEATURE_NAMES)} numbers (anything else becomes a 500)",
            )


# --------------------------------------------------------------------------------- transformer


def grade_transformer(chain: Any) -> str:
    transformer, predictor = getattr(chain, "transformer", None), getattr(chain, "predictor", None)
    if not isinstance(transformer, ModelFileServer) or predictor is None:
        raise CheckFailed(
            "`chain` is not your transformer in front of a predictor",
            expected="chain = ModelFileChain(MODEL_FILE, ...).start()",
            found=quoted(chain),
            hint="run the cell that starts the chain",
        )
    if not transformer.running or not getattr(predictor, "running", False):
        raise CheckFailed(
            "the chain is not running",
            found=repr(transformer),
            hint="run the cell that starts the chain again (it stops with the kernel, or on stop())",
        )
    if not transformer.runs_current_file:
        raise CheckFailed(
            f"the transformer runs an older {transformer.model_file.name}",
            expected="the file as it is now",
            found="the file as it was when the chain started",
            hint="run the cell that starts the chain again after each change to the file",
        )
    for what, flowers in GOOD_REQUESTS:
        rows = feature_rows(copy.deepcopy(flowers))
        direct = post(predictor.url, transformer.model_name, {"instances": rows})
        indices = _json_field(
            direct,
            "predictions",
            f"the predictor behind the transformer, asked directly about {what}",
            hint="finish IrisPredictor first (check lab6.predictor)",
        )
        try:
            expected = class_labels(indices)
        except ValueError:
            raise CheckFailed(
                "the predictor behind the transformer does not answer class indices",
                found=quoted(indices),
                hint="finish IrisPredictor first (check lab6.predictor)",
            ) from None
        answer = post(transformer.url, transformer.model_name, {"instances": copy.deepcopy(flowers)})
        if answer.status_code != 200:
            raise CheckFailed(
                f"{what}: HTTP {answer.status_code}",
                expected="HTTP 200 with class names",
                found=error_message(answer)[:300],
                hint=_hint_for(answer, valid=True),
            )
        found = answer.json().get("predictions") if isinstance(answer.json(), dict) else answer.json()
        if found != expected:
            hint = (
                "postprocess turns the predictor's class indices into names with to_labels"
                if found == indices
                else 'preprocess sends {"instances": rows} in FEATURE_NAMES order; postprocess answers '
                '{"predictions": names}'
            )
            raise CheckFailed(
                f"wrong answer for {what}", expected={"predictions": expected}, found=quoted(answer.json()), hint=hint
            )
    for what, body, mentions in BAD_REQUESTS:
        answer = post(transformer.url, transformer.model_name, copy.deepcopy(body))
        if answer.status_code != 400:
            raise CheckFailed(
                f"{what} got HTTP {answer.status_code}, not 400",
                expected="HTTP 400 Bad Request",
                found=f"HTTP {answer.status_code}: {error_message(answer)[:200]}",
                hint=_hint_for(answer, valid=False),
            )
        message = error_message(answer)
        if mentions and not any(text in message for text in mentions):
            raise CheckFailed(
                f"the 400 for {what} does not say what is wrong",
                expected=f"a message naming {' or '.join(map(repr, mentions))}",
                found=quoted(message),
                hint="InvalidInput's message is what the client reads: name the feature",
            )
    return (
        f"{len(GOOD_REQUESTS)} requests answered with the right class names, {len(BAD_REQUESTS)} bad ones "
        "refused with a 400 that says why"
    )


def _hint_for(answer, *, valid: bool) -> str:
    if answer.status_code == 500:
        return (
            "a 500 means preprocess or postprocess raised something other than InvalidInput: turn the "
            "ValueError of to_feature_rows into InvalidInput(str(error)), and check the body has 'instances'"
            if not valid
            else "preprocess or postprocess raised on a valid request: the message above says what"
        )
    if answer.status_code == 200:
        return "preprocess must refuse what it cannot translate: raise InvalidInput, KServe answers 400"
    return "KServe answers InvalidInput with 400; other exceptions with 500"


# ------------------------------------------------------------------------------------- helpers


def _file_of(model_file: Any) -> Path:
    path = getattr(model_file, "__file__", model_file)
    if not isinstance(path, (str, Path)):
        raise CheckFailed(
            "`iris_model` is not your model file",
            expected="iris_model = load_model_file(MODEL_FILE)",
            found=quoted(model_file),
            hint="run the cell after the %%writefile cell",
        )
    try:
        return check_model_file(path)
    except WorkshopError as exc:
        raise CheckFailed("the model file is missing", found=exc.message, hint=exc.hint) from None


def _json_field(answer, field: str, what: str, *, hint: str | None = None) -> Any:
    if answer.status_code != 200:
        raise CheckFailed(
            f"{what}: HTTP {answer.status_code}",
            expected="HTTP 200",
            found=error_message(answer)[:300],
            hint=hint
            or (
                "the server's message says what raised"
                if answer.status_code == 500
                else "see the message the server answered"
            ),
        )
    try:
        body = answer.json()
    except ValueError:
        raise CheckFailed(f"{what}: the answer is not JSON", found=answer.text[:200]) from None
    if not isinstance(body, dict) or field not in body:
        raise CheckFailed(
            f"{what}: the answer has no {field!r}",
            expected=f'{{"{field}": [...]}}',
            found=quoted(body),
            hint="answer with get_predict_response(payload, result, self.name)",
        )
    return body[field]


def _plain(values: Any) -> Any:
    """Numbers as Python ints where they are whole (V2 data may come as floats)."""
    if isinstance(values, list):
        return [_plain(value) for value in values]
    if isinstance(values, float) and values.is_integer():
        return int(values)
    return values
