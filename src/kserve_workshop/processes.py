"""Run local servers (KServe's model server, Prometheus, a transformer) as well-behaved subprocesses.

``ServerProcess`` is the generic part: a command that listens on 127.0.0.1 on a free port, a
bounded wait until its readiness URL answers, quiet logs in a file under ``cache_dir()/logs``, and
a stop that always happens: on ``stop()``, at the end of a ``with`` block, when the object is
garbage collected, when the interpreter exits, and (on Linux) when the parent process dies.

``LocalModelServer`` runs KServe's own model server (``kserve.ModelServer`` with the workshop's
sklearn predictor, see ``runtime.sklearn_server``) on a model directory.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import threading
import time
import uuid
import weakref
from pathlib import Path
from typing import Callable, Iterable, Sequence
from urllib.parse import urlsplit

import requests

from .errors import WorkshopError
from .paths import cache_dir

LOOPBACK = "127.0.0.1"
PORT_PLACEHOLDER = "{port}"

#: Servers started by this process and not yet stopped (for ``running_servers`` / ``stop_all``).
_RUNNING: "weakref.WeakSet[ServerProcess]" = weakref.WeakSet()
#: Bound methods called with every server that has just become ready (``on_server_ready``).
_READY_LISTENERS: "list[weakref.WeakMethod]" = []


def on_server_ready(method: Callable[["ServerProcess"], None]) -> None:
    """Call ``method(server)`` whenever a server of this process becomes ready (held weakly: the
    listener goes away with its object). LocalPrometheus uses it to follow a restarted model server."""
    _READY_LISTENERS.append(weakref.WeakMethod(method))


def _announce_ready(server: "ServerProcess") -> None:
    for reference in list(_READY_LISTENERS):
        listener = reference()
        if listener is None:
            _READY_LISTENERS.remove(reference)
            continue
        try:
            listener(server)
        except Exception:  # noqa: BLE001 - a listener must never break a server's start
            pass


def free_port(host: str = LOOPBACK) -> int:
    """A TCP port that is free on ``host`` right now (the OS picks it)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((host, 0))
        return sock.getsockname()[1]


def loopback_session() -> requests.Session:
    """A requests session for 127.0.0.1 that ignores proxy settings from the environment."""
    session = requests.Session()
    session.trust_env = False  # an HTTP(S)_PROXY would otherwise swallow calls to 127.0.0.1
    return session


#: Server logs kept in ``cache_dir()/logs`` (one per start; the oldest are deleted beyond this).
KEEP_LOGS = 100


def log_dir() -> Path:
    path = cache_dir() / "logs"
    path.mkdir(parents=True, exist_ok=True)
    return path


def prune_logs(directory: Path, keep: int = KEEP_LOGS) -> None:
    """Delete all but the ``keep`` newest ``*.log`` files (each server start writes one)."""
    logs = sorted(directory.glob("*.log"), key=_mtime, reverse=True)
    for old in logs[keep:]:
        old.unlink(missing_ok=True)


def tail(path: Path | None, lines: int = 20) -> str:
    """The last ``lines`` lines of a log file ("" when it does not exist)."""
    if path is None or not path.exists():
        return ""
    with path.open("rb") as handle:
        handle.seek(0, os.SEEK_END)
        handle.seek(max(0, handle.tell() - 64_000))
        text = handle.read().decode("utf-8", errors="replace")
    return "\n".join(text.splitlines()[-lines:])


def _die_with_parent() -> Callable[[], None] | None:
    """A ``preexec_fn`` asking Linux to SIGTERM the child when its parent dies (None elsewhere).

    ``PR_SET_PDEATHSIG`` fires when the *thread* that started the child ends, so start servers from
    a long-lived thread (a kernel's or a task's main thread). ``atexit`` alone is not enough: a
    killed pytest or kernel never runs it.
    """
    if not sys.platform.startswith("linux"):
        return None
    import ctypes

    try:
        prctl = ctypes.CDLL(None, use_errno=True).prctl
    except (OSError, AttributeError):
        return None
    parent = os.getpid()
    pr_set_pdeathsig = 1

    def preexec() -> None:
        prctl(pr_set_pdeathsig, signal.SIGTERM, 0, 0, 0)
        if os.getppid() != parent:  # the parent died before prctl took effect
            os._exit(1)

    return preexec


def _terminate(process: subprocess.Popen, timeout: float) -> int | None:
    """SIGTERM, wait up to ``timeout`` s, then SIGKILL. Safe to call on a process that has exited."""
    if process.poll() is None:
        try:
            process.terminate()
            process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=10)
        except ProcessLookupError:  # pragma: no cover - exited between poll() and terminate()
            pass
    return process.returncode


