"""The servers this process started, and one running server per name for those that replace.

A notebook cell that starts a server may run again: ``server = LocalModelServer(...).start()``
rebinds ``server``, and the old server would linger until garbage collection (four model servers in
Lab 4, two Prometheus in Lab 5). A server built with ``replaces=True`` (the model servers,
Prometheus, Lab 7's sink...) therefore stops the running server of the same name when it starts.
Whoever depends on a server (Lab 5's Prometheus scraping the model server) registers with
``on_restart`` and is told when a server of that name (re)starts, so it can follow it.
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
#: Bound methods ``(previous, server) -> None`` called after a replacing server has started.
_LISTENERS: "list[weakref.WeakMethod]" = []


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


def announce(previous: "ServerProcess | None", server: "ServerProcess") -> None:
    """Tell the listeners that ``server`` (re)started in place of ``previous`` (None: first of its name)."""
    for listener in list(_LISTENERS):
        method = listener()
        if method is None:
            _LISTENERS.remove(listener)
            continue
        method(previous, server)


def on_restart(method: Callable[["ServerProcess | None", "ServerProcess"], None]) -> None:
    """Call the bound ``method(previous, server)`` whenever a replacing server starts (held weakly)."""
    _LISTENERS.append(weakref.WeakMethod(method))
