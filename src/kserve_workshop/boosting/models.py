"""Train, save and load Lab 8's models, each the way its KServe runtime expects.

Every runtime loads exactly one model file from its model directory, with its own library
(kserve v0.20.0 ``python/<server>/<server>/model.py``):

* ``kserve-sklearnserver``: one ``.joblib``/``.pkl``/``.pickle`` file, ``joblib.load``;
* ``kserve-lgbserver``: one ``.bst`` file, ``lightgbm.Booster(model_file=...)`` (LightGBM's text
  model format, whatever the extension; ``.txt``, LightGBM's usual name, is not looked at);
* ``kserve-xgbserver``: one ``.bst``, ``.json`` or ``.ubj`` file, read as bytes into
  ``xgboost.Booster`` (XGBoost 2.1 writes UBJSON for ``.bst`` and ``.ubj``, JSON for ``.json``).

No file is an error, several are an error. ``save_model`` writes the file the runtime loads and
refuses a library version the runtime image cannot load (``runtimes.library_problem``).
"""

from __future__ import annotations

import os
import time
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from ..errors import WorkshopError
from .data import WineSplit
from .runtimes import FRAMEWORKS, framework, import_library, require_library

#: The order Lab 8 shows the frameworks in: the baseline first.
ORDER = ("sklearn", "lightgbm", "xgboost")
NTHREAD = 1  # what the runtimes pass (--nthread=1 in their ClusterServingRuntime args)


@dataclass(frozen=True)
class Trained:
    key: str
    model: Any
    seconds: float


def make_model(key: str, *, random_state: int = 42):
    """An untrained classifier: a scaled logistic regression (the baseline), LightGBM or XGBoost."""
    framework(key)
    if key == "sklearn":
        from sklearn.linear_model import LogisticRegression
        from sklearn.pipeline import make_pipeline
        from sklearn.preprocessing import StandardScaler

        return make_pipeline(StandardScaler(), LogisticRegression(max_iter=1000, random_state=random_state))
    library = import_library(key)
    if key == "lightgbm":
        return library.LGBMClassifier(
            n_estimators=100, learning_rate=0.1, num_leaves=15, n_jobs=NTHREAD, random_state=random_state, verbose=-1
        )
    return library.XGBClassifier(
        n_estimators=100, max_depth=3, learning_rate=0.1, n_jobs=NTHREAD, random_state=random_state
    )


def train(key: str, split: WineSplit, *, random_state: int = 42) -> Trained:
    """Fit one framework's classifier on the training rows (plain arrays: no feature names stored)."""
    model = make_model(key, random_state=random_state)
    started = time.perf_counter()
    model.fit(np.asarray(split.X_train), np.asarray(split.y_train))
    return Trained(key, model, time.perf_counter() - started)


# ------------------------------------------------------------------------------------ model files


def model_file(directory: str | Path, key: str) -> Path:
    """The one file of ``directory`` that ``key``'s runtime loads; WorkshopError for none or several."""
    fw = framework(key)
    folder = Path(directory)
    if not folder.is_dir():
        raise WorkshopError(
            f"model directory {folder} does not exist (or is not a directory)",
            hint=f"save the {fw.label} model there first",
        )
    found = sorted(p for p in folder.iterdir() if p.is_file() and p.name.endswith(fw.extensions))
    if not found:
        others = sorted(p.name for p in folder.iterdir() if not p.name.startswith("."))
        raise WorkshopError(
            f"no model file for {fw.runtime} in {folder}: it loads exactly one "
            f"{' / '.join(fw.extensions)} file" + (f", and finds only {', '.join(others)}" if others else ""),
            hint=_missing_hint(key, others),
        )
    if len(found) > 1:
        raise WorkshopError(
            f"more than one model file in {folder}: {', '.join(p.name for p in found)}; "
            f"{fw.runtime} refuses a directory with several",
            hint="keep one model file per directory",
        )
    return found[0]


def _missing_hint(key: str, others: list[str]) -> str:
    fw = FRAMEWORKS[key]
    if key == "lightgbm" and any(name.endswith(".txt") for name in others):
        return "LightGBM's usual name is model.txt, but kserve-lgbserver looks only for .bst: save as model.bst"
    if any(name.endswith((".joblib", ".pkl", ".pickle")) for name in others) and key != "sklearn":
        return f"{fw.runtime} loads the library's own model file, not a pickle: use save_model(... '{fw.filename}')"
    return f"save it as {fw.filename}"


