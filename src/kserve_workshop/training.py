"""Train, evaluate and save the iris classifier that every lab serves.

Models are trained with the scikit-learn version pinned in ``versions.toml`` (the one KServe's
sklearn runtime image loads), and saved as the only file of their directory, ``model.joblib``,
because the runtime refuses a directory with no model file or with several.
"""

from __future__ import annotations

import os
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Sequence

import numpy as np

from .errors import WorkshopError
from .runtime.iris import DOCS_IRIS_INPUT, IRIS_CLASSES, IRIS_FEATURES  # noqa: F401 - re-exported for the labs
from .versions import pin

MODEL_FILENAME = "model.joblib"
ESTIMATORS = ("svc", "logistic", "tree")


@dataclass(frozen=True)
class IrisSplit:
    """Iris features and labels, split into a training set and a held-out test set."""

    X_train: np.ndarray
    X_test: np.ndarray
    y_train: np.ndarray
    y_test: np.ndarray


def sklearn_version_problem() -> str | None:
    """Why the installed scikit-learn cannot make models for the cluster runtime (None when it can)."""
    import sklearn

    wanted = pin("python", "scikit_learn")
    if sklearn.__version__ != wanted:
        return (
            f"scikit-learn {sklearn.__version__} is installed, but KServe's sklearn runtime loads models "
            f"made with {wanted}; a model pickled by another version may fail to load there"
        )
    return None


def require_sklearn_version() -> None:
    problem = sklearn_version_problem()
    if problem:
        raise WorkshopError(
            problem,
            hint=f"pip install scikit-learn=={pin('python', 'scikit_learn')} "
            "(or reinstall the workshop: pip install -e .)",
        )


def iris_split(*, test_size: float = 0.3, random_state: int = 42) -> IrisSplit:
    """The iris data set, split (stratified) into training and held-out test rows."""
    from sklearn.datasets import load_iris
    from sklearn.model_selection import train_test_split

    if not 0 < test_size < 1:
        raise WorkshopError(f"test_size must be a fraction between 0 and 1, got {test_size!r}")
    features, labels = load_iris(return_X_y=True)
    X_train, X_test, y_train, y_test = train_test_split(
        features, labels, test_size=test_size, random_state=random_state, stratify=labels
    )
    return IrisSplit(X_train, X_test, y_train, y_test)


def make_estimator(kind: str = "svc", *, random_state: int = 42):
    """An untrained classifier: ``svc`` (like KServe's example model), ``logistic`` or ``tree``."""
    from sklearn.linear_model import LogisticRegression
    from sklearn.svm import SVC
    from sklearn.tree import DecisionTreeClassifier

    if kind == "svc":
        # probability=True so the same file also serves with PREDICT_PROBA=true
        return SVC(gamma="scale", probability=True, random_state=random_state)
    if kind == "logistic":
        return LogisticRegression(max_iter=1000, random_state=random_state)
    if kind == "tree":
        return DecisionTreeClassifier(max_depth=3, random_state=random_state)
    raise WorkshopError(f"unknown estimator {kind!r}", hint=f"choose one of {', '.join(ESTIMATORS)}")


def train_iris(split: IrisSplit | None = None, *, kind: str = "svc", random_state: int = 42):
    """Fit a classifier on the training rows of ``split`` (the default split when None)."""
    problem = sklearn_version_problem()
    if problem:
        from .console import warn

        warn(problem)
    split = split or iris_split(random_state=random_state)
    return make_estimator(kind, random_state=random_state).fit(split.X_train, split.y_train)


def evaluate(model: Any, split: IrisSplit) -> float:
    """Accuracy on the held-out rows (fraction correct, 0..1)."""
    return float(model.score(split.X_test, split.y_test))


def save_model(model: Any, directory: str | Path, *, filename: str = MODEL_FILENAME) -> Path:
    """Save ``model`` with joblib as the only file of ``directory``; returns the file's path.

    Another file in the directory is an error (the runtime would find two models, or an upload would
    carry stray files); re-saving over the same ``model.joblib`` is fine.
    """
    import joblib

    require_sklearn_version()
    if not hasattr(model, "predict"):
        raise WorkshopError(f"expected a trained scikit-learn model, got {type(model).__name__}")
    if Path(filename).suffix not in {".joblib", ".pkl", ".pickle"} or Path(filename).name != filename:
        raise WorkshopError(f"filename must be a plain name ending in .joblib, .pkl or .pickle, got {filename!r}")
    target_dir = Path(directory).expanduser()
    if target_dir.exists() and not target_dir.is_dir():
        raise WorkshopError(f"{target_dir} exists and is not a directory")
    target_dir.mkdir(parents=True, exist_ok=True)
    others = sorted(p.name for p in target_dir.iterdir() if p.name != filename and not _hidden_non_model(p.name))
    if others:
        raise WorkshopError(
            f"{target_dir} must hold only {filename}, but it also holds {', '.join(others)}",
            hint="move or delete them (hidden files such as .DS_Store may stay), or save into "
            "another directory: one model per directory",
        )
    target = target_dir / filename
    # A temporary name of this save's own (hidden, no model extension): concurrent saves never share it,
    # and a reader never sees a half-written model.
    handle = tempfile.NamedTemporaryFile(dir=target_dir, prefix=f".{filename}.", suffix=".partial", delete=False)
    try:
        with handle:
            joblib.dump(model, handle)
        os.replace(handle.name, target)
    except BaseException:
        Path(handle.name).unlink(missing_ok=True)
        raise
    return target


def _hidden_non_model(name: str) -> bool:
    """``.DS_Store``, ``.ipynb_checkpoints``, a save in progress: hidden and not loadable as a model.

    (A hidden ``.x.joblib`` would still be a second model for KServe's runtime, so it counts.)
    """
    return name.startswith(".") and Path(name).suffix not in {".joblib", ".pkl", ".pickle"}


def load_model(directory: str | Path):
    """Load the one model file of ``directory`` (the same rule the runtime applies)."""
    import joblib

    from .runtime.sklearn_model import find_model_file

    return joblib.load(find_model_file(directory))


def class_names(predictions: Sequence[Any]) -> list[str]:
    """Iris class names for predicted class indices (``[1, 1]`` -> ``['versicolor', 'versicolor']``)."""
    from .dataplane.payloads import class_names as names_for

    return names_for(predictions, IRIS_CLASSES)
