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
- A request the server rejects is logged as one line, not a traceback; so is a client that
  disconnects before its request body arrived (kserve and uvicorn would log a traceback each).
- With ``--log_file`` its output goes to that file, rotated at ``--log_max_bytes`` (one previous
  part kept), so a stream of bad requests cannot fill the disk.
"""

from __future__ import annotations

import argparse
import asyncio
import atexit
import logging
import os
import signal
import sys
import threading
import time
from pathlib import Path

LOOPBACK = "127.0.0.1"
PARENT_POLL_SECONDS = 0.5
#: Default size of a server's log file before it is rotated (``--log_max_bytes``).
LOG_MAX_BYTES = 5_000_000
#: Exit code of an entry point whose model cannot be served (one line on stderr says why).
EXIT_BAD_MODEL = 2


def add_server_flags(parser: argparse.ArgumentParser) -> argparse.ArgumentParser:
    """``--host`` and ``--parent_pid``: what every workshop server process takes (also the custom transformer)."""
    parser.add_argument("--host", default=LOOPBACK, help="address to bind the REST server to")
    parser.add_argument("--parent_pid", type=int, default=None, help="exit when this process is no longer our parent")
    parser.add_argument(
        "--log_file", default=None, help="write stdout and stderr to this file, rotated at --log_max_bytes"
    )
    parser.add_argument(
        "--log_max_bytes",
        type=int,
        default=LOG_MAX_BYTES,
        help=f"rotate --log_file at this size, keeping one previous part (default {LOG_MAX_BYTES})",
    )
    return parser


def previous_log(path: str | Path) -> Path:
    """Where a rotated log's previous part is kept (``x.log`` -> ``x.previous.log``)."""
    path = Path(path)
    return path.with_name(f"{path.stem}.previous{path.suffix}")


def cap_output(path: str | Path, max_bytes: int) -> threading.Thread:
    """Send this process's stdout and stderr (file descriptors 1 and 2, so C code and child
    processes too) through a pipe into ``path``, moved to ``previous_log(path)`` whenever it would
    grow past ``max_bytes``. What is left in the pipe is written at exit."""
    if max_bytes < 1024:
        raise ValueError("max_bytes must be at least 1024")
    path = Path(path)
    read_end, write_end = os.pipe()
    sys.stdout.flush()
    sys.stderr.flush()
    os.dup2(write_end, 1)
    os.dup2(write_end, 2)
    os.close(write_end)
    pump = threading.Thread(target=_pump, args=(read_end, path, max_bytes), name="log-pump", daemon=True)
    pump.start()

    def drain() -> None:
        # Point 1 and 2 straight at the file: the pipe's last writer closes, the pump reads to EOF.
        sys.stdout.flush()
        sys.stderr.flush()
        direct = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT)
        os.dup2(direct, 1)
        os.dup2(direct, 2)
        os.close(direct)
        pump.join(timeout=5)

    atexit.register(drain)
    return pump


