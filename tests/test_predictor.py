"""The sklearn predictor follows KServe's sklearn runtime contract (tested in-process, no server)."""

from __future__ import annotations

import asyncio

import joblib
import numpy as np
import pytest

from kserve_workshop import training
from kserve_workshop.runtime import sklearn_model as predictor
from kserve_workshop.errors import WorkshopError


@pytest.fixture(scope="module")
def model_dir(tmp_path_factory):
    directory = tmp_path_factory.mktemp("model")
    training.save_model(training.train_iris(), directory)
    return directory


@pytest.fixture(scope="module")
def kserve_types():
    from kserve import InferInput, InferRequest
    from kserve.errors import InvalidInput

    return InferInput, InferRequest, InvalidInput


def loaded(model_dir, **kwargs):
    model = predictor.make_model("sklearn-iris", model_dir, **kwargs)
    assert model.load() is True and model.ready
    return model


def test_finds_the_single_model_file_of_any_allowed_extension(tmp_path):
    for extension in (".joblib", ".pkl", ".pickle"):
        directory = tmp_path / extension.strip(".")
        directory.mkdir()
        (directory / f"model{extension}").write_bytes(b"x")
        (directory / "README.md").write_text("other files are ignored")
        assert predictor.find_model_file(directory).name == f"model{extension}"


def test_no_model_file_names_the_directory(tmp_path):
    (tmp_path / "model.txt").write_text("x")
    with pytest.raises(WorkshopError, match=f"no model file in {tmp_path}: expected exactly one of .joblib"):
        predictor.find_model_file(tmp_path)


def test_several_model_files_are_listed(tmp_path):
    for name in ("a.joblib", "b.pkl"):
        (tmp_path / name).write_bytes(b"x")
    with pytest.raises(WorkshopError, match="more than one model file .*: a.joblib, b.pkl"):
        predictor.find_model_file(tmp_path)


def test_missing_directory_is_a_clear_error(tmp_path):
    with pytest.raises(WorkshopError, match="does not exist"):
        predictor.find_model_file(tmp_path / "nope")


def test_v1_dict_request_gets_the_docs_answer(model_dir):
    model = loaded(model_dir, predict_proba=False)
    assert model.predict({"instances": training.DOCS_IRIS_INPUT}) == {"predictions": [1, 1]}


def test_v2_infer_request_gets_an_infer_response(model_dir, kserve_types):
    InferInput, InferRequest, _ = kserve_types
    tensor = InferInput(name="input-0", shape=[2, 4], datatype="FP32")
    tensor.set_data_from_numpy(np.asarray(training.DOCS_IRIS_INPUT, dtype=np.float32))
    response = loaded(model_dir, predict_proba=False).predict(InferRequest("sklearn-iris", [tensor]))
    output = response.outputs[0]
    assert output.shape == [2]
    assert output.as_numpy().tolist() == [1, 1]


def test_predict_proba_switch_from_the_environment(model_dir, monkeypatch):
    monkeypatch.setenv("PREDICT_PROBA", "true")
    probabilities = np.asarray(loaded(model_dir).predict({"instances": training.DOCS_IRIS_INPUT})["predictions"])
    assert probabilities.shape == (2, 3)
    assert np.allclose(probabilities.sum(axis=1), 1.0)
    assert probabilities.argmax(axis=1).tolist() == [1, 1]
    monkeypatch.setenv("PREDICT_PROBA", "false")
    assert loaded(model_dir).predict({"instances": training.DOCS_IRIS_INPUT}) == {"predictions": [1, 1]}


def test_predict_proba_needs_a_model_that_has_it(tmp_path):
    from sklearn.svm import SVC

    split = training.iris_split()
    joblib.dump(SVC().fit(split.X_train, split.y_train), tmp_path / "model.joblib")  # probability=False
    with pytest.raises(WorkshopError, match="PREDICT_PROBA=true but SVC has no predict_proba"):
        predictor.make_model("m", tmp_path, predict_proba=True).load()


def test_a_file_joblib_cannot_read_is_a_clear_error(tmp_path):
    (tmp_path / "model.joblib").write_bytes(b"this is not a pickle")
    with pytest.raises(WorkshopError, match="could not load .*model.joblib with joblib"):
        predictor.make_model("m", tmp_path).load()


