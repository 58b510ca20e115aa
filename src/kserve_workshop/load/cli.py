"""``kserve-workshop-load``: send load to a model server and print the summary as JSON.

    kserve-workshop-load http://127.0.0.1:8080/v1/models/sklearn-iris:predict --iris -c 8 -d 10
    kserve-workshop-load http://127.0.0.1:8080/v1/models/iris:predict --payload input.json \\
        --rate 50 --duration 30 --header Host:iris.default.example.com

The summary goes to stdout (JSON, latencies in ms; ``not_sent``: open-loop requests that were due
before the deadline but never sent); progress and errors go to stderr. The exit
code is 0 when the run completed with at least one successful request, 1 otherwise (including bad
arguments and unreachable or refused targets), 2 for usage errors.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Sequence

from ..console import err_console, error, warn
from ..errors import WorkshopError
from .generator import describe_run, run_load, validate_arguments


#: How the messages name the arguments: as the flags typed.
FLAG_NAMES = {
    "concurrency": "-c/--concurrency",
    "rate": "-r/--rate",
    "duration": "-d/--duration",
    "max_requests": "-n/--requests",
    "timeout": "--timeout",
}


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="kserve-workshop-load",
        description="Send HTTP load to a model server on this machine (or the workshop's ingress) "
        "and print throughput, errors and latency percentiles as JSON.",
    )
    parser.add_argument("url", help="full URL, e.g. http://127.0.0.1:8080/v1/models/sklearn-iris:predict")
    body = parser.add_mutually_exclusive_group()
    body.add_argument("--payload", metavar="FILE", type=Path, help="JSON file sent as the body of every request")
    body.add_argument("--iris", action="store_true", help="send the KServe docs' iris V1 input")
    parser.add_argument("-c", "--concurrency", type=int, default=4, help="requests in flight (default 4)")
    parser.add_argument(
        "-r",
        "--rate",
        type=float,
        default=None,
        help="open loop: requests per second (default: closed loop, as fast as answered)",
    )
    parser.add_argument(
        "-d",
        "--duration",
        type=float,
        default=None,
        help="seconds of load (default 10, or unbounded when --requests is given)",
    )
    parser.add_argument("-n", "--requests", type=int, default=None, help="stop after this many requests")
    parser.add_argument(
        "-H",
        "--header",
        action="append",
        default=[],
        metavar="KEY:VALUE",
        help="extra header, repeatable (e.g. Host:iris.default.example.com)",
    )
    parser.add_argument("--timeout", type=float, default=10.0, help="per-request timeout in seconds (default 10)")
    parser.add_argument("--method", default=None, help="HTTP method (default POST with a body, GET without)")
    parser.add_argument(
        "--allow-host",
        action="append",
        default=[],
        metavar="HOST",
        help="allow a non-loopback target host: the workshop's ingress (repeatable)",
    )
    return parser


def parse_header(text: str) -> tuple[str, str]:
    key, sep, value = text.partition(":")
    if not sep or not key.strip() or not value.strip():
        raise WorkshopError(
            f"bad --header {text!r}", hint="write headers as KEY:VALUE, e.g. Host:iris.default.example.com"
        )
    return key.strip(), value.strip()


def read_payload(path: Path) -> bytes:
    """The file's bytes, after checking they are JSON (a typo there would make every request fail)."""
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise WorkshopError(f"cannot read the payload file {path}: {exc.strerror or exc}") from None
    try:
        json.loads(data)
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise WorkshopError(
            f"the payload file {path} is not valid JSON: {exc}",
            hint='a V1 body looks like {"instances": [[6.8, 2.8, 4.8, 1.4]]}',
        ) from None
    return data


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        if args.iris:
            from ..training import DOCS_IRIS_INPUT

            payload: bytes | dict | None = {"instances": DOCS_IRIS_INPUT}
        elif args.payload is not None:
            payload = read_payload(args.payload)
        else:
            payload = None
        headers = dict(parse_header(h) for h in args.header)
        duration = args.duration if args.duration is not None else (None if args.requests else 10.0)
        validate_arguments(
            concurrency=args.concurrency,
            rate=args.rate,
            duration=duration,
            max_requests=args.requests,
            timeout=args.timeout,
            names=FLAG_NAMES,
        )
        err_console.print(
            "… "
            + describe_run(
                args.url, concurrency=args.concurrency, rate=args.rate, duration=duration, max_requests=args.requests
            ),
            markup=False,  # the URL is the user's text: brackets in it are not markup
        )
        result = run_load(
            args.url,
            payload,
            concurrency=args.concurrency,
            rate=args.rate,
            duration=duration,
            max_requests=args.requests,
            headers=headers,
            timeout=args.timeout,
            method=args.method,
            allow_hosts=args.allow_host,
        )
    except WorkshopError as exc:
        error(exc)
        return exc.exit_code
    except KeyboardInterrupt:
        error("interrupted")
        return 130
    print(json.dumps(result.summary(), indent=2))
    if result.not_sent:
        warn(
            f"{result.not_sent} of the requests due in {duration:g} s were never sent: the server could not "
            f"keep up with {args.rate:g} req/s at concurrency {args.concurrency}"
        )
    if result.succeeded == 0:
        error(WorkshopError("no request succeeded", hint=f"errors by kind: {result.error_kinds}"))
        return 1
    return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
