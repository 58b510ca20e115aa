"""`invoke labs.execute`: a master run for real and written in place, or left as it was when it fails."""

from __future__ import annotations

import nbformat
import pytest

from kserve_workshop.errors import WorkshopError
from kserve_workshop.labkit.masters import execute_master, machine_paths
from kserve_workshop.paths import REPO_ROOT


def _master(path, *sources):
    nb = nbformat.v4.new_notebook()
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nb.cells = [nbformat.v4.new_code_cell(source) for source in sources]
    nbformat.write(nb, path)
    return path


@pytest.mark.slow
def test_a_master_runs_in_its_folder_with_strict_checks_and_is_written(tmp_path):
    path = _master(
        tmp_path / "01-tiny.ipynb",
        "import os, pathlib\nprint(pathlib.Path.cwd().name)",
        "print(os.environ.get('WORKSHOP_CHECKS_STRICT'), os.environ.get('WORKSHOP_REQUIRE_CLUSTER'))",
    )
    (tmp_path / "nested").mkdir()
    moved = path.rename(tmp_path / "nested" / path.name)
    assert execute_master(moved, timeout=60) > 0
    outputs = [cell.outputs[0]["text"] for cell in nbformat.read(moved, as_version=4).cells]
    assert outputs == ["nested\n", "1 None\n"]


@pytest.mark.slow
@pytest.mark.bad_input(
    tool="invoke labs.execute",
    input="a master whose cell fails",
    example="raise ValueError('x')",
    behaviour="one message naming the error; the master unchanged",
)
def test_a_failing_cell_leaves_the_master_as_it_was(tmp_path):
    path = _master(tmp_path / "02-broken.ipynb", "print('fine')", "raise ValueError('the solution is wrong')")
    before = path.read_bytes()
    with pytest.raises(WorkshopError, match="a cell failed, so the master is left as it was") as info:
        execute_master(path, timeout=60)
    assert "the solution is wrong" in info.value.message
    assert path.read_bytes() == before


def test_outputs_naming_this_machine_are_found():
    nb = nbformat.v4.new_notebook()
    clean = nbformat.v4.new_code_cell("print('x')")
    clean.outputs = [nbformat.v4.new_output("stream", name="stdout", text="saved to .cache/lab7/model\n")]
    leaky = nbformat.v4.new_code_cell("print(path)")
    leaky.outputs = [nbformat.v4.new_output("stream", name="stdout", text=f"saved to {REPO_ROOT}/.cache/lab7\n")]
    nb.cells = [clean, leaky]
    assert machine_paths(nb) == [(2, str(REPO_ROOT))]
