"""The scorecard: run a learner's lab notebooks and tabulate every check, per lab.

Each notebook runs top to bottom in a fresh kernel (errors allowed, a time limit per cell) with
``WORKSHOP_GRADE_REPORT`` pointing at a JSONL file that ``check()`` appends to. The checks a
notebook calls are read from its code beforehand, so a check whose cell never ran (or crashed
before reporting) shows as "not run" instead of disappearing. The result is written as
``scorecard.json`` and ``scorecard.md`` (and the executed notebooks, for the instructor).

Each lab is graded once: when a folder holds several notebooks of one lab (Jupyter's
``02-...-Copy1.ipynb``), the most recently saved one is graded (on a tie, the one not named as a
copy, then by name), and the scorecard says which file was graded and which were not.

A cell that runs past the time limit is interrupted (as Jupyter's Interrupt button does: the
lab's local servers keep running) and recorded as timed out, not as an error; the lab goes on
with its next cell. A cell that does not stop when interrupted (it ignores SIGINT, or spins in C
code like ``sum(range(10**13))``) gets ``INTERRUPT_GRACE`` seconds more; then its kernel is killed,
the rest of that lab counts as not run, and grading goes on with the next lab.
"""

from __future__ import annotations

import ast
import json
import os
import re
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from queue import Empty

import nbformat

from ..console import console, info, plain, step
from ..errors import WorkshopError
from .cluster_magic import is_skip_output
from .grading import REPORT_ENV, STRICT_ENV
from .labgen import MASTER_GLOB
from .notebook_cells import CLUSTER_MAGIC, python_of

PASSED, FAILED, NOT_RUN, SKIPPED = "passed", "failed", "not run", "skipped"
NOTEBOOK_ENV = "WORKSHOP_GRADE_NOTEBOOK"
#: Seconds an interrupted cell has to stop before its kernel is killed.
INTERRUPT_GRACE = 5.0
#: How Jupyter (and people) name copies: "02-x-Copy1.ipynb", "02-x (1).ipynb", "02-x copy.ipynb".
_COPY_NAME = re.compile(r"(-Copy\d*| \(\d+\)| copy\d*)$", re.IGNORECASE)


@dataclass
class CheckRow:
    name: str
    status: str
    message: str = ""
    expected: str | None = None
    found: str | None = None
    hint: str | None = None


@dataclass
class LabScore:
    notebook: str
    checks: list[CheckRow] = field(default_factory=list)
    #: Cells that raised (the learner's code or a check in strict mode).
    cell_errors: int = 0
    #: Set when the notebook could not be run to the end (kernel died, could not start...).
    error: str | None = None
    seconds: float = 0.0
    #: Cells stopped at the time limit ("cell 7: x = sum(range(10**13))"); not counted as errors.
    timed_out: list[str] = field(default_factory=list)
    #: Other notebooks of the same lab in the folder, not graded (this one was saved most recently).
    not_graded: list[str] = field(default_factory=list)

    @property
    def passed(self) -> int:
        return sum(row.status == PASSED for row in self.checks)

    @property
    def total(self) -> int:
        """Checks that count: a cluster check skipped for want of a cluster does not."""
        return sum(row.status != SKIPPED for row in self.checks)

    def to_dict(self) -> dict:
        data = asdict(self)
        data.update(passed=self.passed, total=self.total)
        return data


