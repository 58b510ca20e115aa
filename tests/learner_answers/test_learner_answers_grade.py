"""A sample of learner answers through `invoke grade`: generated student notebooks, filled in as
three learners would, each graded in real kernels; the scorecard must hold each verdict and hint."""

from __future__ import annotations

import json
from pathlib import Path

import nbformat
import pytest
from invoke import Context

from kserve_workshop.labkit import grading, labgen
from kserve_workshop.paths import NOTEBOOKS_DIR
from kserve_workshop.tasks.labs import grade as grade_task

SLOW_FIXTURES = {"scorecards"}

LAB1, LAB2 = "01-serve-a-model.ipynb", "02-first-inferenceservice.ipynb"

LAB1_ANSWERS = {  # right answers written differently, and the shortcut in Exercise 6
    "model = ...": 'model = SVC(gamma="scale", probability=True).fit(split.X_train, split.y_train)\n'
    "accuracy = round(model.score(split.X_test, split.y_test), 3)\naccuracy",
    "model_path = ...": "model_path = save_model(model, MODEL_DIR)",
    "v1_payload = ...": 'v1_payload = {"instances": [list(row) for row in DOCS_IRIS_INPUT]}\nv1_payload',
    "v2_payload = ...": 'v2_payload = {"inputs": [{"name": "flowers", "shape": [2, 4], "datatype": "FP32",\n'
    '                          "data": [v for row in DOCS_IRIS_INPUT for v in row]}]}',
    "v2_classes = ...": 'v2_classes = [IRIS_CLASSES[i] for i in v2_response["outputs"][0]["data"]]',
    "server_predictions = ...": "server_predictions = model.predict(split.X_test).tolist()",
}
LAB2_RIGHT = {
    "manifest_yaml = ": 'manifest_yaml = """\napiVersion: serving.kserve.io/v1beta1\nkind: InferenceService\n'
    "metadata:\n  name: sklearn-iris\nspec:\n  predictor:\n    model:\n      modelFormat:\n"
    "        name: sklearn\n      runtime: kserve-sklearnserver\n"
    "      storageUri: gs://kfserving-examples/models/sklearn/1.0/model/\n      resources:\n"
    '        requests: {cpu: "0.05", memory: 134217728}\n        limits: {cpu: 100m, memory: 256Mi}\n'
    '"""\nmanifest = yaml.safe_load(manifest_yaml)',
    "host = ...": 'host = example_isvc["status"]["url"].split("://")[1].upper()',
    "local_predictions = ...": "split = iris_split()\nmodel = train_iris(split)\n"
    "local_predictions = model.predict(DOCS_IRIS_INPUT)",
}
LAB2_WRONG = {
    "manifest_yaml = ": LAB2_RIGHT["manifest_yaml = "]
    .replace("memory: 134217728", "memory: 128")
    .replace("memory: 256Mi", "memory: 256"),
    "host = ...": 'host = example_isvc["status"]["url"]',
    "local_predictions = ...": "from kserve_workshop.training import IRIS_CLASSES\n"
    "split = iris_split()\nmodel = train_iris(split)\n"
    "local_predictions = [IRIS_CLASSES[i] for i in model.predict(DOCS_IRIS_INPUT)]",
}


def fill(student: Path, answers: dict[str, str], target: Path) -> None:
    """The student notebook with the exercise cells (found by their blank's text) answered."""
    nb = nbformat.read(student, as_version=4)
    for blank, source in answers.items():
        cells = [
            cell
            for cell in nb.cells
            if cell.cell_type == "code" and blank in cell.source and "YOUR CODE HERE" in cell.source
        ]
        assert len(cells) == 1, f"{student.name}: {len(cells)} exercise cells hold {blank!r}"
        cells[0].source = source
    target.parent.mkdir(parents=True, exist_ok=True)
    nbformat.write(nb, target)


@pytest.fixture(scope="module")
def scorecards(tmp_path_factory):
    root = tmp_path_factory.mktemp("grade-sample")
    labgen.generate(NOTEBOOKS_DIR, root / "students")
    students = root / "students"
    learners = {
        "blank": {LAB2: None},
        "shortcut": {LAB1: LAB1_ANSWERS},
        "right": {LAB2: LAB2_RIGHT},
        "wrong": {LAB2: LAB2_WRONG},
    }
    cards = {}
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("KUBECONFIG", str(root / "no-kubeconfig"))
        patch.setenv(grading.STRICT_ENV, "1")  # must not leak into the learners' kernels
        for learner, notebooks in learners.items():
            labs = root / learner / "labs"
            for name, answers in notebooks.items():
                if answers is None:
                    labs.mkdir(parents=True, exist_ok=True)
                    (labs / name).write_bytes((students / name).read_bytes())
                else:
                    fill(students / name, answers, labs / name)
            out = root / learner / "out"
            grade_task(Context(), labs_dir=str(labs), out=str(out), timeout=120)
            cards[learner] = json.loads((out / "scorecard.json").read_text())
    return cards


def rows(card: dict, notebook: str) -> dict[str, dict]:
    lab = next(lab for lab in card["labs"] if lab["notebook"] == notebook)
    return {row["name"]: row for row in lab["checks"]}


def test_a_blank_notebook_fails_every_local_check_with_a_hint_and_no_crash(scorecards):
    checks = rows(scorecards["blank"], LAB2)
    for name in ("lab2.manifest", "lab2.local_predictions", "lab2.host"):
        assert checks[name]["status"] == "failed" and checks[name]["hint"], checks[name]
    assert "Replace the `...` line" in checks["lab2.manifest"]["hint"]
    assert checks["lab2.cluster_predictions"]["status"] == "skipped"


def test_the_model_predict_shortcut_fails_while_right_answers_written_differently_pass(scorecards):
    checks = rows(scorecards["shortcut"], LAB1)
    for name in ("lab1.accuracy", "lab1.saved_model", "lab1.v1_payload", "lab1.v2_payload", "lab1.v2_classes"):
        assert checks[name]["status"] == "passed", checks[name]
    shortcut = checks["lab1.server_predictions"]
    assert shortcut["status"] == "failed" and "held-out flowers" in shortcut["message"]
    assert "model.predict runs the model here" in shortcut["hint"]


def test_right_answers_written_differently_pass(scorecards):
    checks = rows(scorecards["right"], LAB2)
    for name in ("lab2.manifest", "lab2.host", "lab2.local_predictions"):
        assert checks[name]["status"] == "passed", checks[name]


def test_typical_wrong_answers_fail_with_the_hint_for_that_mistake(scorecards):
    checks = rows(scorecards["wrong"], LAB2)
    assert "write 128Mi" in checks["lab2.manifest"]["hint"]
    assert "drop the http://" in checks["lab2.host"]["hint"]
    assert "compare indices with indices" in checks["lab2.local_predictions"]["hint"]
    assert all(checks[name]["status"] == "failed" for name in ("lab2.manifest", "lab2.host", "lab2.local_predictions"))
