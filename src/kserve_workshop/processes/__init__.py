"""Run local servers (KServe's model server, Prometheus, a transformer, a sink) as well-behaved subprocesses.

``ServerProcess`` (``server``) is the generic part: a command that listens on 127.0.0.1 on a free
port, a bounded wait until its readiness URL answers, quiet logs in a new file under
``cache_dir()/logs`` (``logs``), and a stop that always happens: on ``stop()``, at the end of a
``with`` block, when the object is garbage collected, when the interpreter exits, and when the
parent process dies. A server survives an interrupt of the kernel that started it (it runs in a
session of its own: ``lifecycle``), and a notebook cell run again replaces its server instead of
adding one (``registry``).

``LocalModelServer`` (``kserve``) runs KServe's own model server (``kserve.ModelServer`` with the
workshop's sklearn predictor, see ``runtime.sklearn_server``) on a model directory.
"""

from __future__ import annotations

from .kserve import KServeServerProcess, LocalModelServer
from .lifecycle import LOOPBACK, free_port, port_is_free, wait_until_gone
from .logs import KEEP_LOGS, log_dir, prune_logs, tail
from .registry import on_server_ready, running_servers, stop_all
from .server import PORT_PLACEHOLDER, ServerProcess, loopback_session

__all__ = [
    "KEEP_LOGS",
    "LOOPBACK",
    "PORT_PLACEHOLDER",
    "KServeServerProcess",
    "LocalModelServer",
    "ServerProcess",
    "free_port",
    "log_dir",
    "loopback_session",
    "on_server_ready",
    "port_is_free",
    "prune_logs",
    "running_servers",
    "stop_all",
    "tail",
    "wait_until_gone",
]
