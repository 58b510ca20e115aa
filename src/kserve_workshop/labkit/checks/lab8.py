"""Graded checks of Lab 8 (LightGBM and XGBoost on KServe's runtimes, one V2 protocol for all).

* ``v2_request``: the learner's V2 body is decoded by KServe's own code, as the servers decode it
  (``boosting.requests.runtime_input``), and held to the protocol: one tensor per feature, named
  after it, in the models' column order, shape ``[3]``, a float datatype, ``content_type: pd``.
* ``saved_models``: each directory is read the way its runtime reads it (one file with the
  runtime's extension, loaded with the runtime's library) and the model must predict the held-out
  wines; the installed library must be one the runtime image accepts.
* ``comparison``: the learner's table against their own saved files and load runs.
"""

from __future__ import annotations

import difflib
import json
import math
import numbers
from pathlib import Path
from typing import Any, Mapping

import numpy as np

from ...boosting.compare import COLUMNS, runtime_accuracy
from ...boosting.data import FEATURE_NAMES, wine_split
from ...boosting.models import ORDER, as_classes, file_size, load_like_runtime, model_file, predict_like_runtime
from ...boosting.requests import RuntimeRejects, runtime_input
from ...boosting.runtimes import FRAMEWORKS, library_problem
from ...errors import WorkshopError
from ..check_registry import lab_check
from ..grading import CheckFailed

ROWS = 3  # the exercise's first three held-out wines
FLOAT_DATATYPES = ("FP64", "FP32")
MIN_ACCURACY = 0.85
_ALIASES = {
    "sklearn": "sklearn",
    "scikit-learn": "sklearn",
    "scikit_learn": "sklearn",
    "kserve-sklearnserver": "sklearn",
    "lightgbm": "lightgbm",
    "lgb": "lightgbm",
    "lgbm": "lightgbm",
    "kserve-lgbserver": "lightgbm",
    "xgboost": "xgboost",
    "xgb": "xgboost",
    "kserve-xgbserver": "xgboost",
}


def _example() -> dict:
    return {
        "parameters": {"content_type": "pd"},
        "inputs": [
            {"name": FEATURE_NAMES[0], "shape": [ROWS], "datatype": "FP64", "data": ["<3 alcohol values>"]},
            f"... one input for each of the other {len(FEATURE_NAMES) - 1} features, in FEATURE_NAMES order",
        ],
    }


def _expected_rows() -> np.ndarray:
    return np.asarray(wine_split().X_test[:ROWS], dtype=float)


# ------------------------------------------------------------------------------------- v2_request


@lab_check(
    "lab8",
    hint="One input per feature, in FEATURE_NAMES order: name, shape [3], datatype 'FP64', "
    "data = that feature of X_test[:3]; and parameters {'content_type': 'pd'}.",
)
def v2_request(v2_request):
    """A V2 body for the first three held-out wines, one named tensor per feature."""
    body = v2_request
    if not isinstance(body, Mapping) or not isinstance(body.get("inputs"), list) or not body["inputs"]:
        raise CheckFailed(
            "`v2_request` must be a dict with a non-empty list of 'inputs'", expected=_example(), found=body
        )
    try:
        json.dumps(body)
    except (TypeError, ValueError) as exc:
        raise CheckFailed(
            "`v2_request` cannot be sent as JSON",
            expected="plain lists, numbers and strings",
            found=str(exc),
            hint="turn numpy arrays and numbers into lists with .tolist()",
        ) from None
    inputs = body["inputs"]
    if not all(isinstance(tensor, Mapping) for tensor in inputs):
        raise CheckFailed(
            "every input must be a dict with name, shape, datatype and data", expected=_example(), found=inputs
        )
    if len(inputs) == 1 and isinstance(inputs[0].get("shape"), list) and len(inputs[0]["shape"]) == 2:
        raise CheckFailed(
            "one 2-D tensor is a valid V2 request, but not the one asked for",
            expected="one input per feature, named after it",
            found=_brief(inputs),
            hint="the exercise is about named features: one input per name in FEATURE_NAMES",
        )
    _check_names(inputs)
    _check_tensors(inputs)
    _check_pandas_parameter(body)
    try:
        table = runtime_input(body)
    except RuntimeRejects as exc:
        raise CheckFailed(
            f"the model server would not predict: {exc.message}", expected=_example(), found=_brief(inputs)
        ) from None
    _check_rows(np.asarray(table, dtype=float))
    return f"{len(inputs)} named tensors of {ROWS} values; the runtimes build the 3 x 13 table the models expect"


