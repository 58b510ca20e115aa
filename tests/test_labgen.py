"""Student notebooks generated from masters: blanking rules, cleared outputs, drift detection."""

from __future__ import annotations

import ast
import json
import shutil
from pathlib import Path

import nbformat
import pytest
from invoke import Context
from invoke.exceptions import Exit

from kserve_workshop.labkit import labgen
from kserve_workshop.errors import WorkshopError
from kserve_workshop.labkit.labgen import MasterError, blank_source, check_drift, find_drift, generate
from kserve_workshop.tasks.labs import check as check_task
from kserve_workshop.tasks.labs import generate as generate_task

FIXTURES = Path(__file__).parent / "fixtures" / "notebooks"
SAMPLE = FIXTURES / "01-sample.ipynb"


@pytest.fixture
def tree(tmp_path):
    """A copy of the fixture masters and an empty labs folder."""
    notebooks = tmp_path / "notebooks"
    shutil.copytree(FIXTURES, notebooks)
    return notebooks, tmp_path / "labs"


def _sources(path: Path) -> list[str]:
    return [cell.source for cell in nbformat.read(path, as_version=4).cells]


# ---------------------------------------------------------------------------------- blanking


def test_a_solution_block_becomes_a_blank_at_its_indentation():
    master = "def f(x):\n    # BEGIN SOLUTION\n    y = x * 2\n    return y\n    # END SOLUTION\n\nz = f(1)"
    assert blank_source(master) == "def f(x):\n    # YOUR CODE HERE\n    ...\n\nz = f(1)"


def test_a_block_holding_one_assignment_keeps_its_left_hand_side():
    master = (
        "# BEGIN SOLUTION\nv2_payload = {\n    'inputs': [{'name': 'input-0', 'data': rows}],\n}\n"
        "# END SOLUTION\nv2_payload"
    )
    assert blank_source(master) == "v2_payload = ...  # YOUR CODE HERE\nv2_payload"
    indented = "if ok:\n    # BEGIN SOLUTION\n    total = sum(\n        values)\n    # END SOLUTION"
    assert blank_source(indented) == "if ok:\n    total = ...  # YOUR CODE HERE"


def test_a_block_of_a_single_call_or_several_statements_is_blanked_whole():
    call = "# BEGIN SOLUTION\nmodel.fit(\n    X, y)\n# END SOLUTION"
    assert blank_source(call) == "# YOUR CODE HERE\n..."
    two = "# BEGIN SOLUTION\na = 1\nb = 2\n# END SOLUTION"
    assert blank_source(two) == "# YOUR CODE HERE\n..."


@pytest.mark.parametrize(
    "line, expected",
    [
        ("accuracy = model.score(X, y)  # SOLUTION", "accuracy = ...  # YOUR CODE HERE"),
        ("    payload = {'instances': rows}  # SOLUTION", "    payload = ...  # YOUR CODE HERE"),
        ('headers["Host"] = host.split("=")[0]  # SOLUTION', 'headers["Host"] = ...  # YOUR CODE HERE'),
        ("a = b = compute()  # SOLUTION", "a = b = ...  # YOUR CODE HERE"),
        ("limit: int = 3 # SOLUTION", "limit: int = ...  # YOUR CODE HERE"),
        ("total += step  # SOLUTION", "total += ...  # YOUR CODE HERE"),
        ("    return model.predict(X)  # SOLUTION", "    return ...  # YOUR CODE HERE"),
        ("model.fit(X, y)  # SOLUTION", "...  # YOUR CODE HERE"),
    ],
)
def test_a_solution_line_keeps_its_left_hand_side(line, expected):
    assert blank_source(line) == expected


def test_lines_outside_solutions_are_untouched():
    source = "%load_ext kserve_workshop.notebook\nimport numpy as np\n# a comment about solutions\nx = 1"
    assert blank_source(source) == source


