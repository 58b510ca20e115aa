"""Lab 1 answers as learners write them, through the real checks (a real model server where the
check is about what the server answered)."""

from __future__ import annotations

import copy
import json
from fractions import Fraction

import joblib
import numpy as np
import pytest
from sklearn.metrics import accuracy_score
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.svm import SVC

from answer_cases import FAIL, PASS, Case, cases, grade, judge
from kserve_workshop import training
from kserve_workshop.dataplane.client import infer_v2, predict_v1
from kserve_workshop.processes import LocalModelServer

SLOW_FIXTURES = {"servers"}

DOCS = [[6.8, 2.8, 4.8, 1.4], [6.0, 3.4, 4.5, 1.6]]
SPLIT = training.iris_split()
X_TRAIN, X_TEST, Y_TRAIN, Y_TEST = SPLIT.X_train, SPLIT.X_test, SPLIT.y_train, SPLIT.y_test


def svc():
    return SVC(gamma="scale", probability=True)


MODEL = svc().fit(X_TRAIN, Y_TRAIN)
SCORE = MODEL.score(X_TEST, Y_TEST)
ON_HELD_OUT = svc().fit(X_TEST, Y_TEST)
ON_ALL = svc().fit(np.vstack([X_TRAIN, X_TEST]), np.concatenate([Y_TRAIN, Y_TEST]))
SHUFFLED = np.random.default_rng(3).permutation(len(X_TRAIN))
SCALED = make_pipeline(StandardScaler(), SVC()).fit(X_TRAIN, Y_TRAIN)
FEW_ROWS = svc().fit(X_TRAIN[:12], Y_TRAIN[:12])


# -- Exercise 1: accuracy ------------------------------------------------------------------------


@pytest.mark.parametrize(
    "case",
    cases(
        Case("score-on-held-out", {"model": MODEL, "accuracy": SCORE}, PASS, "0.956"),
        Case("float32", {"model": MODEL, "accuracy": np.float32(SCORE)}, PASS),
        Case("rounded-3", {"model": MODEL, "accuracy": round(SCORE, 3)}, PASS),
        Case("rounded-2", {"model": MODEL, "accuracy": round(SCORE, 2)}, PASS),
        Case("accuracy-score", {"model": MODEL, "accuracy": accuracy_score(Y_TEST, MODEL.predict(X_TEST))}, PASS),
        Case("fraction", {"model": MODEL, "accuracy": Fraction(int(round(SCORE * 45)), 45)}, PASS),
        Case(
            "shuffled-training-rows",
            lambda: {
                "model": (m := svc().fit(X_TRAIN[SHUFFLED], Y_TRAIN[SHUFFLED])),
                "accuracy": m.score(X_TEST, Y_TEST),
            },
            PASS,
        ),
        Case("scaled-pipeline", {"model": SCALED, "accuracy": SCALED.score(X_TEST, Y_TEST)}, PASS),
        Case(
            "fit-on-held-out",
            {"model": ON_HELD_OUT, "accuracy": ON_HELD_OUT.score(X_TEST, Y_TEST)},
            FAIL,
            "fit on the training rows only",
        ),
        Case(
            "fit-on-all-rows",
            {"model": ON_ALL, "accuracy": ON_ALL.score(X_TEST, Y_TEST)},
            FAIL,
            "fit on the training rows only",
        ),
        Case(
            "scored-on-training-rows",
            {"model": MODEL, "accuracy": MODEL.score(X_TRAIN, Y_TRAIN)},
            FAIL,
            "score on the training rows",
        ),
        Case("percentage", {"model": MODEL, "accuracy": SCORE * 100}, FAIL, "do not multiply by 100"),
        Case("text", {"model": MODEL, "accuracy": str(SCORE)}, FAIL, "is text"),
        Case("one-decimal", {"model": MODEL, "accuracy": round(SCORE, 1)}, FAIL, "two decimals"),
        Case(
            "cut-off-not-rounded", {"model": MODEL, "accuracy": int(SCORE * 1000) / 1000}, FAIL, "cut off, not rounded"
        ),
        Case("bool", {"model": MODEL, "accuracy": True}, FAIL, "True and False"),
        Case("weak-model", {"model": FEW_ROWS, "accuracy": FEW_ROWS.score(X_TEST, Y_TEST)}, FAIL, "gamma='scale'"),
        Case("unfitted-model", {"model": svc(), "accuracy": 0.95}, FAIL, "fit the model"),
    ),
)
def test_accuracy(case):
    judge("lab1.accuracy", case)


