"""Entry point: KServe's model server for a ``kserve.Model`` class of a model file (Lab 6).

    python -m kserve_workshop.runtime.model_file_server --model_file FILE --model_class CLASS
        --model_name NAME [--model_dir DIR] [--predictor_host HOST[:PORT] [--predictor_protocol v1|v2]]
        [--http_port PORT] [--host 127.0.0.1] [--parent_pid PID] plus any flag of kserve's own parser

What KServe's docs put at the bottom of a custom model file (``model.load()``, then
``kserve.ModelServer().start([model])``), done the workshop's way (``server``: REST on ``--host``,
127.0.0.1 unless told otherwise, no gRPC, exit with the parent):

- the class is built as ``CLASS(NAME)``, or ``CLASS(NAME, DIR)`` with ``--model_dir`` (a predictor
  that loads its model from a directory, as KServe's sklearn runtime does from /mnt/models);
- with ``--predictor_host`` the server is a transformer: KServe's own ``predict`` sends what
  ``preprocess`` returns to that predictor (KServe appends ``--model_name``, ``--predictor_host``
  and ``--http_port`` to a transformer container's args);
- ``load()`` runs before the server starts and must leave ``ready`` True.

The custom image runs this module with ``--model_file /app/model/model.py --host 0.0.0.0``. A file
or class that cannot be served is one line on stderr and exit code 2 (what ``kubectl logs`` shows).
"""

from __future__ import annotations

import argparse
import sys
import traceback
from pathlib import Path

from .errors import WorkshopError
from .server import (
    EXIT_BAD_MODEL,
    add_server_flags,
    check_predictor_flags,
    predictor_config,
    prepare_process,
    serve,
)


def build_parser(kserve_parser: argparse.ArgumentParser) -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m kserve_workshop.runtime.model_file_server",
        parents=[kserve_parser],
        description="Serve a kserve.Model class of a model file with KServe's model server.",
    )
    parser.add_argument("--model_file", required=True, help="the Python file that defines the class")
    parser.add_argument("--model_class", required=True, help="the kserve.Model subclass to serve")
    parser.add_argument(
        "--model_dir", default=None, help="directory of the model's files, passed to the class as CLASS(NAME, DIR)"
    )
    return add_server_flags(parser)


def build_model(args: argparse.Namespace):
    """The model object, loaded and ready; WorkshopError saying what went wrong."""
    from .model_file import import_model_file, model_class

    module = import_model_file(args.model_file)
    cls = model_class(module, args.model_class)
    arguments = (args.model_name, args.model_dir) if args.model_dir is not None else (args.model_name,)
    shown = f"{cls.__name__}({', '.join(map(repr, arguments))})"
    try:
        model = cls(*arguments)
    except Exception as exc:  # noqa: BLE001 - the learner's constructor: one line says what it raised
        expected = "(self, name, model_dir)" if args.model_dir is not None else "(self, name)"
        raise WorkshopError(
            f"{shown} raised {type(exc).__name__}: {exc}{_line_in(exc, args.model_file)}",
            hint=f"the server builds the class as {shown}: its __init__ takes {expected}",
        ) from None
    try:
        model.load()
    except Exception as exc:  # noqa: BLE001 - the learner's load(): one line says what it raised
        raise WorkshopError(
            f"{cls.__name__}.load() raised {type(exc).__name__}: {exc}{_line_in(exc, args.model_file)}",
            hint="load() reads the model from the directory the class was given",
        ) from None
    if not getattr(model, "ready", False):
        raise WorkshopError(
            f"{cls.__name__}.load() returned, but the model is not ready (self.ready is "
            f"{getattr(model, 'ready', None)!r})",
            hint="set self.ready = True at the end of load(), once the model is loaded",
        )
    return model


def main() -> int:
    # kserve parses sys.argv when imported, so our flags are parsed on top of its parser.
    from kserve.model_server import parser as kserve_parser

    parser = build_parser(kserve_parser)
    args = parser.parse_args()
    if args.predictor_host:
        check_predictor_flags(parser, args)
    exit_code = prepare_process(args)
    if exit_code is not None:
        return exit_code
    try:
        model = build_model(args)
    except WorkshopError as exc:
        print(f"error: {exc}", file=sys.stderr, flush=True)
        return EXIT_BAD_MODEL
    role = f"transformer -> predictor http://{args.predictor_host}" if args.predictor_host else "model"
    print(
        f"serving {args.model_class} from {Path(args.model_file).name} as {args.model_name!r} on "
        f"http://{args.host}:{args.http_port} ({role})",
        file=sys.stderr,
        flush=True,
    )
    return serve(model, args, predictor=predictor_config(args) if args.predictor_host else None)


def _line_in(exc: BaseException, model_file: str) -> str:
    file = str(Path(model_file).resolve())
    lines = [frame.lineno for frame in traceback.extract_tb(exc.__traceback__) if frame.filename == file]
    return f" (line {lines[-1]} of {Path(model_file).name})" if lines else ""


if __name__ == "__main__":
    sys.exit(main())
