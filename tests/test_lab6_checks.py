"""Lab 6's graded checks: the reference answers pass, typical wrong answers fail with a useful
message and hint, and odd answers (not functions, functions that crash) never crash the check."""

from __future__ import annotations

import numpy as np
import pytest

from kserve_workshop.runtime.features import DOCS_FLOWERS, FEATURE_NAMES, class_labels, feature_rows, v2_request
from kserve_workshop.labkit.grading import CheckNotPassed
from kserve_workshop.training import IRIS_CLASSES

from support.checks import assert_fails, lab_runner


run = lab_runner("lab6")


# -- to_feature_rows ----------------------------------------------------------------------------

def careful_rows(flowers):
    """A learner's answer that does it right, differently from the reference."""
    rows = []
    for flower in flowers:
        if set(flower) != set(FEATURE_NAMES):
            wrong = sorted(set(flower) ^ set(FEATURE_NAMES))
            raise ValueError(f"wrong features: {', '.join(wrong)}")
        for name in FEATURE_NAMES:
            if isinstance(flower[name], bool) or not isinstance(flower[name], (int, float)):
                raise ValueError(f"{name} is not a number")
        rows.append([flower[name] for name in FEATURE_NAMES])
    return np.array(rows)


def only_checks_missing(flowers):
    for flower in flowers:
        missing = [name for name in FEATURE_NAMES if name not in flower]
        if missing:
            raise ValueError(f"missing {missing}")
    return [[flower[name] for name in FEATURE_NAMES] for flower in flowers]


def only_checks_names(flowers):
    for flower in flowers:
        if set(flower) != set(FEATURE_NAMES):
            raise ValueError(f"wrong features {sorted(set(flower) ^ set(FEATURE_NAMES))}")
    return [[flower[name] for name in FEATURE_NAMES] for flower in flowers]


def careful_rows_but_bools(flowers):
    """Checks types with isinstance(..., (int, float)), which lets True through as 1."""
    for flower in flowers:
        if set(flower) != set(FEATURE_NAMES):
            raise ValueError(f"wrong features: {sorted(set(flower) ^ set(FEATURE_NAMES))}")
        for name in FEATURE_NAMES:
            if not isinstance(flower[name], (int, float)):
                raise ValueError(f"{name} is not a number")
    return [[flower[name] for name in FEATURE_NAMES] for flower in flowers]


@pytest.mark.parametrize("answer", [feature_rows, careful_rows])
def test_right_feature_rows_pass(answer):
    assert run("to_feature_rows", to_feature_rows=answer).passed


@pytest.mark.parametrize("answer, mentions", [
    (lambda flowers: [[f[n] for n in FEATURE_NAMES] for f in flowers], "raised KeyError, not ValueError"),
    (lambda flowers: [list(f.values()) for f in flowers], "wrong rows for one flower with its keys in another order"),
    (lambda flowers: [[f.get(n) for n in FEATURE_NAMES] for f in flowers], "it accepted a flower without petal_width"),
    (only_checks_missing, "it accepted an unknown extra feature 'colour'"),
    (only_checks_names, "it accepted sepal_length given as the text '6.8'"),
    (careful_rows_but_bools, "it accepted petal_width given as True"),
    (lambda flowers: (_ for _ in ()).throw(ValueError("bad input")) if any(len(f) != 4 for f in flowers)
     else feature_rows(flowers), "does not say what is wrong"),
    (lambda flowers: feature_rows(flowers)[:1], "wrong rows for the docs' two flowers"),
    (lambda: None, "it raised on the docs' two flowers"),
    ("not a function", "must be a function"),
])
def test_wrong_feature_rows_fail(answer, mentions):
    assert_fails(run("to_feature_rows", to_feature_rows=answer), mentions)


def test_rows_that_are_not_numbers_fail_without_crashing():
    assert_fails(run("to_feature_rows", to_feature_rows=lambda flowers: [["x"] * 4 for _ in flowers]),
                 "are not numbers")