@pytest.mark.parametrize(
    "source, fragment",
    [
        ("# BEGIN SOLUTION\nx = 1", "never closed"),
        ("x = 1\n# END SOLUTION", "without a `# BEGIN SOLUTION`"),
        ("# BEGIN SOLUTION\n# BEGIN SOLUTION\n# END SOLUTION", "inside the block opened on line 1"),
        ("# BEGIN SOLUTION\n%%cluster\nx = 1\n# END SOLUTION", "IPython line '%%cluster'"),
        ("%%cluster  # SOLUTION\nx = 1", "`# SOLUTION` on an IPython line"),
        ("x = [1,  # SOLUTION\n     2]", "not a complete statement"),
        ("x = 1  # solution", "unrecognised solution marker"),
        ("# BEGIN SOLUTIONS\nx = 1\n# END SOLUTION", "unrecognised solution marker"),
    ],
)
def test_malformed_markers_are_refused_with_the_line(source, fragment):
    with pytest.raises(MasterError) as caught:
        blank_source(source, "notebooks/09-x.ipynb cell 4")
    message = str(caught.value)
    assert fragment in message and "notebooks/09-x.ipynb cell 4" in message


def test_a_solution_inside_a_cluster_cell_is_blanked_and_keeps_the_magic():
    source = "%%cluster\nisvc = build()  # SOLUTION\napply(isvc)"
    assert blank_source(source) == "%%cluster\nisvc = ...  # YOUR CODE HERE\napply(isvc)"


# ---------------------------------------------------------------------------------- notebooks

MODEL_FILE_CELL = """%%writefile model.py
\"\"\"A model file the lab serves.\"\"\"
import kserve


def convert(rows):
    \"\"\"Rows -> numbers.\"\"\"
    # BEGIN SOLUTION
    out = []
    for row in rows:
        out.append(sum(row))
    return out
    # END SOLUTION


class Mine(kserve.Model):
    \"\"\"One of yours.\"\"\"

    def __init__(self, name):
        super().__init__(name)
        self.ready = True

    def preprocess(self, payload, headers=None):
        \"\"\"Payload -> rows.\"\"\"
        # BEGIN SOLUTION
        return {"instances": convert(payload["instances"])}
        # END SOLUTION

    def load(self):
        # BEGIN SOLUTION
        self.model = object()
        self.ready = True
        # END SOLUTION
        return self.ready
"""


def test_a_writefile_cell_keeps_the_files_skeleton_to_complete():
    student = blank_source(MODEL_FILE_CELL)
    lines = student.split("\n")
    assert lines[0] == "%%writefile model.py"
    tree = ast.parse("\n".join(lines[1:]))  # still a Python file
    classes = {node.name: node for node in tree.body if isinstance(node, ast.ClassDef)}
    assert [ast.unparse(base) for base in classes["Mine"].bases] == ["kserve.Model"]
    methods = {node.name: node for node in classes["Mine"].body if isinstance(node, ast.FunctionDef)}
    assert list(methods) == ["__init__", "preprocess", "load"]
    assert ast.get_docstring(methods["preprocess"]) == "Payload -> rows."
    assert "return ...  # YOUR CODE HERE" in student  # a block of one return keeps `return`
    assert "        # YOUR CODE HERE\n        ...\n        return self.ready" in student  # code after the block stays
    assert "sum(row)" not in student and "object()" not in student and "convert(payload" not in student
    assert "super().__init__(name)" in student  # the given parts are kept


@pytest.mark.parametrize(
    "source",
    [
        # a block that takes the loop's header but not its body leaves a file that does not parse
        "%%writefile model.py\ndef f(rows):\n    # BEGIN SOLUTION\n    for row in rows:\n    # END SOLUTION\n        pass\n",
        "%%writefile -a model.py\nif True:\n# BEGIN SOLUTION\n    x = 1\n# END SOLUTION\n",
    ],
)
def test_a_writefile_cell_whose_student_version_is_no_python_is_refused(source):
    with pytest.raises(MasterError, match="not valid Python"):
        blank_source(source, "lab cell 3")


def test_a_writefile_cell_of_another_kind_of_file_is_not_parsed_as_python():
    source = "%%writefile notes.md\nNotes\n# BEGIN SOLUTION\nthe answer is (42\n# END SOLUTION\nend: [\n"
    assert blank_source(source) == "%%writefile notes.md\nNotes\n# YOUR CODE HERE\n...\nend: [\n"


