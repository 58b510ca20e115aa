"""The master notebooks: in sync with labs/, statically clean, shaped like lessons with checks.

The masters themselves run under nbval as part of the suite (pyproject testpaths include
notebooks/; notebooks/conftest.py sets --nbval-lax and WORKSHOP_CHECKS_STRICT=1). The last test
here shows that wiring failing a master whose own solution does not pass its check.
"""

from __future__ import annotations

import ast
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest

from kserve_workshop.labkit import labgen
from kserve_workshop.labkit.notebook_cells import python_of
from kserve_workshop.labkit.notebook_lint import check_notebook
from kserve_workshop.paths import LABS_DIR, NOTEBOOKS_DIR, REPO_ROOT
from kserve_workshop.labkit.scorecard import called_checks

MASTERS = labgen.masters()
EXTENSION_LINE = "%load_ext kserve_workshop.notebook"


def _each_master():
    if not MASTERS:
        return [pytest.param(None, marks=pytest.mark.skip(reason="no master notebooks yet"))]
    return [pytest.param(path, id=path.name) for path in MASTERS]


def _read(path: Path) -> nbformat.NotebookNode:
    return nbformat.read(path, as_version=4)


def _code_cells(nb):
    return [cell for cell in nb.cells if cell.cell_type == "code"]


def test_labs_are_in_sync_with_the_masters():
    if not MASTERS:
        pytest.skip("no master notebooks yet")
    drift = labgen.find_drift(NOTEBOOKS_DIR, LABS_DIR)
    assert drift == [], "labs/ is out of date, run `invoke labs.generate`:\n" + "\n".join(drift)


@pytest.mark.parametrize("master", _each_master())
def test_master_passes_the_static_checks(master):
    problems = check_notebook(master, str(master.relative_to(REPO_ROOT)))
    assert problems == [], "\n".join(str(problem) for problem in problems)


@pytest.mark.parametrize("master", _each_master())
def test_master_starts_by_loading_the_extension(master):
    first = _code_cells(_read(master))[0].source.split("\n")
    assert first[0].strip() == EXTENSION_LINE, f"the first code cell must start with `{EXTENSION_LINE}`"
    assert len(first) > 1, "the first code cell also holds the lab's imports"


@pytest.mark.parametrize("master", _each_master())
def test_master_has_checks_each_in_a_cell_of_its_own(master):
    nb = _read(master)
    assert called_checks(nb), "a master needs at least one check(...) cell"
    for number, cell in enumerate(nb.cells, 1):
        if cell.cell_type != "code" or "check(" not in cell.source:
            continue
        python, _, _ = python_of(cell.source)
        statements = ast.parse(python).body
        if any(_is_check_call(statement) for statement in statements):
            assert all(_is_check_call(statement) for statement in statements), (
                f"cell {number}: check(...) calls sit in a cell of their own"
            )


def _is_check_call(statement: ast.stmt) -> bool:
    return (
        isinstance(statement, ast.Expr)
        and isinstance(statement.value, ast.Call)
        and isinstance(statement.value.func, ast.Name)
        and statement.value.func.id == "check"
    )


@pytest.mark.parametrize("master", _each_master())
def test_master_has_exercises_and_is_committed_with_outputs(master):
    nb = _read(master)
    student = labgen.student_notebook(master)
    assert any(labgen.BLANK_COMMENT in cell.source for cell in student.cells if cell.cell_type == "code"), (
        "a master marks at least one solution (# SOLUTION or # BEGIN/END SOLUTION)"
    )
    assert any(cell.get("outputs") for cell in _code_cells(nb)), (
        "masters are committed with the outputs of a real local run"
    )
    errors = [
        n
        for n, cell in enumerate(nb.cells, 1)
        if cell.cell_type == "code" and any(output.get("output_type") == "error" for output in cell.get("outputs", []))
    ]
    assert errors == [], f"committed outputs hold errors in cells {errors}"


def test_master_file_names_are_numbered_topics():
    for path in NOTEBOOKS_DIR.glob("*.ipynb"):
        assert re.fullmatch(r"\d\d-[a-z0-9]+(-[a-z0-9]+)*\.ipynb", path.name), (
            f"{path.name}: masters are named NN-topic.ipynb (lower-case words joined by '-')"
        )


PASSING = ("total = 2 + 3  # SOLUTION", "passing")
FAILING = ("total = 2 + 2  # SOLUTION", "failing")


def _tiny_master(path: Path, answer: str) -> None:
    nb = nbformat.v4.new_notebook()
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nb.cells = [
        nbformat.v4.new_code_cell(
            f"{EXTENSION_LINE}\nfrom kserve_workshop.grading import CheckFailed, check, lab_check\nimport random"
        ),
        nbformat.v4.new_code_cell(
            "@lab_check('lab91', hint='2 + 3')\ndef total(total):\n    if total != 5:\n"
            "        raise CheckFailed(expected=5, found=total)"
        ),
        nbformat.v4.new_code_cell(f"{answer}\nprint(random.random())"),  # output differs: --nbval-lax
        nbformat.v4.new_code_cell("check('lab91.total')"),
    ]
    nbformat.write(nb, path)


@pytest.mark.slow
def test_nbval_fails_a_master_whose_solution_does_not_pass_its_check(tmp_path):
    notebooks, tests = tmp_path / "notebooks", tmp_path / "tests"
    notebooks.mkdir()
    tests.mkdir()
    shutil.copy(NOTEBOOKS_DIR / "conftest.py", notebooks)
    shutil.copy(NOTEBOOKS_DIR / "nbval-sanitize.cfg", notebooks)
    shutil.copy(Path(__file__).parent / "process_guard.py", tests)
    shutil.copy(Path(__file__).parent / "worker_cache.py", tests)
    for answer, name in (PASSING, FAILING):
        _tiny_master(notebooks / f"0{len(name)}-{name}.ipynb", answer)
    env = {key: value for key, value in os.environ.items() if key != "WORKSHOP_CHECKS_STRICT"}
    result = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "--rootdir", str(tmp_path), str(notebooks)],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=240,
    )
    out = result.stdout
    assert result.returncode == 1, out + result.stderr
    assert "1 failed, 7 passed" in out, out
    assert "FAILED notebooks/07-failing.ipynb::Cell 3" in out
    assert "CheckNotPassed" in out and "lab91.total" in out
