"""Lab 1's graded checks: right answers pass; wrong answers fail with a hint; malformed ones never crash."""

from __future__ import annotations

import copy

import numpy as np
import pytest

from kserve_workshop import training
from kserve_workshop.labkit.grading import check

from support.checks import assert_fails, lab_runner

DOCS = training.DOCS_IRIS_INPUT
GOOD_V1 = {"instances": DOCS}
GOOD_V2 = {
    "inputs": [
        {"name": "input-0", "shape": [2, 4], "datatype": "FP32", "data": [6.8, 2.8, 4.8, 1.4, 6.0, 3.4, 4.5, 1.6]}
    ]
}
#: The documented shape of KServe's V2 answer for the docs' input.
V2_RESPONSE = {
    "model_name": "sklearn-iris",
    "id": "x",
    "parameters": None,
    "outputs": [{"name": "output-0", "shape": [2], "datatype": "INT64", "data": [1, 1]}],
}


class Hostile:
    """A learner object that raises on everything a check might do with it."""

    def __getattr__(self, name):
        if name.startswith("__"):
            raise AttributeError(name)
        raise RuntimeError(f"hostile {name}")

    def __eq__(self, other):
        raise RuntimeError("hostile ==")

    def __iter__(self):
        raise RuntimeError("hostile iter")

    def __len__(self):
        raise RuntimeError("hostile len")

    __hash__ = object.__hash__


MALFORMED = [None, "text", 42, 3.5, [], {}, Hostile(), object(), True]
MALFORMED_IDS = [type(value).__name__ for value in MALFORMED]


@pytest.fixture(scope="module")
def split():
    return training.iris_split()


@pytest.fixture(scope="module")
def model(split):
    return training.train_iris(split)


run = lab_runner("lab1")


# -- accuracy ---------------------------------------------------------------------------------------


def test_accuracy_passes_the_held_out_score(model, split):
    assert run("accuracy", accuracy=training.evaluate(model, split), model=model).passed
    assert not run("accuracy", accuracy=0.95).passed, "without the model the accuracy cannot be verified"


def test_accuracy_rejects_training_accuracy_percentages_and_weak_models(model, split):
    train_accuracy = float(model.score(split.X_train, split.y_train))
    assert train_accuracy != training.evaluate(model, split)
    assert_fails(run("accuracy", accuracy=train_accuracy, model=model), mentions="held-out")
    assert_fails(run("accuracy", accuracy=95.5, model=model), mentions="do not multiply by 100")
    weak = training.train_iris(split, kind="tree").fit(split.X_train[:, :1], split.y_train)
    # A model fitted on one feature cannot score on four: reported, not raised.
    assert_fails(run("accuracy", accuracy=0.95, model=weak), mentions="could not be scored")
    poor = training.train_iris(split, kind="tree").fit(split.X_train[:8], split.y_train[:8])
    assert_fails(run("accuracy", accuracy=training.evaluate(poor, split), model=poor), mentions=">= 0.9")


@pytest.mark.parametrize("answer", MALFORMED, ids=MALFORMED_IDS)
def test_accuracy_survives_malformed_answers(answer):
    result = run("accuracy", accuracy=answer)
    assert not result.passed


def test_accuracy_survives_a_hostile_model_and_a_missing_variable(split):
    assert not run("accuracy", accuracy=0.95, model=Hostile(), split=split).passed
    missing = check("lab1.accuracy", {}, show=False)
    assert not missing.passed and "accuracy" in missing.text()


# -- saved model ------------------------------------------------------------------------------------


def test_saved_model_passes_for_save_model(model, split, tmp_path):
    path = training.save_model(model, tmp_path)
    assert run("saved_model", model_path=path, model=model, split=split).passed
    assert run("saved_model", model_path=str(path)).passed


