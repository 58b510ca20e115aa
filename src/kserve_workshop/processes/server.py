"""``ServerProcess``: a local server in a subprocess, on 127.0.0.1, that always stops.

A free loopback port (or a chosen one, refused when taken), a bounded wait until its readiness URL
answers, its output in a new log file, and a stop that always happens: on ``stop()``, at the end
of a ``with`` block, when the object is garbage collected, when the interpreter exits, and when
the parent process dies (``lifecycle``). It runs in a session of its own, so interrupting the
kernel that started it does not stop it; with ``replaces=True`` starting it stops the running
server of the same name, and whoever follows it (``registry.on_server_ready``) is told.
"""

from __future__ import annotations

import os
import subprocess
import threading
import time
import weakref
from pathlib import Path
from typing import Callable, Sequence
from urllib.parse import urlsplit

import requests
import socket

from ..errors import WorkshopError
from . import lifecycle, registry
from .lifecycle import LOOPBACK, free_port, port_is_free
from .logs import new_log, tail

PORT_PLACEHOLDER = "{port}"


def loopback_session() -> requests.Session:
    """A requests session for 127.0.0.1 that ignores proxy settings from the environment."""
    session = requests.Session()
    session.trust_env = False  # an HTTP(S)_PROXY would otherwise swallow calls to 127.0.0.1
    return session