def _brief(inputs: list) -> list:
    return [{key: tensor.get(key) for key in ("name", "shape", "datatype")} for tensor in inputs]


def _check_names(inputs: list) -> None:
    names = [tensor.get("name") for tensor in inputs]
    unknown = [name for name in names if name not in FEATURE_NAMES]
    if unknown:
        first = unknown[0]
        close = difflib.get_close_matches(str(first), FEATURE_NAMES, n=1)
        raise CheckFailed(
            f"{first!r} is not one of the data set's feature names",
            expected=list(FEATURE_NAMES),
            found=names,
            hint=(f"did you mean {close[0]!r}? " if close else "")
            + "copy the names from FEATURE_NAMES rather than typing them",
        )
    duplicates = sorted({name for name in names if names.count(name) > 1})
    if duplicates:
        raise CheckFailed(f"{duplicates} appear more than once", expected="each feature once", found=names)
    missing = [name for name in FEATURE_NAMES if name not in names]
    if missing:
        raise CheckFailed(
            f"missing features: {', '.join(missing)}",
            expected=list(FEATURE_NAMES),
            found=names,
            hint="the models need all 13 measurements of each wine",
        )
    if names != list(FEATURE_NAMES):
        raise CheckFailed(
            "the inputs are not in the models' column order",
            expected=list(FEATURE_NAMES),
            found=names,
            hint="KServe's runtimes put the columns in the order of the inputs and these "
            "models (trained on plain arrays) read them by position, not by name: "
            "the servers would answer 200 with predictions for other wines",
        )


def _check_tensors(inputs: list) -> None:
    for tensor in inputs:
        name, datatype, shape = tensor.get("name"), tensor.get("datatype"), tensor.get("shape")
        if isinstance(shape, tuple):  # (3,) is sent as the JSON list [3]
            shape = list(shape)
        if not isinstance(datatype, str) or datatype not in FLOAT_DATATYPES:
            upper = datatype.upper() if isinstance(datatype, str) else None
            hint = (
                "V2 datatypes are upper case, e.g. 'FP64'"
                if upper in FLOAT_DATATYPES
                else "the measurements are decimals (alcohol 13.2...): an integer datatype cannot carry them"
                if upper and upper.startswith(("INT", "UINT"))
                else "use 'FP64' (or 'FP32') for decimal numbers"
            )
            raise CheckFailed(
                f"input {name!r} has datatype {datatype!r}",
                expected="'FP64' or 'FP32'",
                found=datatype,
                hint=hint + ". KServe's Python runtime happens to ignore it with "
                "content_type pd; the protocol, MLServer and Triton do not",
            )
        if not isinstance(shape, list) or not all(isinstance(d, int) and not isinstance(d, bool) for d in shape):
            raise CheckFailed(
                f"input {name!r} has shape {shape!r}",
                expected=f"[{ROWS}]",
                found=shape,
                hint="shape is a list of integers",
            )
        data = tensor.get("data")
        values = _flat(data)
        if values is None:
            raise CheckFailed(f"input {name!r}: data must be a list of numbers", expected=f"{ROWS} numbers", found=data)
        if shape not in ([ROWS], [ROWS, 1]):
            hint = (
                "shape [3, 13] describes a whole table: with one input per feature each input holds one column"
                if shape == [ROWS, len(FEATURE_NAMES)]
                else "shape is [number of wines]: 3 values in each tensor"
            )
            raise CheckFailed(f"input {name!r} has shape {shape}", expected=f"[{ROWS}]", found=shape, hint=hint)
        if len(values) != math.prod(shape):
            raise CheckFailed(
                f"input {name!r} declares shape {shape} but holds {len(values)} values",
                expected=f"{ROWS} values (one per wine)",
                found=data,
                hint="each tensor holds one feature's value for each of the 3 wines: X_test[:3, column]",
            )


