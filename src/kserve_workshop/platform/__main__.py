"""``python -m kserve_workshop.platform write-credentials --context C PATH``: a step of the
storage component's install plan (it runs as a command so that the plan stays a list of exact
commands, and so that a dry run generates nothing)."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from .storage import write_credentials


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m kserve_workshop.platform")
    commands = parser.add_subparsers(dest="command", required=True)
    write = commands.add_parser(
        "write-credentials", help="write the model store's credential Secrets (kept or generated) to PATH"
    )
    write.add_argument("--context", required=True, help="kube context of the cluster")
    write.add_argument("path", type=Path)
    args = parser.parse_args(argv)
    write_credentials(args.context, args.path)
    print(f"credentials for {args.context} written to {args.path} (mode 0600, never commit it)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
