"""Lab 8's graded checks: right answers written in other ways pass, typical wrong answers fail with a
hint that points at the mistake, and odd answers never crash the check."""

from __future__ import annotations

import copy
import pickle

import joblib
import numpy as np
import pytest

from kserve_workshop.boosting import compare, models, runtimes
from kserve_workshop.boosting.data import wine_split
from kserve_workshop.boosting.requests import named_v2_request
from kserve_workshop.labkit.grading import check
from kserve_workshop.load import LoadResult

SPLIT = wine_split()


def run(name: str, **answers):
    return check(f"lab8.{name}", {}, show=False, **answers)


def assert_fails(result, mentions: str):
    assert not result.passed, f"{result.name} accepted a wrong answer"
    assert result.hint, f"{result.name} failed without a hint:\n{result.text()}"
    assert mentions in result.text(), result.text()


# -------------------------------------------------------------------------------- v2_request

REFERENCE = named_v2_request(SPLIT.X_test[:3])


def with_inputs(change) -> dict:
    body = copy.deepcopy(REFERENCE)
    body["inputs"] = [change(dict(tensor)) for tensor in body["inputs"]]
    return body


def test_the_reference_request_passes():
    assert run("v2_request", v2_request=REFERENCE).passed


@pytest.mark.parametrize(
    "answer",
    [
        with_inputs(lambda t: {**t, "datatype": "FP32"}),  # 32-bit floats carry these values closely enough
        with_inputs(lambda t: {**t, "shape": [3, 1], "data": [[value] for value in t["data"]]}),
        {**REFERENCE, "id": "wine-request-1", "outputs": [{"name": "output-0"}]},
        {"inputs": REFERENCE["inputs"], "parameters": {"content_type": "pd", "note": "extra"}},
        with_inputs(lambda t: {**t, "data": [np.float64(v) for v in t["data"]]}),  # numpy floats are JSON floats
        with_inputs(lambda t: {**t, "data": [round(v, 6) for v in t["data"]]}),
        with_inputs(lambda t: {**t, "shape": (3,), "data": tuple(t["data"])}),  # tuples are sent as JSON lists
    ],
    ids=["fp32", "column-shape", "id-and-outputs", "extra-parameter", "numpy-floats", "rounded", "tuples"],
)
def test_right_answers_written_other_ways_pass(answer):
    result = run("v2_request", v2_request=answer)
    assert result.passed, result.text()


def renamed(old: str, new: str) -> dict:
    return with_inputs(lambda t: {**t, "name": new} if t["name"] == old else t)


@pytest.mark.parametrize(
    "answer, mentions",
    [
        ({**REFERENCE, "inputs": REFERENCE["inputs"][::-1]}, "by position, not by name"),
        (renamed("alcohol", "alchohol"), "did you mean 'alcohol'"),
        (renamed("od280/od315_of_diluted_wines", "od280"), "not one of the data set's feature names"),
        ({"inputs": REFERENCE["inputs"]}, "read only the first tensor"),
        ({"inputs": [{**t, "parameters": {"content_type": "pd"}} for t in REFERENCE["inputs"]]}, "top level"),
        (with_inputs(lambda t: {**t, "datatype": "fp64"}), "upper case"),
        (with_inputs(lambda t: {**t, "datatype": "INT32"}), "integer datatype"),
        (with_inputs(lambda t: {**t, "shape": [3, 13]}), "describes a whole table"),
        (with_inputs(lambda t: {**t, "shape": [5]}), "shape"),
        (with_inputs(lambda t: {k: v for k, v in t.items() if k != "shape"}), "list of integers"),
        (
            {"inputs": [{"name": "input-0", "shape": [3, 13], "datatype": "FP64", "data": SPLIT.X_test[:3].tolist()}]},
            "named features",
        ),
        ({**REFERENCE, "inputs": [{**t, "data": np.array(t["data"])} for t in REFERENCE["inputs"]]}, ".tolist()"),
        (named_v2_request(SPLIT.X_train[:3]), "training wines"),
        (named_v2_request(SPLIT.X_test[1:4]), "X_test[:3"),
        ({**REFERENCE, "inputs": REFERENCE["inputs"][:12]}, "missing features: proline"),
        (with_inputs(lambda t: {**t, "data": t["data"][:2]}), "one per wine"),
    ],
    ids=[
        "reversed",
        "typo",
        "shortened-name",
        "no-pd",
        "pd-inside-input",
        "lowercase",
        "integers",
        "table-shape",
        "wrong-rows-in-shape",
        "no-shape",
        "single-tensor",
        "numpy-array",
        "training-rows",
        "other-rows",
        "twelve-features",
        "two-values",
    ],
)
def test_typical_wrong_requests_fail_with_a_pointed_hint(answer, mentions):
    assert_fails(run("v2_request", v2_request=answer), mentions)


@pytest.mark.parametrize("answer", [None, [], "v2", {"inputs": []}, {"inputs": ["alcohol"]}, {"inputs": [{}]}, ...])
def test_odd_requests_fail_without_crashing(answer):
    result = run("v2_request", v2_request=answer)
    assert not result.passed and result.error is None, result.text()


