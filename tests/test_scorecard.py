"""The scorecard runs a learner's notebooks for real (nbclient kernels) and tabulates every check."""

from __future__ import annotations

import json
import os
import shutil
import time
from pathlib import Path

import nbformat
import pytest
from invoke import Context
from invoke.exceptions import Exit

from kserve_workshop.labkit import grading, labgen
from kserve_workshop.labkit.scorecard import (
    FAILED,
    NOT_RUN,
    PASSED,
    SKIPPED,
    called_checks,
    check_calls,
    choose_notebooks,
    grade,
    read_report,
    rows_for,
)
from kserve_workshop.tasks.labs import grade as grade_task

SAMPLE = Path(__file__).parent / "fixtures" / "notebooks" / "01-sample.ipynb"


def _variant(path: Path, replacements: dict[int, str]) -> None:
    nb = nbformat.read(SAMPLE, as_version=4)
    for index, source in replacements.items():
        nb.cells[index].source = source
    nbformat.write(nb, path)


#: Tests using these fixtures start servers: marked slow (see conftest.py).
SLOW_FIXTURES = {"graded"}


@pytest.fixture(scope="module")
def graded(tmp_path_factory):
    """One grading run over four learners' notebooks (each runs in its own kernel)."""
    root = tmp_path_factory.mktemp("grade")
    masters, labs, out = root / "notebooks", root / "labs", root / "out"
    masters.mkdir()
    shutil.copy(SAMPLE, masters / "01-sample.ipynb")
    labgen.generate(masters, labs)  # 01: the student version, untouched (blanks left in)
    (labs / "README.md").unlink()
    _variant(labs / "02-solved.ipynb", {11: '%%cluster\ncheck("lab90.on_cluster")'})  # 02: all right
    _variant(
        labs / "03-hostile.ipynb",
        {  # 03: an answer that explodes, a crash, a cell that hangs
            5: "class Weird:\n    def __ne__(self, other):\n        raise RuntimeError('learner object exploded')\n"
            "total = Weird()\nundefined_name_here",
            8: "doubled = 42\nimport time\ntime.sleep(30)",
        },
    )
    _variant(labs / "04-dies.ipynb", {8: "import os\nos._exit(3)"})  # 04: the kernel dies mid-way
    # 05: a cell spinning in C code, which an interrupt cannot stop; 02's copy: an older duplicate.
    _variant(labs / "05-spins.ipynb", {8: "def double(x):\n    return x * 2\nx = sum(range(10**13))"})
    _variant(labs / "02-solved-Copy1.ipynb", {})
    an_hour_ago = time.time() - 3600
    os.utime(labs / "02-solved-Copy1.ipynb", (an_hour_ago, an_hour_ago))
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("KUBECONFIG", str(root / "no-kubeconfig"))
        patch.setenv(grading.STRICT_ENV, "1")  # must not leak into learners' kernels
        card = grade(labs, out, cell_timeout=4)
    return card, out


def _rows(card, notebook):
    lab = next(lab for lab in card.labs if lab.notebook == notebook)
    return lab, {row.name: row for row in lab.checks}


def test_a_blank_student_notebook_fails_every_check_with_hints(graded):
    card, _ = graded
    lab, rows = _rows(card, "01-sample.ipynb")
    assert (lab.passed, lab.total, lab.cell_errors, lab.error) == (0, 2, 0, None)
    assert rows["lab90.total"].status == FAILED and "still contains `...`" in rows["lab90.total"].message
    assert rows["lab90.doubled"].status == FAILED
    assert (rows["lab90.doubled"].expected, rows["lab90.doubled"].found) == ("42", "None")
    assert rows["lab90.doubled"].hint == "double(x) returns x * 2."


def test_solved_notebook_passes_everything_and_cluster_checks_are_skipped(graded):
    card, _ = graded
    lab, rows = _rows(card, "02-solved.ipynb")
    assert (lab.passed, lab.total, lab.cell_errors) == (2, 2, 0)
    assert rows["lab90.on_cluster"].status == SKIPPED
    assert "needs a cluster" in rows["lab90.on_cluster"].message