class ServerProcess:
    """A local server in a subprocess: free loopback port, bounded readiness wait, guaranteed stop.

    ``argv`` and ``ready_url`` may contain ``{port}``, replaced by the port (``port=None`` picks a
    free one), or ``argv`` may be a callable ``port -> argv``. ``ready_url`` may be one URL or a
    list; the server is ready when every one answers HTTP 200 (a ``tcp://HOST:{port}`` URL: when it
    accepts a connection). Output goes to ``log_path``.

        with ServerProcess(["prometheus", "--web.listen-address=127.0.0.1:{port}", ...],
                           "http://127.0.0.1:{port}/-/ready", name="prometheus") as prom:
            requests.get(prom.url + "/api/v1/query", params={"query": "up"})
    """

    def __init__(self, argv: Sequence[str] | Callable[[int], Sequence[str]],
                 ready_url: str | Sequence[str], *, port: int | None = None,
                 env: dict[str, str] | None = None, name: str = "server", startup_timeout: float = 60.0,
                 stop_timeout: float = 10.0, cwd: str | Path | None = None, die_with_parent: bool = True):
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
            # A free port can be taken between picking it and the server binding it: retry once.
            attempts = 2 if self._requested_port is None else 1
            for attempt in range(1, attempts + 1):
                try:
                    self._launch()
                    self._wait_ready()
                    _announce_ready(self)
                    return self
                except _PortTaken:
                    if attempt == attempts:
                        raise WorkshopError(f"{self.name} could not bind a free port: other programs took "
                                            f"the ports it was given (last {self.port})",
                                            hint="start it again; pass port=... to choose one yourself") from None
        return self  # pragma: no cover

    def stop(self) -> int | None:
        """Stop the server (SIGTERM, then SIGKILL after ``stop_timeout``). Idempotent; returns the exit code."""
        with self._lock:
            if self._finalizer is not None:
                self._finalizer()  # runs _terminate once and detaches the atexit hook
                self._finalizer = None
            _RUNNING.discard(self)
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
        self.port = self._requested_port or free_port()
        prune_logs(log_dir())
        self.log_path = log_dir() / f"{_slug(self.name)}-{self.port}.log"
        self._log = self.log_path.open("wb")
        env = {**os.environ, **self._env}
        started = time.monotonic()
        try:
            # Default process group on purpose: nbval/ipykernel kill the kernel's group on teardown.
            self._process = subprocess.Popen(
                self.argv(self.port), stdin=subprocess.DEVNULL, stdout=self._log, stderr=subprocess.STDOUT,
                env=env, cwd=self.cwd, preexec_fn=_die_with_parent() if self.die_with_parent else None)
        except FileNotFoundError as exc:
            self._log.close()
            self._log = None
            raise WorkshopError(f"cannot start {self.name}: {exc.filename or self.argv(self.port)[0]} not found",
                                hint="install it (see the README's prerequisites)") from exc
        self._started_at = started
        self._finalizer = weakref.finalize(self, _terminate, self._process, self.stop_timeout)
        _RUNNING.add(self)

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
                        hint=(f"port {self.port} is taken by another program: choose another port, or none to get "
                              "a free one") if port_taken else "the log above says why; fix the cause and start it again")
                if all(_answers(session, url) for url in urls):
                    self.startup_seconds = time.monotonic() - self._started_at
                    return
                if time.monotonic() >= deadline:
                    self.stop()
                    raise WorkshopError(
                        f"{self.name} was not ready within {self.startup_timeout:g} s (waited for {', '.join(urls)}).\n"
                        f"Last lines of {self.log_path}:\n{self.log_tail(30)}",
                        hint="a busy machine starts slowly: pass a larger startup_timeout, or read the log")
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


def _mtime(path: Path) -> float:
    try:
        return path.stat().st_mtime
    except OSError:  # deleted meanwhile (another process pruning)
        return 0.0


def _slug(name: str) -> str:
    return "".join(c if c.isalnum() or c in "-_." else "-" for c in name) or "server"


def running_servers() -> list[ServerProcess]:
    """Servers started by this process that are still running."""
    return [server for server in list(_RUNNING) if server.running]


def stop_all() -> None:
    """Stop every server this process started (e.g. at the end of a notebook)."""
    for server in list(_RUNNING):
        server.stop()


