"""Shared pytest setup for the whole suite.

* The process guard (tests/process_guard.py) fails the run when the tests leave a process running
  (model servers, Prometheus, kernels...) or when anything they start listens beyond 127.0.0.1.
* tests/fixtures holds test data (e.g. small master notebooks), never tests to collect.
"""

from __future__ import annotations

import process_guard

collect_ignore = ["fixtures"]


def pytest_configure(config) -> None:
    process_guard.install(config)
