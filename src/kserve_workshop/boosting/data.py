"""Lab 8's data set: scikit-learn's wine recognition data (178 wines, 13 measurements, 3 cultivars).

It ships with scikit-learn (no download), has real named features, and three classes, so a
boosted model answers with a probability per class while the scikit-learn baseline answers with
a class: the same request, answers of different shapes.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..errors import WorkshopError

#: The 13 features in the models' column order (``sklearn.datasets.load_wine().feature_names``).
FEATURE_NAMES = (
    "alcohol",
    "malic_acid",
    "ash",
    "alcalinity_of_ash",
    "magnesium",
    "total_phenols",
    "flavanoids",
    "nonflavanoid_phenols",
    "proanthocyanins",
    "color_intensity",
    "hue",
    "od280/od315_of_diluted_wines",
    "proline",
)
#: The three cultivars (``load_wine().target_names``), by class index.
WINE_CLASSES = ("class_0", "class_1", "class_2")


@dataclass(frozen=True)
class WineSplit:
    """Features and labels, split (stratified) into training and held-out rows; read-only arrays."""

    X_train: np.ndarray
    X_test: np.ndarray
    y_train: np.ndarray
    y_test: np.ndarray


def wine_split(*, test_size: float = 0.3, random_state: int = 42) -> WineSplit:
    """The wine data, split into training and held-out rows (the same rows for every framework).

    The arrays are read-only, so no exercise can change the rows the checks compare with.
    """
    from sklearn.datasets import load_wine
    from sklearn.model_selection import train_test_split

    if isinstance(test_size, bool) or not isinstance(test_size, (int, float)) or not 0 < test_size < 1:
        raise WorkshopError(f"test_size must be a fraction between 0 and 1, got {test_size!r}")
    features, labels = load_wine(return_X_y=True)
    parts = train_test_split(features, labels, test_size=test_size, random_state=random_state, stratify=labels)
    for array in parts:
        array.flags.writeable = False
    return WineSplit(*parts)


def feature_table(rows) -> str:
    """Rows as a readable text table with the feature names as header (for printing a few wines)."""
    import pandas as pd

    frame = pd.DataFrame(np.asarray(rows, dtype=float), columns=FEATURE_NAMES)
    return frame.to_string(float_format=lambda value: f"{value:g}")
