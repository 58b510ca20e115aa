"""``invoke docs.record --from DIR``: what a real cluster run printed, in place of the expected boxes.

``DIR`` holds what the kind workflow uploads (``gh run download RUN -D DIR``): one folder per lab,
``e2e-NN-topic/``, with ``executed/NN-topic.ipynb`` (the notebook nbval ran against the cluster)
and ``run.json`` (the run's date and the platform versions the cluster reported; see ``run_info``).

For every ``expected-output`` (or earlier ``captured-output``) cell of a master notebook, the
output of the cluster cell it follows is taken from the executed notebook and written as a
``captured-output`` cell labelled with the run's date and versions. Everything is checked before
anything is written: a folder without executed notebooks, a notebook whose cluster cells were
skipped, failed or never ran, a run without its versions, or a master that changed since the run
is refused with one message, and no file changes.
"""

from __future__ import annotations

import copy
import json
import re
from dataclasses import dataclass
from pathlib import Path

import nbformat

from ..errors import WorkshopError
from ..labkit.cluster_magic import is_skip_output
from .lab_view import TAG_CAPTURED, TAG_EXPECTED, is_cluster_cell, source, tags
from .run_info import RUN_FILE, label, missing_fields

#: A captured box keeps at most this many lines of one cell's output (the rest is counted).
MAX_LINES = 40
#: Paths of the machine that ran the notebooks, and what a page shows instead: the checkout on
#: GitHub's runners (relative paths), home folders (~), temporary files.
_RUNNER_PATHS = [
    (re.compile(r"/home/runner/work/[^/\s]+/[^/\s]+/"), ""),
    (re.compile(r"/(?:home|Users)/[^/\s]+/"), "~/"),
    (re.compile(r"/tmp/[^\s'\"]+"), "$TMPDIR/…"),
]
_FENCE = re.compile(r"^(`{3,}|~{3,})", re.M)


@dataclass
class Capture:
    """One box to replace: the master's cell index, the code cell's id, what it printed."""

    index: int
    cell_id: str
    text: str
    images: list[str]


@dataclass
class LabRecord:
    master: Path
    executed: Path
    run: dict
    captures: list[Capture]


def find_runs(directory: Path) -> dict[str, tuple[Path, Path]]:
    """``{NN-topic: (executed notebook, run.json)}`` from a download of the workflow's artefacts."""
    if not directory.is_dir():
        raise WorkshopError(
            f"{directory} is not a folder", hint="download the kind workflow's artefacts: gh run download RUN_ID -D DIR"
        )
    found: dict[str, tuple[Path, Path]] = {}
    for notebook in sorted(directory.rglob("executed/[0-9][0-9]-*.ipynb")):
        artefact = notebook.parent.parent
        if notebook.stem in found:
            raise WorkshopError(
                f"{notebook.stem} is in {directory} twice ({found[notebook.stem][0]} and {notebook})",
                hint="give --from the artefacts of one run",
            )
        found[notebook.stem] = (notebook, artefact / RUN_FILE)
    if not found:
        raise WorkshopError(
            f"no executed notebooks in {directory} (expected e2e-NN-topic/executed/NN-topic.ipynb)",
            hint="download the kind workflow's artefacts: gh run download RUN_ID -D DIR",
        )
    return found


def _read_notebook(path: Path) -> nbformat.NotebookNode:
    try:
        return nbformat.read(str(path), as_version=4)
    except (OSError, ValueError, nbformat.reader.NotJSONError) as exc:
        raise WorkshopError(f"{path} is not a readable notebook ({exc})") from None


def _read_run(path: Path, name: str) -> dict:
    if not path.is_file():
        raise WorkshopError(
            f"{name}: no {RUN_FILE} beside the executed notebook, so the run's date and platform versions are unknown",
            hint="only the kind workflow's artefacts can be recorded",
        )
    try:
        record = json.loads(path.read_text(encoding="utf-8"))
    except ValueError as exc:
        raise WorkshopError(f"{path} is not JSON ({exc})") from None
    missing = missing_fields(record) if isinstance(record, dict) else ["all"]
    if missing:
        raise WorkshopError(
            f"{name}: {RUN_FILE} lacks the run's {', '.join(missing)}",
            hint="the workflow writes it with `invoke docs.run-info` while the cluster runs",
        )
    return record


def cleaned(text: str) -> str:
    """Output as a page shows it: no paths of the runner, no colour codes, long outputs cut."""
    text = re.sub(r"\x1b\[[0-9;]*[A-Za-z]", "", text)
    for pattern, replacement in _RUNNER_PATHS:
        text = pattern.sub(replacement, text)
    lines = text.rstrip().splitlines()
    if len(lines) > MAX_LINES:
        lines = lines[:MAX_LINES] + [f"… ({len(lines) - MAX_LINES} more lines)"]
    return "\n".join(lines)


def _output_text(cell: dict) -> tuple[str, list[str]]:
    texts, images = [], []
    for output in cell.get("outputs", []):
        kind = output.get("output_type")
        if kind == "stream":
            texts.append(source({"source": output.get("text", "")}))
        elif kind in ("execute_result", "display_data"):
            data = output.get("data", {})
            if "image/png" in data:
                images.append(source({"source": data["image/png"]}).replace("\n", ""))
            elif "text/plain" in data:
                texts.append(source({"source": data["text/plain"]}) + "\n")
    return "".join(texts), images