def test_a_failed_accuracy_never_quotes_a_figure_of_a_wrongly_fitted_model():
    result = grade("lab1.accuracy", {"model": ON_HELD_OUT, "accuracy": 0.95})
    assert not result.passed and "1.0" not in str(result.expected)


def test_an_edited_split_does_not_change_what_the_check_grades():
    # The learner re-splits (half the rows held out) and fits on the new training rows, which hold
    # some of the lab's held-out flowers: the check grades against the lab's split.
    other = training.iris_split(test_size=0.5, random_state=1)
    model = svc().fit(other.X_train, other.y_train)
    result = grade(
        "lab1.accuracy", {"model": model, "accuracy": model.score(other.X_test, other.y_test), "split": other}
    )
    assert not result.passed


# -- Exercise 2: saved model ---------------------------------------------------------------------


@pytest.mark.parametrize(
    "case",
    cases(
        Case("save-model", lambda tmp_path: {"model": MODEL, "model_path": training.save_model(MODEL, tmp_path)}, PASS),
        Case(
            "as-text", lambda tmp_path: {"model": MODEL, "model_path": str(training.save_model(MODEL, tmp_path))}, PASS
        ),
        Case(
            "joblib-dump",
            lambda tmp_path: {"model": MODEL, "model_path": joblib.dump(MODEL, tmp_path / "model.joblib")[0]},
            PASS,
        ),
        Case(
            "the-directory",
            lambda tmp_path: {"model": MODEL, "model_path": training.save_model(MODEL, tmp_path).parent},
            FAIL,
            "not the directory",
        ),
        Case(
            "another-model",
            lambda tmp_path: {"model": MODEL, "model_path": training.save_model(FEW_ROWS, tmp_path)},
            FAIL,
            "save again",
        ),
        Case(
            "two-model-files",
            lambda tmp_path: {
                "model": MODEL,
                "model_path": training.save_model(MODEL, tmp_path),
                "_": joblib.dump(MODEL, tmp_path / "old.pkl"),
            },
            FAIL,
            "one model file per directory",
        ),
        Case(
            "a-pickle-named-txt",
            lambda tmp_path: {"model": MODEL, "model_path": joblib.dump(MODEL, tmp_path / "m.txt")[0]},
            FAIL,
            "save_model",
        ),
        Case(
            "not-saved", lambda tmp_path: {"model": MODEL, "model_path": tmp_path / "model.joblib"}, FAIL, "save_model"
        ),
    ),
)
def test_saved_model(case, tmp_path):
    judge("lab1.saved_model", case, tmp_path=tmp_path)


# -- Exercise 3: V1 payload ----------------------------------------------------------------------


@pytest.mark.parametrize(
    "case",
    cases(
        Case("the-constant", {"v1_payload": {"instances": training.DOCS_IRIS_INPUT}}, PASS),
        Case("typed-out", {"v1_payload": {"instances": [[6.8, 2.8, 4.8, 1.4], [6, 3.4, 4.5, 1.6]]}}, PASS),
        Case("through-numpy", {"v1_payload": {"instances": np.asarray(training.DOCS_IRIS_INPUT).tolist()}}, PASS),
        Case("tuples", {"v1_payload": {"instances": tuple(tuple(row) for row in DOCS)}}, PASS),
        Case("json-round-trip", {"v1_payload": json.loads(json.dumps({"instances": training.DOCS_IRIS_INPUT}))}, PASS),
        Case(
            "a-third-flower", {"v1_payload": {"instances": [*DOCS, [5.1, 3.5, 1.4, 0.2]]}}, FAIL, "without adding rows"
        ),
        Case("reversed", {"v1_payload": {"instances": DOCS[::-1]}}, FAIL, "in that order"),
        Case("one-flower", {"v1_payload": {"instances": DOCS[:1]}}, FAIL, "both rows"),
        Case("v2-key", {"v1_payload": {"inputs": DOCS}}, FAIL, "instances"),
        Case("numpy-array", {"v1_payload": {"instances": np.asarray(DOCS)}}, FAIL, ".tolist()"),
        Case("strings", {"v1_payload": {"instances": [[str(v) for v in row] for row in DOCS]}}, FAIL, "numbers"),
        Case("a-flat-row", {"v1_payload": {"instances": DOCS[0]}}, FAIL, "[[...]]"),
        Case(
            "named-features",
            {"v1_payload": {"instances": [dict(zip(["sl", "sw", "pl", "pw"], row)) for row in DOCS]}},
            FAIL,
            "not named features",
        ),
    ),
)
def test_v1_payload(case):
    judge("lab1.v1_payload", case)


