"""Generate the student notebooks in ``labs/`` from the masters in ``notebooks/``, and detect drift.

Blanking rules (CONTRIBUTING.md):

* lines between ``# BEGIN SOLUTION`` and ``# END SOLUTION`` become ``# YOUR CODE HERE`` and
  ``...`` at the indentation of the ``# BEGIN SOLUTION`` line, or, when the block is a single
  assignment, ``name = ...  # YOUR CODE HERE`` (so later cells still find the name);
* a single line ending in ``# SOLUTION`` keeps its left-hand side:
  ``accuracy = model.score(X, y)  # SOLUTION`` becomes ``accuracy = ...  # YOUR CODE HERE``.

In a ``%%writefile NAME.py`` cell (a file the lab serves or packages) the same rules leave the
file's skeleton: its imports, classes, ``def`` lines and docstrings, with ``...`` where the answers
were; the blanked file must still be valid Python, or the master is refused.

Outputs and execution counts are cleared, cell ids are kept (so regenerating gives the same file)
and a banner cell says the file is generated and where to get help. A master whose markers are
unbalanced, or whose solution would blank a ``%%cluster``/``%magic`` line, is refused.
"""

from __future__ import annotations

import ast
import textwrap
import copy
import hashlib
import json
import re
from dataclasses import dataclass
from pathlib import Path

import nbformat

from ..errors import WorkshopError
from ..paths import LABS_DIR, NOTEBOOKS_DIR, REPO_ROOT

MASTER_GLOB = "[0-9][0-9]-*.ipynb"
BANNER_ID = "workshop-generated-banner"
BLANK_COMMENT = "# YOUR CODE HERE"
INDEX_NAME = "README.md"

_BEGIN = re.compile(r"^(?P<indent>\s*)#\s*BEGIN SOLUTION\s*$")
_END = re.compile(r"^\s*#\s*END SOLUTION\s*$")
_LINE = re.compile(r"^(?P<code>.*?)\s*#\s*SOLUTION\s*$")
# Markers that are probably typos of the ones above (refused rather than left in a lab).
_SUSPECT = re.compile(r"#\s*(BEGIN|END)[ _-]*SOLUTIONS?\b|#\s*SOLUTIONS?\s*$", re.IGNORECASE)
_WRITEFILE_PY = re.compile(r"^%%writefile\s+(-a\s+|--append\s+)?\S+\.py\s*$")
# Keep the master's top-level metadata that describes the kernel; drop run-specific state.
_KEPT_METADATA = ("kernelspec", "language_info")


class MasterError(WorkshopError):
    """A master notebook that cannot be turned into a student notebook."""


@dataclass(frozen=True)
class LabFile:
    master: Path
    lab: Path


# ---------------------------------------------------------------------------------- blanking


def blank_source(source: str, where: str = "cell") -> str:
    """The student version of one code cell's source (``where`` names it in error messages)."""
    lines = source.split("\n")
    magic_header = bool(lines) and lines[0].startswith("%%")
    out: list[str] = []
    block_start: int | None = None
    block_indent, block_lines = "", []
    for number, line in enumerate(lines, 1):
        begin, end = _BEGIN.match(line), _END.match(line)
        if begin:
            if block_start is not None:
                raise MasterError(
                    f"{where}, line {number}: `# BEGIN SOLUTION` inside the block opened on line {block_start}",
                    hint="close each block with `# END SOLUTION` first",
                )
            block_start, block_indent, block_lines = number, begin.group("indent"), []
            continue
        if end:
            if block_start is None:
                raise MasterError(f"{where}, line {number}: `# END SOLUTION` without a `# BEGIN SOLUTION`")
            out.extend(_blank_block(block_lines, block_indent))
            block_start = None
            continue
        if block_start is not None:
            if line.lstrip().startswith(("%", "!")):
                raise MasterError(
                    f"{where}, line {number}: a solution block contains the IPython line "
                    f"{line.strip()!r}; blanking it would change what the cell is",
                    hint="keep magics (`%%cluster`, `%load_ext`, `!cmd`) outside the solution",
                )
            block_lines.append(line)
            continue
        solution_line = _LINE.match(line)
        if solution_line:
            if number == 1 and magic_header or line.lstrip().startswith(("%", "!")):
                raise MasterError(
                    f"{where}, line {number}: `# SOLUTION` on an IPython line {line.strip()!r}",
                    hint="mark the Python lines of the answer, not the magic",
                )
            out.append(_blank_line(solution_line.group("code"), where, number))
            continue
        if _SUSPECT.search(line):
            raise MasterError(
                f"{where}, line {number}: unrecognised solution marker in {line.strip()!r}",
                hint="use exactly `# BEGIN SOLUTION`, `# END SOLUTION` or a trailing `# SOLUTION`",
            )
        out.append(line)
    if block_start is not None:
        raise MasterError(
            f"{where}: `# BEGIN SOLUTION` on line {block_start} is never closed",
            hint="add `# END SOLUTION` after the last line of the answer",
        )
    blanked = "\n".join(out)
    if magic_header and _WRITEFILE_PY.match(lines[0]):
        _check_file_skeleton(blanked.split("\n", 1)[1] if "\n" in blanked else "", where)
    return blanked