@dataclass
class Scorecard:
    labs_dir: str
    labs: list[LabScore]
    generated_at: str = field(default_factory=lambda: time.strftime("%Y-%m-%dT%H:%M:%S%z"))

    @property
    def passed(self) -> int:
        return sum(lab.passed for lab in self.labs)

    @property
    def total(self) -> int:
        return sum(lab.total for lab in self.labs)

    def to_dict(self) -> dict:
        return {
            "labs_dir": self.labs_dir,
            "generated_at": self.generated_at,
            "passed": self.passed,
            "total": self.total,
            "labs": [lab.to_dict() for lab in self.labs],
        }

    def markdown(self) -> str:
        lines = [
            f"# Scorecard: {self.passed}/{self.total} checks passed",
            "",
            f"Labs in `{self.labs_dir}`, graded {self.generated_at}.",
            "",
        ]
        for lab in self.labs:
            lines.append(f"## {lab.notebook}: {lab.passed}/{lab.total}")
            lines.append("")
            if lab.not_graded:
                lines += [
                    f"Graded `{lab.notebook}`, the lab's most recently saved notebook; not graded: "
                    + ", ".join(f"`{name}`" for name in lab.not_graded)
                    + ".",
                    "",
                ]
            if lab.error:
                lines += [f"**Did not run to the end:** {lab.error}", ""]
            if lab.timed_out:
                lines += [f"Timed out (interrupted at the time limit): {_markdown_cell('; '.join(lab.timed_out))}", ""]
            if lab.cell_errors:
                lines += [f"{lab.cell_errors} cell(s) raised an error.", ""]
            lines += ["| check | result | details |", "|---|---|---|"]
            for row in lab.checks:
                mark = {PASSED: "✓ passed", FAILED: "✗ failed", SKIPPED: "○ skipped"}.get(row.status, "– not run")
                lines.append(f"| `{row.name}` | {mark} | {_markdown_cell(_details(row))} |")
            lines.append("")
        return "\n".join(lines)

    def rich_table(self):
        from rich.table import Table

        table = Table(title=f"Scorecard: {self.passed}/{self.total} checks passed", show_lines=False)
        for column in ("lab", "check", "result", "what went wrong"):
            table.add_column(column, overflow="fold")
        for lab in self.labs:
            first = f"{plain(lab.notebook)} ({lab.passed}/{lab.total})"
            if lab.not_graded:
                first += f"\n(not graded: {plain(', '.join(lab.not_graded))})"
            for cell in lab.timed_out:
                table.add_row(first, "", "[yellow]timed out[/yellow]", plain(cell))
                first = ""
            if lab.error:
                table.add_row(first, "", "[red]did not finish[/red]", plain(lab.error))
                first = ""
            for row in lab.checks:
                style = {
                    PASSED: "[green]✓ passed[/green]",
                    FAILED: "[red]✗ failed[/red]",
                    SKIPPED: "[dim]○ skipped[/dim]",
                }.get(row.status, "[yellow]– not run[/yellow]")
                # The terminal gets the short story; scorecard.md/json hold expected/found/hint.
                table.add_row(first, plain(row.name), style, "" if row.status == PASSED else plain(row.message))
                first = ""
        return table


def _details(row: CheckRow) -> str:
    if row.status == PASSED:
        return ""
    parts = [row.message] if row.message else []
    if row.expected is not None:
        parts.append(f"expected: {row.expected}")
    if row.found is not None:
        parts.append(f"found: {row.found}")
    if row.hint:
        parts.append(f"hint: {row.hint}")
    return "; ".join(parts)


def _markdown_cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


# ------------------------------------------------------------------------------------ reading


def called_checks(nb: nbformat.NotebookNode) -> list[str]:
    """The names in ``check("...")`` calls of a notebook's code cells, in order."""
    return [name for name, _ in check_calls(nb)]


def check_calls(nb: nbformat.NotebookNode) -> list[tuple[str, bool]]:
    """``(check name, called from a %%cluster cell)`` for every ``check("...")``, in order."""
    names: list[tuple[str, bool]] = []
    for cell in nb.cells:
        if cell.cell_type != "code":
            continue
        python, cluster, standalone = python_of(cell.source)
        if python is None or standalone:
            continue
        try:
            tree = ast.parse(python)
        except SyntaxError:
            continue
        for node in ast.walk(tree):
            if (
                isinstance(node, ast.Call)
                and _called_name(node.func) == "check"
                and node.args
                and isinstance(node.args[0], ast.Constant)
                and isinstance(node.args[0].value, str)
            ):
                if node.args[0].value not in {name for name, _ in names}:
                    names.append((node.args[0].value, cluster))
    return names


def _called_name(func: ast.AST) -> str | None:
    if isinstance(func, ast.Name):
        return func.id
    if isinstance(func, ast.Attribute):
        return func.attr
    return None


def read_report(path: Path) -> dict[str, dict]:
    """The last result of every check in a JSONL report (lines that do not parse are skipped)."""
    results: dict[str, dict] = {}
    if not path.exists():
        return results
    for line in path.read_text(encoding="utf-8").splitlines():
        try:
            record = json.loads(line)
        except json.JSONDecodeError:
            continue
        if isinstance(record, dict) and isinstance(record.get("name"), str):
            results[record["name"]] = record
    return results