@pytest.mark.bad_input(
    tool="invoke grade",
    input="a cell that runs past `--timeout`",
    example="time.sleep(30) with --timeout 4",
    behaviour="interrupted and recorded as timed out, not as an error; the lab's next cells run "
    "(its servers survive the interrupt)",
)
def test_exploding_answers_errors_and_hanging_cells_are_survived(graded):
    card, _ = graded
    lab, rows = _rows(card, "03-hostile.ipynb")
    assert lab.error is None
    assert rows["lab90.total"].status == FAILED
    assert "learner object exploded" in rows["lab90.total"].message
    # The hanging cell was interrupted and recorded as timed out (not as an error); the cells after
    # it still ran and their check passed.
    assert rows["lab90.doubled"].status == PASSED
    assert lab.timed_out == ["cell 8: doubled = 42"]
    assert lab.cell_errors == 1  # the NameError


@pytest.mark.bad_input(
    tool="invoke grade",
    input="a cell that ignores the interrupt or spins in C code",
    example="x = sum(range(10**13))",
    behaviour="interrupted, then its kernel is killed after 5 s more; the cell is recorded as "
    "timed out and grading goes on with the next lab (before: grading hung forever)",
)
def test_a_cell_that_ignores_the_interrupt_costs_its_lab_not_the_grading(graded):
    card, out = graded
    lab, rows = _rows(card, "05-spins.ipynb")
    assert lab.timed_out == ["cell 8: def double(x):"]
    assert "did not stop when interrupted: its kernel was killed" in lab.error
    assert rows["lab90.total"].status == PASSED and rows["lab90.doubled"].status == NOT_RUN
    # time limit (4 s) + the interrupt's grace (5 s) + starting and killing a kernel
    assert lab.seconds < 4 + 5 + 20, lab.seconds
    assert lab.cell_errors == 0
    executed = nbformat.read(out / "executed" / "05-spins.ipynb", as_version=4)
    assert "ran past the time limit of 4 s" in executed.cells[8].outputs[-1]["text"]
    markdown = (out / "scorecard.md").read_text()
    assert "Timed out (interrupted at the time limit): cell 8: def double(x):" in markdown


@pytest.mark.bad_input(
    tool="invoke grade",
    input="two notebooks of one lab (Jupyter's `02-...-Copy1.ipynb`)",
    example="labs/02-first-inferenceservice-Copy1.ipynb",
    behaviour="the lab is graded once, from its most recently saved notebook; the scorecard names "
    "the file graded and those not graded (before: graded as a second lab 2)",
)
def test_each_lab_is_graded_once_and_the_scorecard_names_the_file(graded):
    card, out = graded
    assert [lab.notebook for lab in card.labs] == [
        "01-sample.ipynb",
        "02-solved.ipynb",
        "03-hostile.ipynb",
        "04-dies.ipynb",
        "05-spins.ipynb",
    ]
    lab, _ = _rows(card, "02-solved.ipynb")
    assert lab.not_graded == ["02-solved-Copy1.ipynb"]
    assert (
        "Graded `02-solved.ipynb`, the lab's most recently saved notebook; not graded: `02-solved-Copy1.ipynb`"
    ) in (out / "scorecard.md").read_text()
    assert not (out / "executed" / "02-solved-Copy1.ipynb").exists()


def test_a_dead_kernel_leaves_later_checks_not_run(graded):
    card, _ = graded
    lab, rows = _rows(card, "04-dies.ipynb")
    assert lab.error and "DeadKernelError" in lab.error
    assert rows["lab90.total"].status == PASSED
    assert rows["lab90.doubled"].status == NOT_RUN


def test_the_scorecard_files_hold_the_same_table(graded):
    card, out = graded
    data = json.loads((out / "scorecard.json").read_text())
    assert (data["passed"], data["total"]) == (card.passed, card.total) == (5, 10)
    assert [lab["notebook"] for lab in data["labs"]] == [
        "01-sample.ipynb",
        "02-solved.ipynb",
        "03-hostile.ipynb",
        "04-dies.ipynb",
        "05-spins.ipynb",
    ]
    assert data["labs"][0]["checks"][0] == {
        "name": "lab90.total",
        "status": "failed",
        "message": "`total` still contains `...`",
        "expected": "your answer in place of the `...` in `total`",
        "found": "Ellipsis",
        "hint": "Replace every `...` in the cell defining `total` and run it again.",
    }
    markdown = (out / "scorecard.md").read_text()
    assert markdown.startswith("# Scorecard: 5/10 checks passed")
    assert "## 04-dies.ipynb: 1/2" in markdown and "| `lab90.doubled` | – not run |" in markdown
    executed = nbformat.read(out / "executed" / "02-solved.ipynb", as_version=4)
    assert any(cell.get("outputs") for cell in executed.cells)


