"""``kserve.Model`` subclasses that follow the contracts of KServe's LightGBM and XGBoost runtimes.

There is no ``lgbserver``/``xgbserver`` package on PyPI, so the local tier serves boosted models
with these, as ``predictor.make_model`` does for scikit-learn. The contract (kserve v0.20.0
``python/lgbserver/lgbserver/model.py``, ``python/xgbserver/xgbserver/model.py``):

* ``load``: exactly one model file in the model directory (``models.load_like_runtime``).
* ``predict``: ``kserve.utils.utils.get_predict_input`` turns the request into the model's input
  (V1 ``instances``; V2: the first input tensor as an array, or, with the request parameter
  ``content_type: pd``, every input tensor as a named column of a pandas DataFrame); the booster
  predicts (XGBoost through a ``DMatrix``); ``get_predict_response`` answers in the request's
  protocol: V1 ``{"predictions": [...]}``, V2 one output ``output-0`` with the result's shape and
  datatype. A multiclass booster answers with one probability per class, not with a class.
* Any error while predicting becomes ``InferenceError``: HTTP 500 with the message, as upstream
  (the workshop's sklearn predictor answers bad input with 400 instead).
"""

from __future__ import annotations

from pathlib import Path

from .models import NTHREAD, load_like_runtime
from .runtimes import framework, import_library

#: Frameworks served by a booster model here (scikit-learn uses the workshop's sklearn predictor).
BOOSTERS = ("lightgbm", "xgboost")


def make_runtime_model(key: str, name: str, model_dir: str | Path, *, nthread: int = NTHREAD):
    """A ready-to-load ``kserve.Model`` that serves ``model_dir`` the way ``key``'s runtime does."""
    framework(key)
    if key == "sklearn":
        from ..runtime.sklearn_model import make_model

        return make_model(name, model_dir)
    import kserve
    from kserve.errors import InferenceError
    from kserve.utils.utils import get_predict_input, get_predict_response

    library = import_library(key)

    class BoosterModel(kserve.Model):
        """One LightGBM or XGBoost booster behind KServe's V1 and V2 endpoints."""

        def __init__(self) -> None:
            super().__init__(name)
            self.framework = key
            self.model_dir = Path(model_dir)
            self.nthread = nthread
            self.booster = None

        def load(self) -> bool:
            self.booster = load_like_runtime(self.model_dir, key, nthread=self.nthread)
            self.ready = True
            return self.ready

        def predict(self, payload, headers=None):
            try:
                if key == "lightgbm":
                    # LightGBM names V1 dict instances' columns after the booster's features.
                    features = get_predict_input(payload, columns=self.booster.feature_name())
                    result = self.booster.predict(features)
                else:
                    features = get_predict_input(payload)
                    result = self.booster.predict(library.DMatrix(features, nthread=self.nthread))
                return get_predict_response(payload, result, self.name)
            except Exception as exc:  # noqa: BLE001 - the runtimes answer every failure with a 500
                raise InferenceError(str(exc)) from exc

    return BoosterModel()
