"""Shared pytest setup for the whole suite.

* The process guard (tests/process_guard.py) fails the run when the tests leave a process running
  (model servers, Prometheus, kernels...) or when anything they start listens beyond 127.0.0.1.
* tests/fixtures holds test data (e.g. small master notebooks), never tests to collect.
* The ``slow`` marker (``pytest -m "not slow"`` leaves these out): tests that start a server,
  Prometheus, a kernel (nbval), mkdocs or Chromium carry ``@pytest.mark.slow``; so do the masters
  run under nbval and every test using a fixture its module names in ``SLOW_FIXTURES`` (a
  module-scoped fixture that starts a server).
"""

from __future__ import annotations

import importlib
import os
import sys

import pytest


def _import_kserve_without_pytest_arguments() -> None:
    """kserve parses ``sys.argv`` when it is imported, and argparse takes pytest's ``--co`` for an
    abbreviation of kserve's ``--configure_logging``; import it once with a bare argv."""
    argv, sys.argv = sys.argv, sys.argv[:1]
    try:
        importlib.import_module("kserve.model_server")
    finally:
        sys.argv = argv


_import_kserve_without_pytest_arguments()

import process_guard
import worker_cache
from kserve_workshop import schemas
from support.reference_files import REFERENCE_CRD

collect_ignore = ["fixtures"]


def pytest_xdist_auto_num_workers(config) -> int | None:
    """Workers for ``-n auto`` (pyproject's addopts): one per CPU plus one, as most tests wait on a
    server, a kernel or Prometheus and a spare worker keeps the CPUs busy (on 2 cores: 5 min 23 s
    with two workers, 4 min 38 s with three). ``PYTEST_XDIST_AUTO_NUM_WORKERS`` still decides."""
    if os.environ.get("PYTEST_XDIST_AUTO_NUM_WORKERS"):
        return None  # pytest-xdist's own hook reads it
    cpus = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1
    return cpus + 1


def pytest_configure(config) -> None:
    process_guard.install(config)
    worker_cache.use_worker_cache(config)


def pytest_collection_modifyitems(items) -> None:
    for item in items:
        slow_fixtures = getattr(getattr(item, "module", None), "SLOW_FIXTURES", ())
        if item.path.suffix == ".ipynb" or set(slow_fixtures) & set(getattr(item, "fixturenames", ())):
            item.add_marker(pytest.mark.slow)


@pytest.fixture(scope="module")
def isvc_schema(tmp_path_factory):
    """KServe's InferenceService schema in the cache: the project's own, or seeded from REFERENCE_CRD."""
    if schemas.isvc_schema() is not None:
        yield
        return
    if not REFERENCE_CRD.is_file():
        pytest.skip("the InferenceService CRD is not cached (run `invoke schemas`)")
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("WORKSHOP_CACHE", str(tmp_path_factory.mktemp("cache")))
        schemas.fetch_isvc_crd(REFERENCE_CRD)
        yield


@pytest.fixture(autouse=True)
def lenient_checks(monkeypatch):
    """Checks report failures instead of raising, and write no grade report, unless a test asks."""
    monkeypatch.delenv("WORKSHOP_CHECKS_STRICT", raising=False)
    monkeypatch.delenv("WORKSHOP_GRADE_REPORT", raising=False)
