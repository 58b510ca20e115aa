"""Lab 6 answers as learners write them: functions the check calls on good and bad input."""

from __future__ import annotations

import numbers
import sys

import numpy as np
import pytest

from answer_cases import FAIL, PASS, Case, cases, grade, judge
from kserve_workshop.labkit import check_guard
from kserve_workshop.runtime.features import DOCS_FLOWERS, FEATURE_NAMES
from kserve_workshop.training import IRIS_CLASSES


# -- Exercise 1: named features to rows ----------------------------------------------------------

def rows_reference(flowers):
    rows = []
    for flower in flowers:
        if not isinstance(flower, dict):
            raise ValueError(f"a flower is a dict of {FEATURE_NAMES}")
        unknown = set(flower) - set(FEATURE_NAMES)
        if unknown:
            raise ValueError(f"unknown feature(s) {sorted(unknown)}")
        missing = [name for name in FEATURE_NAMES if name not in flower]
        if missing:
            raise ValueError(f"missing {missing}")
        for name in FEATURE_NAMES:
            if isinstance(flower[name], bool) or not isinstance(flower[name], (int, float)):
                raise ValueError(f"{name} must be a number")
        rows.append([float(flower[name]) for name in FEATURE_NAMES])
    return rows


def rows_numpy(flowers):
    for flower in flowers:
        if not isinstance(flower, dict) or sorted(flower) != sorted(FEATURE_NAMES):
            extra = sorted(set(flower) ^ set(FEATURE_NAMES)) if isinstance(flower, dict) else flower
            raise ValueError(f"expected exactly {FEATURE_NAMES}, differences: {extra}")
        bad = [name for name in FEATURE_NAMES
               if isinstance(flower[name], bool) or not isinstance(flower[name], numbers.Real)]
        if bad:
            raise ValueError(f"not numbers: {bad}")
    return np.array([[flower[name] for name in FEATURE_NAMES] for flower in flowers], dtype=float)


def rows_tuples(flowers):
    return [tuple(float(v) for v in row) for row in rows_reference(flowers)]


def rows_unchecked(flowers):
    return [[flower[name] for name in FEATURE_NAMES] for flower in flowers]


def rows_float_converting(flowers):
    checked = []
    for flower in flowers:
        if set(flower) != set(FEATURE_NAMES):
            raise ValueError(f"expected {FEATURE_NAMES}, got {sorted(flower)} ({set(flower) ^ set(FEATURE_NAMES)})")
        checked.append([float(flower[name]) for name in FEATURE_NAMES])  # float("6.8") and float(True) pass
    return checked


def rows_in_dict_order(flowers):
    rows_reference(flowers)
    return [list(map(float, flower.values())) for flower in flowers]


def rows_generic_exception(flowers):
    for flower in flowers:
        if set(flower) != set(FEATURE_NAMES):
            raise Exception("bad flower")
    return rows_reference(flowers)


def rows_mutating(flowers):
    """Wrong (pops keys out of the caller's dicts); it must not spoil the check's own inputs."""
    rows = []
    for flower in flowers:
        rows.append([float(flower.pop(name)) for name in FEATURE_NAMES])
    return rows


@pytest.mark.parametrize("case", cases(
    Case("reference", {"to_feature_rows": rows_reference}, PASS),
    Case("numpy-array", {"to_feature_rows": rows_numpy}, PASS),
    Case("tuples", {"to_feature_rows": rows_tuples}, PASS),
    Case("no-checks", {"to_feature_rows": rows_unchecked}, FAIL, "500 Internal Server Error"),
    Case("float-converts-text", {"to_feature_rows": rows_float_converting}, FAIL, "even when float() would"),
    Case("dict-order", {"to_feature_rows": rows_in_dict_order}, FAIL, "FEATURE_NAMES order"),
    Case("generic-exception", {"to_feature_rows": rows_generic_exception}, FAIL, "500"),
    Case("mutating", {"to_feature_rows": rows_mutating}, FAIL, None),
    Case("not-a-function", {"to_feature_rows": [[6.8, 2.8, 4.8, 1.4]]}, FAIL, "def to_feature_rows"),
))
def test_to_feature_rows(case):
    judge("lab6.to_feature_rows", case)


def test_an_earlier_wrong_attempt_does_not_spoil_a_later_right_one():
    # The case: the check handed its own lists to the learner's function, which changed them.
    for function in (rows_mutating, lambda flowers: flowers.clear(), rows_unchecked):
        grade("lab6.to_feature_rows", {"to_feature_rows": function})
    assert grade("lab6.to_feature_rows", {"to_feature_rows": rows_reference}).passed
    assert DOCS_FLOWERS[0]["sepal_length"] == 6.8 and len(DOCS_FLOWERS) == 2


# -- Exercise 2: class indices to names ----------------------------------------------------------

