"""The masters' committed outputs: nothing of the machine that ran them, no walls of numbers or of text."""

from __future__ import annotations

import re
import tempfile
from pathlib import Path

import nbformat
import pytest

from kserve_workshop.labkit import labgen
from kserve_workshop.paths import REPO_ROOT

MASTERS = labgen.masters()
#: Where checkouts, homes and temporary files live (any machine's, not only this one's).
_MACHINE_PATH = re.compile(r"(?<![\w.])/(?:work|home|root|Users|private/var)/[\w.-]+|pytest-of-|/tmp/tmp\w")
#: A list printed one item per line: 20 or more lines holding only a number.
_NUMBER_LINE = re.compile(r"^\s*\[?\s*-?\d+(\.\d+)?,?\]?\s*$")
#: The most lines one cell may print: a lesson shows a head, a summary or a diff, not a whole file.
MAX_OUTPUT_LINES = 25


def _texts(path: Path):
    nb = nbformat.read(path, as_version=4)
    for number, cell in enumerate(nb.cells, 1):
        for output in cell.get("outputs", []) if cell.cell_type == "code" else []:
            text = output.get("text") or output.get("data", {}).get("text/plain") or ""
            yield number, "".join(text) if isinstance(text, list) else str(text)


@pytest.mark.parametrize("master", MASTERS, ids=[m.name for m in MASTERS])
def test_outputs_hold_no_paths_of_the_machine_that_ran_them(master):
    machine = [str(REPO_ROOT), str(Path.home()) + "/", tempfile.gettempdir() + "/tmp"]
    found = [(cell, marker) for cell, text in _texts(master) for marker in machine if marker in text]
    found += [(cell, match.group()) for cell, text in _texts(master) for match in _MACHINE_PATH.finditer(text)]
    assert found == [], f"machine paths in the outputs of cells {found}"


@pytest.mark.parametrize("master", MASTERS, ids=[m.name for m in MASTERS])
def test_no_output_is_a_wall_of_numbers(master):
    for cell, text in _texts(master):
        run = longest = 0
        for line in text.splitlines():
            run = run + 1 if _NUMBER_LINE.match(line) else 0
            longest = max(longest, run)
        assert longest < 20, f"cell {cell} prints {longest} lines of one number each: print the list on one line"


def _printed(path: Path):
    """Per code cell, the text it printed: streams and plain results (a table's or a figure's text
    fallback does not count: the notebook and the docs show the HTML or the image)."""
    nb = nbformat.read(path, as_version=4)
    for number, cell in enumerate(nb.cells, 1):
        if cell.cell_type != "code":
            continue
        texts = []
        for output in cell.get("outputs", []):
            data = output.get("data", {})
            if output.get("output_type") == "stream":
                texts.append(output.get("text", ""))
            elif "text/plain" in data and not {"text/html", "image/png"} & set(data):
                texts.append(data["text/plain"])
        yield number, "".join("".join(t) if isinstance(t, list) else t for t in texts)


@pytest.mark.parametrize("master", MASTERS, ids=[m.name for m in MASTERS])
def test_no_output_is_a_wall_of_text(master):
    long = [
        (cell, len(text.rstrip().splitlines()))
        for cell, text in _printed(master)
        if len(text.rstrip().splitlines()) > MAX_OUTPUT_LINES
    ]
    assert long == [], (
        f"cells print more than {MAX_OUTPUT_LINES} lines (cell, lines): {long}; show what the lesson "
        "needs (a head, a summary, a diff), not a whole file"
    )