def test_the_student_notebook_is_blanked_cleared_and_keeps_cell_ids(tree):
    notebooks, labs = tree
    written = generate(notebooks, labs)
    lab = labs / SAMPLE.name
    assert lab in written and (labs / "README.md") in written
    master = nbformat.read(notebooks / SAMPLE.name, as_version=4)
    student = nbformat.read(lab, as_version=4)
    nbformat.validate(student)

    banner, cells = student.cells[0], student.cells[1:]
    assert banner.cell_type == "markdown" and banner.id == labgen.BANNER_ID
    assert "generated" in banner.source and "invoke labs.generate" in banner.source
    assert "01-sample.ipynb" in banner.source and "instructor" in banner.source
    assert [cell.id for cell in cells] == [cell.id for cell in master.cells]
    assert any(cell.get("outputs") for cell in master.cells)  # the fixture really has outputs
    for cell in cells:
        if cell.cell_type == "code":
            assert cell.outputs == [] and cell.execution_count is None
    sources = [cell.source for cell in cells]
    assert "total = ...  # YOUR CODE HERE\ntotal" in sources
    assert "def double(x):\n    # YOUR CODE HERE\n    ...\n\n\ndoubled = double(21)" in sources
    assert any(s.startswith("%%cluster\n") and "status = ...  # YOUR CODE HERE" in s for s in sources)
    assert not any("result = x * 2" in s or "SOLUTION" in s for s in sources)
    assert student.metadata["kernelspec"]["name"] == "python3"
    assert student.metadata["workshop"]["generated_from"].endswith("01-sample.ipynb")


def test_generating_twice_changes_nothing(tree):
    notebooks, labs = tree
    generate(notebooks, labs)
    before = {path.name: path.read_bytes() for path in labs.iterdir()}
    assert generate(notebooks, labs) == []
    assert {path.name: path.read_bytes() for path in labs.iterdir()} == before


def test_the_index_lists_the_labs_by_title(tree):
    notebooks, labs = tree
    generate(notebooks, labs)
    index = (labs / "README.md").read_text()
    assert "[Sample lab: adding and doubling](01-sample.ipynb)" in index


def test_a_bad_master_stops_generation_before_anything_is_written(tree):
    notebooks, labs = tree
    bad = nbformat.read(notebooks / SAMPLE.name, as_version=4)
    bad.cells[5].source = "# BEGIN SOLUTION\ntotal = 5"
    nbformat.write(bad, notebooks / "02-bad.ipynb")
    with pytest.raises(MasterError) as caught:
        generate(notebooks, labs)
    assert "02-bad.ipynb cell 6" in str(caught.value)
    assert not labs.exists() or not list(labs.iterdir())


def test_an_unreadable_master_is_one_clear_error(tree):
    notebooks, labs = tree
    (notebooks / "03-broken.ipynb").write_text("{not json")
    with pytest.raises(MasterError, match="03-broken.ipynb is not a readable notebook"):
        generate(notebooks, labs)


def test_no_masters_is_an_error(tmp_path):
    (tmp_path / "notebooks").mkdir()
    with pytest.raises(WorkshopError, match="no master notebooks"):
        generate(tmp_path / "notebooks", tmp_path / "labs")


# ---------------------------------------------------------------------------------- drift


def test_no_drift_right_after_generation(tree):
    notebooks, labs = tree
    generate(notebooks, labs)
    assert find_drift(notebooks, labs) == []
    check_drift(notebooks, labs)


def test_a_changed_master_is_drift(tree):
    notebooks, labs = tree
    generate(notebooks, labs)
    master = nbformat.read(notebooks / SAMPLE.name, as_version=4)
    master.cells[4].source += "\nAlso subtract 1."
    nbformat.write(master, notebooks / SAMPLE.name)
    assert find_drift(notebooks, labs) == [f"{labs / SAMPLE.name}: out of date with its master"]
    with pytest.raises(WorkshopError) as caught:
        check_drift(notebooks, labs)
    assert SAMPLE.name in str(caught.value) and "invoke labs.generate" in str(caught.value)


