"""The doctor's checks for the **local tier**: what the labs need on this machine without a cluster.

Python and the pinned packages are required (every lab imports them); a loopback port must be
bindable (the model servers and Prometheus listen on 127.0.0.1). The ``prometheus`` binary (Lab 5's
local part) and the cached KServe schema (the graded manifest checks) are warnings: the other labs
run without them, and each warning names what it affects and the one command that fixes it.
"""

from __future__ import annotations

import socket
import sys
from dataclasses import dataclass
from importlib import metadata
from typing import Callable

from .doctor import FAIL, PASS, WARN, DoctorResult as LocalResult
from .errors import WorkshopError
from .versions import pin

MIN_PYTHON = (3, 11)
#: The Python packages whose version must match the cluster side, with their pin in versions.toml.
PINNED_PACKAGES = {"kserve": ("python", "kserve_sdk"), "scikit-learn": ("python", "scikit_learn")}


def _package_version(name: str) -> str | None:
    try:
        return metadata.version(name)
    except metadata.PackageNotFoundError:
        return None


def _find_prometheus() -> str | None:
    from .metrics.local_prometheus import find_prometheus

    try:
        return find_prometheus()
    except WorkshopError:
        return None


def _loopback_bindable() -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        try:
            sock.bind(("127.0.0.1", 0))
        except OSError:
            return False
    return True


def _schema_cached() -> bool:
    from .schemas import cached_isvc_crd_is_valid

    return cached_isvc_crd_is_valid()


@dataclass
class LocalProbes:
    """How the local checks look at the machine; replace a field to simulate another machine."""

    python_version: Callable[[], tuple[int, ...]] = lambda: tuple(sys.version_info[:3])
    package_version: Callable[[str], str | None] = _package_version
    prometheus: Callable[[], str | None] = _find_prometheus
    loopback_bindable: Callable[[], bool] = _loopback_bindable
    schema_cached: Callable[[], bool] = _schema_cached


def check_python(probes: LocalProbes) -> LocalResult:
    found = probes.python_version()
    text = ".".join(map(str, found))
    if tuple(found[:2]) < MIN_PYTHON:
        return LocalResult(
            "python",
            FAIL,
            f"{text}; the workshop needs {'.'.join(map(str, MIN_PYTHON))} or newer",
            "install Python 3.11+ and run `PYTHON=python3.11 scripts/bootstrap.sh`",
        )
    return LocalResult("python", PASS, text)


def check_packages(probes: LocalProbes) -> list[LocalResult]:
    results = []
    for package, (section, key) in PINNED_PACKAGES.items():
        wanted, found = pin(section, key), probes.package_version(package)
        if found is None:
            results.append(LocalResult(package, FAIL, "not installed", "run `scripts/bootstrap.sh`"))
        elif found != wanted:
            results.append(
                LocalResult(
                    package,
                    FAIL,
                    f"{found}; the cluster side needs {wanted}",
                    "run `scripts/bootstrap.sh` (it installs the pinned versions into .venv)",
                )
            )
        else:
            results.append(LocalResult(package, PASS, found))
    return results


def check_loopback(probes: LocalProbes) -> LocalResult:
    if probes.loopback_bindable():
        return LocalResult("loopback (127.0.0.1)", PASS, "can listen (the model servers bind there)")
    return LocalResult(
        "loopback (127.0.0.1)",
        FAIL,
        "cannot listen on 127.0.0.1",
        "the local servers bind 127.0.0.1 only: allow local listening sockets (firewall, sandbox)",
    )


def check_prometheus(probes: LocalProbes) -> LocalResult:
    path = probes.prometheus()
    if path:
        return LocalResult("prometheus (Lab 5)", PASS, "found")
    from .metrics.local_prometheus import PROMETHEUS_ENV

    return LocalResult(
        "prometheus (Lab 5)",
        WARN,
        "not found: Lab 5's local part needs the Prometheus server",
        "`sudo apt-get install prometheus` (Debian/Ubuntu), `brew install prometheus` (macOS), "
        f"or set {PROMETHEUS_ENV}=/path/to/prometheus",
    )


def check_schema(probes: LocalProbes) -> LocalResult:
    if probes.schema_cached():
        return LocalResult("KServe schema", PASS, f"InferenceService CRD of KServe {pin('kserve')} cached")
    return LocalResult(
        "KServe schema",
        WARN,
        "not cached: the graded manifest checks (Labs 2, 4 and 7) cannot validate",
        "run `invoke schemas` once (it downloads the pinned CRD into the cache)",
    )


def collect_local(probes: LocalProbes | None = None) -> list[LocalResult]:
    """Every local-tier check, in the order the table shows them."""
    probes = probes or LocalProbes()
    return [
        check_python(probes),
        *check_packages(probes),
        check_loopback(probes),
        check_prometheus(probes),
        check_schema(probes),
    ]
