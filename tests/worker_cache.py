"""One cache folder per pytest-xdist worker, so parallel workers never write the same files.

The masters and many tests write under ``cache_dir()`` (trained models, logs, rendered docs), at
fixed paths such as ``.cache/labs/01/model``: two workers running Lab 1's notebook and Lab 1's
learner answers at once would overwrite each other's model. Each worker (and every kernel or server
it starts, through the environment) therefore gets ``<cache>/xdist/<worker id>``, seeded with the
cached KServe schema (``invoke schemas``), the one thing the tests read from the shared cache.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

CACHE_ENV = "WORKSHOP_CACHE"


def worker_id(config) -> str | None:
    """The xdist worker id (``gw0``...) when ``config`` is a worker's, else None (controller, no xdist)."""
    workerinput = getattr(config, "workerinput", None)
    return workerinput.get("workerid") if workerinput else None


def use_worker_cache(config) -> None:
    """In an xdist worker, point ``WORKSHOP_CACHE`` at the worker's own folder (idempotent)."""
    worker = worker_id(config)
    if worker is None:
        return
    from kserve_workshop.paths import REPO_ROOT

    shared = Path(os.environ.get(CACHE_ENV) or REPO_ROOT / ".cache")
    if shared.parent.name == "xdist":  # already switched (both conftests call this)
        return
    own = shared / "xdist" / worker
    own.mkdir(parents=True, exist_ok=True)
    if (shared / "schemas").is_dir():
        shutil.copytree(shared / "schemas", own / "schemas", dirs_exist_ok=True)
    os.environ[CACHE_ENV] = str(own)