def _check_file_skeleton(python: str, where: str) -> None:
    """The student's version of a ``%%writefile NAME.py`` cell must still be a Python file."""
    try:
        ast.parse(python)
    except SyntaxError as exc:
        raise MasterError(
            f"{where}: the student's version of this file is not valid Python (line {exc.lineno + 1} "
            f"of the cell: {exc.msg})",
            hint="put whole statements or whole bodies between the solution markers, so that "
            "`...` can stand in for them",
        ) from None


def _blank_line(code: str, where: str, number: int) -> str:
    """``x = answer`` -> ``x = ...  # YOUR CODE HERE``; ``return answer`` -> ``return ...``; else ``...``."""
    indent = code[: len(code) - len(code.lstrip())]
    statement = code.strip()
    try:
        tree = ast.parse(statement)
    except SyntaxError:
        raise MasterError(
            f"{where}, line {number}: `# SOLUTION` marks {statement!r}, which is not a "
            "complete statement on its own line",
            hint="wrap multi-line answers in `# BEGIN SOLUTION` / `# END SOLUTION`",
        ) from None
    if len(tree.body) != 1:
        raise MasterError(f"{where}, line {number}: `# SOLUTION` marks more than one statement")
    return f"{indent}{_kept_part(tree.body[0], statement) or '...'}  {BLANK_COMMENT}"


def _blank_block(block_lines: list[str], indent: str) -> list[str]:
    """A solution block: one assignment keeps its left-hand side (``x = ...``), like a ``# SOLUTION``
    line, so the names later cells use stay defined; anything else becomes a bare ``...``."""
    code = textwrap.dedent("\n".join(block_lines)).strip()
    try:
        tree = ast.parse(code)
    except SyntaxError:
        tree = None
    kept = _kept_part(tree.body[0], code) if tree is not None and len(tree.body) == 1 else None
    if kept is not None:
        return [f"{indent}{kept}  {BLANK_COMMENT}"]
    return [f"{indent}{BLANK_COMMENT}", f"{indent}..."]


def _kept_part(node: ast.stmt, statement: str) -> str | None:
    """What a blanked statement keeps: an assignment's target, ``return``; None for anything else."""
    if isinstance(node, ast.Assign):
        return " = ".join(ast.get_source_segment(statement, target) for target in node.targets) + " = ..."
    if isinstance(node, ast.AnnAssign) and node.value is not None:
        return (
            f"{ast.get_source_segment(statement, node.target)}: "
            f"{ast.get_source_segment(statement, node.annotation)} = ..."
        )
    if isinstance(node, ast.AugAssign):
        operator = statement[node.target.end_col_offset : node.value.col_offset].strip()
        return f"{ast.get_source_segment(statement, node.target)} {operator} ..."
    if isinstance(node, ast.Return):
        return "return ..."
    return None


# ---------------------------------------------------------------------------------- notebooks


def lab_path_for(master: Path, labs_dir: Path = LABS_DIR) -> Path:
    return labs_dir / master.name


def masters(notebooks_dir: Path = NOTEBOOKS_DIR) -> list[Path]:
    """The master notebooks (``NN-topic.ipynb``), in lab order."""
    return sorted(notebooks_dir.glob(MASTER_GLOB))


def _display_path(path: Path) -> str:
    try:
        return str(path.resolve().relative_to(REPO_ROOT))
    except ValueError:
        return str(path)


def _banner(master: Path) -> str:
    source = _display_path(master)
    return (
        "> **Student notebook, generated.** This file is generated from the master notebook "
        f"`{source}` by `invoke labs.generate`; changes made here are overwritten, so keep your own "
        "copy if you want to keep your answers.\n>\n"
        f"> Fill in every `...` marked `{BLANK_COMMENT}`, run the cell, then run the `check(...)` cell "
        "below it: it says ✓ or ✗ with what was expected, what it found and a hint. Cells starting "
        "with `%%cluster` need a cluster (`invoke up`); without one they say they were skipped.\n>\n"
        "> Stuck? Read the hint, re-run the cells above, see the troubleshooting page of the docs, "
        f"or ask your instructor. The worked solutions are in `{source}`."
    )


def _stable_id(master: Path, index: int) -> str:
    return hashlib.sha1(f"{master.name}:{index}".encode()).hexdigest()[:12]


