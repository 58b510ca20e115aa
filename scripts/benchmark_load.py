#!/usr/bin/env python3
"""Benchmark the workshop's load generator against ``hey`` on the same local model server.

One KServe model server (LocalModelServer, the iris model the labs serve) runs for the whole
benchmark. At each concurrency, ``hey`` and the workshop's generator take turns (the order flips
every repetition, so neither always gets the warmer server), each for the same duration. The
table compares median throughput and median p50 latency over the repetitions:

    goal: generator throughput >= 0.95 x hey's, and p50 within 15 % of hey's

    .venv/bin/python scripts/benchmark_load.py                 # concurrency 4 and 16, 3 x 3 s each
    .venv/bin/python scripts/benchmark_load.py --check         # exit 1 when a goal is missed
    .venv/bin/python scripts/benchmark_load.py -c 4 -c 16 -c 64 --repeat 5 --duration 5

The machine's load average is printed at the start and the end: the two tools share the CPU with
the server (and with whatever else runs), so figures from a busy machine are only indicative.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import resource
import shutil
import statistics
import subprocess
import sys
from dataclasses import dataclass

from kserve_workshop.console import step
from kserve_workshop.load import run_load
from kserve_workshop.processes import LocalModelServer
from kserve_workshop.paths import cache_dir
from kserve_workshop.training import DOCS_IRIS_INPUT, save_model, train_iris

THROUGHPUT_GOAL = 0.95
P50_TOLERANCE = 0.15
PAYLOAD = {"instances": DOCS_IRIS_INPUT}


@dataclass
class Measurement:
    tool: str
    concurrency: int
    throughput: float
    p50: float
    errors: int
    #: CPU seconds the load tool itself used per request (user + system).
    cpu_per_request: float = float("nan")


def run_hey(url: str, payload_file: str, concurrency: int, duration: float) -> Measurement:
    argv = [
        "hey",
        "-z",
        f"{int(duration * 1000)}ms",
        "-c",
        str(concurrency),
        "-m",
        "POST",
        "-T",
        "application/json",
        "-D",
        payload_file,
        url,
    ]
    before = _cpu_seconds(resource.RUSAGE_CHILDREN)  # hey is a child: counted once it has exited
    done = subprocess.run(argv, capture_output=True, text=True, timeout=duration + 60)
    if done.returncode != 0:
        raise SystemExit(f"hey failed ({done.returncode}): {done.stderr.strip() or done.stdout.strip()}")
    measurement = parse_hey(done.stdout, concurrency)
    requests = measurement.throughput * duration
    measurement.cpu_per_request = (_cpu_seconds(resource.RUSAGE_CHILDREN) - before) / max(requests, 1)
    return measurement


def _cpu_seconds(who: int) -> float:
    usage = resource.getrusage(who)
    return usage.ru_utime + usage.ru_stime


def parse_hey(text: str, concurrency: int) -> Measurement:
    """Throughput, p50 and non-200 answers from hey's text summary."""
    rps = re.search(r"Requests/sec:\s+([\d.]+)", text)
    p50 = re.search(r"50%+ in ([\d.]+) secs", text)
    if not rps or not p50:
        raise SystemExit(f"could not read hey's output:\n{text}")
    statuses = dict(re.findall(r"\[(\d{3})\]\s+(\d+) responses", text))
    errors = sum(int(n) for code, n in statuses.items() if not code.startswith("2"))
    errors += sum(int(n) for n in re.findall(r"\[(\d+)\]\s+Get|\[(\d+)\]\s+Post", text) if n)
    return Measurement("hey", concurrency, float(rps.group(1)), float(p50.group(1)), errors)