def test_the_check_cannot_be_fooled_by_a_mutated_split():
    answer = copy.deepcopy(REFERENCE)
    with pytest.raises(ValueError):
        SPLIT.X_test[0, 0] = 0.0  # the split handed to learners is read-only
    assert run("v2_request", v2_request=answer).passed


# ------------------------------------------------------------------------------ saved_models


@pytest.fixture(scope="module")
def trained():
    return {key: models.train(key, SPLIT).model for key in models.ORDER}


@pytest.fixture
def saved(trained, tmp_path):
    dirs = models.fresh_model_dirs(tmp_path / "models")
    for key in models.ORDER:
        models.save_model(trained[key], dirs[key], key)
    return dirs


def learner_saves(trained, root, *, lightgbm="model.bst", xgboost="model.json", sklearn="model.joblib"):
    """Saves as a learner would, with the libraries' own calls."""
    dirs = models.fresh_model_dirs(root)
    joblib.dump(trained["sklearn"], dirs["sklearn"] / sklearn)
    trained["lightgbm"].booster_.save_model(str(dirs["lightgbm"] / lightgbm))
    trained["xgboost"].save_model(dirs["xgboost"] / xgboost)
    return dirs


def test_the_library_save_passes(saved):
    result = run("saved_models", model_dirs=saved)
    assert result.passed, result.text()


@pytest.mark.parametrize("xgboost", ["model.json", "model.ubj", "model.bst"])
def test_a_learners_own_save_calls_pass(trained, tmp_path, xgboost):
    result = run("saved_models", model_dirs=learner_saves(trained, tmp_path, xgboost=xgboost))
    assert result.passed, result.text()


def test_string_paths_and_a_pickle_for_sklearn_pass(trained, tmp_path):
    dirs = learner_saves(trained, tmp_path, sklearn="model.pkl")
    assert run("saved_models", model_dirs={key: str(path) for key, path in dirs.items()}).passed


def test_lightgbms_usual_txt_name_fails(trained, tmp_path):
    assert_fails(
        run("saved_models", model_dirs=learner_saves(trained, tmp_path, lightgbm="model.txt")), "looks only for .bst"
    )


def test_a_pickled_classifier_named_bst_fails(trained, tmp_path):
    dirs = learner_saves(trained, tmp_path)
    (dirs["lightgbm"] / "model.bst").unlink()
    joblib.dump(trained["lightgbm"], dirs["lightgbm"] / "model.bst")
    assert_fails(run("saved_models", model_dirs=dirs), "is a pickle")


def test_a_pickle_beside_nothing_else_fails_for_xgboost(trained, tmp_path):
    dirs = learner_saves(trained, tmp_path)
    (dirs["xgboost"] / "model.json").unlink()
    (dirs["xgboost"] / "model.pkl").write_bytes(pickle.dumps(trained["xgboost"]))
    assert_fails(run("saved_models", model_dirs=dirs), "not a pickle")


def test_two_model_files_fail(trained, tmp_path):
    dirs = learner_saves(trained, tmp_path)
    trained["xgboost"].save_model(dirs["xgboost"] / "model.ubj")
    assert_fails(run("saved_models", model_dirs=dirs), "more than one model file")


def test_the_xgboost_model_in_the_lightgbm_directory_fails(trained, tmp_path):
    dirs = learner_saves(trained, tmp_path)
    (dirs["lightgbm"] / "model.bst").unlink()
    trained["xgboost"].save_model(dirs["lightgbm"] / "model.bst")
    assert_fails(run("saved_models", model_dirs=dirs), "looks like an XGBoost model")


def test_an_empty_directory_fails(trained, tmp_path):
    dirs = learner_saves(trained, tmp_path)
    (dirs["sklearn"] / "model.joblib").unlink()
    assert_fails(run("saved_models", model_dirs=dirs), "no model file")


def test_a_model_of_another_data_set_fails(trained, tmp_path):
    from sklearn.datasets import load_iris

    dirs = learner_saves(trained, tmp_path)
    features, labels = load_iris(return_X_y=True)
    iris_model = models.make_model("xgboost").fit(features, labels)
    (dirs["xgboost"] / "model.json").unlink()
    iris_model.save_model(dirs["xgboost"] / "model.json")
    assert_fails(run("saved_models", model_dirs=dirs), "cannot predict the wines")


def test_an_untrained_looking_model_fails_on_accuracy(tmp_path):
    from sklearn.dummy import DummyClassifier

    dirs = models.fresh_model_dirs(tmp_path)
    for key in ("lightgbm", "xgboost"):
        models.save_model(models.train(key, SPLIT).model, dirs[key], key)
    joblib.dump(DummyClassifier().fit(SPLIT.X_train, SPLIT.y_train), dirs["sklearn"] / "model.joblib")
    assert_fails(run("saved_models", model_dirs=dirs), "of the held-out wines right")