def rows_for(
    expected: list[str], results: dict[str, dict], cluster: set[str] = frozenset(), cluster_cells_ran: bool = False
) -> list[CheckRow]:
    """One row per check; a check of a %%cluster cell that did not run is skipped, not failed."""
    rows = []
    for name in [*expected, *(n for n in results if n not in expected)]:
        record = results.get(name)
        if record is None and name in cluster and not cluster_cells_ran:
            rows.append(CheckRow(name, SKIPPED, "needs a cluster: its %%cluster cell was skipped"))
            continue
        if record is None:
            rows.append(CheckRow(name, NOT_RUN, "the check cell did not run"))
            continue
        rows.append(
            CheckRow(
                name,
                PASSED if record.get("passed") else FAILED,
                record.get("message") or "",
                record.get("expected"),
                record.get("found"),
                record.get("hint"),
            )
        )
    return rows


# ------------------------------------------------------------------------------------ running


def run_lab(
    path: Path,
    report: Path,
    *,
    cell_timeout: int = 120,
    executed_copy: Path | None = None,
    not_graded: list[str] | None = None,
) -> LabScore:
    """Run one notebook in a fresh kernel and score it (never raises for the learner's mistakes)."""
    score = LabScore(path.name, not_graded=list(not_graded or []))
    started = time.monotonic()
    try:
        nb = nbformat.read(path, as_version=4)
    except Exception as exc:  # noqa: BLE001 - a damaged notebook is a result, not a crash
        score.error = f"not a readable notebook: {exc}"
        score.checks = [CheckRow("(notebook)", NOT_RUN, score.error)]
        return score
    calls = check_calls(nb)
    expected = [name for name, _ in calls]
    cluster = {name for name, in_cluster_cell in calls if in_cluster_cell}
    report.unlink(missing_ok=True)
    env = {key: value for key, value in os.environ.items() if key != STRICT_ENV}
    env.update({REPORT_ENV: str(report), NOTEBOOK_ENV: path.name})
    client = _grading_client(nb, cell_timeout, path.parent)
    try:
        client.execute(env=env)
    except _KernelStuck as stuck:
        score.error = (
            f"{stuck.cell} did not stop when interrupted: its kernel was killed after "
            f"{INTERRUPT_GRACE:g} s more, and the rest of this lab did not run"
        )
    except Exception as exc:  # noqa: BLE001 - kernel died or could not start: report and go on
        score.error = f"{type(exc).__name__}: {str(exc).strip().splitlines()[0] if str(exc).strip() else ''}"
    score.timed_out = [described for _, described in client.timed_out]
    stopped = {index for index, _ in client.timed_out}  # their KeyboardInterrupt is the timeout, not an error
    score.cell_errors = sum(
        any(output.get("output_type") == "error" for output in cell.get("outputs", []))
        for index, cell in enumerate(nb.cells)
        if cell.cell_type == "code" and index not in stopped
    )
    score.checks = rows_for(expected, read_report(report), cluster, _cluster_cells_ran(nb))
    score.seconds = round(time.monotonic() - started, 1)
    if executed_copy is not None:
        executed_copy.parent.mkdir(parents=True, exist_ok=True)
        nbformat.write(nb, executed_copy)
    return score


class _KernelStuck(Exception):
    """Internal: a cell did not stop when interrupted; its kernel was killed."""

    def __init__(self, cell: str):
        super().__init__(cell)
        self.cell = cell


def _grading_client(nb: nbformat.NotebookNode, cell_timeout: int, cwd: Path):
    """An nbclient ``NotebookClient`` whose time limit interrupts a cell, then kills a kernel that stays busy."""
    from nbclient import NotebookClient
    from nbclient.exceptions import CellTimeoutError
    from nbclient.util import ensure_async

    class GradingClient(NotebookClient):
        timed_out: list[tuple[int, str]]

        async def async_execute_cell(self, cell, cell_index, execution_count=None, store_history=True):
            try:
                return await super().async_execute_cell(cell, cell_index, execution_count, store_history)
            except CellTimeoutError:
                described = _describe_cell(cell, cell_index)
                self.timed_out.append((cell_index, described))
                cell.outputs.append(
                    nbformat.v4.new_output(
                        "stream",
                        name="stderr",
                        text=f"[invoke grade] stopped: this cell ran past the time limit of {self.timeout} s\n",
                    )
                )
                if await self._interrupt_and_wait():
                    return cell
                self.shutdown_kernel = "immediate"  # the kernel will not answer a polite shutdown either
                raise _KernelStuck(described) from None

        async def _interrupt_and_wait(self) -> bool:
            """Interrupt the kernel; True once it answers again (within INTERRUPT_GRACE)."""
            await ensure_async(self.km.interrupt_kernel())
            probe = self.kc.execute("", silent=True, store_history=False)
            deadline = time.monotonic() + INTERRUPT_GRACE
            while (left := deadline - time.monotonic()) > 0:
                try:
                    reply = await ensure_async(self.kc.shell_channel.get_msg(timeout=left))
                except Empty:
                    return False
                if reply["parent_header"].get("msg_id") == probe:
                    return True
            return False

    client = GradingClient(
        nb,
        timeout=cell_timeout,
        allow_errors=True,
        interrupt_on_timeout=False,
        kernel_name="python3",
        resources={"metadata": {"path": str(cwd)}},
    )
    client.timed_out = []
    return client