def _check_ran(executed: nbformat.NotebookNode, name: str) -> dict[str, dict]:
    """The executed notebook's cluster cells by id; refused unless every one ran on the cluster."""
    cluster = [c for c in executed.cells if is_cluster_cell(c)]
    if not cluster:
        raise WorkshopError(f"{name}: the executed notebook has no %%cluster cells, so nothing ran on a cluster")
    for number, cell in enumerate(executed.cells, 1):
        if not is_cluster_cell(cell):
            continue
        if any(is_skip_output(o) for o in cell.get("outputs", [])):
            raise WorkshopError(
                f"{name}: cell {number} was skipped (no cluster answered): this is not a cluster run",
                hint="record only a run of the kind workflow (WORKSHOP_REQUIRE_CLUSTER=1)",
            )
        if any(o.get("output_type") == "error" for o in cell.get("outputs", [])):
            raise WorkshopError(
                f"{name}: cell {number} failed on the cluster: a failed run is not recorded",
                hint="fix the cause and record a run that passed",
            )
        if cell.get("execution_count") is None:
            raise WorkshopError(f"{name}: cell {number} never ran: the notebook is not an executed run")
    if not any(c.get("outputs") for c in cluster):
        raise WorkshopError(f"{name}: no cluster cell has any output: the notebook was not run on a cluster")
    return {c.get("id", ""): c for c in cluster}


def plan_lab(master_path: Path, executed_path: Path, run_path: Path) -> LabRecord:
    """Everything to change in one master, checked; raises before anything is written."""
    name = master_path.stem
    master, executed = _read_notebook(master_path), _read_notebook(executed_path)
    ran = _check_ran(executed, name)
    by_source = {source(c): c for c in ran.values()}
    run = _read_run(run_path, name)
    captures = []
    for index, cell in enumerate(master.cells):
        if cell.cell_type != "markdown" or not {TAG_EXPECTED, TAG_CAPTURED} & set(tags(cell)):
            continue
        before = master.cells[index - 1] if index else None
        if before is None or not is_cluster_cell(before):
            raise WorkshopError(
                f"{name}: the output box at cell {index + 1} does not follow a %%cluster cell",
                hint="an expected-output cell goes right after the cluster cell it shows",
            )
        twin = ran.get(before.get("id", "")) or by_source.get(source(before))
        if twin is None or source(twin) != source(before):
            raise WorkshopError(
                f"{name}: cell {index} changed since the run (its code differs from the executed notebook's)",
                hint="record a run of the notebooks as they are now",
            )
        text, images = _output_text(twin)
        captures.append(Capture(index, before.get("id", ""), cleaned(text), images))
    if not captures:
        raise WorkshopError(
            f"{name}: the master has no expected-output cells to replace",
            hint="the cluster cells' outputs go into the cells tagged expected-output",
        )
    return LabRecord(master_path, executed_path, run, captures)


def captured_cell(previous: dict, capture: Capture, run: dict) -> dict:
    """The ``captured-output`` cell that takes the place of ``previous``; its explanations are kept."""
    lines = source(previous).splitlines()
    prose = []
    in_fence = False
    for line in lines[1:]:
        if _FENCE.match(line):
            in_fence = not in_fence
            continue
        if not in_fence:
            prose.append(line)
    text = capture.text or "(the cell printed nothing)"
    fence = "`" * max(3, 1 + max((len(m) for m in re.findall(r"`+", text)), default=0))
    run_link = f"; [the run]({run['run']})" if run.get("run") else ""
    body = [f"**Captured on a cluster** ({label(run)}{run_link}):", *prose, "", f"{fence}text", text, fence]
    attachments = {}
    for number, image in enumerate(capture.images, 1):
        attachments[f"cluster-output-{number}.png"] = {"image/png": image}
        body += ["", f"![what the cell drew on the cluster](attachment:cluster-output-{number}.png)"]
    cell = {
        "cell_type": "markdown",
        "id": previous.get("id"),
        "metadata": {"tags": [TAG_CAPTURED]},
        "source": re.sub(r"\n{3,}", "\n\n", "\n".join(body)),
    }
    if attachments:
        cell["attachments"] = attachments
    return nbformat.from_dict(cell)


def apply(record: LabRecord) -> nbformat.NotebookNode:
    master = _read_notebook(record.master)
    updated = copy.deepcopy(master)
    for capture in record.captures:
        updated.cells[capture.index] = captured_cell(master.cells[capture.index], capture, record.run)
    nbformat.validate(updated)
    return updated


def record_run(directory: Path, notebooks_dir: Path, *, write: bool = True) -> list[LabRecord]:
    """Check every lab of the run, then (``write``) replace the boxes of each; nothing is written when one fails."""
    runs = find_runs(directory)
    records = []
    for name, (executed, run_file) in runs.items():
        master = notebooks_dir / f"{name}.ipynb"
        if not master.is_file():
            raise WorkshopError(
                f"{name}: no master notebook {master.name} in {notebooks_dir}",
                hint="the run is of notebooks this checkout does not have",
            )
        records.append(plan_lab(master, executed, run_file))
    updated = [(record, apply(record)) for record in records]  # all built (and validated) first
    if write:
        for record, notebook in updated:
            nbformat.write(notebook, str(record.master))
    return records
