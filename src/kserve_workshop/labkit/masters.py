"""The masters' committed outputs: each master run top to bottom on this machine, written in place.

Masters are committed executed: a real local run, cluster cells showing their skip notice. A master
runs in its own folder (as under nbval) with this virtualenv's kernel, with
``WORKSHOP_CHECKS_STRICT=1`` (a solution that fails its own check stops the run) and without
``WORKSHOP_REQUIRE_CLUSTER`` (cluster cells show that they were skipped). When a cell fails, or the
outputs hold a path of this machine, the master is left as it was.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
import time
from pathlib import Path
from typing import Iterator

import nbformat

from ..errors import WorkshopError
from ..paths import REPO_ROOT

CELL_TIMEOUT = 300
STRICT_ENV, REQUIRE_CLUSTER_ENV = "WORKSHOP_CHECKS_STRICT", "WORKSHOP_REQUIRE_CLUSTER"


@contextlib.contextmanager
def _kernel_environment() -> Iterator[None]:
    """The environment the kernel starts with (it inherits ours at launch)."""
    saved = {name: os.environ.get(name) for name in (STRICT_ENV, REQUIRE_CLUSTER_ENV)}
    os.environ[STRICT_ENV] = "1"
    os.environ.pop(REQUIRE_CLUSTER_ENV, None)
    try:
        yield
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


def machine_paths(nb: nbformat.NotebookNode) -> list[tuple[int, str]]:
    """``(cell number, path)`` for outputs that name this checkout, the home folder or a temporary folder."""
    markers = [str(REPO_ROOT), str(Path.home()) + "/", tempfile.gettempdir() + "/tmp"]
    found = []
    for number, cell in enumerate(nb.cells, 1):
        for output in cell.get("outputs", []) if cell.cell_type == "code" else []:
            text = str(output.get("text") or "") + "".join(str(v) for v in output.get("data", {}).values())
            found += [(number, marker) for marker in markers if marker in text]
    return found


def execute_master(path: Path, *, timeout: int = CELL_TIMEOUT) -> float:
    """Run the master at ``path`` and write it with its new outputs; returns the seconds it took."""
    from nbclient import NotebookClient
    from nbclient.exceptions import CellExecutionError, CellTimeoutError, DeadKernelError

    path = Path(path)
    nb = nbformat.read(path, as_version=4)
    client = NotebookClient(
        nb, timeout=timeout, kernel_name="python3", resources={"metadata": {"path": str(path.parent)}}
    )
    started = time.monotonic()
    with _kernel_environment():
        try:
            client.execute()
        except (CellExecutionError, CellTimeoutError, DeadKernelError) as exc:
            detail = "\n".join(str(exc).strip().splitlines()[-6:])
            raise WorkshopError(
                f"{path.name}: a cell failed, so the master is left as it was:\n{detail}",
                hint="run the notebook in Jupyter to see the cell, fix it, then run this again",
            ) from None
    found = machine_paths(nb)
    if found:
        raise WorkshopError(
            f"{path.name}: outputs name paths of this machine (cell, path): {found}; the master is left as it was",
            hint="print paths relative to the repository or the cache",
        )
    nbformat.write(nb, path)
    return time.monotonic() - started
