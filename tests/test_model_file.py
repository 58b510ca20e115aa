"""Lab 6's model file: imported afresh, its classes found or refused with one clear message, served by
``runtime.model_file_server`` (the image's entry point) with the flags ``custom.model_file`` builds.

What the servers answer is graded in tests/learner_answers/test_learner_answers_lab6.py; here the
machinery around them: loading, flags, and a file or class that cannot be served (exit code 2 and
one line saying why, what ``kubectl logs`` would show in a pod).
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from kserve_workshop.custom.model_file import (
    ModelFileChain,
    ModelFileServer,
    lab_model_file,
    load_model_file,
    reference_model_source,
)
from kserve_workshop.errors import WorkshopError
from kserve_workshop.processes import LocalModelServer
from kserve_workshop.runtime.model_file import import_model_file, is_stale, model_class, model_classes
from kserve_workshop.training import save_model, train_iris

from support.lab6_files import write_model_file

TWO_CLASSES = """import kserve
from kserve import Model as Imported


class Mine(kserve.Model):
    pass


class Helper:
    pass
"""


def test_a_model_file_is_imported_afresh_each_time(tmp_path):
    path = tmp_path / "m.py"
    path.write_text("VALUE = 1\n")
    first = import_model_file(path)
    path.write_text("VALUE = 2\n")
    assert is_stale(first)
    second = import_model_file(path)
    assert (first.VALUE, second.VALUE) == (1, 2) and not is_stale(second)
    assert second.__name__ in sys.modules and first.__name__ != second.__name__


def test_the_classes_of_the_file_are_found_and_others_refused(tmp_path):
    path = tmp_path / "m.py"
    path.write_text(TWO_CLASSES)
    module = import_model_file(path)
    assert list(model_classes(module)) == ["Mine"]  # not the imported kserve.Model, not a plain class
    assert model_class(module, "Mine").__name__ == "Mine"
    with pytest.raises(WorkshopError, match="Helper in m.py is not a subclass of kserve.Model") as caught:
        model_class(module, "Helper")
    assert "class Helper(kserve.Model)" in caught.value.hint
    with pytest.raises(WorkshopError, match="m.py defines no class IrisPredictor") as caught:
        model_class(module, "IrisPredictor")
    assert "Mine" in caught.value.hint


@pytest.mark.parametrize(
    "text, message, hint",
    [
        ("def f(:\n    pass\n", "m.py, line 1: syntax error", "%%writefile"),
        ("import no_such_module_here\n", "importing m.py failed: ModuleNotFoundError", "not installed here"),
        ("from kserve_workshop.gone import x\n", "importing m.py failed", "only kserve_workshop.runtime"),
        ("x = 1\ny = 1 / 0\n", "ZeroDivisionError: division by zero (line 2)", "raised while the file was imported"),
    ],
)
def test_a_file_that_cannot_be_imported_says_where(tmp_path, text, message, hint):
    path = tmp_path / "m.py"
    path.write_text(text)
    with pytest.raises(WorkshopError, match=message.replace("(", r"\(").replace(")", r"\)")) as caught:
        import_model_file(path)
    assert hint in caught.value.hint


@pytest.mark.parametrize("name, message", [("missing.py", "no model file at"), ("notes.txt", "not a Python file")])
def test_what_is_not_a_model_file_is_refused(tmp_path, name, message):
    if name.endswith(".txt"):
        (tmp_path / name).write_text("x")
    with pytest.raises(WorkshopError, match=message):
        import_model_file(tmp_path / name)
    with pytest.raises(WorkshopError, match=message):
        ModelFileServer(tmp_path / name, "IrisTransformer", "iris", predictor="127.0.0.1:1")


def test_load_model_file_reads_the_labs_file_by_default(tmp_path, monkeypatch):
    monkeypatch.setenv("WORKSHOP_CACHE", str(tmp_path))
    with pytest.raises(WorkshopError, match="no model file at .*lab6/iris_model.py"):
        load_model_file()
    lab_model_file().parent.mkdir(parents=True)
    lab_model_file().write_text(reference_model_source())
    assert load_model_file().FEATURE_NAMES == ("sepal_length", "sepal_width", "petal_length", "petal_width")


def test_the_reference_is_the_masters_writefile_cell(tmp_path):
    source = reference_model_source()
    assert "class IrisTransformer(kserve.Model)" in source and "class IrisPredictor(kserve.Model)" in source
    assert not source.startswith("%%")
    notebook = tmp_path / "06-x.ipynb"
    notebook.write_text(json.dumps({"cells": [{"cell_type": "code", "source": ["%%writefile other.py\n", "x = 1"]}]}))
    with pytest.raises(WorkshopError, match="has no `%%writefile iris_model.py` cell"):
        reference_model_source(notebook)
    notebook.write_text("{not json")
    with pytest.raises(WorkshopError, match="cannot read Lab 6's master notebook"):
        reference_model_source(notebook)


# -- the servers' command lines --------------------------------------------------------------------


@pytest.fixture
def model_file(tmp_path):
    return write_model_file(tmp_path)


def test_a_predictor_and_a_transformer_get_their_flags(model_file, tmp_path):
    (tmp_path / "model").mkdir()
    predictor = ModelFileServer(model_file, "IrisPredictor", "iris", model_dir=tmp_path / "model")
    assert predictor.server_flags() == [
        "--model_file",
        str(model_file),
        "--model_class",
        "IrisPredictor",
        "--model_dir",
        str(tmp_path / "model"),
    ]
    transformer = ModelFileServer(
        model_file, "IrisTransformer", "iris", predictor="http://127.0.0.1:8081", predictor_protocol="v2"
    )
    assert transformer.server_flags()[-4:] == ["--predictor_host", "127.0.0.1:8081", "--predictor_protocol", "v2"]
    assert predictor.command().startswith(
        "python -m kserve_workshop.runtime.model_file_server --model_file iris_model.py --model_class IrisPredictor "
        "--model_dir model --model_name iris --http_port"
    )


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"model_class": "Iris Transformer"}, "must be a class name"),
        ({"model_dir": "MODEL", "predictor": "127.0.0.1:1"}, "not both"),
        ({"predictor": "127.0.0.1:1", "predictor_protocol": "grpc-v2"}, "must be 'v1' or 'v2'"),
        ({"model_dir": "no-such-dir"}, "does not exist"),
    ],
)
def test_bad_server_arguments_are_refused(model_file, tmp_path, kwargs, message):
    (tmp_path / "MODEL").mkdir()
    kwargs = {key: str(tmp_path / value) if key == "model_dir" else value for key, value in kwargs.items()}
    with pytest.raises(WorkshopError, match=message):
        ModelFileServer(model_file, kwargs.pop("model_class", "IrisTransformer"), "iris", **kwargs)


def test_a_chain_runs_the_files_transformer_in_front_of_its_predictor_or_the_workshops(model_file, tmp_path):
    save_model(train_iris(), tmp_path / "model")
    chain = ModelFileChain(model_file, tmp_path / "model", "iris")
    assert isinstance(chain.predictor, ModelFileServer) and chain.predictor.model_class == "IrisPredictor"
    assert chain.transformer.predictor is chain.predictor and chain.model_name == "iris"
    chain = ModelFileChain(model_file, tmp_path / "model", "iris", predictor_class=None)
    assert isinstance(chain.predictor, LocalModelServer)


# -- what the image's entry point says about a file it cannot serve -------------------------------

ENTRY = [sys.executable, "-m", "kserve_workshop.runtime.model_file_server"]


def serve(model_file: Path, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [
            *ENTRY,
            "--model_file",
            str(model_file),
            "--model_name",
            "iris",
            "--http_port",
            "1",
            "--configure_logging",
            "false",
            *args,
        ],
        capture_output=True,
        text=True,
        timeout=120,
    )


@pytest.mark.slow
@pytest.mark.parametrize(
    "replacements, args, said",
    [
        (
            {"def to_labels(predictions):": "def to_labels(predictions)"},
            ("--model_class", "IrisTransformer"),
            "syntax error",
        ),
        ({}, ("--model_class", "IrisModel"), "defines no class IrisModel"),
        ({}, ("--model_class", "IrisPredictor"), "IrisPredictor('iris') raised TypeError"),
        (
            {'glob("*.joblib")': 'glob("*.pkl")'},
            ("--model_class", "IrisPredictor", "--model_dir", "MODEL"),
            "IrisPredictor.load() raised RuntimeError: expected one .joblib file",
        ),
        (
            {
                "        self.ready = True\n        # END SOLUTION\n        return self.ready": "        # END SOLUTION\n        return self.ready"
            },
            ("--model_class", "IrisPredictor", "--model_dir", "MODEL"),
            "the model is not ready (self.ready is False)",
        ),
    ],
)
def test_a_file_the_server_cannot_serve_is_one_line_and_exit_code_2(tmp_path, replacements, args, said):
    save_model(train_iris(), tmp_path / "model")
    path = write_model_file(tmp_path, replacements)
    done = serve(path, *(str(tmp_path / "model") if arg == "MODEL" else arg for arg in args))
    assert done.returncode == 2, done.stderr[-2000:]
    errors = [line for line in done.stderr.splitlines() if line.startswith("error: ")]
    assert len(errors) == 1 and said in errors[0], done.stderr[-2000:]
    assert "Traceback" not in done.stderr


@pytest.mark.slow
def test_a_bad_predictor_host_is_refused_by_the_parser(model_file):
    done = serve(model_file, "--model_class", "IrisTransformer", "--predictor_host", "http://predictor:8080")
    assert done.returncode == 2 and "without scheme or path" in done.stderr