def test_an_answer_cannot_change_the_documented_input():
    # The case: appending to the shared constant used to turn it into three flowers.
    with pytest.raises(TypeError, match="copy"):
        training.DOCS_IRIS_INPUT.append([5.1, 3.5, 1.4, 0.2])
    payload = {"instances": training.DOCS_IRIS_INPUT}
    with pytest.raises(TypeError):
        payload["instances"].append([5.1, 3.5, 1.4, 0.2])
    assert training.DOCS_IRIS_INPUT == DOCS
    mine = copy.deepcopy(payload)
    mine["instances"].append([5.1, 3.5, 1.4, 0.2])  # a copy is the learner's to change
    assert not grade("lab1.v1_payload", {"v1_payload": mine}).passed
    assert grade("lab1.v1_payload", {"v1_payload": payload}).passed


# -- Exercise 4: V2 payload ----------------------------------------------------------------------


def v2(**changes):
    tensor = {"name": "input-0", "shape": [2, 4], "datatype": "FP32", "data": [v for row in DOCS for v in row]}
    tensor.update(changes)
    return {"v2_payload": {"inputs": [tensor]}}


@pytest.mark.parametrize(
    "case",
    cases(
        Case("canonical", v2(), PASS),
        Case("nested-data", v2(data=DOCS), PASS),
        Case("fp64", v2(datatype="FP64"), PASS),
        Case("ravel", v2(data=np.asarray(DOCS).ravel().tolist(), shape=list(np.asarray(DOCS).shape)), PASS),
        Case("another-name", v2(name="flowers"), PASS, "whatever its name"),
        Case("int32-decimals", v2(datatype="INT32"), FAIL, "FP32"),
        Case("lower-case-fp32", v2(datatype="fp32"), FAIL, "FP32"),
        Case("fp16", v2(datatype="FP16"), FAIL, "FP16 keeps only about 3 significant digits"),
        Case("column-major", v2(data=np.asarray(DOCS).T.ravel().tolist()), FAIL, "row by row"),
        Case("flat-shape", v2(shape=[8]), FAIL, None),
        Case("shape-and-data-disagree", v2(shape=[1, 4]), FAIL, "row by row"),
        Case("two-inputs", {"v2_payload": {"inputs": [v2()["v2_payload"]["inputs"][0]] * 2}}, FAIL, "one input"),
        Case("v1-body", {"v2_payload": {"instances": DOCS}}, FAIL, "input-0"),
        Case(
            "no-datatype",
            {
                "v2_payload": {
                    "inputs": [{"name": "input-0", "shape": [2, 4], "data": [v for row in DOCS for v in row]}]
                }
            },
            FAIL,
            "input-0",
        ),
    ),
)
def test_v2_payload(case):
    judge("lab1.v2_payload", case)


# -- Exercise 5: V2 answer to class names ----------------------------------------------------------

RESPONSE = {
    "model_name": "sklearn-iris",
    "id": "x",
    "parameters": None,
    "outputs": [{"name": "output-0", "shape": [2], "datatype": "INT64", "data": [1, 2]}],
}


@pytest.mark.parametrize(
    "case",
    cases(
        Case(
            "comprehension", {"v2_response": RESPONSE, "v2_classes": [training.IRIS_CLASSES[i] for i in [1, 2]]}, PASS
        ),
        Case("tuple", {"v2_response": RESPONSE, "v2_classes": ("versicolor", "virginica")}, PASS),
        Case("numpy-take", {"v2_response": RESPONSE, "v2_classes": np.array(training.IRIS_CLASSES)[[1, 2]]}, PASS),
        Case("indices", {"v2_response": RESPONSE, "v2_classes": [1, 2]}, FAIL, "IRIS_CLASSES[index]"),
        Case("off-by-one", {"v2_response": RESPONSE, "v2_classes": ["setosa", "versicolor"]}, FAIL, "outputs[0]"),
        Case("one-name", {"v2_response": RESPONSE, "v2_classes": ["versicolor"]}, FAIL, "one name per flower"),
        Case("a-string", {"v2_response": RESPONSE, "v2_classes": "versicolor virginica"}, FAIL, "IRIS_CLASSES"),
    ),
)
def test_v2_classes(case):
    judge("lab1.v2_classes", case)


