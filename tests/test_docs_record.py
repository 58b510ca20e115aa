"""`invoke docs.record`: a kind run's outputs replace the expected boxes, labelled with the run; input
that is not such a run is refused with one message and changes nothing. The notebooks here are TEST
FIXTURES built in a temporary folder (tests/support/record_fixtures.py), never docs content."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import nbformat
import pytest
from invoke import MockContext

from kserve_workshop.docs_pages import record, run_info
from kserve_workshop.errors import WorkshopError
from kserve_workshop.paths import REPO_ROOT
from kserve_workshop.tasks import docs as docs_tasks
from support import record_fixtures as fx


def cells_by_id(path):
    return {cell.get("id"): cell for cell in nbformat.read(str(path), as_version=4).cells}


def test_a_kind_run_replaces_every_expected_box_with_what_the_cell_printed(tmp_path):
    notebooks, artefacts = fx.write_run(tmp_path)
    master = notebooks / f"{fx.NAME}.ipynb"
    before = cells_by_id(master)
    (recorded,) = record.record_run(artefacts, notebooks)
    assert len(recorded.captures) == 2
    after = cells_by_id(master)

    apply_box = after["fixture-expected-apply"]
    assert apply_box.metadata["tags"] == ["captured-output"]
    first_line = apply_box.source.splitlines()[0]
    assert first_line.startswith(
        "**Captured on a cluster** (kind, Kubernetes v1.34.0, KServe v0.20.0, "
        "Knative Serving 1.21.1, Istio 1.27.1, 2026-09-01"
    )
    assert "actions/runs/1" in first_line
    assert "TEST FIXTURE inferenceservice.serving.kserve.io/fixture created" in apply_box.source
    assert "The fixture's explanation line." in apply_box.source, "the expected box's explanation is kept"
    assert "inferenceservice/fixture created\n" not in apply_box.source, "the expected text itself is gone"
    assert "read manifests/fixture.yaml" in apply_box.source and "/home/runner" not in apply_box.source

    plot_box = after["fixture-expected-plot"]
    assert "TEST FIXTURE: 3 pods" in plot_box.source
    assert plot_box.attachments["cluster-output-1.png"]["image/png"] == fx.PNG
    assert "attachment:cluster-output-1.png" in plot_box.source
    unchanged = [cid for cid in before if cid not in ("fixture-expected-apply", "fixture-expected-plot")]
    assert all(before[cid] == after[cid] for cid in unchanged), "only the boxes change"
    nbformat.validate(nbformat.read(str(master), as_version=4))


def test_recording_again_replaces_the_captured_boxes_of_the_previous_run(tmp_path):
    notebooks, artefacts = fx.write_run(tmp_path)
    record.record_run(artefacts, notebooks)
    newer = {**fx.RUN, "date": "2026-10-02", "kserve": "v0.20.1"}
    (artefacts / f"e2e-{fx.NAME}" / "run.json").write_text(json.dumps(newer))
    record.record_run(artefacts, notebooks)
    box = cells_by_id(notebooks / f"{fx.NAME}.ipynb")["fixture-expected-apply"]
    assert "KServe v0.20.1" in box.source and "2026-10-02" in box.source and "2026-09-01" not in box.source


def _skipped(executed):
    executed.cells[3].outputs = [
        nbformat.from_dict(
            {"output_type": "display_data", "data": {"text/plain": "x"}, "metadata": {"workshop": "cluster-skipped"}}
        )
    ]


def _legacy_skip(executed):
    executed.cells[5].outputs = [
        nbformat.from_dict(
            {"output_type": "stream", "name": "stdout", "text": "\u23ed  Cluster cell skipped: no usable kubeconfig\n"}
        )
    ]


def _no_outputs(executed):
    for index in (3, 5, 7):
        executed.cells[index].outputs = []


def _failed(executed):
    executed.cells[5].outputs = [
        nbformat.from_dict({"output_type": "error", "ename": "ApiException", "evalue": "404", "traceback": []})
    ]


def _no_cluster_cells(executed):
    executed.cells = [c for c in executed.cells if not c.source.startswith("%%cluster")]


@pytest.mark.parametrize(
    "spoil, message",
    [
        (_skipped, "cell 4 was skipped (no cluster answered): this is not a cluster run"),
        (_legacy_skip, "cell 6 was skipped"),
        (_no_outputs, "no cluster cell has any output"),
        (_failed, "cell 6 failed on the cluster"),
        (_no_cluster_cells, "has no %%cluster cells"),
    ],
)
def test_what_is_not_a_cluster_run_is_refused_and_nothing_changes(tmp_path, spoil, message):
    master = fx.master_notebook()
    executed = fx.executed_notebook(master)
    spoil(executed)
    notebooks, artefacts = fx.write_run(tmp_path, master=master, executed=executed)
    before = (notebooks / f"{fx.NAME}.ipynb").read_bytes()
    with pytest.raises(WorkshopError, match=message.replace("(", r"\(").replace(")", r"\)")):
        record.record_run(artefacts, notebooks)
    assert (notebooks / f"{fx.NAME}.ipynb").read_bytes() == before


@pytest.mark.parametrize(
    "run, message",
    [
        (None, "no run.json beside the executed notebook"),
        ({**fx.RUN, "kserve": ""}, "lacks the run's kserve"),
        ({k: v for k, v in fx.RUN.items() if k not in ("date", "istio")}, "lacks the run's date, istio"),
        ({**fx.RUN, "knative_serving": "unknown"}, "lacks the run's knative_serving"),
    ],
)
def test_a_run_without_its_date_and_versions_is_refused(tmp_path, run, message):
    notebooks, artefacts = fx.write_run(tmp_path, run=run)
    with pytest.raises(WorkshopError, match=message):
        record.record_run(artefacts, notebooks)


def test_a_master_that_changed_since_the_run_is_refused(tmp_path):
    master = fx.master_notebook()
    executed = fx.executed_notebook(master)
    master.cells[5].source = "%%cluster\nplot_fixture(seconds=60)"
    notebooks, artefacts = fx.write_run(tmp_path, master=master, executed=executed)
    with pytest.raises(WorkshopError, match="cell 6 changed since the run"):
        record.record_run(artefacts, notebooks)


def test_a_master_without_expected_boxes_has_nothing_to_replace(tmp_path):
    master = fx.master_notebook()
    for cell in master.cells:
        cell.metadata.pop("tags", None)
    notebooks, artefacts = fx.write_run(tmp_path, master=master, executed=fx.executed_notebook(master))
    with pytest.raises(WorkshopError, match="no expected-output cells"):
        record.record_run(artefacts, notebooks)


def test_one_bad_lab_in_a_run_leaves_every_lab_unchanged(tmp_path):
    notebooks, artefacts = fx.write_run(tmp_path)
    bad = fx.master_notebook()
    bad.cells[0].source = "# Lab 98 — Second test fixture lab"
    bad_run = fx.executed_notebook(bad)
    _skipped(bad_run)
    fx.write_run(tmp_path, master=bad, executed=bad_run, name="98-test-fixture-lab")
    before = {path.name: path.read_bytes() for path in notebooks.iterdir()}
    with pytest.raises(WorkshopError, match="98-test-fixture-lab: cell 4 was skipped"):
        record.record_run(artefacts, notebooks)
    assert {path.name: path.read_bytes() for path in notebooks.iterdir()} == before


@pytest.mark.parametrize(
    "layout, message",
    [
        ("empty", "no executed notebooks in"),
        ("no master", "no master notebook 99-test-fixture-lab.ipynb"),
        ("not json", "is not a readable notebook"),
    ],
)
def test_folders_that_are_not_a_download_of_the_workflow(tmp_path, layout, message):
    notebooks, artefacts = fx.write_run(tmp_path)
    if layout == "empty":
        artefacts = tmp_path / "empty"
        artefacts.mkdir()
    elif layout == "no master":
        (notebooks / f"{fx.NAME}.ipynb").unlink()
    else:
        (artefacts / f"e2e-{fx.NAME}" / "executed" / f"{fx.NAME}.ipynb").write_text("{not json")
    with pytest.raises(WorkshopError, match=message):
        record.record_run(artefacts, notebooks)


def test_the_task_records_then_regenerates_the_student_notebooks(tmp_path, capsys):
    notebooks, artefacts = fx.write_run(tmp_path)
    labs = tmp_path / "labs"
    docs_tasks.record(MockContext(), from_=str(artefacts), notebooks_dir=str(notebooks), labs_dir=str(labs))
    student = cells_by_id(labs / f"{fx.NAME}.ipynb")
    assert any("Captured on a cluster" in cell.source for cell in student.values())
    assert "replaced 2 box(es) in 99-test-fixture-lab.ipynb" in capsys.readouterr().out


def test_a_dry_run_checks_and_writes_nothing(tmp_path, capsys):
    notebooks, artefacts = fx.write_run(tmp_path)
    before = (notebooks / f"{fx.NAME}.ipynb").read_bytes()
    docs_tasks.record(
        MockContext(), from_=str(artefacts), notebooks_dir=str(notebooks), labs_dir=str(tmp_path / "labs"), dry_run=True
    )
    assert (notebooks / f"{fx.NAME}.ipynb").read_bytes() == before and not (tmp_path / "labs").exists()
    assert "would replace 2 box(es)" in capsys.readouterr().out


@pytest.mark.parametrize(
    "argv, message",
    [
        ([], "--from is required"),
        (["--from", "/nonexistent-folder"], "/nonexistent-folder is not a folder"),
    ],
)
def test_bad_arguments_are_one_message_and_no_traceback(argv, message):
    done = subprocess.run(
        [sys.executable, "-m", "invoke", "docs.record", *argv],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        timeout=60,
        env={**os.environ, "NO_COLOR": "1"},
    )
    assert done.returncode == 1 and message in done.stderr
    assert "Traceback" not in done.stderr + done.stdout


@pytest.mark.parametrize(
    "text, shown",
    [
        ("cp /home/runner/work/kserve-workshop/kserve-workshop/labs/x.ipynb .", "cp labs/x.ipynb ."),
        ("wrote /home/alice/.kube/config", "wrote ~/.kube/config"),
        ("tmp: /tmp/tmpab12cd/model.joblib done", "tmp: $TMPDIR/… done"),
        ("\x1b[32mready\x1b[0m", "ready"),
    ],
)
def test_outputs_lose_the_paths_and_colours_of_the_runner(text, shown):
    assert record.cleaned(text) == shown


def test_long_outputs_are_cut_and_counted():
    text = record.cleaned("\n".join(f"line {n}" for n in range(100)))
    assert text.splitlines()[-1] == "… (60 more lines)" and len(text.splitlines()) == record.MAX_LINES + 1


# ----- the run's record, read from the cluster ------------------------------------------------------


def fake_kubectl(
    images=("kserve/kserve-controller:v0.20.0", "docker.io/istio/pilot:1.27.1@sha256:abc"), serving="1.21.1"
):
    def run(args):
        if args[:1] == ["version"]:
            return json.dumps({"serverVersion": {"gitVersion": "v1.34.0"}})
        if args[:2] == ["get", "deployment"]:
            image = images[0] if args[2] == "kserve-controller-manager" else images[1]
            name = "manager" if args[2] == "kserve-controller-manager" else "discovery"
            return json.dumps(
                {
                    "spec": {
                        "template": {
                            "spec": {
                                "containers": [
                                    {"name": "kube-rbac-proxy", "image": "quay.io/brancz/kube-rbac-proxy:v0.18.0"},
                                    {"name": name, "image": image},
                                ]
                            }
                        }
                    }
                }
            )
        if args[:2] == ["get", "knativeserving"]:
            return serving
        raise AssertionError(f"unexpected kubectl {args}")

    return run


def test_the_run_record_is_what_the_cluster_reports():
    from datetime import datetime, timezone

    found = run_info.collect_run_info(
        "kind-kserve-workshop",
        kubectl=fake_kubectl(),
        now=datetime(2026, 9, 1, tzinfo=timezone.utc),
        env={"GITHUB_RUN_ID": "7", "GITHUB_REPOSITORY": "o/r", "GITHUB_SHA": "abc"},
    )
    assert found == {
        "date": "2026-09-01",
        "cluster": "kind",
        "kubernetes": "v1.34.0",
        "kserve": "v0.20.0",
        "knative_serving": "1.21.1",
        "istio": "1.27.1",
        "run": "https://github.com/o/r/actions/runs/7",
        "commit": "abc",
    }
    assert run_info.missing_fields(found) == []
    assert (
        run_info.label(found)
        == "kind, Kubernetes v1.34.0, KServe v0.20.0, Knative Serving 1.21.1, Istio 1.27.1, 2026-09-01"
    )


def test_a_cluster_that_does_not_report_a_version_leaves_it_missing():
    found = run_info.collect_run_info("gke_p_z_c", kubectl=fake_kubectl(serving=""), env={})
    assert found["cluster"] == "GKE" and "run" not in found
    assert run_info.missing_fields(found) == ["knative_serving"]