def test_a_blank_answer_is_reported_as_unfinished():
    result = run("to_feature_rows", to_feature_rows=...)
    assert not result.passed and "still contains `...`" in result.text()


# -- to_labels ------------------------------------------------------------------------------------

def careful_labels(predictions):
    labels = []
    for index in predictions:
        if index not in (0, 1, 2):
            raise ValueError(f"{index} is not a class")
        labels.append(IRIS_CLASSES[int(index)])
    return labels


def no_upper_bound_only(predictions):
    if any(index > 2 for index in predictions):
        raise ValueError("no such class")
    return [IRIS_CLASSES[index] for index in predictions]


@pytest.mark.parametrize("answer", [class_labels, careful_labels])
def test_right_labels_pass(answer):
    assert run("to_labels", to_labels=answer).passed


@pytest.mark.parametrize("answer, mentions", [
    (lambda predictions: [IRIS_CLASSES[i] for i in predictions], "raised IndexError, not ValueError"),
    (lambda predictions: [IRIS_CLASSES[i] if i <= 2 else 1 / 0 for i in predictions],
     "raised ZeroDivisionError, not ValueError"),
    (no_upper_bound_only, "it accepted -1 is not a class"),
    (lambda predictions: list(predictions), "wrong labels for predictions [1, 1]"),
    (lambda predictions: (IRIS_CLASSES[i] for i in predictions), "wrong labels"),
    (lambda predictions: [IRIS_CLASSES[i] for i in predictions[:1]], "wrong labels for predictions [1, 1]"),
    (lambda predictions: [str(i) for i in predictions], "wrong labels"),
    (lambda predictions: 1 / 0, "it raised on predictions [1, 1]"),
])
def test_wrong_labels_fail(answer, mentions):
    assert_fails(run("to_labels", to_labels=answer), mentions)


# -- v2_body ------------------------------------------------------------------------------------

def test_the_reference_v2_body_passes():
    assert run("v2_body", v2_body=v2_request(DOCS_FLOWERS)).passed
    nested = v2_request(DOCS_FLOWERS)
    for tensor in nested["inputs"]:
        tensor["shape"], tensor["data"] = [2, 1], [[value] for value in tensor["data"]]
    assert run("v2_body", v2_body=nested).passed


def per_flower_body():
    """The common mix-up: one tensor per flower instead of one per feature."""
    return {"inputs": [{"name": f"flower-{i}", "shape": [4], "datatype": "FP32", "data": list(flower.values())}
                       for i, flower in enumerate(DOCS_FLOWERS)]}


def body_with(**changes):
    body = v2_request(DOCS_FLOWERS)
    for key, value in changes.items():
        body["inputs"][0][key] = value
    return body


@pytest.mark.parametrize("answer, mentions", [
    (per_flower_body(), "would answer 400"),
    (body_with(datatype="BYTES"), "datatype BYTES"),
    (body_with(data=[6.0, 6.8]), "not the docs' two flowers"),
    (body_with(name="sepal length"), "unknown feature 'sepal length'"),
    ({"inputs": v2_request(DOCS_FLOWERS)["inputs"][1:]}, "missing sepal_length"),
    (body_with(data=np.array([6.8, 6.0])), "cannot be sent as JSON"),
    ({"instances": DOCS_FLOWERS}, "a list of 'inputs'"),
    ({"inputs": ["sepal_length"]}, "must be a dict"),
    (None, "a list of 'inputs'"),
])
def test_wrong_v2_bodies_fail(answer, mentions):
    assert_fails(run("v2_body", v2_body=answer), mentions)


def test_strict_mode_raises_on_a_wrong_answer(monkeypatch):
    monkeypatch.setenv("WORKSHOP_CHECKS_STRICT", "1")
    with pytest.raises(CheckNotPassed):
        run("to_labels", to_labels=lambda predictions: [])