def test_a_renamed_lab_title_makes_the_index_drift(tree):
    notebooks, labs = tree
    generate(notebooks, labs)
    master = nbformat.read(notebooks / SAMPLE.name, as_version=4)
    master.cells[0].source = master.cells[0].source.replace("Sample lab", "Example lab")
    nbformat.write(master, notebooks / SAMPLE.name)
    assert find_drift(notebooks, labs) == [
        f"{labs / SAMPLE.name}: out of date with its master",
        f"{labs / 'README.md'}: out of date with its master",
    ]


def test_a_hand_edited_lab_is_drift(tree):
    notebooks, labs = tree
    generate(notebooks, labs)
    lab = json.loads((labs / SAMPLE.name).read_text())
    lab["cells"][6]["source"] = "total = 5"
    (labs / SAMPLE.name).write_text(json.dumps(lab))
    assert find_drift(notebooks, labs) == [f"{labs / SAMPLE.name}: out of date with its master"]


def test_a_reformatted_but_identical_lab_is_not_drift(tree):
    notebooks, labs = tree
    generate(notebooks, labs)
    lab = json.loads((labs / SAMPLE.name).read_text())
    (labs / SAMPLE.name).write_text(json.dumps(lab, indent=4))
    assert find_drift(notebooks, labs) == []


def test_missing_and_orphan_labs_are_drift_and_generation_fixes_both(tree):
    notebooks, labs = tree
    generate(notebooks, labs)
    (labs / SAMPLE.name).unlink()
    shutil.copy(SAMPLE, labs / "07-removed.ipynb")
    assert find_drift(notebooks, labs) == [
        f"{labs / SAMPLE.name}: missing",
        f"{labs / '07-removed.ipynb'}: no master notebook",
    ]
    generate(notebooks, labs)
    assert find_drift(notebooks, labs) == []
    assert not (labs / "07-removed.ipynb").exists()


def test_the_generated_lab_still_parses_and_flags_no_undefined_names(tree):
    from kserve_workshop.labkit.notebook_lint import check_notebook

    notebooks, labs = tree
    generate(notebooks, labs)
    problems = [p for p in check_notebook(labs / SAMPLE.name) if "check(" not in p.message]
    assert problems == []


# ---------------------------------------------------------------------------------- task


def test_the_task_reports_a_bad_master_as_one_message_and_exit_code(tree, capsys):
    notebooks, labs = tree
    master = nbformat.read(notebooks / SAMPLE.name, as_version=4)
    master.cells[5].source = "total = 2 +  # SOLUTION"
    nbformat.write(master, notebooks / SAMPLE.name)
    with pytest.raises(Exit) as caught:
        generate_task(Context(), notebooks_dir=str(notebooks), labs_dir=str(labs))
    assert caught.value.code == 1
    err = capsys.readouterr().err
    assert "error:" in err and "cell 6" in err and "Traceback" not in err


def test_the_task_writes_the_labs(tree, capsys):
    notebooks, labs = tree
    generate_task(Context(), notebooks_dir=str(notebooks), labs_dir=str(labs))
    assert (labs / SAMPLE.name).exists()
    assert f"wrote {labs / SAMPLE.name}" in capsys.readouterr().out


def test_the_check_task_fails_on_drift_and_static_problems_and_passes_when_clean(tree, capsys):
    notebooks, labs = tree
    with pytest.raises(Exit):
        check_task(Context(), notebooks_dir=str(notebooks), labs_dir=str(labs))
    err = capsys.readouterr().err
    assert f"drift: {labs / SAMPLE.name}: missing" in err and "invoke labs.generate" in err
    master = nbformat.read(notebooks / SAMPLE.name, as_version=4)
    master.cells[8].source += "\nprint(doubel)"
    nbformat.write(master, notebooks / SAMPLE.name)
    generate(notebooks, labs)
    with pytest.raises(Exit):
        check_task(Context(), notebooks_dir=str(notebooks), labs_dir=str(labs))
    err = capsys.readouterr().err
    assert "cell 9, line 9: undefined name 'doubel'" in err and "drift" not in err
    master.cells[8].source = master.cells[8].source.replace("\nprint(doubel)", "")
    nbformat.write(master, notebooks / SAMPLE.name)
    generate(notebooks, labs)
    check_task(Context(), notebooks_dir=str(notebooks), labs_dir=str(labs))
    assert "in sync" in capsys.readouterr().out
