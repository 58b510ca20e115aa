"""The bad-input table of docs/bad-inputs.md, generated from the tests that prove it.

A test that shows how a tool treats a bad input or a fault carries a marker per row:

    @pytest.mark.bad_input(tool="invoke validate", input="an empty file", example="invoke validate empty.yaml",
                           behaviour="error naming the file")

The markers are read from the test files' source (no import, no test run), so the table lists
exactly the rows some test asserts; tests/test_bad_input_table.py fails when the page and the
markers disagree. Regenerate the page with

    .venv/bin/python tests/support/bad_input_table.py
"""

from __future__ import annotations

import ast
import sys
from dataclasses import dataclass
from pathlib import Path

TESTS_DIR = Path(__file__).resolve().parents[1]
PAGE = TESTS_DIR.parent / "docs" / "bad-inputs.md"
MARKER = "bad_input"
FIELDS = ("tool", "input", "example", "behaviour")
BEGIN = (
    "<!-- BEGIN bad-input table: generated from the tests' bad_input markers by "
    "`python tests/support/bad_input_table.py`; do not edit by hand -->"
)
END = "<!-- END bad-input table -->"


@dataclass(frozen=True)
class Row:
    tool: str
    input: str
    example: str
    behaviour: str
    #: ``tests/test_x.py::test_name``: the test that proves the row.
    test: str


class MarkerError(ValueError):
    """A ``bad_input`` marker the table cannot use (not literal text, a field missing, not on a test)."""


def collect(tests_dir: Path = TESTS_DIR) -> list[Row]:
    """Every ``bad_input`` marker of ``tests_dir/test_*.py``, in file and line order."""
    rows: list[Row] = []
    for path in sorted(tests_dir.glob("test_*.py")):
        rows.extend(rows_of(path, f"tests/{path.name}"))
    return rows


def rows_of(path: Path, label: str) -> list[Row]:
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    aliases = _marker_aliases(tree)
    rows = []
    for node in ast.walk(tree):
        if not isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            continue
        for decorator in node.decorator_list:
            if not (isinstance(decorator, ast.Call) and _is_marker(decorator.func, aliases)):
                continue
            where = f"{label}:{decorator.lineno}"
            if not node.name.startswith("test_"):
                raise MarkerError(f"{where}: a bad_input marker on {node.name}, which is not a test")
            values = {}
            for keyword in decorator.keywords:
                if not (isinstance(keyword.value, ast.Constant) and isinstance(keyword.value.value, str)):
                    raise MarkerError(f"{where}: {keyword.arg}= must be literal text")
                values[keyword.arg] = " ".join(keyword.value.value.split())
            if decorator.args or set(values) != set(FIELDS) or not all(values.values()):
                raise MarkerError(f"{where}: a bad_input marker needs exactly {', '.join(FIELDS)} (non-empty text)")
            rows.append(Row(**values, test=f"{label}::{node.name}"))
    return sorted(rows, key=lambda row: _line_of(tree, row.test.rsplit("::", 1)[1]))


def _marker_aliases(tree: ast.Module) -> set[str]:
    """Module-level names bound to ``pytest.mark.bad_input`` (``bad_input = pytest.mark.bad_input``)."""
    return {
        target.id
        for node in tree.body
        if isinstance(node, ast.Assign) and _is_marker(node.value, set())
        for target in node.targets
        if isinstance(target, ast.Name)
    }


def _is_marker(func: ast.AST, aliases: set[str]) -> bool:
    if isinstance(func, ast.Name):
        return func.id in aliases
    return (
        isinstance(func, ast.Attribute)
        and func.attr == MARKER
        and isinstance(func.value, ast.Attribute)
        and func.value.attr == "mark"
    )


def _line_of(tree: ast.Module, name: str) -> int:
    return next(
        node.lineno
        for node in ast.walk(tree)
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) and node.name == name
    )


def render(rows: list[Row]) -> str:
    """The table in Markdown: grouped by tool (first appearance order within a tool's file order)."""
    order: dict[str, int] = {}
    for row in rows:
        order.setdefault(row.tool, len(order))
    lines = ["| Tool | Bad input or fault | Example | What happens | Proved by |", "|---|---|---|---|---|"]
    for row in sorted(rows, key=lambda r: (r.tool.lower(), order[r.tool])):
        example = row.example if "`" in row.example else f"`{row.example}`"
        lines.append(
            "| "
            + " | ".join(_cell(text) for text in (row.tool, row.input, example, row.behaviour))
            + f" | `{row.test.split('::')[0]}` `{row.test.split('::')[1]}` |"
        )
    return "\n".join(lines)


def _cell(text: str) -> str:
    return text.replace("|", "\\|")


def generated_part(page_text: str) -> str:
    """The text between the BEGIN and END comments of the page."""
    start, end = page_text.find(BEGIN), page_text.find(END)
    if start < 0 or end < start:
        raise MarkerError(f"{PAGE.name} lacks the BEGIN/END comments around the generated table")
    return page_text[start + len(BEGIN) : end].strip()


def write_page(page: Path = PAGE, rows: list[Row] | None = None) -> bool:
    """Rewrite the table in ``page``; True when it changed."""
    text = page.read_text(encoding="utf-8")
    current = generated_part(text)
    table = render(collect() if rows is None else rows)
    if current == table:
        return False
    start, end = text.find(BEGIN) + len(BEGIN), text.find(END)
    page.write_text(text[:start] + "\n\n" + table + "\n\n" + text[end:], encoding="utf-8")
    return True


if __name__ == "__main__":
    changed = write_page()
    print(f"{PAGE.relative_to(TESTS_DIR.parent)}: {'updated' if changed else 'already up to date'}")
    sys.exit(0)