def test_saved_model_rejects_missing_extra_wrong_and_other_models(model, split, tmp_path):
    assert_fails(run("saved_model", model_path=tmp_path / "nothing.joblib"), mentions="no file")
    text_file = tmp_path / "model.txt"
    text_file.write_text("x")
    assert_fails(run("saved_model", model_path=text_file), mentions=".joblib")

    crowded = tmp_path / "crowded"
    path = training.save_model(model, crowded)
    (crowded / "old.pkl").write_bytes(b"x")
    assert_fails(run("saved_model", model_path=path), mentions="more than one model file")

    other = tmp_path / "other"
    other_path = training.save_model(
        training.train_iris(split, kind="tree").fit(split.X_train[:20], split.y_train[:20]), other
    )
    assert_fails(run("saved_model", model_path=other_path, model=model, split=split), mentions="predicts differently")

    garbage = tmp_path / "garbage"
    garbage.mkdir()
    (garbage / "model.joblib").write_bytes(b"not a pickle")
    assert_fails(run("saved_model", model_path=garbage / "model.joblib"), mentions="does not load")


@pytest.mark.parametrize("answer", MALFORMED, ids=MALFORMED_IDS)
def test_saved_model_survives_malformed_answers(answer):
    assert not run("saved_model", model_path=answer).passed


# -- V1 payload -------------------------------------------------------------------------------------


def test_v1_payload_passes_for_the_docs_body():
    assert run("v1_payload", v1_payload=GOOD_V1).passed
    assert run("v1_payload", v1_payload={"instances": [[6.8, 2.8, 4.8, 1.4], [6, 3.4, 4.5, 1.6]]}).passed


@pytest.mark.parametrize(
    "payload, mentions",
    [
        ({"inputs": DOCS}, "'instances'"),
        ({"instances": DOCS[0]}, "not a row"),
        ({"instances": [row[:3] for row in DOCS]}, "4 features"),
        ({"instances": [[str(v) for v in row] for row in DOCS]}, "non-numeric"),
        ({"instances": DOCS[::-1]}, "docs' two flowers"),
        ({"instances": [DOCS[0]]}, "docs' two flowers"),
        ({"instances": np.asarray(DOCS)}, "cannot be sent as JSON"),
    ],
)
def test_v1_payload_rejects_wrong_bodies(payload, mentions):
    assert_fails(run("v1_payload", v1_payload=payload), mentions=mentions)


@pytest.mark.parametrize("answer", MALFORMED, ids=MALFORMED_IDS)
def test_v1_payload_survives_malformed_answers(answer):
    assert not run("v1_payload", v1_payload=answer).passed


# -- V2 payload -------------------------------------------------------------------------------------


def test_v2_payload_passes_for_a_correct_body():
    assert run("v2_payload", v2_payload=GOOD_V2).passed
    nested = copy.deepcopy(GOOD_V2)
    nested["inputs"][0]["data"] = DOCS  # nested data is allowed when it fills the shape
    assert run("v2_payload", v2_payload=nested).passed


def v2_with(**changes):
    payload = copy.deepcopy(GOOD_V2)
    payload["inputs"][0].update(changes)
    return payload


@pytest.mark.parametrize(
    "payload, mentions",
    [
        (v2_with(datatype="INT64", data=[7, 3, 5, 1, 6, 3, 4, 2]), "decimals"),
        (v2_with(datatype="float32"), "not a V2 datatype"),
        (v2_with(shape=[8]), "[rows, 4]"),
        (v2_with(shape=[4, 2]), "[rows, 4]"),
        (v2_with(shape=[2, 4, 1]), "[rows, 4]"),
        (v2_with(shape=[1, 4]), "needs 4 values, data has 8"),
        (v2_with(data=[6.8, 6.0, 2.8, 3.4, 4.8, 4.5, 1.4, 1.6]), "row by row"),
        ({"instances": DOCS}, "unknown field"),
        ({"inputs": [GOOD_V2["inputs"][0], GOOD_V2["inputs"][0]]}, "one input tensor"),
        ({"inputs": [{"name": "input-0", "shape": [2, 4], "data": [1.0] * 8}]}, "missing ['datatype']"),
    ],
)
def test_v2_payload_rejects_wrong_bodies(payload, mentions):
    assert_fails(run("v2_payload", v2_payload=payload), mentions=mentions)


@pytest.mark.parametrize("answer", MALFORMED, ids=MALFORMED_IDS)
def test_v2_payload_survives_malformed_answers(answer):
    assert not run("v2_payload", v2_payload=answer).passed


