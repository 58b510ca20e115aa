"""Run the master notebooks under nbval: every code cell must run without an error.

* ``--nbval-lax`` unless ``--nbval`` was asked for: outputs are compared only in cells marked
  ``# NBVAL_CHECK_OUTPUT`` (with nbval-sanitize.cfg for pids, ports and timings); the kernel runs
  this virtualenv's Python; a cell may take at most 300 s.
* ``WORKSHOP_CHECKS_STRICT=1`` in the kernels' environment: a master whose own solutions fail
  its checks fails here. It is set only while a notebook's kernel starts, so the rest of the
  suite runs without it.
* The process guard from tests/ watches the kernels and the servers they start.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent / "tests"))

import process_guard  # noqa: E402 - lives in tests/, put on the path above
import worker_cache  # noqa: E402

STRICT_ENV = "WORKSHOP_CHECKS_STRICT"
SANITIZER = HERE / "nbval-sanitize.cfg"
CELL_TIMEOUT = 300
collect_ignore_glob = [".ipynb_checkpoints/*"]


def pytest_configure(config) -> None:
    process_guard.install(config)
    worker_cache.use_worker_cache(config)
    option = config.option
    if hasattr(option, "nbval_lax") and not (option.nbval or option.nbval_lax):
        option.nbval_lax = True
    if hasattr(option, "nbval_sanitize_with") and not (option.nbval_sanitize_with or option.sanitize_with):
        option.nbval_sanitize_with = str(SANITIZER)
    if hasattr(option, "nbval_current_env"):
        option.nbval_current_env = True  # the kernel runs this virtualenv's Python
    if getattr(option, "nbval_cell_timeout", None) in (2000, "2000"):
        option.nbval_cell_timeout = CELL_TIMEOUT  # nbval's default (33 min) would stall CI


@pytest.hookimpl(wrapper=True)
def pytest_runtest_setup(item):
    if not _is_notebook_item(item):
        return (yield)
    previous = os.environ.get(STRICT_ENV)
    os.environ[STRICT_ENV] = "1"  # inherited by the kernel nbval starts in this setup
    try:
        return (yield)
    finally:
        if previous is None:
            os.environ.pop(STRICT_ENV, None)
        else:
            os.environ[STRICT_ENV] = previous


def _is_notebook_item(item) -> bool:
    path = getattr(item, "path", None)
    return path is not None and Path(path).suffix == ".ipynb" and HERE in Path(path).resolve().parents