class KServeServerProcess(ServerProcess):
    """A KServe ``ModelServer`` for one model in a subprocess (``python -m ENTRY_MODULE``), on 127.0.0.1.

    What every such server shares: readiness (server and model ready), quiet logging unless
    ``verbose``, the parent-pid watch and the model's URLs. Subclasses name their entry module and
    add their own flags in ``server_flags``.
    """

    entry_module: str

    def __init__(self, model_name: str, *, name: str, env: dict[str, str] | None = None, port: int | None = None,
                 startup_timeout: float = 60.0, stop_timeout: float = 10.0, verbose: bool = False):
        _check_model_name(model_name)
        self.model_name = model_name
        self.verbose = verbose
        env = dict(env or {})
        if not verbose:
            # kserve's FastAPI app warns on every request; the log stays small without it.
            env["PYTHONWARNINGS"] = "ignore"
        super().__init__(self._build_argv, [f"http://{LOOPBACK}:{{port}}/v2/health/ready",
                                            f"http://{LOOPBACK}:{{port}}/v2/models/{model_name}/ready"],
                         port=port, env=env, name=name, startup_timeout=startup_timeout, stop_timeout=stop_timeout)

    def server_flags(self) -> list[str]:
        """The entry module's own flags (model directory, predictor host, ...)."""
        return []

    def _build_argv(self, port: int) -> list[str]:
        argv = [sys.executable, "-m", self.entry_module, *self.server_flags(), "--model_name", self.model_name,
                "--http_port", str(port), "--parent_pid", str(os.getpid())]
        if not self.verbose:
            argv += ["--configure_logging", "false", "--enable_latency_logging", "false"]
        return argv

    @property
    def metrics_url(self) -> str:
        return f"{self.url}/metrics"

    @property
    def v1_url(self) -> str:
        return f"{self.url}/v1/models/{self.model_name}:predict"

    @property
    def v2_url(self) -> str:
        return f"{self.url}/v2/models/{self.model_name}/infer"


class LocalModelServer(KServeServerProcess):
    """KServe's model server with the workshop's sklearn predictor, on 127.0.0.1.

    ``model_dir`` must hold exactly one ``.joblib``/``.pkl``/``.pickle`` file, as for the cluster's
    sklearn runtime. ``predict_proba=True`` sets ``PREDICT_PROBA=true`` (class probabilities).

        with LocalModelServer(model_dir) as server:
            predict_v1(server.url, server.model_name, DOCS_IRIS_INPUT)
    """

    entry_module = "kserve_workshop.runtime.sklearn_server"

    def __init__(self, model_dir: str | Path, model_name: str = "sklearn-iris", *, predict_proba: bool = False,
                 port: int | None = None, startup_timeout: float = 60.0, stop_timeout: float = 10.0,
                 verbose: bool = False):
        from .runtime.sklearn_model import find_model_file  # checks the directory now, with a clear message

        from .runtime.received import RECORD_ENV

        self.model_dir = Path(model_dir).expanduser().resolve()
        find_model_file(self.model_dir)
        self.predict_proba = predict_proba
        #: The rows this server predicted and its answers (``received``): how a check knows it was asked.
        self.received_path = _new_record_path(f"model-server-{model_name}")
        super().__init__(model_name, name=f"model-server-{model_name}", port=port,
                         env={"PREDICT_PROBA": "true" if predict_proba else "false",
                              RECORD_ENV: str(self.received_path)},
                         startup_timeout=startup_timeout, stop_timeout=stop_timeout, verbose=verbose)

    def server_flags(self) -> list[str]:
        return ["--model_dir", str(self.model_dir)]


#: Records of what model servers received (one per server object; the oldest are deleted beyond this).
KEEP_RECORDS = 50


def _new_record_path(name: str) -> Path:
    """A fresh ``runtime.received`` record file for a server called ``name`` (older ones pruned)."""
    directory = cache_dir() / "received"
    directory.mkdir(parents=True, exist_ok=True)
    records = sorted(directory.glob("*.jsonl"), key=_mtime)
    for old in records[:max(0, len(records) - KEEP_RECORDS + 1)]:
        old.unlink(missing_ok=True)
    return directory / f"{_slug(name)}-{uuid.uuid4().hex[:8]}.jsonl"


def _check_model_name(name: str) -> None:
    # The name goes into URL paths; KServe's own names are DNS labels (InferenceService names).
    if not isinstance(name, str) or not name or any(c in name for c in "/?#: ") or len(name) > 63:
        raise WorkshopError(f"invalid model name {name!r}",
                            hint="use a short name like 'sklearn-iris' (letters, digits, '-', '.', '_')")


def wait_until_gone(pids: Iterable[int], timeout: float = 10.0) -> list[int]:
    """Wait until none of ``pids`` exists; returns those still alive after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    alive = list(pids)
    while alive and time.monotonic() < deadline:
        alive = [pid for pid in alive if _pid_alive(pid)]
        if alive:
            time.sleep(0.05)
    return alive


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # pragma: no cover - exists, owned by someone else
        return True
    # A zombie (exited, not yet reaped by its parent) counts as gone.
    try:
        with open(f"/proc/{pid}/stat") as handle:
            return handle.read().split(")")[-1].split()[0] != "Z"
    except OSError:
        return True
