"""The servers this process started, and one running server per name for those that replace.

A notebook cell that starts a server may run again: ``server = LocalModelServer(...).start()``
rebinds ``server``, and the old server would linger until garbage collection (four model servers in
Lab 4, two Prometheus in Lab 5). A server built with ``replaces=True`` (the model servers,
Prometheus, Lab 7's sink...) therefore stops the running server of the same name when it starts.
Whoever depends on a server (Lab 5's Prometheus scraping the model server) registers with
``on_server_ready`` and is told whenever a server becomes ready, so it can follow a restarted one.
"""

from __future__ import annotations

import weakref
from typing import TYPE_CHECKING, Callable

if TYPE_CHECKING:  # pragma: no cover
    from .server import ServerProcess

#: Servers started by this process and not yet stopped (for ``running_servers`` / ``stop_all``).
_RUNNING: "weakref.WeakSet[ServerProcess]" = weakref.WeakSet()
#: The latest server of each replacing name.
_LATEST: "dict[str, weakref.ref[ServerProcess]]" = {}
#: Bound methods called with every server that has just become ready (``on_server_ready``).
_READY_LISTENERS: "list[weakref.WeakMethod]" = []


def add_running(server: "ServerProcess") -> None:
    _RUNNING.add(server)


def discard_running(server: "ServerProcess") -> None:
    _RUNNING.discard(server)


def running_servers() -> "list[ServerProcess]":
    """Servers started by this process that are still running."""
    return [server for server in list(_RUNNING) if server.running]


def stop_all() -> None:
    """Stop every server this process started (e.g. at the end of a notebook)."""
    for server in list(_RUNNING):
        server.stop()


def take_over(server: "ServerProcess") -> "ServerProcess | None":
    """Make ``server`` the one of its name; stop the previous one first. Returns the previous one."""
    ref = _LATEST.get(server.name)
    previous = ref() if ref is not None else None
    if previous is not None and previous is not server:
        previous.stop()
    _LATEST[server.name] = weakref.ref(server)
    return previous


def on_server_ready(method: Callable[["ServerProcess"], None]) -> None:
    """Call ``method(server)`` whenever a server of this process becomes ready (held weakly: the
    listener goes away with its object). LocalPrometheus uses it to follow a restarted model server."""
    _READY_LISTENERS.append(weakref.WeakMethod(method))


def announce_ready(server: "ServerProcess") -> None:
    for reference in list(_READY_LISTENERS):
        listener = reference()
        if listener is None:
            _READY_LISTENERS.remove(reference)
            continue
        try:
            listener(server)
        except Exception:  # noqa: BLE001 - a listener must never break a server's start
            pass