def test_a_library_the_runtime_cannot_load_fails(saved, monkeypatch):
    real = runtimes.installed_version
    monkeypatch.setattr(runtimes, "installed_version", lambda fw: "3.0.0" if fw.key == "xgboost" else real(fw))
    assert_fails(run("saved_models", model_dirs=saved), "xgboost~=2.1.1")


@pytest.mark.parametrize("answer", [None, {}, {"lightgbm": "x"}, ["sklearn", "lightgbm", "xgboost"]])
def test_odd_model_dirs_fail_without_crashing(answer):
    result = run("saved_models", model_dirs=answer)
    assert not result.passed and result.error is None, result.text()


# -------------------------------------------------------------------------------- comparison


def load_result(p50_seconds: float, requests: int = 200, elapsed: float = 2.0) -> LoadResult:
    """A load run's record with a known median (a test double for what run_load measured)."""
    durations = [p50_seconds * factor for factor in np.linspace(0.5, 1.5, requests)]
    return LoadResult(
        url="http://127.0.0.1:1/v2/models/m/infer",
        concurrency=4,
        rate=None,
        started_at=0.0,
        elapsed=elapsed,
        starts=[0.0] * requests,
        durations=durations,
        oks=[True] * requests,
    )


@pytest.fixture
def measured(saved):
    results = {
        "sklearn": load_result(0.004, 800),
        "lightgbm": load_result(0.011, 300),
        "xgboost": load_result(0.018, 220),
    }
    return saved, results, compare.comparison_table(saved, results, SPLIT)


def judge(table, measured):
    dirs, results, _ = measured
    return run("comparison", comparison=table, load_results=results, model_dirs=dirs)


def test_the_reference_table_passes(measured):
    assert judge(measured[2], measured).passed


def test_tables_written_other_ways_pass(measured):
    table = measured[2]
    kilobytes = table.copy()
    kilobytes["model_kib"] = kilobytes["model_kib"] * 1.024  # kB (1000 bytes) instead of KiB
    as_records = [
        {"framework": key.upper() if key == "xgboost" else key, **row}
        for key, row in table.to_dict(orient="index").items()
    ]
    for answer in (
        table.round({"accuracy": 2, "model_kib": 1, "p50_ms": 1, "throughput_rps": 0}),
        table.to_dict(orient="index"),
        as_records,
        table.rename(index={"lightgbm": "LightGBM"}),
        table.reset_index(names="runtime"),
        kilobytes,
        table.astype(np.float32),
    ):
        result = judge(answer, measured)
        assert result.passed, result.text()


def changed(table, key, column, value):
    out = table.copy()
    out.loc[key, column] = value(out.loc[key, column])
    return out


@pytest.mark.parametrize(
    "edit, mentions",
    [
        (lambda t: changed(t, "lightgbm", "accuracy", lambda v: v * 100), "not a percentage"),
        (lambda t: changed(t, "sklearn", "accuracy", lambda v: 1.0), "training rows"),
        (lambda t: changed(t, "xgboost", "p50_ms", lambda v: v / 1000), "that is seconds"),
        (lambda t: changed(t, "lightgbm", "model_kib", lambda v: v * 1024), "that is bytes"),
        (lambda t: changed(t, "lightgbm", "model_kib", lambda v: v / 1024), "that is MiB"),
        (lambda t: changed(t, "sklearn", "throughput_rps", lambda v: 800), "requests per second"),
        (lambda t: t.rename(index={"lightgbm": "xgboost", "xgboost": "lightgbm"}), "holds the xgboost figures"),
        (lambda t: t.drop(columns=["p50_ms"]), "no column p50_ms"),
        (lambda t: t.drop(index=["sklearn"]), "no row for sklearn"),
        (lambda t: t.rename(index={"sklearn": "logistic"}), "not one of the frameworks"),
        (lambda t: changed(t.astype(object), "xgboost", "throughput_rps", lambda v: "fast"), "must be a number"),
    ],
    ids=[
        "percent",
        "training-accuracy",
        "seconds",
        "bytes",
        "mib",
        "request-count",
        "swapped",
        "no-column",
        "no-row",
        "unknown-row",
        "text",
    ],
)
def test_typical_wrong_tables_fail_with_a_pointed_hint(measured, edit, mentions):
    assert_fails(judge(edit(measured[2].copy()), measured), mentions)


@pytest.mark.parametrize("answer", [None, "table", 3.5, [1, 2], {"sklearn": 1}])
def test_odd_tables_fail_without_crashing(measured, answer):
    result = judge(answer, measured)
    assert not result.passed and result.error is None, result.text()


def test_without_load_results_the_check_says_run_the_load_cell(measured):
    dirs, _, table = measured
    assert_fails(run("comparison", comparison=table, load_results={}, model_dirs=dirs), "load cell")
    assert_fails(
        run("comparison", comparison=table, load_results={k: 1 for k in models.ORDER}, model_dirs=dirs), "load cell"
    )
