"""The Lab 8 comparison: accuracy, model size, latency and throughput per framework, and its plot."""

from __future__ import annotations

from pathlib import Path
from typing import Mapping

import numpy as np

from ..errors import WorkshopError
from .data import WineSplit
from .models import ORDER, as_classes, file_size, load_like_runtime, predict_like_runtime
from .runtimes import FRAMEWORKS

#: The comparison table's columns, in order.
COLUMNS = ("accuracy", "model_kib", "p50_ms", "throughput_rps")
LABELS = {
    "accuracy": "held-out accuracy",
    "model_kib": "model file (KiB)",
    "p50_ms": "p50 latency (ms)",
    "throughput_rps": "throughput (requests/s)",
}


def runtime_accuracy(model_dir: str | Path, key: str, split: WineSplit, *, held_out: bool = True) -> float:
    """Accuracy of the saved model, loaded and run as its runtime does, on the held-out (or training) rows."""
    loaded = load_like_runtime(model_dir, key)
    rows, labels = (split.X_test, split.y_test) if held_out else (split.X_train, split.y_train)
    predicted = as_classes(predict_like_runtime(loaded, key, rows))
    return float(np.mean(predicted == np.asarray(labels)))


def comparison_table(model_dirs: Mapping[str, str | Path], load_results: Mapping, split: WineSplit):
    """A DataFrame indexed by framework with ``COLUMNS``, from the saved files and the load runs."""
    import pandas as pd

    missing = [key for key in ORDER if key not in model_dirs or key not in load_results]
    if missing:
        raise WorkshopError(f"no model directory or load result for {', '.join(missing)}")
    rows = {}
    for key in ORDER:
        result = load_results[key]
        rows[key] = {
            "accuracy": runtime_accuracy(model_dirs[key], key, split),
            "model_kib": file_size(model_dirs[key], key) / 1024,
            "p50_ms": result.percentiles["p50"] * 1000,
            "throughput_rps": result.throughput,
        }
    return pd.DataFrame.from_dict(rows, orient="index", columns=list(COLUMNS))


def plot_comparison(table, *, title: str = "One V2 request, three runtimes"):
    """Four bar charts side by side, one per column of the comparison table; returns the figure."""
    import matplotlib.pyplot as plt

    frame = table if hasattr(table, "loc") else _as_frame(table)
    keys = [key for key in ORDER if key in frame.index] or list(frame.index)
    labels = [FRAMEWORKS[key].label if key in FRAMEWORKS else str(key) for key in keys]
    colours = ["#4c72b0", "#55a868", "#c44e52"]
    figure, axes = plt.subplots(1, len(COLUMNS), figsize=(12, 3.2))
    for axis, column in zip(axes, COLUMNS):
        values = [float(frame.loc[key, column]) for key in keys]
        bars = axis.bar(labels, values, color=colours[: len(keys)])
        axis.bar_label(bars, fmt="%.3g", fontsize=8, padding=2)
        axis.set_title(LABELS[column], fontsize=10)
        axis.margins(y=0.2)
        axis.tick_params(axis="x", labelsize=8)
        if column == "accuracy":
            axis.set_ylim(min(0.8, min(values) - 0.05), 1.05)
    figure.suptitle(title)
    figure.tight_layout()
    return figure


def _as_frame(table):
    import pandas as pd

    return pd.DataFrame.from_dict(dict(table), orient="index")