def _touch(path: Path, age: float) -> Path:
    path.write_text("{}")
    os.utime(path, (time.time() - age, time.time() - age))
    return path


def test_the_most_recently_saved_notebook_of_a_lab_is_graded(tmp_path):
    _touch(tmp_path / "02-first-inferenceservice.ipynb", 600)
    copy = _touch(tmp_path / "02-first-inferenceservice-Copy1.ipynb", 10)
    lab3 = _touch(tmp_path / "03-autoscaling.ipynb", 50)
    assert choose_notebooks(tmp_path) == [(copy, [tmp_path / "02-first-inferenceservice.ipynb"]), (lab3, [])]


def test_on_a_tie_the_notebook_not_named_as_a_copy_is_graded_then_by_name(tmp_path):
    stamp = time.time() - 100
    names = [
        "01-serve-a-model (1).ipynb",
        "01-serve-a-model-Copy2.ipynb",
        "01-serve-a-model.ipynb",
        "01-serve-a-model copy.ipynb",
    ]
    for name in names:
        (tmp_path / name).write_text("{}")
        os.utime(tmp_path / name, (stamp, stamp))
    [(graded, others)] = choose_notebooks(tmp_path)
    assert graded.name == "01-serve-a-model.ipynb"
    assert [p.name for p in others] == sorted(n for n in names if n != graded.name)


def test_called_checks_reads_the_check_cells_in_order():
    nb = nbformat.read(SAMPLE, as_version=4)
    assert called_checks(nb) == ["lab90.total", "lab90.doubled"]
    nb.cells.append(nbformat.v4.new_code_cell("%%cluster\ncheck('lab90.remote')"))
    assert check_calls(nb)[-1] == ("lab90.remote", True)


def test_a_cluster_check_that_did_not_run_counts_as_not_run_when_cluster_cells_ran():
    rows = rows_for(["lab1.remote"], {}, {"lab1.remote"}, cluster_cells_ran=True)
    assert rows[0].status == NOT_RUN
    rows = rows_for(["lab1.remote"], {}, {"lab1.remote"}, cluster_cells_ran=False)
    assert rows[0].status == SKIPPED


def test_rows_keep_the_last_result_and_unexpected_checks(tmp_path):
    report = tmp_path / "r.jsonl"
    report.write_text(
        "\n".join(
            [
                json.dumps({"name": "lab1.a", "passed": False, "message": "first try"}),
                "not json",
                json.dumps({"name": "lab1.a", "passed": True, "message": "passed"}),
                json.dumps({"name": "lab1.extra", "passed": False, "message": "m", "hint": "h"}),
            ]
        )
    )
    rows = rows_for(["lab1.a", "lab1.b"], read_report(report))
    assert [(row.name, row.status) for row in rows] == [("lab1.a", PASSED), ("lab1.b", NOT_RUN), ("lab1.extra", FAILED)]


def test_the_task_rejects_a_bad_timeout_and_a_missing_folder(tmp_path, capsys):
    with pytest.raises(Exit) as caught:
        grade_task(Context(), labs_dir=str(tmp_path), timeout="soon")
    assert caught.value.code == 1 and "--timeout must be a number" in capsys.readouterr().err
    with pytest.raises(Exit):
        grade_task(Context(), labs_dir=str(tmp_path / "nowhere"), out=str(tmp_path / "out"))
    assert "labs folder not found" in capsys.readouterr().err
    with pytest.raises(Exit):
        grade_task(Context(), labs_dir=str(tmp_path), out=str(tmp_path / "out"))
    assert "no lab notebooks" in capsys.readouterr().err