@pytest.mark.parametrize(
    "instances, message",
    [
        ([[1.0, 2.0, 3.0]], "expected 4 features per instance, got 3"),
        ([["a", "b", "c", "d"]], "expected numbers"),
        ([1.0, 2.0, 3.0, 4.0], "expected a 2-D batch"),
        (["setosa"], "got a list of strings"),
    ],
)
def test_bad_instances_are_invalid_input_not_server_errors(model_dir, kserve_types, instances, message):
    InvalidInput = kserve_types[2]
    with pytest.raises(InvalidInput, match=message):
        loaded(model_dir, predict_proba=False).predict({"instances": instances})


V1_EXAMPLE = '{"instances": [[6.8, 2.8, 4.8, 1.4]]}'
V2_BODY = {"inputs": [{"name": "input-0", "shape": [1, 4], "datatype": "FP32", "data": [6.8, 2.8, 4.8, 1.4]}]}


@pytest.mark.parametrize(
    "body, message",
    [
        ({"rows": [[6.8, 2.8, 4.8, 1.4]]}, f"the V1 body has no 'instances' key (its keys: 'rows'); send {V1_EXAMPLE}"),
        ({}, "the V1 body has no 'instances' key (its keys: none)"),
        (
            V2_BODY,
            "this looks like a V2 body (inputs with name, shape, datatype and data) sent to the V1 URL: POST it "
            "to /v2/models/sklearn-iris/infer",
        ),
        (
            b'{"instances": [[6.8, 2.8, 4.8, 1.4]]}',
            "the body was not read as JSON: send it with the header Content-Type: application/json",
        ),
        ('{"instances": [[6.8, 2.8, 4.8, 1.4]]}', "the body was not read as JSON"),
        ([[6.8, 2.8, 4.8, 1.4]], "this one is a bare list"),
    ],
)
@pytest.mark.bad_input(
    tool="model server (V1 REST)",
    input="a V1 body without `instances`, a V2 body on the V1 URL, a body sent without "
    "`Content-Type: application/json`, a bare list",
    example="curl -d '{\"rows\": [[6.8, 2.8, 4.8, 1.4]]}' .../v1/models/sklearn-iris:predict",
    behaviour='HTTP 400 saying what is wrong: the missing key, "looks like a V2 body", "not read '
    'as JSON" (before: HTTP 500 `KeyError` and two tracebacks per request)',
)
def test_v1_bodies_of_the_wrong_shape_say_what_they_look_like(model_dir, kserve_types, body, message):
    InvalidInput = kserve_types[2]
    with pytest.raises(InvalidInput) as info:
        loaded(model_dir, predict_proba=False).predict(body)
    assert message in str(info.value)


def test_tf_serving_style_inputs_still_work_on_v1(model_dir):
    # KServe's V1 also reads rows under "inputs" (TF Serving's columnar name): not mistaken for V2.
    assert loaded(model_dir, predict_proba=False).predict({"inputs": training.DOCS_IRIS_INPUT}) == {
        "predictions": [1, 1]
    }


@pytest.mark.bad_input(
    tool="model server (LocalModelServer)",
    input="a pickled non-model (`{'a': 1}`) as model.joblib",
    example="joblib.dump({'a': 1}, 'model/model.joblib')",
    behaviour="refused when the model loads: `model.joblib holds a dict, not a model` (before: "
    '"ready", then HTTP 500 on every request)',
)
@pytest.mark.parametrize("thing", [{"a": 1}, [1, 2, 3], "a string"])
def test_a_pickled_non_model_is_refused_when_loading(tmp_path, thing):
    joblib.dump(thing, tmp_path / "model.joblib")
    with pytest.raises(WorkshopError, match=f"model.joblib holds a {type(thing).__name__}, not a model") as info:
        predictor.make_model("m", tmp_path).load()
    assert "save the trained estimator itself" in info.value.hint


def test_v2_data_that_does_not_fill_its_shape_is_invalid_input(model_dir, kserve_types):
    InferInput, InferRequest, InvalidInput = kserve_types
    tensor = InferInput(name="input-0", shape=[2, 4], datatype="FP32", data=[1.0, 2.0, 3.0, 4.0])
    with pytest.raises(InvalidInput, match="does not match its shape"):
        loaded(model_dir, predict_proba=False).predict(InferRequest("sklearn-iris", [tensor]))


def test_model_server_call_path_answers_v1(model_dir):
    # Through kserve.Model.__call__, as the model server calls it (validation, predict, timing).
    model = loaded(model_dir, predict_proba=False)
    response, _ = asyncio.run(model({"instances": training.DOCS_IRIS_INPUT}, headers={}))
    assert response == {"predictions": [1, 1]}
