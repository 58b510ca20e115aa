"""Every task answers `invoke TASK --help` (and `-h`) with its help, whatever its arguments.

invoke hands the word after a task to its first positional argument, whatever the word is, so a
task with a positional argument would take `--help` for a name (`invoke diagnose --help` once
diagnosed an InferenceService called "--help"), and a task with two could not print help at all.
"""

from __future__ import annotations

import importlib.util

import pytest
from invoke import Collection, Program

from kserve_workshop.paths import REPO_ROOT


def _collection() -> Collection:
    spec = importlib.util.spec_from_file_location("workshop_tasks_for_help", REPO_ROOT / "tasks.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return next(value for value in vars(module).values() if isinstance(value, Collection))


def _task_names(collection: Collection, prefix: str = "") -> list[tuple[str, object]]:
    found = [(prefix + name, task) for name, task in collection.tasks.items()]
    for name, sub in collection.collections.items():
        found += _task_names(sub, f"{prefix}{name}.")
    return found


TASKS = _task_names(_collection())
WITH_POSITIONALS = [name for name, task in TASKS if any(a.positional for a in task.get_arguments())]


def test_the_collection_has_tasks_with_positional_arguments():
    assert {"diagnose.explain", "validate", "platform.upload-model"} <= set(WITH_POSITIONALS)


@pytest.mark.parametrize("name, task", TASKS, ids=[name for name, _ in TASKS])
def test_no_task_takes_more_than_one_positional_argument(name, task):
    positionals = [a.name for a in task.get_arguments() if a.positional]
    assert len(positionals) <= 1, f"{name}: `invoke {name} --help` cannot print help with {positionals}"


def _help(argv: list[str], capsys, monkeypatch) -> tuple[int, str]:
    monkeypatch.setattr("sys.argv", ["invoke", *argv])
    program = Program(namespace=_collection(), binary="invoke")
    code = 0
    try:
        program.run(["invoke", *argv], exit=True)
    except SystemExit as exc:
        code = exc.code or 0
    out = capsys.readouterr()
    return code, out.out + out.err


def _own_short_flags(name: str) -> set[str]:
    task = dict(TASKS)[name if name != "diagnose" else "diagnose.explain"]
    return {f"-{n}" for a in task.get_arguments(ignore_unknown_help=True) for n in a.names if len(n) == 1}


@pytest.mark.parametrize("name", WITH_POSITIONALS + ["diagnose"])
@pytest.mark.parametrize("flag", ["--help", "-h"])
def test_help_after_a_task_prints_its_help(name, flag, capsys, monkeypatch):
    if flag in _own_short_flags(name):
        pytest.skip(f"{name} uses {flag} for one of its own options")
    code, text = _help([name, flag], capsys, monkeypatch)
    assert code == 0, text
    assert text.startswith(f"Usage: invoke [--core-opts] {name} [--options]"), text
    assert "Docstring:" in text and "Options:" in text
    assert "error" not in text.lower().split("options:")[0] and "Traceback" not in text


def test_diagnose_help_names_its_options_and_reads_nothing(capsys, monkeypatch):
    code, text = _help(["diagnose", "--help"], capsys, monkeypatch)
    assert code == 0
    assert "--from-dir=STRING" in text and "--name=STRING" in text
    assert "Diagnose a snapshot saved by `invoke diagnose.snapshot`" in text
    assert "Reading InferenceService" not in text and "kubeconfig" not in text
