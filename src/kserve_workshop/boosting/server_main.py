"""Subprocess entry point: KServe's model server for one Lab 8 model, on 127.0.0.1 only.

    python -m kserve_workshop.boosting.server_main --framework lightgbm|xgboost|sklearn \\
        --model_dir DIR --model_name NAME --http_port PORT [--nthread 1] [--parent_pid PID]

The flags are the runtimes' own (their ClusterServingRuntimes pass ``--model_name``,
``--model_dir``, ``--http_port`` and ``--nthread=1``; kserve-predictiveserver adds
``--framework``). Bound to 127.0.0.1 without gRPC, exiting with its parent, like
``runtime.sklearn_server``, with the same helpers (``runtime.server``).
"""

from __future__ import annotations

import argparse
import sys

from ..runtime.server import EXIT_BAD_MODEL, add_server_flags, load_and_serve, prepare_process
from .runtimes import FRAMEWORKS


def build_parser(kserve_parser: argparse.ArgumentParser) -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m kserve_workshop.boosting.server_main",
        parents=[kserve_parser],
        description="Serve one scikit-learn, LightGBM or XGBoost model like KServe's runtime does, on 127.0.0.1.",
    )
    parser.add_argument("--framework", required=True, choices=sorted(FRAMEWORKS))
    parser.add_argument("--model_dir", required=True, help="directory holding exactly one model file")
    parser.add_argument("--nthread", type=int, default=1, help="threads LightGBM/XGBoost may use (as the runtimes)")
    return add_server_flags(parser)


def main() -> int:
    from kserve.model_server import parser as kserve_parser

    from ..errors import WorkshopError
    from .predictors import make_runtime_model

    args = build_parser(kserve_parser).parse_args()
    exit_code = prepare_process(args)
    if exit_code is not None:
        return exit_code
    try:
        model = make_runtime_model(args.framework, args.model_name, args.model_dir, nthread=args.nthread)
    except WorkshopError as exc:  # e.g. a library that cannot load its native code
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_BAD_MODEL
    return load_and_serve(model, args, label=f"{args.framework} model")


if __name__ == "__main__":
    sys.exit(main())
