"""A ``kserve.Model`` that follows the contract of KServe's sklearn runtime (kserve-sklearnserver).

Contract (KServe v0.20.0, ``python/sklearnserver/sklearnserver/model.py``), so a directory that serves
here serves in the cluster too:
the model directory holds exactly one ``.joblib``, ``.pkl`` or ``.pickle`` file, loaded with
joblib; none is an error naming the directory, several is an error listing them; with
``PREDICT_PROBA=true`` in the environment the model answers with ``predict_proba``.

Requests arrive as V1 dicts (``{"instances": [[...], ...]}``) or V2 ``InferRequest`` objects;
``kserve.utils.utils`` turns both into arrays and the result back into the matching response.
Bad inputs become ``kserve.errors.InvalidInput`` (HTTP 400 with a message saying what was
expected), not a 500: a V1 body without ``instances`` names the missing key, a V2 body sent to the
V1 URL says that it looks like V2, and a body the server could not read as JSON (sent without
``Content-Type: application/json``) says so instead of blaming the shape.

A file that unpickles to something without ``predict`` (a dict, a list of numbers) is refused when
the model loads, not served as "ready" with every request failing.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import numpy as np

from .errors import WorkshopError

MODEL_EXTENSIONS = (".joblib", ".pkl", ".pickle")
PREDICT_PROBA_ENV = "PREDICT_PROBA"


def find_model_file(model_dir: str | Path) -> Path:
    """The one model file in ``model_dir``; a WorkshopError when there are none or several."""
    directory = Path(model_dir)
    if not directory.is_dir():
        raise WorkshopError(
            f"model directory {directory} does not exist (or is not a directory)",
            hint="train and save a model first, e.g. training.save_model(model, directory)",
        )
    found = sorted(p for p in directory.iterdir() if p.is_file() and p.suffix in MODEL_EXTENSIONS)
    if not found:
        raise WorkshopError(
            f"no model file in {directory}: expected exactly one of {', '.join(MODEL_EXTENSIONS)}",
            hint="save the trained model there as model.joblib",
        )
    if len(found) > 1:
        names = ", ".join(p.name for p in found)
        raise WorkshopError(
            f"more than one model file in {directory}: {names}; KServe's sklearn runtime allows exactly one",
            hint="keep one model file per directory",
        )
    return found[0]


def predict_proba_from_env() -> bool:
    return os.environ.get(PREDICT_PROBA_ENV, "false").strip().lower() == "true"


def _kserve():
    """Import kserve lazily: it takes seconds and parses sys.argv at import time."""
    import kserve
    from kserve.errors import InvalidInput
    from kserve.utils.utils import get_predict_input, get_predict_response

    return kserve, InvalidInput, get_predict_input, get_predict_response


def make_model(name: str, model_dir: str | Path, *, predict_proba: bool | None = None):
    """A ready-to-load ``SklearnModel`` (a ``kserve.Model`` subclass) for ``model_dir``."""
    from .received import Recorder

    kserve, InvalidInput, get_predict_input, get_predict_response = _kserve()

    class SklearnModel(kserve.Model):
        """Loads one joblib file and answers V1/V2 predict requests like kserve-sklearnserver."""

        def __init__(self) -> None:
            super().__init__(name)
            self.model_dir = Path(model_dir)
            self.predict_proba = predict_proba_from_env() if predict_proba is None else predict_proba
            self.estimator: Any = None
            self.recorder = Recorder.from_env()  # what this server received (``received``)

        def load(self) -> bool:
            import joblib

            path = find_model_file(self.model_dir)
            try:
                self.estimator = joblib.load(path)
            except Exception as exc:  # noqa: BLE001 - any unpickling failure means "cannot serve this file"
                raise WorkshopError(
                    f"could not load {path} with joblib: {type(exc).__name__}: {exc}",
                    hint="save it with joblib from scikit-learn (the cluster runtime uses the pinned version)",
                ) from exc
            method = "predict_proba" if self.predict_proba else "predict"
            if not callable(getattr(self.estimator, "predict", None)):
                raise WorkshopError(
                    f"{path.name} holds a {type(self.estimator).__name__}, not a model: it has no predict() to serve",
                    hint="save the trained estimator itself, e.g. training.save_model(model, "
                    "directory) or joblib.dump(model, 'model.joblib')",
                )
            if method == "predict_proba" and not hasattr(self.estimator, "predict_proba"):
                raise WorkshopError(
                    f"{PREDICT_PROBA_ENV}=true but {type(self.estimator).__name__} has no predict_proba",
                    hint="train a classifier with probabilities, or unset it",
                )
            self.ready = True
            return self.ready

        def predict(self, payload, headers=None):
            _check_v1_body(payload, self.name, InvalidInput)
            try:
                instances = get_predict_input(payload)
            except InvalidInput:
                raise
            except ValueError as exc:  # e.g. V2 data that does not fill its declared shape
                raise InvalidInput(f"the input does not match its shape or datatype: {exc}") from exc
            features = _as_feature_matrix(instances, getattr(self.estimator, "n_features_in_", None), InvalidInput)
            try:
                result = (
                    self.estimator.predict_proba(features) if self.predict_proba else self.estimator.predict(features)
                )
            except ValueError as exc:
                raise InvalidInput(str(exc)) from exc
            if self.recorder is not None:
                self.recorder.note(features, result)
            return get_predict_response(payload, result, self.name)

    return SklearnModel()


def _check_v1_body(payload: Any, name: str, invalid: type[Exception]) -> None:
    """InvalidInput for a V1 body that is not ``{"instances": [...]}``, saying what it looks like instead.

    (A V2 request arrives as an ``InferRequest`` object, not a dict, and is left to kserve.)
    """
    example = '{"instances": [[6.8, 2.8, 4.8, 1.4]]}'
    if isinstance(payload, (bytes, bytearray, str)):
        raise invalid(
            "the body was not read as JSON: send it with the header Content-Type: application/json "
            f"(curl: -H 'Content-Type: application/json'); a V1 body looks like {example}"
        )
    if isinstance(payload, list):
        raise invalid(
            f"a V1 body is a JSON object with the rows under 'instances', like {example}; this one is a bare list"
        )
    if not isinstance(payload, dict):
        return
    inputs = payload.get("inputs")
    if isinstance(inputs, list) and inputs and all(isinstance(item, dict) and "datatype" in item for item in inputs):
        raise invalid(
            f"this looks like a V2 body (inputs with name, shape, datatype and data) sent to the V1 URL: "
            f"POST it to /v2/models/{name}/infer, or send {example} here"
        )
    if "instances" not in payload and "inputs" not in payload:
        keys = ", ".join(repr(key) for key in list(payload)[:5]) or "none"
        raise invalid(f"the V1 body has no 'instances' key (its keys: {keys}); send {example}")


def _as_feature_matrix(instances: Any, n_features: int | None, invalid: type[Exception]) -> np.ndarray:
    """Check the request's instances are a 2-D numeric array with the model's number of columns."""
    expected = f"rows of {n_features} numbers" if n_features else "rows of numbers"
    if isinstance(instances, list):  # V1 strings come back as a plain list
        raise invalid(f"expected a list of instances ({expected}), got a list of strings")
    array = np.asarray(instances)
    if array.ndim != 2:
        raise invalid(f"expected a 2-D batch ({expected}), got an array of shape {list(array.shape)}")
    if array.dtype.kind not in "biuf":
        try:
            array = array.astype(np.float64)
        except (TypeError, ValueError):
            raise invalid(f"expected numbers ({expected}), got values of type {array.dtype}") from None
    if n_features and array.shape[1] != n_features:
        raise invalid(
            f"expected {n_features} features per instance, got {array.shape[1]} (batch shape {list(array.shape)})"
        )
    return array
