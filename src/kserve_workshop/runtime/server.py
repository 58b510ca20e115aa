"""What every workshop server process shares: KServe's model server on 127.0.0.1 only, no gRPC,
quiet logs, and an exit when the parent process goes away.

Used by the two entry points, ``sklearn_server`` (one scikit-learn model, started by
``LocalModelServer``) and ``transformer_server`` (Lab 6's transformer). Three things differ from
``kserve.ModelServer().start([model])``:

- kserve 0.20.0 hard-codes REST on ``0.0.0.0`` (``RESTServer`` builds ``uvicorn.Config(host=
  "0.0.0.0")``) and gRPC on ``[::]``; a server on a learner's laptop must not be reachable from
  the network, so REST is bound to ``--host`` (127.0.0.1) and gRPC is not started.
- It exits when its parent goes away (a thread polls ``os.getppid()``; works on macOS too), so a
  killed kernel or test run does not leave it behind.
- A request the server rejects is logged as one line, not a traceback.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import signal
import sys
import threading
import time

LOOPBACK = "127.0.0.1"
PARENT_POLL_SECONDS = 0.5
#: Exit code of an entry point whose model cannot be served (one line on stderr says why).
EXIT_BAD_MODEL = 2


def add_server_flags(parser: argparse.ArgumentParser) -> argparse.ArgumentParser:
    """``--host`` and ``--parent_pid``: what every workshop server process takes (also the custom transformer)."""
    parser.add_argument("--host", default=LOOPBACK, help="address to bind the REST server to")
    parser.add_argument("--parent_pid", type=int, default=None,
                        help="exit when this process is no longer our parent")
    return parser


def watch_parent(parent_pid: int, *, interval: float = PARENT_POLL_SECONDS) -> threading.Thread:
    """Stop this process (SIGTERM to itself, then a hard exit) once ``parent_pid`` is gone."""

    def watch() -> None:
        while os.getppid() == parent_pid:
            time.sleep(interval)
        logging.getLogger("kserve_workshop").warning("parent process %s is gone: stopping", parent_pid)
        os.kill(os.getpid(), signal.SIGTERM)
        time.sleep(5)  # graceful shutdown had its chance
        os._exit(1)

    thread = threading.Thread(target=watch, name="parent-watch", daemon=True)
    thread.start()
    return thread


class OneLineClientErrors(logging.Filter):
    """Log a request the server rejected (bad payload, unknown model) as one line, not a traceback.

    kserve logs every error answer with its traceback; a learner trying payloads would fill the log
    with tracebacks of *their* mistakes, whose message they already got in the HTTP answer.
    """

    def __init__(self, client_errors: tuple[type[BaseException], ...]):
        super().__init__()
        self.client_errors = client_errors

    def filter(self, record: logging.LogRecord) -> bool:
        exc = record.exc_info[1] if record.exc_info else None
        if isinstance(exc, self.client_errors):
            record.msg, record.args = "rejected a request (%s): %s", (type(exc).__name__, exc)
            record.exc_info = None
            record.levelno, record.levelname = logging.INFO, "INFO"
        return record.levelno >= logging.WARNING


def loopback_model_server_class():
    """A ``kserve.ModelServer`` whose REST server binds ``host`` and which runs no gRPC server."""
    import kserve
    from kserve.model_server import FASTAPI_APP_IMPORT_STRING, RESTServer

    class LoopbackModelServer(kserve.ModelServer):
        def __init__(self, *, host: str, **kwargs):
            super().__init__(enable_grpc=False, workers=1, **kwargs)
            self.host = host

        def start(self, models) -> None:
            # Same steps as ModelServer.start for one worker and no gRPC, with the bind address set.
            self._register_and_check_atleast_one_model_is_ready(models)
            self._rest_server = RESTServer(
                FASTAPI_APP_IMPORT_STRING, self.dataplane, self.model_repository_extension, self.http_port,
                access_log_format=self.access_log_format, workers=1, grace_period=self.grace_period,
                event_loop=self.event_loop, timeout_keep_alive=self.timeout_keep_alive)
            self._rest_server.config.host = self.host
            self.servers.append(self._rest_server.start())
            self.setup_event_loop()
            self.register_signal_handler()
            asyncio.run(self._serve())

        def stop(self, sig: int) -> None:
            # uvicorn re-raises the signal it handled after shutting down; by then no loop runs.
            try:
                asyncio.get_running_loop()
            except RuntimeError:
                return
            super().stop(sig)

    return LoopbackModelServer


def prepare_process(args: argparse.Namespace) -> int | None:
    """Quiet logging (with ``--configure_logging false``) and the parent watch (with ``--parent_pid``).

    Returns an exit code when the process should stop at once (its parent is already gone).
    """
    if args.configure_logging is False:
        # Quiet by default: warnings and errors only (a log file is kept for diagnosis).
        from kserve.errors import InvalidInput, ModelNotFound

        logging.basicConfig(level=logging.WARNING, format="%(asctime)s %(levelname)s %(name)s %(message)s")
        logging.getLogger("kserve").addFilter(OneLineClientErrors((InvalidInput, ModelNotFound)))
    if args.parent_pid is not None:
        if os.getppid() != args.parent_pid:
            print(f"parent process {args.parent_pid} is already gone", file=sys.stderr)
            return 1
        watch_parent(args.parent_pid)
    return None


def load_and_serve(model, args: argparse.Namespace, *, label: str = "model") -> int:
    """Load ``model`` and serve it on ``args.host``; a model that cannot load is one line and exit code 2."""
    from .errors import WorkshopError

    try:
        model.load()
    except WorkshopError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_BAD_MODEL
    print(f"serving {label} {args.model_name!r} from {args.model_dir} on http://{args.host}:{args.http_port}",
          file=sys.stderr, flush=True)
    server = loopback_model_server_class()(
        host=args.host, http_port=args.http_port,
        enable_latency_logging=args.enable_latency_logging, enable_docs_url=False)
    server.start([model])
    return 0