def labels_reference(predictions):
    labels = []
    for index in predictions:
        if index not in range(len(IRIS_CLASSES)):
            raise ValueError(f"{index!r} is not a class index")
        labels.append(IRIS_CLASSES[int(index)])
    return labels


def labels_bounds(predictions):
    if any(not 0 <= p < len(IRIS_CLASSES) for p in predictions):
        raise ValueError("class index out of range 0..2")
    return [IRIS_CLASSES[p] for p in predictions]


def labels_numpy(predictions):
    indices = np.asarray(predictions, dtype=int)
    if indices.size and (indices.min() < 0 or indices.max() >= len(IRIS_CLASSES)):
        raise ValueError(f"no class for {indices.tolist()}")
    return np.array(IRIS_CLASSES)[indices]


def labels_upper_bound_only(predictions):
    if any(p >= len(IRIS_CLASSES) for p in predictions):
        raise ValueError("no such class")
    return [IRIS_CLASSES[p] for p in predictions]


@pytest.mark.parametrize("case", cases(
    Case("reference", {"to_labels": labels_reference}, PASS),
    Case("bounds", {"to_labels": labels_bounds}, PASS),
    Case("numpy", {"to_labels": labels_numpy}, PASS),
    Case("no-check", {"to_labels": lambda predictions: [IRIS_CLASSES[p] for p in predictions]}, FAIL, "ValueError"),
    Case("negative-accepted", {"to_labels": labels_upper_bound_only}, FAIL, "rather than guess"),
    Case("indices-back", {"to_labels": lambda predictions: list(predictions)}, FAIL, "class names"),
    Case("key-error", {"to_labels": lambda ps: [dict(enumerate(IRIS_CLASSES))[p] for p in ps]}, FAIL, "ValueError"),
))
def test_to_labels(case):
    judge("lab6.to_labels", case)


# -- Exercise 3: a V2 body with named features ---------------------------------------------------

def body(datatype="FP32", flowers=DOCS_FLOWERS, **changes):
    inputs = [{"name": name, "shape": [len(flowers)], "datatype": datatype, "data": [f[name] for f in flowers]}
              for name in FEATURE_NAMES]
    for index, change in changes.items():
        inputs[int(index[1:])].update(change)
    return {"v2_body": {"inputs": inputs}}


@pytest.mark.parametrize("case", cases(
    Case("comprehension", body(), PASS),
    Case("fp64", body("FP64"), PASS),
    Case("typed-out", {"v2_body": {"inputs": [
        {"name": "sepal_length", "shape": [2], "datatype": "FP32", "data": [6.8, 6.0]},
        {"name": "sepal_width", "shape": [2], "datatype": "FP32", "data": [2.8, 3.4]},
        {"name": "petal_length", "shape": [2], "datatype": "FP32", "data": [4.8, 4.5]},
        {"name": "petal_width", "shape": [2], "datatype": "FP32", "data": [1.4, 1.6]}]}}, PASS),
    Case("inputs-in-another-order", {"v2_body": {"inputs": body()["v2_body"]["inputs"][::-1]}}, PASS),
    Case("int32-with-decimals", body("INT32"), FAIL, "FP32"),
    Case("lower-case-fp32", body("fp32"), FAIL, "FP32"),
    Case("whole-number-int64", body("INT64", flowers=[{n: 5 for n in FEATURE_NAMES}] * 2), FAIL, "decimals"),
    Case("flowers-swapped", body(flowers=DOCS_FLOWERS[::-1]), FAIL, "data[0]"),
    Case("one-tensor", {"v2_body": {"inputs": [{"name": "input-0", "shape": [2, 4], "datatype": "FP32",
                                                 "data": [6.8, 2.8, 4.8, 1.4, 6.0, 3.4, 4.5, 1.6]}]}}, FAIL,
         "FEATURE_NAMES"),
    Case("misspelt-name", body(i0={"name": "sepal_lenght"}), FAIL, "FEATURE_NAMES"),
    Case("shape-disagrees", body(i1={"shape": [1]}), FAIL, None),
    Case("numpy-data", body(i0={"data": np.array([6.8, 6.0])}), FAIL, ".tolist()"),
))
def test_v2_body(case):
    judge("lab6.v2_body", case)


# -- what a check survives -------------------------------------------------------------------------

def test_learner_code_that_exits_interrupts_or_never_returns_is_a_verdict(monkeypatch):
    monkeypatch.setattr(check_guard, "CHECK_TIME_LIMIT", 1.0)

    def forever(flowers):
        while True:
            pass

    for function, error in [(lambda flowers: sys.exit(1), "SystemExit"),
                            (lambda flowers: exit(), "SystemExit"),
                            (lambda flowers: (_ for _ in ()).throw(KeyboardInterrupt), "KeyboardInterrupt"),
                            (forever, "Timeout")]:
        result = grade("lab6.to_feature_rows", {"to_feature_rows": function})
        assert not result.passed and result.error == error, result.text()
        assert result.hint
