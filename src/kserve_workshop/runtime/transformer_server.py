"""Subprocess and container entry point of Lab 6's transformer (``IrisTransformer``).

    python -m kserve_workshop.runtime.transformer_server --model_name NAME --predictor_host HOST[:PORT]
        [--predictor_protocol v1|v2] [--http_port PORT] [--host 127.0.0.1] [--parent_pid PID]
        plus any flag of kserve's own parser

The same rules as ``sklearn_server`` (``server``'s helpers): REST bound to ``--host``
(127.0.0.1 unless told otherwise; the image passes 0.0.0.0, inside its own network namespace), no
gRPC server, quiet logs with ``--configure_logging false``, exit when ``--parent_pid`` goes away.

In a cluster KServe appends ``--model_name <InferenceService name> --predictor_host
<name>-predictor.<namespace> --http_port 8080`` to the container's args (v0.20
``transformer_custom.go``); it does not pass ``--predictor_protocol``: the manifest sets it when the
predictor should be called over V2.
"""

from __future__ import annotations

import argparse
import sys

from .server import (
    add_server_flags,
    check_predictor_flags,
    predictor_config,
    prepare_process,
    serve,
)

EXIT_BAD_ARGS = 2


def build_parser(kserve_parser: argparse.ArgumentParser) -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m kserve_workshop.runtime.transformer_server",
        parents=[kserve_parser],
        description="Serve the iris transformer (named features in, class names out) with KServe's model server.",
    )
    return add_server_flags(parser)


def main() -> int:
    # kserve parses sys.argv when imported, so our flags are parsed on top of its parser.
    from kserve.model_server import parser as kserve_parser

    from .transformer import PREDICTOR_PROTOCOLS, IrisTransformer

    parser = build_parser(kserve_parser)
    args = parser.parse_args()
    if not args.predictor_host:
        parser.error("--predictor_host is required: HOST[:PORT] of the predictor, e.g. 127.0.0.1:8081")
    check_predictor_flags(parser, args, PREDICTOR_PROTOCOLS)
    exit_code = prepare_process(args)
    if exit_code is not None:
        return exit_code

    model = IrisTransformer(args.model_name)
    model.load()
    print(
        f"serving transformer {args.model_name!r} on http://{args.host}:{args.http_port} -> predictor "
        f"http://{args.predictor_host} ({args.predictor_protocol})",
        file=sys.stderr,
        flush=True,
    )
    return serve(model, args, predictor=predictor_config(args))


if __name__ == "__main__":
    sys.exit(main())