def _pump(read_end: int, path: Path, max_bytes: int) -> None:
    handle = path.open("ab")
    size = handle.tell()
    while True:
        try:
            data = os.read(read_end, 65536)
        except OSError:
            break
        if not data:
            break
        if size and size + len(data) > max_bytes:
            handle.close()
            os.replace(path, previous_log(path))
            handle = path.open("wb")
            size = 0
        handle.write(data[-max_bytes:])
        handle.flush()
        size += min(len(data), max_bytes)
    handle.close()


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

    A client that hangs up before its body arrived (``disconnects``) is reported twice, by kserve
    and again by uvicorn's ASGI layer, each with a traceback: kserve's becomes one warning line and
    uvicorn's repeat is dropped.
    """

    def __init__(
        self, client_errors: tuple[type[BaseException], ...], disconnects: tuple[type[BaseException], ...] = ()
    ):
        super().__init__()
        self.client_errors = client_errors
        self.disconnects = disconnects

    def filter(self, record: logging.LogRecord) -> bool:
        exc = record.exc_info[1] if record.exc_info else None
        if self.disconnects and isinstance(exc, self.disconnects):
            if record.name.startswith("uvicorn"):
                return False
            record.msg, record.args = (
                "a client disconnected before sending its whole request (%s)",
                (type(exc).__name__,),
            )
            record.exc_info = None
            record.levelno, record.levelname = logging.WARNING, "WARNING"
            return True
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
                FASTAPI_APP_IMPORT_STRING,
                self.dataplane,
                self.model_repository_extension,
                self.http_port,
                access_log_format=self.access_log_format,
                workers=1,
                grace_period=self.grace_period,
                event_loop=self.event_loop,
                timeout_keep_alive=self.timeout_keep_alive,
            )
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
    if args.log_file:
        cap_output(args.log_file, args.log_max_bytes)
    if args.configure_logging is False:
        # Quiet by default: warnings and errors only (a log file is kept for diagnosis).
        from kserve.errors import InvalidInput, ModelNotFound
        from starlette.requests import ClientDisconnect

        logging.basicConfig(level=logging.WARNING, format="%(asctime)s %(levelname)s %(name)s %(message)s")
        one_line = OneLineClientErrors((InvalidInput, ModelNotFound), disconnects=(ClientDisconnect,))
        logging.getLogger("kserve").addFilter(one_line)
        logging.getLogger("uvicorn.error").addFilter(one_line)
    if args.parent_pid is not None:
        if os.getppid() != args.parent_pid:
            print(f"parent process {args.parent_pid} is already gone", file=sys.stderr)
            return 1
        watch_parent(args.parent_pid)
    return None


def predictor_config(args: argparse.Namespace):
    """KServe's ``PredictorConfig`` from kserve's own ``--predictor_*`` flags (where a transformer's
    ``predict`` sends its requests)."""
    from kserve import PredictorConfig

    return PredictorConfig(
        predictor_host=args.predictor_host,
        predictor_protocol=args.predictor_protocol,
        predictor_use_ssl=args.predictor_use_ssl,
        predictor_request_timeout_seconds=args.predictor_request_timeout_seconds,
        predictor_request_retries=args.predictor_request_retries,
        predictor_health_check=args.enable_predictor_health_check,
    )


def check_predictor_flags(parser: argparse.ArgumentParser, args: argparse.Namespace, protocols=("v1", "v2")) -> None:
    """``--predictor_host`` is HOST[:PORT] and ``--predictor_protocol`` one of ``protocols`` (else exit 2)."""
    if "://" in args.predictor_host or "/" in args.predictor_host:
        parser.error(f"--predictor_host takes HOST[:PORT] without scheme or path, got {args.predictor_host!r}")
    if args.predictor_protocol not in protocols:
        parser.error(
            f"--predictor_protocol must be one of {', '.join(protocols)} for a REST transformer, "
            f"got {args.predictor_protocol!r}"
        )


def load_and_serve(model, args: argparse.Namespace, *, label: str = "model") -> int:
    """Load ``model`` and serve it on ``args.host``; a model that cannot load is one line and exit code 2."""
    from .errors import WorkshopError

    try:
        model.load()
    except WorkshopError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_BAD_MODEL
    print(
        f"serving {label} {args.model_name!r} from {args.model_dir} on http://{args.host}:{args.http_port}",
        file=sys.stderr,
        flush=True,
    )
    return serve(model, args)


def serve(model, args: argparse.Namespace, *, predictor=None) -> int:
    """Serve ``model`` (loaded) with KServe's ModelServer on ``args.host``, in front of ``predictor``
    (a PredictorConfig, for a transformer); returns 0 when the server stops."""
    server = loopback_model_server_class()(
        host=args.host,
        http_port=args.http_port,
        enable_latency_logging=args.enable_latency_logging,
        enable_docs_url=False,
        predictor_config=predictor,
    )
    server.start([model])
    return 0