def save_model(model: Any, directory: str | Path, key: str) -> Path:
    """Save ``model`` as the only model file of ``directory``, in the format ``key``'s runtime loads.

    Refuses a library version outside the runtime image's requirement, a model of another
    framework, and a directory that already holds a different model file.
    """
    fw = framework(key)
    if key == "sklearn":
        from ..training import save_model as save_sklearn

        return save_sklearn(model, directory, filename=fw.filename)
    require_library(key)
    booster = _booster_of(model, key)
    folder = Path(directory).expanduser()
    if folder.exists() and not folder.is_dir():
        raise WorkshopError(f"{folder} exists and is not a directory")
    folder.mkdir(parents=True, exist_ok=True)
    target = folder / fw.filename
    partial = folder / f".{fw.filename}.partial"  # no model extension: never seen as a second model
    others = sorted(
        p.name for p in folder.iterdir() if p.is_file() and p.name.endswith(fw.extensions) and p.name != target.name
    )
    if others:
        raise WorkshopError(
            f"{folder} already holds {', '.join(others)}; {fw.runtime} allows one model file",
            hint="save into an empty directory (one model per directory)",
        )
    if key == "lightgbm":
        booster.save_model(str(partial))
    else:
        # XGBoost picks the format from the extension: write JSON under the final name's suffix.
        booster.save_model(str(partial.with_name(partial.name + ".json")))
        os.replace(partial.with_name(partial.name + ".json"), partial)
    os.replace(partial, target)
    return target


def _booster_of(model: Any, key: str):
    library = import_library(key)
    if key == "lightgbm":
        if isinstance(model, library.Booster):
            return model
        if isinstance(model, library.LGBMModel):
            return model.booster_
    elif isinstance(model, library.Booster):
        return model
    elif isinstance(model, library.XGBModel):
        return model.get_booster()
    raise WorkshopError(
        f"expected a trained {FRAMEWORKS[key].label} model, got {type(model).__name__}",
        hint=f"pass the {FRAMEWORKS[key].label} classifier you trained",
    )


def load_like_runtime(directory: str | Path, key: str, *, nthread: int = NTHREAD):
    """Load the one model file of ``directory`` exactly as ``key``'s runtime does."""
    path = model_file(directory, key)
    fw = FRAMEWORKS[key]
    try:
        if key == "sklearn":
            import joblib

            return joblib.load(path)
        library = import_library(key)
        if key == "lightgbm":
            with warnings.catch_warnings():  # the runtime passes params the model file overrides
                warnings.filterwarnings("ignore", message="Ignoring params argument")
                return library.Booster(params={"nthread": nthread}, model_file=str(path))
        return library.Booster(params={"nthread": nthread}, model_file=bytearray(path.read_bytes()))
    except WorkshopError:
        raise
    except Exception as exc:  # noqa: BLE001 - any failure to read the file means "the runtime cannot serve it"
        raise WorkshopError(
            f"{fw.runtime} could not load {path.name}: {type(exc).__name__}: "
            f"{str(exc).strip().splitlines()[-1] if str(exc).strip() else ''}",
            hint=_load_hint(path, key),
        ) from exc


def _load_hint(path: Path, key: str) -> str:
    fw = FRAMEWORKS[key]
    head = path.read_bytes()[:2] if path.is_file() else b""
    if head[:1] == b"\x80" and key != "sklearn":
        return (
            f"{path.name} is a pickle (joblib.dump / pickle.dump); {fw.runtime} reads {fw.label}'s own "
            f"format: save with the library's save_model"
        )
    if key == "lightgbm" and head[:1] == b"{":
        return "this looks like an XGBoost model (JSON/UBJSON); kserve-lgbserver reads LightGBM's text format"
    if key == "xgboost" and head.startswith(b"tr"):
        return "this looks like a LightGBM model (text 'tree...'); kserve-xgbserver reads XGBoost's JSON/UBJSON"
    return f"save the {fw.label} model with its save_model as {fw.filename}"


def predict_like_runtime(loaded: Any, key: str, rows) -> np.ndarray:
    """What the runtime's ``predict`` computes for ``rows``: classes (sklearn) or class probabilities."""
    features = np.asarray(rows, dtype=float)
    if key == "sklearn":
        return np.asarray(loaded.predict(features))
    if key == "xgboost":
        library = import_library(key)
        return np.asarray(loaded.predict(library.DMatrix(features, nthread=NTHREAD)))
    return np.asarray(loaded.predict(features))


def as_classes(predictions) -> np.ndarray:
    """Class indices from a runtime's answer: argmax of per-class probabilities, or the classes as given."""
    values = np.asarray(predictions)
    if values.ndim == 2:
        return values.argmax(axis=1)
    if (
        values.ndim == 1
        and values.dtype.kind == "f"
        and np.all((values >= 0) & (values <= 1))
        and not np.all(values == np.round(values))
    ):
        return (values >= 0.5).astype(int)  # a binary model's probability of class 1
    return values.astype(int)


def file_size(directory: str | Path, key: str) -> int:
    """Bytes of the model file the runtime loads from ``directory``."""
    return model_file(directory, key).stat().st_size


def fresh_model_dirs(root: str | Path) -> dict[str, Path]:
    """One empty directory per framework under ``root`` (old model files removed), for saving into."""
    import shutil

    base = Path(root).expanduser()
    if base.exists() and not base.is_dir():
        raise WorkshopError(f"{base} exists and is not a directory")
    dirs = {}
    for key in ORDER:
        folder = base / key
        if folder.exists():
            shutil.rmtree(folder)
        folder.mkdir(parents=True)
        dirs[key] = folder
    return dirs
