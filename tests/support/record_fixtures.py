"""TEST FIXTURES for `invoke docs.record`: a tiny master notebook and what a kind run of it would
upload, built in a temporary folder by each test. Nothing here is docs content or a real run: every
output says "TEST FIXTURE", and the lab is number 99."""

from __future__ import annotations

import json
from pathlib import Path

import nbformat

NAME = "99-test-fixture-lab"
#: A 1x1 PNG: the image a cluster cell "drew" in the fixture.
PNG = "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg=="
EXPECTED_LABEL = "**Expected on a cluster** (written from upstream's documented shapes, not captured from a run):"
RUN = {
    "date": "2026-09-01",
    "cluster": "kind",
    "kubernetes": "v1.34.0",
    "kserve": "v0.20.0",
    "knative_serving": "1.21.1",
    "istio": "1.27.1",
    "run": "https://github.com/example/test-fixture/actions/runs/1",
    "commit": "0" * 40,
}


def _md(text: str, cell_id: str, tags: list[str] | None = None):
    cell = nbformat.v4.new_markdown_cell(text, id=cell_id)
    if tags:
        cell.metadata["tags"] = tags
    return cell


def _code(text: str, cell_id: str, outputs: list | None = None):
    cell = nbformat.v4.new_code_cell(text, id=cell_id, execution_count=1)
    cell.outputs = [nbformat.from_dict(o) for o in outputs or []]
    return cell


def master_notebook() -> nbformat.NotebookNode:
    skipped = {
        "output_type": "display_data",
        "metadata": {"workshop": "cluster-skipped", "reason": "fixture"},
        "data": {"text/plain": "Skipped: this cell needs a Kubernetes cluster with KServe"},
    }
    cells = [
        _md("# Lab 99 — Test fixture lab\n\nA TEST FIXTURE for docs.record.", "fixture-title"),
        _code("x = 1\nprint(x)", "fixture-local", [{"output_type": "stream", "name": "stdout", "text": "1\n"}]),
        _md("## 1. On the cluster", "fixture-section"),
        _code("%%cluster\n!kubectl apply -f manifests/fixture.yaml", "fixture-apply", [skipped]),
        _md(
            f"{EXPECTED_LABEL}\n\nThe fixture's explanation line.\n\n```text\ninferenceservice/fixture created\n```",
            "fixture-expected-apply",
            ["expected-output"],
        ),
        _code("%%cluster\nplot_fixture()", "fixture-plot", [skipped]),
        _md(f"{EXPECTED_LABEL}\n\n```text\n(a plot)\n```", "fixture-expected-plot", ["expected-output"]),
        _code("%%cluster\n!kubectl delete -f manifests/fixture.yaml", "fixture-delete", [skipped]),
    ]
    return nbformat.v4.new_notebook(
        cells=cells, metadata={"kernelspec": {"name": "python3", "display_name": "Python 3", "language": "python"}}
    )


def executed_notebook(master: nbformat.NotebookNode) -> nbformat.NotebookNode:
    """The master as the kind workflow's nbval plugin would save it: the cluster cells' real outputs."""
    executed = nbformat.from_dict(json.loads(json.dumps(master)))
    outputs = {
        "fixture-apply": [
            {
                "output_type": "stream",
                "name": "stdout",
                "text": "TEST FIXTURE inferenceservice.serving.kserve.io/fixture created\n"
                "read /home/runner/work/kserve-workshop/kserve-workshop/manifests/fixture.yaml\n",
            }
        ],
        "fixture-plot": [
            {
                "output_type": "execute_result",
                "execution_count": 1,
                "metadata": {},
                "data": {"text/plain": "TEST FIXTURE: 3 pods"},
            },
            {"output_type": "display_data", "metadata": {}, "data": {"image/png": PNG, "text/plain": "<Figure>"}},
        ],
        "fixture-delete": [
            {
                "output_type": "stream",
                "name": "stdout",
                "text": 'TEST FIXTURE inferenceservice.serving.kserve.io "fixture" deleted\n',
            }
        ],
    }
    for cell in executed.cells:
        if cell.get("id") in outputs:
            cell.outputs = [nbformat.from_dict(o) for o in outputs[cell.id]]
    return executed


def write_run(root: Path, *, master=None, executed=None, run: dict | None = RUN, name: str = NAME) -> tuple[Path, Path]:
    """``(notebooks dir, artefacts dir)``: the master in the first, the run's artefact in the second
    (laid out as ``gh run download`` writes the kind workflow's artefacts)."""
    notebooks, artefacts = root / "notebooks", root / "artefacts"
    master = master if master is not None else master_notebook()
    executed = executed if executed is not None else executed_notebook(master)
    (artefacts / f"e2e-{name}" / "executed").mkdir(parents=True, exist_ok=True)
    notebooks.mkdir(parents=True, exist_ok=True)
    nbformat.write(master, str(notebooks / f"{name}.ipynb"))
    nbformat.write(executed, str(artefacts / f"e2e-{name}" / "executed" / f"{name}.ipynb"))
    if run is not None:
        (artefacts / f"e2e-{name}" / "run.json").write_text(json.dumps(run))
    return notebooks, artefacts
