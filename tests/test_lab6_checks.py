"""Lab 6's graded checks of the model file's two functions: the reference answers pass, typical wrong
answers fail with a useful message and hint, and odd answers (not functions, functions that crash, no
model file) never crash the check. The classes, graded through KServe's model server, are in
tests/learner_answers/test_learner_answers_lab6.py."""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np
import pytest

from kserve_workshop.custom.model_file import load_model_file
from kserve_workshop.runtime.features import FEATURE_NAMES, class_labels, feature_rows
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
    assert run("to_feature_rows", iris_model=model(to_feature_rows=answer)).passed


@pytest.mark.parametrize(
    "answer, mentions",
    [
        (lambda flowers: [[f[n] for n in FEATURE_NAMES] for f in flowers], "raised KeyError, not ValueError"),
        (
            lambda flowers: [list(f.values()) for f in flowers],
            "wrong rows for one flower with its keys in another order",
        ),
        (
            lambda flowers: [[f.get(n) for n in FEATURE_NAMES] for f in flowers],
            "it accepted a flower without petal_width",
        ),
        (only_checks_missing, "it accepted an unknown extra feature 'colour'"),
        (only_checks_names, "it accepted sepal_length given as the text '6.8'"),
        (careful_rows_but_bools, "it accepted petal_width given as True"),
        (
            lambda flowers: (
                (_ for _ in ()).throw(ValueError("bad input"))
                if any(len(f) != 4 for f in flowers)
                else feature_rows(flowers)
            ),
            "does not say what is wrong",
        ),
        (lambda flowers: feature_rows(flowers)[:1], "wrong rows for the docs' two flowers"),
        (lambda: None, "it raised on the docs' two flowers"),
        ("not a function", "must be a function"),
    ],
)
def test_wrong_feature_rows_fail(answer, mentions):
    assert_fails(run("to_feature_rows", iris_model=model(to_feature_rows=answer)), mentions)


def test_rows_that_are_not_numbers_fail_without_crashing():
    answer = model(to_feature_rows=lambda flowers: [["x"] * 4 for _ in flowers])
    assert_fails(run("to_feature_rows", iris_model=answer), "are not numbers")


def test_a_blank_answer_is_reported_as_unfinished():
    result = run("to_feature_rows", iris_model=...)
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
    assert run("to_labels", iris_model=model(to_labels=answer)).passed


@pytest.mark.parametrize(
    "answer, mentions",
    [
        (lambda predictions: [IRIS_CLASSES[i] for i in predictions], "raised IndexError, not ValueError"),
        (
            lambda predictions: [IRIS_CLASSES[i] if i <= 2 else 1 / 0 for i in predictions],
            "raised ZeroDivisionError, not ValueError",
        ),
        (no_upper_bound_only, "it accepted -1 is not a class"),
        (lambda predictions: list(predictions), "wrong labels for predictions [1, 1]"),
        (lambda predictions: (IRIS_CLASSES[i] for i in predictions), "wrong labels"),
        (lambda predictions: [IRIS_CLASSES[i] for i in predictions[:1]], "wrong labels for predictions [1, 1]"),
        (lambda predictions: [str(i) for i in predictions], "wrong labels"),
        (lambda predictions: 1 / 0, "it raised on predictions [1, 1]"),
    ],
)
def test_wrong_labels_fail(answer, mentions):
    assert_fails(run("to_labels", iris_model=model(to_labels=answer)), mentions)


# -- the model file behind the answers ----------------------------------------------------------


def model(**functions):
    """What the notebook's ``iris_model`` offers the checks: the file's functions as attributes."""
    return SimpleNamespace(**functions)


@pytest.mark.parametrize(
    "answer, mentions",
    [
        (None, "is not your model file"),
        ("iris_model.py", "is not your model file"),
        (model(to_labels=class_labels), "has no `to_feature_rows`"),
    ],
)
def test_something_other_than_a_model_file_fails(answer, mentions):
    assert_fails(run("to_feature_rows", iris_model=answer), mentions)


def test_the_file_as_it_is_now_is_graded(tmp_path):
    path = tmp_path / "iris_model.py"
    path.write_text(
        "FEATURE_NAMES = ('sepal_length', 'sepal_width', 'petal_length', 'petal_width')\n"
        "def to_feature_rows(flowers):\n    return [[f[n] for n in FEATURE_NAMES] for f in flowers]\n"
    )
    loaded = load_model_file(path)
    assert_fails(run("to_feature_rows", iris_model=loaded), "raised KeyError")
    # the learner fixed the file and ran the %%writefile cell, but not the cell that loads it
    path.write_text("from kserve_workshop.runtime.features import feature_rows as to_feature_rows\n")
    assert run("to_feature_rows", iris_model=loaded).passed
    path.write_text("def to_feature_rows(flowers)\n")  # and then broke it
    assert_fails(run("to_feature_rows", iris_model=loaded), "cannot be imported")


def test_strict_mode_raises_on_a_wrong_answer(monkeypatch):
    monkeypatch.setenv("WORKSHOP_CHECKS_STRICT", "1")
    with pytest.raises(CheckNotPassed):
        run("to_labels", iris_model=model(to_labels=lambda predictions: []))


# -- the server checks' cases agree with the workshop's reference transformer ------------------------


def test_the_transformer_checks_cases_are_what_the_reference_transformer_accepts_and_refuses():
    import asyncio

    from kserve.errors import InvalidInput

    from kserve_workshop.labkit.checks.lab6_serving import BAD_REQUESTS, GOOD_REQUESTS
    from kserve_workshop.runtime.transformer import IrisTransformer

    reference = IrisTransformer("iris", predictor_protocol="v1")
    for what, flowers in GOOD_REQUESTS:
        assert asyncio.run(reference.preprocess({"instances": flowers}))["instances"] == feature_rows(flowers), what
    for what, body, mentions in BAD_REQUESTS:
        with pytest.raises(InvalidInput) as refused:
            asyncio.run(reference.preprocess(body))
        assert not mentions or any(text in str(refused.value) for text in mentions), what