def _flat(data: Any) -> list | None:
    if isinstance(data, (list, tuple)):
        values: list = []
        for item in data:
            inner = _flat(item) if isinstance(item, (list, tuple)) else [item]
            if inner is None:
                return None
            values.extend(inner)
        return values if all(isinstance(v, numbers.Real) and not isinstance(v, bool) for v in values) else None
    return None


def _check_pandas_parameter(body: Mapping) -> None:
    parameters = body.get("parameters")
    if isinstance(parameters, Mapping) and parameters.get("content_type") == "pd":
        return
    inside = any(
        isinstance(t.get("parameters"), Mapping) and t["parameters"].get("content_type") == "pd" for t in body["inputs"]
    )
    raise CheckFailed(
        "the request does not ask for a table (content_type 'pd')",
        expected={"parameters": {"content_type": "pd"}, "inputs": "..."},
        found={"parameters": parameters},
        hint=("put it at the top level of the body, beside 'inputs', not inside an input. " if inside else "")
        + "Without it KServe's runtimes read only the first tensor (alcohol), a 1-D "
        "array, and answer with an error",
    )


def _check_rows(found: np.ndarray) -> None:
    expected = _expected_rows()
    if found.shape != expected.shape:
        raise CheckFailed(
            f"the runtimes would see a table of shape {list(found.shape)}",
            expected=list(expected.shape),
            found=list(found.shape),
        )
    if np.allclose(found, expected, rtol=1e-6, atol=1e-6):
        return
    split = wine_split()
    for label, rows in (
        ("the first three training wines", split.X_train[:ROWS]),
        ("the last three held-out wines", split.X_test[-ROWS:]),
    ):
        if np.allclose(found, rows, rtol=1e-6, atol=1e-6):
            raise CheckFailed(
                f"these are {label}",
                expected="X_test[:3]",
                found=found.tolist(),
                hint="use the first three rows of the held-out set, split.X_test[:3]",
            )
    raise CheckFailed(
        "the values are not those of the first three held-out wines",
        expected=expected.tolist(),
        found=found.tolist(),
        hint="data of the input named F is X_test[:3, FEATURE_NAMES.index(F)]",
    )


# ----------------------------------------------------------------------------------- saved_models


@lab_check(
    "lab8",
    hint="One file per directory, in the runtime's format: booster.save_model(... 'model.bst') "
    "for LightGBM, save_model(... 'model.json') for XGBoost, joblib.dump(... 'model.joblib').",
)
def saved_models(model_dirs):
    """Each framework's directory holds the one file its runtime loads, and the model predicts the wines."""
    dirs = _model_dirs(model_dirs)
    split = wine_split()
    found = []
    for key in ORDER:
        fw = FRAMEWORKS[key]
        problem = library_problem(key)
        if problem:
            raise CheckFailed(
                f"the {fw.runtime} image could not load models made here: {problem}",
                expected=f"{fw.library}{fw.accepts}",
                found=problem,
                hint="reinstall the workshop's pinned packages: scripts/bootstrap.sh",
            )
        try:
            path = model_file(dirs[key], key)
            loaded = load_like_runtime(dirs[key], key)
            probabilities = predict_like_runtime(loaded, key, split.X_test)
        except WorkshopError as exc:
            raise CheckFailed(
                f"{fw.runtime} would not serve {dirs[key]}: {exc.message}",
                expected=f"exactly one {' / '.join(fw.extensions)} file it can load",
                found=_listing(dirs[key]),
                hint=exc.hint,
            ) from None
        except Exception as exc:  # noqa: BLE001 - e.g. a model trained on other features
            raise CheckFailed(
                f"{fw.runtime} loads {path.name} but cannot predict the wines with it",
                expected="a model of the 13 wine features",
                found=f"{type(exc).__name__}: {exc}",
                hint="save the model trained on split.X_train",
            ) from None
        accuracy = float(np.mean(as_classes(probabilities) == np.asarray(split.y_test)))
        if accuracy < MIN_ACCURACY:
            raise CheckFailed(
                f"the {fw.label} model in {path.name} gets {accuracy:.2f} of the held-out wines right",
                expected=f">= {MIN_ACCURACY}",
                found=round(accuracy, 3),
                hint=f"save the {fw.label} classifier you trained on the wine data",
            )
        found.append(f"{key}: {path.name}")
    return "each runtime finds its one file and loads it: " + ", ".join(found)


