"""Steps of ``class.create`` that run as commands (so the plan stays a list of exact commands and
a dry run writes nothing):

    python -m kserve_workshop.classroom kubeconfig --context C --namespace NS --hours H --out DIR
    python -m kserve_workshop.classroom store-secrets --context C --out FILE NS [NS ...]
    python -m kserve_workshop.classroom train-iris DIR   (labs.catchup)
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from invoke import Context

from ..console import error
from ..errors import WorkshopError
from ..plan import Runner
from .access import write_learner_kubeconfig, write_store_secrets


def main(argv: list[str] | None = None, runner: Runner | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m kserve_workshop.classroom")
    commands = parser.add_subparsers(dest="command", required=True)
    kubeconfig = commands.add_parser("kubeconfig", help="write one learner's kubeconfig (a token with an expiry)")
    kubeconfig.add_argument("--context", required=True)
    kubeconfig.add_argument("--namespace", required=True)
    kubeconfig.add_argument("--hours", required=True)
    kubeconfig.add_argument("--out", required=True, type=Path)
    train = commands.add_parser("train-iris", help="train the labs' iris classifier and save it in DIR")
    train.add_argument("directory", type=Path)
    secrets = commands.add_parser("store-secrets", help="copy the model store's Secret into learner namespaces")
    secrets.add_argument("--context", required=True)
    secrets.add_argument("--out", required=True, type=Path)
    secrets.add_argument("namespaces", nargs="+")
    args = parser.parse_args(argv)
    runner = runner or Runner(Context()) if args.command != "train-iris" else None
    try:
        if args.command == "train-iris":
            from ..training import save_model, train_iris

            print(f"saved {save_model(train_iris(), args.directory)}")
        elif args.command == "kubeconfig":
            path = write_learner_kubeconfig(runner, args.context, args.namespace, args.hours, args.out)
            print(
                f"{args.namespace}: kubeconfig written to {path} (mode 0600; hand it to one learner, never commit it)"
            )
        else:
            path = write_store_secrets(runner, args.context, args.namespaces, args.out)
            print(f"model store Secret for {len(args.namespaces)} namespace(s) written to {path} (mode 0600)")
    except WorkshopError as exc:
        error(exc)
        return exc.exit_code
    return 0


if __name__ == "__main__":
    sys.exit(main())
