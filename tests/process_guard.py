"""Find processes the test session started that are still running or listen beyond loopback.

Every process started during the session inherits ``WORKSHOP_TEST_SESSION=<token>`` from pytest's
environment (kernels, model servers, Prometheus, load generators...), even when it was re-parented
to init. That token, not a process name, decides what belongs to this session, so test runs of
other people on the same machine are never touched.
"""

from __future__ import annotations

import ipaddress
import threading
from dataclasses import dataclass
from typing import Callable, Iterable

import psutil
import pytest

SESSION_ENV = "WORKSHOP_TEST_SESSION"


@dataclass(frozen=True)
class Listener:
    pid: int
    name: str
    address: str
    port: int

    def __str__(self) -> str:
        return f"pid {self.pid} ({self.name}) listens on {self.address}:{self.port}"


def is_loopback(address: str) -> bool:
    try:
        return ipaddress.ip_address(address.split("%")[0]).is_loopback
    except ValueError:
        return False


def session_processes(token: str, *, exclude: Iterable[int] = ()) -> list[psutil.Process]:
    """Live processes whose environment carries ``SESSION_ENV=token`` (pytest itself excluded)."""
    skip = set(exclude)
    found = []
    for process in psutil.process_iter(["pid"]):
        if process.pid in skip:
            continue
        try:
            if process.environ().get(SESSION_ENV) == token and process.status() != psutil.STATUS_ZOMBIE:
                found.append(process)
        except (psutil.NoSuchProcess, psutil.AccessDenied, psutil.ZombieProcess, OSError):
            continue
    return found


def describe(process: psutil.Process) -> str:
    try:
        command = " ".join(process.cmdline())[:200]
    except (psutil.NoSuchProcess, psutil.AccessDenied, psutil.ZombieProcess):
        command = "?"
    return f"pid {process.pid}: {command}"


def _connections(process: psutil.Process):
    method = getattr(process, "net_connections", None) or process.connections
    return method(kind="tcp")


def non_loopback_listeners(processes: Iterable[psutil.Process]) -> list[Listener]:
    """TCP sockets in LISTEN state bound to anything but a loopback address."""
    found = []
    for process in processes:
        try:
            name = process.name()
            for connection in _connections(process):
                if connection.status == psutil.CONN_LISTEN and not is_loopback(connection.laddr.ip):
                    found.append(Listener(process.pid, name, connection.laddr.ip, connection.laddr.port))
        except (psutil.NoSuchProcess, psutil.AccessDenied, psutil.ZombieProcess, OSError):
            continue
    return found


def stop(processes: Iterable[psutil.Process], timeout: float = 5.0) -> None:
    """Terminate (then kill) the given processes, each by its pid."""
    processes = list(processes)
    for process in processes:
        try:
            process.terminate()
        except psutil.NoSuchProcess:
            pass
    _, alive = psutil.wait_procs(processes, timeout=timeout)
    for process in alive:
        try:
            process.kill()
        except psutil.NoSuchProcess:
            pass


class ListenSampler:
    """Samples the listening sockets of the session's descendants while the tests run.

    A server lives only as long as its test, so the sockets are looked at every ``interval``
    seconds in a daemon thread; what was seen bound beyond loopback is kept in ``violations``.
    """

    def __init__(self, interval: float = 0.5, processes: Callable[[], Iterable[psutil.Process]] | None = None):
        self.interval = interval
        self._processes = processes or (lambda: psutil.Process().children(recursive=True))
        self.violations: list[Listener] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="listen-sampler", daemon=True)

    def _run(self) -> None:
        while not self._stop.is_set():
            self.sample()
            self._stop.wait(self.interval)

    def sample(self) -> None:
        try:
            processes = list(self._processes())
        except (psutil.Error, OSError):
            return
        for listener in non_loopback_listeners(processes):
            if listener not in self.violations:
                self.violations.append(listener)

    def start(self) -> "ListenSampler":
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(timeout=5)
        self.sample()


# ------------------------------------------------------------------------------ pytest plugin

PLUGIN_NAME = "workshop-process-guard"
#: The key under which a pytest-xdist worker finds the controller's token in ``config.workerinput``.
TOKEN_KEY = "workshop_guard_token"
GRACE_ENV = "WORKSHOP_LEFTOVER_GRACE"


class GuardPlugin:
    """Fails the run when the session leaves processes running or listens beyond loopback."""

    def __init__(self, grace: float | None = None):
        import os
        import uuid

        # Seconds a process may take to finish exiting after the last test (SIGTERM takes ~2.4 s).
        self.grace = grace if grace is not None else float(os.environ.get(GRACE_ENV, "15"))
        self.token = uuid.uuid4().hex  # a fresh token even inside another session (pytester)
        self._previous = os.environ.get(SESSION_ENV)
        os.environ[SESSION_ENV] = self.token
        self.sampler = ListenSampler()
        self.leftovers: list[str] = []

    def pytest_sessionstart(self, session) -> None:
        self.sampler.start()

    @pytest.hookimpl(optionalhook=True)
    def pytest_configure_node(self, node) -> None:
        """pytest-xdist: tell each worker the run's token (its processes inherit it anyway)."""
        node.workerinput[TOKEN_KEY] = self.token

    @pytest.hookimpl(trylast=True)  # after pytest-xdist has shut its workers down
    def pytest_sessionfinish(self, session) -> None:
        import os

        import pytest

        self.sampler.stop()
        me = os.getpid()
        found = {p.pid: p for p in session_processes(self.token, exclude={me})}
        # Children started with an environment of their own (no token) are still our children.
        for child in psutil.Process(me).children(recursive=True):
            found.setdefault(child.pid, child)
        if found:
            # Servers get a few seconds to finish a SIGTERM they were already sent.
            _, alive = psutil.wait_procs(list(found.values()), timeout=self.grace)
            alive = [p for p in alive if p.is_running() and p.status() != psutil.STATUS_ZOMBIE]
            self.leftovers = [describe(p) for p in alive]
            stop(alive)
        if self.leftovers or self.sampler.violations:
            session.exitstatus = pytest.ExitCode.TESTS_FAILED
        if self._previous is None:
            os.environ.pop(SESSION_ENV, None)
        else:
            os.environ[SESSION_ENV] = self._previous

    def pytest_terminal_summary(self, terminalreporter) -> None:
        if self.leftovers:
            terminalreporter.section("processes left running by the tests", red=True)
            for line in self.leftovers:
                terminalreporter.write_line(f"still running (now stopped): {line}")
        if self.sampler.violations:
            terminalreporter.section("servers listening beyond 127.0.0.1", red=True)
            for listener in self.sampler.violations:
                terminalreporter.write_line(str(listener))


def install(config) -> None:
    """Register the guard once per session (both conftests call this).

    Under pytest-xdist only the controller guards: the workers, the kernels and the servers they
    start carry the controller's token and are its descendants, so one guard sees them all, and a
    leftover fails the whole run (a worker's own exit status would not reach it).
    """
    if getattr(config, "workerinput", None) is not None:
        return
    if not config.pluginmanager.has_plugin(PLUGIN_NAME):
        config.pluginmanager.register(GuardPlugin(), PLUGIN_NAME)


def pytest_configure(config) -> None:  # when loaded with `-p process_guard`
    install(config)