# -- V2 response to class names ---------------------------------------------------------------------


def test_v2_classes_passes_for_the_parsed_names():
    assert run("v2_classes", v2_classes=["versicolor", "versicolor"], v2_response=V2_RESPONSE).passed
    other = copy.deepcopy(V2_RESPONSE)
    other["outputs"][0]["data"] = [0, 2]
    assert run("v2_classes", v2_classes=("setosa", "virginica"), v2_response=other).passed


@pytest.mark.parametrize(
    "answer, mentions",
    [
        ([1, 1], "list of class names"),
        (["virginica", "virginica"], "not the classes"),
        (["versicolor"], "not the classes"),
        ("versicolor versicolor", "list of class names"),
    ],
)
def test_v2_classes_rejects_wrong_names(answer, mentions):
    assert_fails(run("v2_classes", v2_classes=answer, v2_response=V2_RESPONSE), mentions=mentions)


@pytest.mark.parametrize("answer", MALFORMED, ids=MALFORMED_IDS)
def test_v2_classes_survives_malformed_answers_and_responses(answer):
    assert not run("v2_classes", v2_classes=answer, v2_response=V2_RESPONSE).passed
    assert not run("v2_classes", v2_classes=["versicolor", "versicolor"], v2_response=answer).passed


# -- server vs in-process model ---------------------------------------------------------------------


def test_server_predictions_need_the_server_to_have_answered(model, split):
    # The server's own record decides (tests/learner_answers has the live-server cases).
    answer = model.predict(split.X_test).tolist()
    assert_fails(run("server_predictions", server_predictions=answer, model=model), mentions="LocalModelServer")
    assert_fails(
        run("server_predictions", server_predictions=answer[:5], model=model), mentions="send all of split.X_test"
    )


@pytest.mark.parametrize("answer", MALFORMED, ids=MALFORMED_IDS)
def test_server_predictions_survive_malformed_answers(answer, model, split):
    assert not run("server_predictions", server_predictions=answer, model=model).passed
    assert not run("server_predictions", server_predictions=[1] * 45, model=answer).passed


# -- cluster vs local -------------------------------------------------------------------------------


def test_cluster_predictions_must_equal_the_local_ones():
    assert run("cluster_predictions", cluster_predictions=[1, 1], v1_predictions=[1, 1]).passed
    assert_fails(
        run("cluster_predictions", cluster_predictions=[1, 2], v1_predictions=[1, 1]), mentions="answers differently"
    )


@pytest.mark.parametrize("answer", MALFORMED, ids=MALFORMED_IDS)
def test_cluster_predictions_survive_malformed_answers(answer):
    assert not run("cluster_predictions", cluster_predictions=answer, v1_predictions=[1, 1]).passed
    assert not run("cluster_predictions", cluster_predictions=[1, 1], v1_predictions=answer).passed


def test_lab1_has_at_least_four_local_checks():
    from kserve_workshop.labkit.check_registry import checks_for

    names = {spec.name for spec in checks_for("lab1")}
    assert {"accuracy", "saved_model", "v1_payload", "v2_payload", "v2_classes", "server_predictions"} <= names


def test_lab1_manifest_serves_the_uploaded_model_with_small_resources():
    from kserve_workshop.paths import MANIFESTS_DIR
    from kserve_workshop.platform import storage
    from kserve_workshop.serving import load_manifest

    isvc = load_manifest(MANIFESTS_DIR / "labs" / "01-serve-a-model" / "sklearn-iris-lab1.yaml")
    predictor = isvc["spec"]["predictor"]
    name = isvc["metadata"]["name"]
    # The notebook uploads with storage.upload_model(model_path, name): the URI and account must match.
    assert predictor["model"]["storageUri"] == storage.model_uri(name)
    assert predictor["serviceAccountName"] == storage.SERVICE_ACCOUNT
    assert predictor["model"]["runtime"] == "kserve-sklearnserver"
    assert predictor["model"]["modelFormat"]["name"] == "sklearn"
    assert predictor["model"]["resources"]["limits"] == {"cpu": "100m", "memory": "256Mi"}
