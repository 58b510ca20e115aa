"""The process guard: a session that leaves a process running, or listens beyond loopback, fails.

The guard itself (tests/process_guard.py, installed by tests/conftest.py and notebooks/conftest.py)
checks the real suite at the end of every run; these tests show that it can fail.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections import namedtuple
from pathlib import Path

import psutil
import pytest

import process_guard
from process_guard import SESSION_ENV, ListenSampler, is_loopback, non_loopback_listeners, session_processes

TESTS_DIR = Path(__file__).parent


def test_this_session_has_a_token_that_children_inherit():
    token = os.environ.get(SESSION_ENV)
    assert token
    child = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(30)"])
    try:
        assert child.pid in {p.pid for p in session_processes(token)}
    finally:
        child.kill()
        child.wait()
    assert child.pid not in {p.pid for p in session_processes(token)}


def test_processes_of_other_sessions_are_not_ours():
    env = {**os.environ, SESSION_ENV: "someone-else"}
    child = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(30)"], env=env)
    try:
        assert child.pid not in {p.pid for p in session_processes(os.environ[SESSION_ENV])}
    finally:
        child.kill()
        child.wait()


@pytest.mark.parametrize(
    "address, loopback",
    [
        ("127.0.0.1", True),
        ("127.0.0.53", True),
        ("::1", True),
        ("0.0.0.0", False),
        ("::", False),
        ("10.1.2.3", False),
        ("fe80::1%eth0", False),
        ("", False),
    ],
)
def test_is_loopback(address, loopback):
    assert is_loopback(address) is loopback


def test_a_loopback_listener_is_fine():
    with socket.socket() as server:
        server.bind(("127.0.0.1", 0))
        server.listen()
        assert non_loopback_listeners([psutil.Process()]) == []


Address = namedtuple("Address", "ip port")
Connection = namedtuple("Connection", "laddr status")


class FakeProcess:
    """Stands in for psutil.Process with given sockets (no socket beyond loopback is opened)."""

    pid = 4242

    def __init__(self, *connections):
        self._connections = list(connections)

    def name(self):
        return "model-server"

    def net_connections(self, kind):
        assert kind == "tcp"
        return self._connections


def test_a_listener_on_all_interfaces_is_reported():
    process = FakeProcess(
        Connection(Address("127.0.0.1", 8080), psutil.CONN_LISTEN),
        Connection(Address("::", 8081), psutil.CONN_LISTEN),
        Connection(Address("0.0.0.0", 40000), psutil.CONN_ESTABLISHED),
    )
    assert [str(item) for item in non_loopback_listeners([process])] == ["pid 4242 (model-server) listens on :::8081"]


def test_the_sampler_keeps_what_it_saw():
    process = FakeProcess(Connection(Address("0.0.0.0", 9090), psutil.CONN_LISTEN))
    sampler = ListenSampler(interval=0.05, processes=lambda: [process]).start()
    time.sleep(0.2)
    sampler.stop()
    assert [listener.port for listener in sampler.violations] == [9090]


def _run_inner_session(tmp_path, body: str) -> subprocess.CompletedProcess:
    (tmp_path / "test_inner.py").write_text(body)
    env = {**os.environ, "PYTHONPATH": str(TESTS_DIR), process_guard.GRACE_ENV: "0.5"}
    return subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            "-q",
            "-p",
            "process_guard",
            "-p",
            "no:cacheprovider",
            "--rootdir",
            str(tmp_path),
            str(tmp_path / "test_inner.py"),
        ],
        cwd=tmp_path,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


LEAKY = """
import subprocess, sys, time

def test_leaks_a_server():
    subprocess.Popen([sys.executable, "-c", "import time; time.sleep(120)"], start_new_session=True)
"""

TIDY = """
import subprocess, sys

def test_cleans_up():
    child = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(120)"])
    child.terminate()
    child.wait()
"""


@pytest.mark.slow
def test_a_session_that_leaks_a_process_fails_and_the_leak_is_stopped(tmp_path):
    result = _run_inner_session(tmp_path, LEAKY)
    assert result.returncode == 1, result.stdout + result.stderr
    assert "processes left running by the tests" in result.stdout
    assert "1 passed" in result.stdout  # the test passed; the guard failed the run
    leaked = [line for line in result.stdout.splitlines() if "still running" in line]
    pid = int(leaked[0].split("pid ")[1].split(":")[0])
    assert not psutil.pid_exists(pid) or psutil.Process(pid).status() == psutil.STATUS_ZOMBIE


@pytest.mark.slow
def test_a_tidy_session_passes(tmp_path):
    result = _run_inner_session(tmp_path, TIDY)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "left running" not in result.stdout


def test_the_guard_is_installed_for_this_run(pytestconfig):
    if getattr(pytestconfig, "workerinput", None) is None:
        assert pytestconfig.pluginmanager.has_plugin(process_guard.PLUGIN_NAME)
    else:  # a pytest-xdist worker: the controller guards the whole run, with the token it handed down
        assert not pytestconfig.pluginmanager.has_plugin(process_guard.PLUGIN_NAME)
        assert os.environ.get(SESSION_ENV) == pytestconfig.workerinput[process_guard.TOKEN_KEY]
