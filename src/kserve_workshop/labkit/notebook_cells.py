"""A notebook's code cells as Python: IPython lines (``%magic``, ``!cmd``) and the ``%%cluster``
header set aside, so the rest can be parsed and checked (``notebook_lint``) or searched (``scorecard``)."""

from __future__ import annotations

import ast
import re
from dataclasses import dataclass

import nbformat

from .shell_lint import expressions

CLUSTER_MAGIC = "%%cluster"
# Cell magics whose body is Python run in the notebook's namespace.
_PYTHON_CELL_MAGICS = {"cluster", "capture", "time", "timeit"}
_SHELL_ASSIGN = re.compile(r"^(\s*[\w.\[\]'\", ]+?=\s*)[%!]")


@dataclass
class CodeCell:
    """One code cell's Python: ``number`` counts every cell from 1, as a reader would."""

    number: int
    source: str
    cluster: bool
    tree: ast.Module | None = None
    #: Python written by ``%%writefile x.py``: checked as a module of its own.
    standalone: bool = False


def python_of(source: str) -> tuple[str | None, bool, bool]:
    """``(python, is_cluster_cell, standalone)`` for a cell's source; python None when not Python.

    IPython lines become ``pass`` (same indentation) so line numbers and blocks stay intact.
    """
    lines = source.split("\n")
    cluster = standalone = False
    if lines and lines[0].startswith("%%"):
        magic, _, argument = lines[0][2:].partition(" ")
        if magic == "writefile" and argument.strip().endswith(".py"):
            standalone = True
        elif magic not in _PYTHON_CELL_MAGICS:
            return None, False, False
        cluster = magic == "cluster"
        lines[0] = ""
    converted = []
    for line in lines:
        stripped = line.lstrip()
        indent = line[: len(line) - len(stripped)]
        if standalone:
            converted.append(line)
        elif stripped.startswith("!") and expressions(stripped[1:]):  # !ls {path}  ->  (path,)
            converted.append(f"{indent}({', '.join(expressions(stripped[1:]))},)")
        elif stripped.startswith(("%", "!")):
            converted.append(f"{indent}pass")
        elif _SHELL_ASSIGN.match(line):  # files = !ls {path}  ->  files = (path,) and None
            assignment = _SHELL_ASSIGN.match(line)
            shell = line[assignment.end() :]
            used = expressions(shell) if line[assignment.end() - 1] == "!" else []
            converted.append(assignment.group(1) + (f"({', '.join(used)},) and None" if used else "None"))
        else:
            converted.append(line)
    return "\n".join(converted), cluster, standalone


def code_cells(nb: nbformat.NotebookNode) -> list[CodeCell]:
    cells = []
    for number, cell in enumerate(nb.cells, 1):
        if cell.cell_type != "code":
            continue
        python, cluster, standalone = python_of(cell.source)
        if python is not None:
            cells.append(CodeCell(number, python, cluster, standalone=standalone))
    return cells
