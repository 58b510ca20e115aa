"""What the operating system does for a local server: ports, its process group, its death with us.

Two promises pull in opposite directions, and both hold:

* **An interrupt of the kernel leaves the servers alone.** Jupyter's Interrupt button (and
  ``invoke grade``'s cell timeout) sends SIGINT to the kernel's whole process group; a server in
  that group would die with the interrupted cell. So a server starts in a session (and process
  group) of its own.
* **A server dies with the process that started it.** Leaving the kernel's group also leaves the
  group kill that nbval, ipykernel and jupyter_client send when they shut a kernel down, so the
  server needs another tie to its parent: on Linux ``PR_SET_PDEATHSIG`` (the kernel sends SIGTERM
  when the parent dies, even by SIGKILL); KServe's servers also watch their parent's pid themselves
  (``--parent_pid``, macOS too). A server that has neither tie stays in the group: it may die on an
  interrupt, but it never outlives its parent.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from typing import Callable, Iterable

LOOPBACK = "127.0.0.1"


def free_port(host: str = LOOPBACK) -> int:
    """A TCP port that is free on ``host`` right now (the OS picks it)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((host, 0))
        return sock.getsockname()[1]


def port_is_free(port: int, host: str = LOOPBACK) -> bool:
    """True when nothing listens on ``host:port`` (a port left in TIME_WAIT counts as free, as for servers)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((host, port))
        except OSError:
            return False
    return True


def die_with_parent() -> Callable[[], None] | None:
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


def own_session(parent_death_signal: bool, watches_parent: bool) -> bool:
    """Start the server in a session of its own (out of reach of a SIGINT to our process group)?

    Only when something else ties it to our life: the parent-death signal, or its own parent watch.
    """
    return os.name == "posix" and (parent_death_signal or watches_parent)


def terminate(process: subprocess.Popen, timeout: float) -> int | None:
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


def wait_until_gone(pids: Iterable[int], timeout: float = 10.0) -> list[int]:
    """Wait until none of ``pids`` exists; returns those still alive after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    alive = list(pids)
    while alive and time.monotonic() < deadline:
        alive = [pid for pid in alive if pid_alive(pid)]
        if alive:
            time.sleep(0.05)
    return alive


def pid_alive(pid: int) -> bool:
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