def run_ours(url: str, concurrency: int, duration: float) -> Measurement:
    before = _cpu_seconds(resource.RUSAGE_SELF)
    result = run_load(url, PAYLOAD, concurrency=concurrency, duration=duration)
    cpu = (_cpu_seconds(resource.RUSAGE_SELF) - before) / max(result.requests, 1)
    return Measurement("workshop", concurrency, result.throughput, result.percentiles["p50"], result.errors, cpu)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("-c", "--concurrency", type=int, action="append", help="levels (default 4 and 16)")
    parser.add_argument("--repeat", type=int, default=3, help="repetitions per level and tool (default 3)")
    parser.add_argument("--duration", type=float, default=3.0, help="seconds per run (default 3)")
    parser.add_argument("--check", action="store_true", help="exit 1 when a goal is missed")
    parser.add_argument("--json", metavar="FILE", help="also write the measurements as JSON")
    args = parser.parse_args(argv)
    levels = args.concurrency or [4, 16]
    if shutil.which("hey") is None:
        print("error: hey is not installed (Debian/Ubuntu: apt-get install hey)", file=sys.stderr)
        return 1

    work = cache_dir() / "benchmark-load"
    model_dir = work / "model"
    if not (model_dir / "model.joblib").exists():
        with step("training the iris model"):
            save_model(train_iris(), model_dir)
    payload_file = work / "iris-v1.json"
    payload_file.write_text(json.dumps(PAYLOAD))
    load_before = os.getloadavg()
    print(f"load average before: {' '.join(f'{v:.2f}' for v in load_before)} ({os.cpu_count()} CPUs)")

    measurements: list[Measurement] = []
    with step("starting KServe's model server"):
        server = LocalModelServer(model_dir).start()
    try:
        url = server.v1_url
        run_ours(url, max(levels), 1.0)  # warm-up: connections, code paths, caches
        for repetition in range(args.repeat):
            for level in levels:
                order = ("hey", "workshop") if repetition % 2 == 0 else ("workshop", "hey")
                for tool in order:
                    with step(f"run {repetition + 1}/{args.repeat}: {tool} at concurrency {level}"):
                        measurement = (
                            run_hey(url, str(payload_file), level, args.duration)
                            if tool == "hey"
                            else run_ours(url, level, args.duration)
                        )
                    measurements.append(measurement)
    finally:
        server.stop()
    load_after = os.getloadavg()

    print()
    print(
        f"{'conc':>4}  {'hey req/s':>10}  {'ours req/s':>10}  {'ratio':>6}  {'hey p50':>8}  {'ours p50':>8}"
        f"  {'p50 diff':>8}  {'CPU/req hey':>11}  {'ours':>6}  goals"
    )
    rows, all_met = [], True
    for level in levels:

        def median(tool, field):
            return statistics.median(
                getattr(m, field) for m in measurements if m.tool == tool and m.concurrency == level
            )

        hey_rps, ours_rps = median("hey", "throughput"), median("workshop", "throughput")
        hey_p50, ours_p50 = median("hey", "p50"), median("workshop", "p50")
        hey_cpu, ours_cpu = median("hey", "cpu_per_request"), median("workshop", "cpu_per_request")
        ratio, diff = ours_rps / hey_rps, (ours_p50 - hey_p50) / hey_p50
        met = ratio >= THROUGHPUT_GOAL and abs(diff) <= P50_TOLERANCE
        all_met &= met
        rows.append(
            {
                "concurrency": level,
                "hey_rps": hey_rps,
                "ours_rps": ours_rps,
                "ratio": ratio,
                "hey_p50_ms": hey_p50 * 1000,
                "ours_p50_ms": ours_p50 * 1000,
                "p50_diff": diff,
                "hey_cpu_us_per_request": hey_cpu * 1e6,
                "ours_cpu_us_per_request": ours_cpu * 1e6,
                "met": met,
            }
        )
        print(
            f"{level:>4}  {hey_rps:>10.0f}  {ours_rps:>10.0f}  {ratio:>5.2f}x  {hey_p50 * 1000:>6.2f}ms"
            f"  {ours_p50 * 1000:>6.2f}ms  {diff:>+7.1%}  {hey_cpu * 1e6:>9.0f}us  {ours_cpu * 1e6:>4.0f}us"
            f"  {'met' if met else 'MISSED'}"
        )
    errors = sum(m.errors for m in measurements)
    print(f"\nmedians of {args.repeat} runs x {args.duration:g} s per tool and level; errors: {errors}")
    print(f"goals: throughput >= {THROUGHPUT_GOAL}x hey, p50 within {P50_TOLERANCE:.0%} of hey")
    print(f"load average after: {' '.join(f'{v:.2f}' for v in load_after)}")
    if args.json:
        with open(args.json, "w") as handle:
            json.dump(
                {
                    "rows": rows,
                    "runs": [m.__dict__ for m in measurements],
                    "load_before": load_before,
                    "load_after": load_after,
                },
                handle,
                indent=2,
            )
    return 0 if all_met or not args.check else 1


if __name__ == "__main__":
    sys.exit(main())
