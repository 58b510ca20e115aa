"""Entry point: KServe's model server for one scikit-learn model, on 127.0.0.1 unless told otherwise.

Started by ``processes.LocalModelServer`` (and by Lab 6's custom predictor container) as

    python -m kserve_workshop.runtime.sklearn_server --model_dir DIR --model_name NAME --http_port PORT
        [--host 127.0.0.1] [--parent_pid PID] plus any flag of kserve's own parser

The model is ``sklearn_model.make_model``; the server rules are ``server``'s. A model directory that
cannot be served is reported as one line and exit code 2.
"""

from __future__ import annotations

import argparse
import sys

from .server import EXIT_BAD_MODEL, add_server_flags, load_and_serve, prepare_process

__all__ = ["EXIT_BAD_MODEL", "build_parser", "main"]


def build_parser(kserve_parser: argparse.ArgumentParser) -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m kserve_workshop.runtime.sklearn_server",
        parents=[kserve_parser],
        description="Serve one scikit-learn model with KServe's model server on 127.0.0.1.",
    )
    parser.add_argument("--model_dir", required=True, help="directory holding exactly one model file")
    return add_server_flags(parser)


def main() -> int:
    # kserve parses sys.argv when imported, so our flags must be parsed on top of its parser.
    from kserve.model_server import parser as kserve_parser

    from .sklearn_model import make_model

    args = build_parser(kserve_parser).parse_args()
    exit_code = prepare_process(args)
    if exit_code is not None:
        return exit_code

    return load_and_serve(make_model(args.model_name, args.model_dir), args)


if __name__ == "__main__":
    sys.exit(main())