def student_notebook(master: Path) -> nbformat.NotebookNode:
    """The student version of ``master`` (raises MasterError naming the cell when it is malformed)."""
    try:
        nb = nbformat.read(master, as_version=4)
    except Exception as exc:  # noqa: BLE001 - unreadable JSON or schema: one clear message
        raise MasterError(f"{_display_path(master)} is not a readable notebook: {exc}") from None
    lab = nbformat.v4.new_notebook()
    lab.metadata = {key: copy.deepcopy(nb.metadata[key]) for key in _KEPT_METADATA if key in nb.metadata}
    lab.metadata["workshop"] = {"generated_from": _display_path(master)}
    banner = nbformat.v4.new_markdown_cell(_banner(master))
    banner["id"] = BANNER_ID
    cells = [banner]
    for index, cell in enumerate(nb.cells):
        where = f"{_display_path(master)} cell {index + 1}"
        metadata = {
            key: copy.deepcopy(value)
            for key, value in cell.get("metadata", {}).items()
            if key not in ("execution", "collapsed", "scrolled")
        }
        cell_id = cell.get("id") or _stable_id(master, index)
        if cell.cell_type == "code":
            new = nbformat.v4.new_code_cell(blank_source(cell.source, where), metadata=metadata)
        elif cell.cell_type == "markdown":
            new = nbformat.v4.new_markdown_cell(cell.source, metadata=metadata)
            if "attachments" in cell:
                new["attachments"] = copy.deepcopy(cell["attachments"])
        else:
            new = nbformat.v4.new_raw_cell(cell.source, metadata=metadata)
        new["id"] = cell_id
        cells.append(new)
    lab.cells = cells
    nbformat.validate(lab)
    return lab


def render(nb: nbformat.NotebookNode) -> str:
    return nbformat.writes(nb) + "\n"


def _title(master: Path) -> str:
    nb = nbformat.read(master, as_version=4)
    for cell in nb.cells:
        if cell.cell_type == "markdown":
            for line in cell.source.splitlines():
                if line.startswith("#"):
                    return line.lstrip("#").strip()
    return master.stem


def index_text(master_paths: list[Path]) -> str:
    """``labs/README.md``: what the folder is and the list of labs (generated with the notebooks)."""
    lines = [
        "# Labs (student notebooks)",
        "",
        "These notebooks are generated from the masters in `notebooks/` by `invoke labs.generate`;",
        "do not edit them here. Open one in Jupyter, fill in each `...` marked `# YOUR CODE HERE`,",
        "and run the `check(...)` cell below it. `invoke grade` runs your labs and writes a scorecard.",
        "",
    ]
    lines += [f"- [{_title(path)}]({path.name})" for path in master_paths]
    return "\n".join(lines) + "\n"


# ------------------------------------------------------------------------------- generate/drift


def expected_files(notebooks_dir: Path = NOTEBOOKS_DIR, labs_dir: Path = LABS_DIR) -> dict[Path, str]:
    """Every file ``labs/`` should hold, with its exact text."""
    master_paths = masters(notebooks_dir)
    files = {lab_path_for(path, labs_dir): render(student_notebook(path)) for path in master_paths}
    if master_paths:
        files[labs_dir / INDEX_NAME] = index_text(master_paths)
    return files


def generate(notebooks_dir: Path = NOTEBOOKS_DIR, labs_dir: Path = LABS_DIR) -> list[Path]:
    """Write the student notebooks; returns the files that changed. Removes labs without a master."""
    files = expected_files(notebooks_dir, labs_dir)  # all masters are checked before anything is written
    if not files:
        raise WorkshopError(f"no master notebooks ({MASTER_GLOB}) in {_display_path(notebooks_dir)}")
    labs_dir.mkdir(parents=True, exist_ok=True)
    changed = []
    for path, text in files.items():
        if not path.exists() or path.read_text(encoding="utf-8") != text:
            path.write_text(text, encoding="utf-8")
            changed.append(path)
    for orphan in _orphans(notebooks_dir, labs_dir):
        orphan.unlink()
        changed.append(orphan)
    return changed


def _orphans(notebooks_dir: Path, labs_dir: Path) -> list[Path]:
    master_names = {path.name for path in masters(notebooks_dir)}
    return [path for path in sorted(labs_dir.glob(MASTER_GLOB)) if path.name not in master_names]


def _same_notebook(text_a: str, text_b: str) -> bool:
    try:
        return json.loads(text_a) == json.loads(text_b)
    except json.JSONDecodeError:
        return False


def find_drift(notebooks_dir: Path = NOTEBOOKS_DIR, labs_dir: Path = LABS_DIR) -> list[str]:
    """What in ``labs/`` is out of date with ``notebooks/`` (empty when in sync), one line per file."""
    problems = []
    for path, text in expected_files(notebooks_dir, labs_dir).items():
        shown = _display_path(path)
        if not path.exists():
            problems.append(f"{shown}: missing")
            continue
        current = path.read_text(encoding="utf-8")
        same = _same_notebook(current, text) if path.suffix == ".ipynb" else current == text
        if not same:
            problems.append(f"{shown}: out of date with its master")
    problems += [f"{_display_path(path)}: no master notebook" for path in _orphans(notebooks_dir, labs_dir)]
    return problems


def check_drift(notebooks_dir: Path = NOTEBOOKS_DIR, labs_dir: Path = LABS_DIR) -> None:
    """Raise WorkshopError listing every out-of-date file in ``labs/``."""
    problems = find_drift(notebooks_dir, labs_dir)
    if problems:
        raise WorkshopError(
            "labs/ is out of date with notebooks/:\n  " + "\n  ".join(problems),
            hint="run `invoke labs.generate` and commit the result (never edit labs/ by hand)",
        )
