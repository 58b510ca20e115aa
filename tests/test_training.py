"""Training, evaluating and saving the iris model (no server involved)."""

from __future__ import annotations

import joblib
import numpy as np
import pytest
import sklearn

from kserve_workshop import training
from kserve_workshop.errors import WorkshopError
from kserve_workshop.versions import pin


@pytest.fixture(scope="module")
def split():
    return training.iris_split()


@pytest.fixture(scope="module")
def model(split):
    return training.train_iris(split)


def test_split_is_stratified(split):
    assert len(split.y_train) + len(split.y_test) == 150
    assert len(split.y_test) == 45
    # Stratified: each class keeps its third of the held-out rows.
    assert np.bincount(split.y_test).tolist() == [15, 15, 15]
    assert split.X_train.shape[1] == split.X_test.shape[1] == 4


@pytest.mark.parametrize("test_size", [0, 1, 1.5, -0.1])
def test_split_rejects_bad_fraction(test_size):
    with pytest.raises(WorkshopError, match="test_size"):
        training.iris_split(test_size=test_size)


@pytest.mark.parametrize("kind", training.ESTIMATORS)
def test_every_estimator_learns_iris_and_answers_the_docs_input(split, kind):
    model = training.train_iris(split, kind=kind)
    assert training.evaluate(model, split) >= 0.9
    # KServe's documented answer for its iris example input.
    assert model.predict(training.DOCS_IRIS_INPUT).tolist() == [1, 1]


def test_unknown_estimator_is_a_clear_error():
    with pytest.raises(WorkshopError, match="unknown estimator 'forest'") as info:
        training.make_estimator("forest")
    assert "svc" in info.value.hint


def test_evaluate_is_the_held_out_accuracy(model, split):
    expected = float(np.mean(model.predict(split.X_test) == split.y_test))
    assert training.evaluate(model, split) == pytest.approx(expected)


def test_save_model_writes_only_model_joblib_and_loads_back(model, split, tmp_path):
    target = tmp_path / "model"
    path = training.save_model(model, target)
    assert path == target / "model.joblib"
    assert sorted(p.name for p in target.iterdir()) == ["model.joblib"]
    assert joblib.load(path).predict(split.X_test).tolist() == model.predict(split.X_test).tolist()
    # Saving again over the same file is fine (re-running a notebook cell).
    training.save_model(model, target)
    assert training.load_model(target).predict(training.DOCS_IRIS_INPUT).tolist() == [1, 1]


def test_save_model_refuses_a_directory_with_other_files(model, tmp_path):
    (tmp_path / "old.pkl").write_bytes(b"x")
    (tmp_path / "notes.txt").write_text("x")
    with pytest.raises(WorkshopError, match="also holds notes.txt, old.pkl") as info:
        training.save_model(model, tmp_path)
    assert "one model per directory" in info.value.hint
    assert not (tmp_path / "model.joblib").exists()


@pytest.mark.bad_input(
    tool="training.save_model (notebooks, invoke local)",
    input="a `.DS_Store` or another hidden file in the model folder",
    example="save_model(model, folder_with_DS_Store)",
    behaviour="saved and served (a hidden `.x.joblib` still counts as a second model, as for KServe's runtime)",
)
def test_hidden_files_do_not_block_saving_but_a_hidden_model_does(model, tmp_path):
    (tmp_path / ".DS_Store").write_bytes(b"\0\0\0\1Bud1")
    (tmp_path / ".ipynb_checkpoints").mkdir()
    path = training.save_model(model, tmp_path)
    assert training.load_model(tmp_path).predict(training.DOCS_IRIS_INPUT).tolist() == [1, 1]
    assert sorted(p.name for p in tmp_path.iterdir()) == [".DS_Store", ".ipynb_checkpoints", path.name]
    (tmp_path / ".old.joblib").write_bytes(b"x")  # KServe's runtime would find two models
    with pytest.raises(WorkshopError, match="also holds .old.joblib"):
        training.save_model(model, tmp_path)


@pytest.mark.bad_input(
    tool="training.save_model (notebooks, invoke local)",
    input="two saves into one folder at once (two `invoke local`)",
    example="invoke local & invoke local",
    behaviour="both succeed: each save writes its own temporary file (before: `os.replace` crashed)",
)
def test_concurrent_saves_into_one_directory_all_succeed(model, tmp_path):
    """Two `invoke local` (or two kernels) saving at once: each save has its own temporary file."""
    from concurrent.futures import ThreadPoolExecutor

    with ThreadPoolExecutor(max_workers=6) as pool:
        paths = list(pool.map(lambda _: training.save_model(model, tmp_path), range(24)))
    assert set(paths) == {tmp_path / "model.joblib"}
    assert sorted(p.name for p in tmp_path.iterdir()) == ["model.joblib"], "a temporary file was left behind"
    assert training.load_model(tmp_path).predict(training.DOCS_IRIS_INPUT).tolist() == [1, 1]


def test_save_model_rejects_non_models_and_bad_names(model, tmp_path):
    with pytest.raises(WorkshopError, match="expected a trained scikit-learn model, got dict"):
        training.save_model({"not": "a model"}, tmp_path / "a")
    with pytest.raises(WorkshopError, match="filename"):
        training.save_model(model, tmp_path / "b", filename="model.txt")
    with pytest.raises(WorkshopError, match="filename"):
        training.save_model(model, tmp_path / "c", filename="../model.joblib")
    a_file = tmp_path / "file"
    a_file.write_text("x")
    with pytest.raises(WorkshopError, match="not a directory"):
        training.save_model(model, a_file)


def test_installed_scikit_learn_is_the_pinned_one():
    assert sklearn.__version__ == pin("python", "scikit_learn")
    assert training.sklearn_version_problem() is None


def test_version_mismatch_fails_saving_and_warns_training(model, tmp_path, monkeypatch, capsys):
    monkeypatch.setattr(sklearn, "__version__", "1.6.1")
    with pytest.raises(WorkshopError, match="scikit-learn 1.6.1 is installed") as info:
        training.save_model(model, tmp_path)
    assert f"scikit-learn=={pin('python', 'scikit_learn')}" in info.value.hint
    assert not any(tmp_path.iterdir())
    training.train_iris(kind="tree")
    assert "1.6.1" in capsys.readouterr().err


def test_class_names_map_indices_and_reject_others():
    assert training.class_names([0, 1, 2, 1]) == ["setosa", "versicolor", "virginica", "versicolor"]
    assert training.class_names(np.array([2])) == ["virginica"]
    for bad in ([3], [-1], [1.5], ["1"], [None]):
        with pytest.raises(WorkshopError, match="not a class index"):
            training.class_names(bad)