def _model_dirs(model_dirs: Any) -> dict[str, Path]:
    if not isinstance(model_dirs, Mapping) or set(model_dirs) != set(ORDER):
        raise CheckFailed(
            "`model_dirs` must map each framework to its directory",
            expected=list(ORDER),
            found=list(model_dirs) if isinstance(model_dirs, Mapping) else model_dirs,
            hint="run the cell that creates model_dirs again",
        )
    return {key: Path(value) for key, value in model_dirs.items()}


def _listing(directory: Path) -> list[str]:
    try:
        return sorted(p.name for p in Path(directory).iterdir())
    except OSError:
        return []


# ------------------------------------------------------------------------------------- comparison


@lab_check(
    "lab8",
    hint="One row per framework (sklearn, lightgbm, xgboost) and the columns accuracy, model_kib, "
    "p50_ms, throughput_rps, from your saved files and load_results.",
)
def comparison(comparison, load_results, model_dirs):
    """The table's figures are the learner's own: held-out accuracy, file size, p50 and throughput."""
    rows = _rows(comparison)
    dirs = _model_dirs(model_dirs)
    if not isinstance(load_results, Mapping) or not all(key in load_results for key in ORDER):
        raise CheckFailed(
            "`load_results` must hold a load run per framework",
            expected=list(ORDER),
            found=list(load_results) if isinstance(load_results, Mapping) else load_results,
            hint="run the load cell above again",
        )
    split = wine_split()
    expected = {}
    for key in ORDER:
        result = load_results[key]
        try:
            expected[key] = {
                "accuracy": runtime_accuracy(dirs[key], key, split),
                "model_kib": file_size(dirs[key], key) / 1024,
                "p50_ms": result.percentiles["p50"] * 1000,
                "throughput_rps": result.throughput,
            }
        except WorkshopError as exc:
            raise CheckFailed(
                f"the {key} model cannot be read as its runtime reads it: {exc.message}",
                expected="the saved models of Exercise 1",
                found=_listing(dirs[key]),
                hint="pass check('lab8.saved_models') first",
            ) from None
        except AttributeError:
            raise CheckFailed(
                f"load_results[{key!r}] is not a load run",
                expected="what run_load returned",
                found=type(result).__name__,
                hint="run the load cell above again",
            ) from None
    for key in ORDER:
        _check_row_order(rows, expected, key)
        for column in COLUMNS:
            _check_value(rows, expected, key, column, lambda: runtime_accuracy(dirs[key], key, split, held_out=False))
    return "accuracy, size, latency and throughput match your models and measurements"


def _rows(table: Any) -> dict[str, dict[str, Any]]:
    """The table as {framework: {column: value}}: a DataFrame (index or a column naming the framework),
    a dict of dicts, or a list of dicts."""
    records: dict[Any, Any]
    if hasattr(table, "to_dict") and hasattr(table, "columns"):
        frame = table
        label = next((c for c in frame.columns if str(c).lower() in {"framework", "runtime", "model", "name"}), None)
        records = frame.set_index(label).to_dict(orient="index") if label is not None else frame.to_dict(orient="index")
    elif isinstance(table, Mapping):
        records = dict(table)
    elif isinstance(table, (list, tuple)) and all(isinstance(r, Mapping) for r in table):
        label = next((k for k in ("framework", "runtime", "model", "name") if all(k in r for r in table)), None)
        if label is None:
            raise CheckFailed(
                "each row needs a 'framework' entry", expected="rows like {'framework': 'lightgbm', ...}", found=table
            )
        records = {r[label]: {k: v for k, v in r.items() if k != label} for r in table}
    else:
        raise CheckFailed(
            "`comparison` must be a table",
            expected="a pandas DataFrame indexed by framework",
            found=type(table).__name__,
        )
    rows: dict[str, dict[str, Any]] = {}
    for name, values in records.items():
        key = _ALIASES.get(str(name).strip().lower())
        if key is None or not isinstance(values, Mapping):
            raise CheckFailed(f"row {name!r} is not one of the frameworks", expected=list(ORDER), found=list(records))
        rows[key] = {str(column).strip().lower(): value for column, value in values.items()}
    missing = [key for key in ORDER if key not in rows]
    if missing:
        raise CheckFailed(f"no row for {', '.join(missing)}", expected=list(ORDER), found=list(records))
    for key in ORDER:
        absent = [column for column in COLUMNS if column not in rows[key]]
        if absent:
            raise CheckFailed(
                f"row {key!r} has no column {', '.join(absent)}", expected=list(COLUMNS), found=list(rows[key])
            )
    return rows


