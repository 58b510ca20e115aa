"""``scripts/bootstrap.sh`` run for real on a copy of the repository layout, with the system commands it
calls (dpkg, pgrep, service, id, sudo, apt-get) and the virtualenv's Python replaced by stubs that
record what they were asked to do: fast, and nothing on this machine is installed or stopped."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from kserve_workshop.paths import REPO_ROOT

STUB = """#!/bin/sh
echo "{name} $*" >> "$CALLS"
{body}
"""


def stub(directory: Path, name: str, body: str = "exit 0") -> None:
    path = directory / name
    path.write_text(STUB.format(name=name, body=body))
    path.chmod(0o755)


@pytest.fixture
def layout(tmp_path):
    """A repository copy holding only the script, a ready .venv stub and a bin/ of system stubs."""
    (tmp_path / "scripts").mkdir()
    shutil.copy(REPO_ROOT / "scripts" / "bootstrap.sh", tmp_path / "scripts" / "bootstrap.sh")
    venv_bin = tmp_path / ".venv" / "bin"
    venv_bin.mkdir(parents=True)
    stub(venv_bin, "python")
    stub(venv_bin, "invoke")
    stubs = tmp_path / "stubs"
    stubs.mkdir()
    stub(stubs, "dpkg")  # every package is installed
    stub(stubs, "apt-get")
    stub(stubs, "service")
    stub(stubs, "sudo", 'exec "$@"')
    return tmp_path, stubs


def run(layout_dir: Path, stubs: Path, *args: str, **env: str) -> tuple[subprocess.CompletedProcess, list[str]]:
    calls = layout_dir / "calls.txt"
    full_env = {
        "PATH": f"{stubs}:{os.environ['PATH']}",
        "CALLS": str(calls),
        "PYTHON": sys.executable,
        "HOME": str(layout_dir),
        **env,
    }
    done = subprocess.run(
        ["bash", str(layout_dir / "scripts" / "bootstrap.sh"), *args],
        env=full_env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    return done, calls.read_text().splitlines() if calls.exists() else []


@pytest.mark.parametrize(
    "uid, stop_command", [("1000", "sudo service prometheus stop"), ("0", "service prometheus stop")]
)
@pytest.mark.bad_input(
    tool="scripts/bootstrap.sh",
    input="`--test-tools` with a prometheus process running and no package missing",
    example="scripts/bootstrap.sh --test-tools (Lab 5 open)",
    behaviour="completes, stopping Debian's Prometheus service (before: `sudo: unbound variable`)",
)
def test_test_tools_with_prometheus_running_and_nothing_missing(layout, uid, stop_command):
    """The Debian re-run (or Lab 5 open): a prometheus process runs, no package is missing."""
    layout_dir, stubs = layout
    stub(stubs, "pgrep")  # exit 0: a prometheus process is running
    stub(stubs, "id", f"echo {uid}")
    done, calls = run(layout_dir, stubs, "--test-tools")
    assert done.returncode == 0, done.stderr
    assert "unbound variable" not in done.stderr
    assert stop_command in calls, calls
    assert any(call.startswith("sudo ") for call in calls) == (uid != "0"), "root needs no sudo"
    assert not any(call.startswith("apt-get") for call in calls), "nothing was missing: nothing to install"
    assert "invoke schemas" in calls


def test_test_tools_installs_what_is_missing_through_sudo(layout):
    layout_dir, stubs = layout
    stub(stubs, "dpkg", '[ "$2" != hey ]')  # hey is missing
    stub(stubs, "pgrep", "exit 1")  # no prometheus running
    stub(stubs, "id", "echo 1000")
    done, calls = run(layout_dir, stubs, "--test-tools")
    assert done.returncode == 0, done.stderr
    assert any(call.startswith("sudo apt-get install") and call.endswith(" hey") for call in calls), calls
    assert not any("service" in call for call in calls)


@pytest.mark.parametrize(
    "python, says",
    [
        ("/nonexistent/python3", "bootstrap: no Python at '/nonexistent/python3' (from PYTHON)."),
        ("/bin/true", "bootstrap: Python 3.11 or newer is needed; '/bin/true' is "),
    ],
)
@pytest.mark.bad_input(
    tool="scripts/bootstrap.sh",
    input="`PYTHON` naming a missing program or not a Python",
    example="PYTHON=/nonexistent scripts/bootstrap.sh",
    behaviour="one message and a hint, exit 1, nothing else run (before: the shell's error in the "
    "middle of the sentence)",
)
def test_a_python_that_is_not_there_or_not_python_is_one_clear_message(layout, python, says):
    layout_dir, stubs = layout
    done, calls = run(layout_dir, stubs, PYTHON=python)
    assert done.returncode == 1
    assert done.stderr.splitlines()[0].startswith(says), done.stderr
    assert "No such file or directory" not in done.stderr and "line " not in done.stderr
    assert done.stderr.splitlines()[1].startswith("hint: ")
    assert calls == [], "nothing may run after the Python check failed"
