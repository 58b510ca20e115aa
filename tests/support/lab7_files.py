"""Lab 7's reference sink, as the master notebook writes it, and variants of it for the tests."""

from __future__ import annotations

from pathlib import Path

import nbformat
import pytest

from kserve_workshop.processes import LocalModelServer
from kserve_workshop.paths import NOTEBOOKS_DIR
from kserve_workshop.training import save_model, train_iris
from support.variants import write_variant

MASTER = NOTEBOOKS_DIR / "07-batching-and-logging.ipynb"
WRITEFILE = "%%writefile payload_sink.py"


def master_sink_source() -> str:
    """The body of the master's ``%%writefile payload_sink.py`` cell (the solution included)."""
    for cell in nbformat.read(MASTER, as_version=4).cells:
        if cell.cell_type == "code" and cell.source.startswith(WRITEFILE):
            return cell.source.split("\n", 1)[1]
    raise AssertionError(f"{MASTER.name} has no `{WRITEFILE}` cell")


def write_sink(
    directory: Path,
    replacements: dict[str, str] | None = None,
    *,
    source: str | None = None,
    name: str = "payload_sink.py",
) -> Path:
    """The master's sink (or ``source``) with each ``old -> new`` replacement applied (each must match)."""
    return write_variant(directory, name, master_sink_source() if source is None else source, replacements)


@pytest.fixture(scope="module")
def model_server(tmp_path_factory):
    """KServe's model server with the iris model, on 127.0.0.1, for one test module."""
    directory = tmp_path_factory.mktemp("lab7-model")
    save_model(train_iris(), directory)
    with LocalModelServer(directory) as running:
        yield running