def _number(value: Any) -> float | None:
    if isinstance(value, bool) or not isinstance(value, (numbers.Real, np.number)):
        return None
    number = float(value)
    return number if math.isfinite(number) else None


def _close(found: float, wanted: float, column: str) -> bool:
    # Rounded as a person would: accuracy to 2 decimals (two models differ by at least 1/54), the
    # others to 1 decimal or within 2 % (the load figures are printed with 3 significant digits).
    if column == "accuracy":
        return abs(found - wanted) <= 0.0051
    return abs(found - wanted) <= max(0.051, 0.02 * abs(wanted))


_MEASURED = ("model_kib", "p50_ms", "throughput_rps")  # distinct per framework, unlike accuracy


def _check_row_order(rows, expected, key: str) -> None:
    values = [_number(rows[key][column]) for column in _MEASURED]
    if None in values or all(_close(v, expected[key][c], c) for v, c in zip(values, _MEASURED)):
        return
    for other in ORDER:
        if other != key and all(_close(v, expected[other][c], c) for v, c in zip(values, _MEASURED)):
            raise CheckFailed(
                f"the {key} row holds the {other} figures",
                expected={c: round(expected[key][c], 3) for c in _MEASURED},
                found={c: rows[key][c] for c in _MEASURED},
                hint="is the row order mixed up? Build each row from the same framework's file and load run",
            )


def _check_value(rows, expected, key: str, column: str, training_accuracy) -> None:
    found = _number(rows[key][column])
    wanted = expected[key][column]
    if found is None:
        raise CheckFailed(f"{key} {column} must be a number", expected=round(wanted, 4), found=rows[key][column])
    if _close(found, wanted, column):
        return
    if column == "model_kib" and _close(found, wanted * 1.024, column):
        return  # kilobytes (1000 bytes) instead of KiB: the same answer written another way
    hint = _mistake(key, column, found, wanted, training_accuracy)
    raise CheckFailed(
        f"{key} {column} is not what your models and measurements give",
        expected=round(wanted, 4),
        found=rows[key][column],
        hint=hint,
    )


def _mistake(key, column, found, wanted, training_accuracy) -> str:
    if column == "accuracy":
        if _close(found / 100, wanted, column):
            return "accuracy is a fraction between 0 and 1, not a percentage"
        if _close(found, training_accuracy(), column):
            return "that is the accuracy on the training rows: score the held-out rows (split.X_test, split.y_test)"
        return "held-out accuracy of the saved model: compare its classes with split.y_test"
    if column == "model_kib":
        if _close(found / 1024, wanted, column):
            return "that is bytes: divide the file size by 1024 for KiB"
        if _close(found * 1024, wanted, column):
            return "that is MiB: KiB is the file size divided by 1024"
        return "the size of the model file on disk (Path.stat().st_size / 1024), not of the object in memory"
    if column == "p50_ms":
        if _close(found * 1000, wanted, column):
            return "that is seconds: LoadResult.percentiles are in seconds, multiply by 1000"
        return "the median latency of the load run: load_results[name].percentiles['p50'] * 1000"
    return "requests per second of the load run: load_results[name].throughput (not the request count)"