def _describe_cell(cell: nbformat.NotebookNode, index: int) -> str:
    first = next((line.strip() for line in cell.source.splitlines() if line.strip()), "")
    return f"cell {index}: {first[:60]}" + ("…" if len(first) > 60 else "")


def _cluster_cells_ran(nb: nbformat.NotebookNode) -> bool:
    """False when the notebook's %%cluster cells reported that they were skipped."""
    for cell in nb.cells:
        if cell.cell_type == "code" and cell.source.startswith(CLUSTER_MAGIC):
            if any(is_skip_output(output) for output in cell.get("outputs", [])):
                return False
    return True


def lab_notebooks(labs_dir: Path) -> list[Path]:
    """The notebook graded for each lab in ``labs_dir`` (one per lab number), in lab order."""
    return [path for path, _ in choose_notebooks(labs_dir)]


def choose_notebooks(labs_dir: Path) -> list[tuple[Path, list[Path]]]:
    """``(graded notebook, the lab's other notebooks)`` per lab number, in lab order.

    The most recently saved notebook of a lab is the learner's (that is where they last worked); on
    a tie, one not named as a copy (``-Copy1``, `` (1)``), then the first by name.
    """
    notebooks = sorted(labs_dir.glob(MASTER_GLOB))
    if not notebooks:
        raise WorkshopError(
            f"no lab notebooks ({MASTER_GLOB}) in {labs_dir}",
            hint="pass --labs-dir with the folder holding the learner's notebooks",
        )
    by_lab: dict[str, list[Path]] = {}
    for path in notebooks:
        by_lab.setdefault(path.name[:2], []).append(path)
    chosen = []
    for lab in sorted(by_lab):
        ranked = sorted(by_lab[lab], key=lambda p: (-_saved_at(p), bool(_COPY_NAME.search(p.stem)), p.name))
        chosen.append((ranked[0], ranked[1:]))
    return chosen


def _saved_at(path: Path) -> float:
    try:
        return path.stat().st_mtime
    except OSError:  # pragma: no cover - deleted meanwhile
        return 0.0


def grade(labs_dir: Path, out_dir: Path, *, cell_timeout: int = 120, notebooks: list[Path] | None = None) -> Scorecard:
    """Run every lab notebook in ``labs_dir`` (one per lab) and write ``scorecard.json`` and ``scorecard.md``."""
    labs_dir = Path(labs_dir)
    if not labs_dir.is_dir():
        raise WorkshopError(f"labs folder not found: {labs_dir}")
    chosen = [(path, []) for path in notebooks] if notebooks is not None else choose_notebooks(labs_dir)
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    scores = []
    for index, (path, others) in enumerate(chosen, 1):
        if others:
            info(
                f"lab {path.name[:2]}: grading {path.name} (saved most recently); not grading "
                + ", ".join(other.name for other in others)
            )
        with step(f"[{index}/{len(chosen)}] running {path.name}"):
            scores.append(
                run_lab(
                    path,
                    out_dir / "reports" / f"{path.stem}.jsonl",
                    cell_timeout=cell_timeout,
                    executed_copy=out_dir / "executed" / path.name,
                    not_graded=[other.name for other in others],
                )
            )
    card = Scorecard(str(labs_dir), scores)
    (out_dir / "scorecard.json").write_text(
        json.dumps(card.to_dict(), indent=2, ensure_ascii=False) + "\n", encoding="utf-8"
    )
    (out_dir / "scorecard.md").write_text(card.markdown(), encoding="utf-8")
    return card


def show(card: Scorecard) -> None:
    console.print(card.rich_table())