# -- Exercise 6: the server's answers --------------------------------------------------------------


@pytest.fixture(scope="module")
def servers(tmp_path_factory):
    """A server for the lab's model, a fresh one that nobody asks yet, and one serving another model."""
    root = tmp_path_factory.mktemp("lab1-servers")
    training.save_model(MODEL, root / "model")
    training.save_model(FEW_ROWS, root / "other")
    # Three names: starting a server stops a running one of the same name (a re-run notebook cell).
    with (
        LocalModelServer(root / "model", name="lab1-asked") as asked,
        LocalModelServer(root / "model", name="lab1-fresh") as fresh,
        LocalModelServer(root / "other", name="lab1-other") as other,
    ):
        yield asked, fresh, other


def test_the_server_s_own_answers_pass_however_they_were_fetched(servers):
    asked, _, _ = servers
    rows = X_TEST.tolist()
    whole = predict_v1(asked.url, asked.model_name, rows)
    one_by_one = [predict_v1(asked.url, asked.model_name, [row])[0] for row in rows]
    over_v2 = infer_v2(asked.url, asked.model_name, rows)["outputs"][0]["data"]
    for label, answer in [("v1", whole), ("row-by-row", one_by_one), ("v2", over_v2), ("numpy", np.asarray(whole))]:
        result = grade("lab1.server_predictions", {"server_predictions": answer, "model": MODEL, "server": asked})
        assert result.passed, f"{label}: {result.text()}"


def test_answers_the_server_never_gave_fail_with_the_reason(servers):
    _, fresh, other = servers
    rows = X_TEST.tolist()
    in_notebook = MODEL.predict(X_TEST).tolist()

    def run(answer, server=fresh):
        return grade("lab1.server_predictions", {"server_predictions": answer, "model": MODEL, "server": server})

    never = run(in_notebook)  # the case: model.predict, the server never asked
    assert not never.passed and "never received" in never.message
    assert "model.predict runs the model here" in never.hint

    part = predict_v1(fresh.url, fresh.model_name, rows[:10])
    short = run(part)
    assert not short.passed and "send all of split.X_test" in short.hint
    mixed = run(part + in_notebook[10:])
    assert not mixed.passed and "received only 10 of the 45" in mixed.message

    served = predict_v1(fresh.url, fresh.model_name, rows)
    assert run(served).passed
    shuffled = run(sorted(served))
    assert not shuffled.passed and "in the order of split.X_test" in shuffled.hint
    not_a_server = run(served, server=fresh.url)
    assert not not_a_server.passed and "LocalModelServer" in not_a_server.hint

    stale = predict_v1(other.url, other.model_name, rows)
    assert stale != in_notebook, "the other model must answer differently for this test to mean anything"
    restarted = run(stale, server=other)
    assert not restarted.passed and "restart the server" in restarted.hint
    mismatch = run(in_notebook, server=other)
    assert not mismatch.passed and "not the server's" in mismatch.hint


# -- Part 7: cluster vs local ----------------------------------------------------------------------


@pytest.mark.parametrize(
    "case",
    cases(
        Case("equal", {"cluster_predictions": [1, 1], "v1_predictions": [1, 1]}, PASS),
        Case("numpy", {"cluster_predictions": np.array([1, 1]), "v1_predictions": [1, 1]}, PASS),
        Case("differs", {"cluster_predictions": [1, 2], "v1_predictions": [1, 1]}, FAIL, "storageUri"),
        Case("names", {"cluster_predictions": ["versicolor"] * 2, "v1_predictions": [1, 1]}, FAIL, "indices"),
        Case("no-local-answer", {"cluster_predictions": [1, 1], "v1_predictions": []}, FAIL, "part 4"),
    ),
)
def test_cluster_predictions(case):
    judge("lab1.cluster_predictions", case)