class ServerProcess:
    """A local server in a subprocess: free loopback port, bounded readiness wait, guaranteed stop.

    ``argv`` and ``ready_url`` may contain ``{port}``, replaced by the port (``port=None`` picks a
    free one), or ``argv`` may be a callable ``port -> argv``. ``ready_url`` may be one URL or a
    list; the server is ready when every one answers HTTP 200 (a ``tcp://HOST:{port}`` URL: when it
    accepts a connection). Output goes to ``log_path`` (a new file per start). ``replaces=True``:
    starting it stops the running server of the same ``name`` started by this process.

        with ServerProcess(["prometheus", "--web.listen-address=127.0.0.1:{port}", ...],
                           "http://127.0.0.1:{port}/-/ready", name="prometheus") as prom:
            requests.get(prom.url + "/api/v1/query", params={"query": "up"})
    """

    #: The server watches its parent's pid itself (so it may leave our process group on any platform).
    watches_parent = False

    def __init__(
        self,
        argv: Sequence[str] | Callable[[int], Sequence[str]],
        ready_url: str | Sequence[str],
        *,
        port: int | None = None,
        env: dict[str, str] | None = None,
        name: str = "server",
        startup_timeout: float = 60.0,
        stop_timeout: float = 10.0,
        cwd: str | Path | None = None,
        die_with_parent: bool = True,
        replaces: bool = False,
    ):
        if startup_timeout <= 0 or stop_timeout <= 0:
            raise WorkshopError("startup_timeout and stop_timeout must be positive numbers of seconds")
        if port is not None and (not isinstance(port, int) or isinstance(port, bool) or not 0 < port < 65536):
            raise WorkshopError(f"port must be between 1 and 65535, got {port}")
        self.name = name
        self._argv = argv
        self._ready_urls = [ready_url] if isinstance(ready_url, str) else list(ready_url)
        self._requested_port = port
        self._env = dict(env or {})
        self.startup_timeout = startup_timeout
        self.stop_timeout = stop_timeout
        self.cwd = str(cwd) if cwd else None
        self.die_with_parent = die_with_parent
        self.replaces = replaces
        self.port: int | None = None
        self.log_path: Path | None = None
        self.startup_seconds: float | None = None
        self._process: subprocess.Popen | None = None
        self._log = None
        self._finalizer: weakref.finalize | None = None
        self._started_at = 0.0
        self._lock = threading.RLock()  # stop() may run inside start()

    # -- what a caller reads -------------------------------------------------------------------

    @property
    def url(self) -> str:
        if self.port is None:
            raise WorkshopError(f"{self.name} has not been started", hint="call .start() first")
        return f"http://{LOOPBACK}:{self.port}"

    @property
    def pid(self) -> int | None:
        return self._process.pid if self._process else None

    @property
    def running(self) -> bool:
        return self._process is not None and self._process.poll() is None

    @property
    def returncode(self) -> int | None:
        return self._process.poll() if self._process else None

    def argv(self, port: int) -> list[str]:
        """The command for ``port`` (placeholders filled in)."""
        raw = self._argv(port) if callable(self._argv) else self._argv
        return [str(part).replace(PORT_PLACEHOLDER, str(port)) for part in raw]

    def ready_urls(self, port: int) -> list[str]:
        return [url.replace(PORT_PLACEHOLDER, str(port)) for url in self._ready_urls]

    def log_tail(self, lines: int = 20) -> str:
        return tail(self.log_path, lines)

    # -- lifecycle ------------------------------------------------------------------------------

    def start(self) -> "ServerProcess":
        """Start the server and wait until it is ready (no-op when it is already running)."""
        with self._lock:
            if self.running:
                return self
            if self._process is not None:
                self.stop()  # it exited on its own: release what the last run held before starting again
            if self.replaces:
                registry.take_over(self)
            # A free port can be taken between picking it and the server binding it: retry once.
            attempts = 2 if self._requested_port is None else 1
            for attempt in range(1, attempts + 1):
                try:
                    self._launch()
                    self._wait_ready()
                    registry.announce_ready(self)
                    return self
                except _PortTaken:
                    if attempt == attempts:
                        raise WorkshopError(
                            f"{self.name} could not bind a free port: other programs took "
                            f"the ports it was given (last {self.port})",
                            hint="start it again; pass port=... to choose one yourself",
                        ) from None
        return self  # pragma: no cover

    def stop(self) -> int | None:
        """Stop the server (SIGTERM, then SIGKILL after ``stop_timeout``). Idempotent; returns the exit code."""
        with self._lock:
            if self._finalizer is not None:
                self._finalizer()  # runs _terminate once and detaches the atexit hook
                self._finalizer = None
            registry.discard_running(self)
            if self._log is not None:
                self._log.close()
                self._log = None
            return self.returncode

    def __enter__(self) -> "ServerProcess":
        return self.start()

    def __exit__(self, *exc_info) -> None:
        self.stop()

    def __repr__(self) -> str:
        state = "running" if self.running else ("stopped" if self._process else "not started")
        where = f" at {self.url}" if self.port is not None else ""
        return f"<{type(self).__name__} {self.name}{where} pid={self.pid} {state}>"

    # -- internals ------------------------------------------------------------------------------

    def _launch(self) -> None:
        if self._requested_port is not None and not port_is_free(self._requested_port):
            raise WorkshopError(
                f"cannot start {self.name}: port {self._requested_port} on {LOOPBACK} is already in "
                "use (by another server, perhaps another workshop server)",
                hint="choose another port, or none to get a free one",
            )
        self.port = self._requested_port or free_port()
        self.log_path, self._log = new_log(self.name, self.port)
        env = {**os.environ, **self._env}
        preexec = lifecycle.die_with_parent() if self.die_with_parent else None
        started = time.monotonic()
        try:
            self._process = subprocess.Popen(
                self.argv(self.port),
                stdin=subprocess.DEVNULL,
                stdout=self._log,
                stderr=subprocess.STDOUT,
                env=env,
                cwd=self.cwd,
                preexec_fn=preexec,
                start_new_session=self.die_with_parent
                and lifecycle.own_session(preexec is not None, self.watches_parent),
            )
        except FileNotFoundError as exc:
            self._log.close()
            self._log = None
            raise WorkshopError(
                f"cannot start {self.name}: {exc.filename or self.argv(self.port)[0]} not found",
                hint="install it (see the README's prerequisites)",
            ) from exc
        self._started_at = started
        self._finalizer = weakref.finalize(self, lifecycle.terminate, self._process, self.stop_timeout)
        registry.add_running(self)

    def _wait_ready(self) -> None:
        urls = self.ready_urls(self.port)
        deadline = self._started_at + self.startup_timeout
        delay = 0.05
        session = loopback_session()
        try:
            while True:
                code = self._process.poll()
                if code is not None:
                    self.stop()
                    log = self.log_tail(30)
                    port_taken = "address already in use" in log.lower()
                    if port_taken and self._requested_port is None:
                        raise _PortTaken()
                    raise WorkshopError(
                        f"{self.name} exited with code {code} before it was ready.\nLast lines of {self.log_path}:\n{log}",
                        hint=(
                            f"port {self.port} is taken by another program: choose another port, or none to get "
                            "a free one"
                        )
                        if port_taken
                        else "the log above says why; fix the cause and start it again",
                    )
                if all(_answers(session, url) for url in urls):
                    self.startup_seconds = time.monotonic() - self._started_at
                    return
                if time.monotonic() >= deadline:
                    self.stop()
                    raise WorkshopError(
                        f"{self.name} was not ready within {self.startup_timeout:g} s (waited for {', '.join(urls)}).\n"
                        f"Last lines of {self.log_path}:\n{self.log_tail(30)}",
                        hint="a busy machine starts slowly: pass a larger startup_timeout, or read the log",
                    )
                time.sleep(delay)
                delay = min(delay * 1.5, 0.5)
        finally:
            session.close()


class _PortTaken(Exception):
    """Internal: the auto-picked port was taken before the server bound it."""


def _answers(session: requests.Session, url: str) -> bool:
    """An ``http://`` readiness URL answers 200; a ``tcp://HOST:PORT`` one accepts a connection."""
    if url.startswith("tcp://"):
        parts = urlsplit(url)
        try:
            with socket.create_connection((parts.hostname, parts.port), timeout=1):
                return True
        except OSError:
            return False
    try:
        return session.get(url, timeout=2).status_code == 200
    except requests.RequestException:
        return False
