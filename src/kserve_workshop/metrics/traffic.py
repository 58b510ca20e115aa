"""The monitoring lab's traffic: a mix of requests that makes the metrics worth looking at.

A model server that only ever answers one tiny request is a flat line in every graph. The lab's
traffic has two phases, sent with the project's load generator:

1. *steady*: single-instance predictions at a fixed rate;
2. *steady + batches + bad requests*: the same, plus large batches (around ten milliseconds of
   predict time each: they land in higher histogram buckets and pull up p95/p99) and malformed
   requests (three features instead of four: the errors of the error ratio; the workshop's local
   server answers them with HTTP 400, KServe's sklearn runtime in a cluster with HTTP 500).

The change between the phases is also what makes the graded PromQL checks meaningful: a query with
the wrong window, quantile or metric gives a different curve over time, not just a different name.
"""

from __future__ import annotations

import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Mapping, Sequence

import numpy as np

from ..errors import WorkshopError
from ..load import LoadResult, run_load
from ..training import DOCS_IRIS_INPUT


def batch_payload(rows: int, *, seed: int = 0) -> dict:
    """A V1 request with ``rows`` iris-like instances (values in the iris range, one decimal)."""
    if not isinstance(rows, int) or rows < 1:
        raise WorkshopError(f"a batch needs a positive number of rows, not {rows!r}")
    values = np.round(np.random.default_rng(seed).uniform(0.1, 7.9, size=(rows, 4)), 1)
    return {"instances": values.tolist()}


#: One instance, the docs' iris example.
SINGLE_PAYLOAD = {"instances": DOCS_IRIS_INPUT[:1]}
#: Three features instead of four: HTTP 400 from the workshop's local server, 500 from KServe's sklearn
#: runtime (it wraps every predict error as InferenceError); either way the predict call is timed.
BAD_PAYLOAD = {"instances": [[6.8, 2.8, 4.8]]}


@dataclass(frozen=True)
class Stream:
    """One stream of identical requests: what to send, how often, and when in the run."""

    name: str
    payload: dict
    rate: float
    start: float = 0.0
    concurrency: int = 1


@dataclass
class TrafficResult:
    """What each stream of a traffic run measured (client side), plus when the run happened."""

    started_at: float
    ended_at: float
    streams: dict[str, LoadResult] = field(default_factory=dict)

    @property
    def requests(self) -> int:
        return sum(r.requests for r in self.streams.values())

    @property
    def errors(self) -> int:
        return sum(r.errors for r in self.streams.values())

    def summary(self) -> dict[str, dict]:
        return {name: result.summary() for name, result in self.streams.items()}

    def table(self):
        """One row per stream: requests, errors, requests/s and client latency percentiles (ms)."""
        import pandas as pd

        rows = []
        for name, result in self.streams.items():
            summary = result.summary()
            rows.append(
                {
                    "stream": name,
                    "requests": summary["requests"],
                    "errors": summary["errors"],
                    "req/s": round(result.requests / result.elapsed, 1) if result.elapsed > 0 else 0.0,
                    **{
                        f"{key} ms": value
                        for key, value in summary["latency_ms"].items()
                        if key in ("p50", "p95", "p99")
                    },
                }
            )
        return pd.DataFrame(rows).set_index("stream")


def lab_streams(
    *,
    phase_seconds: float = 4.0,
    steady_rate: float = 40.0,
    batch_rows: int = 8000,
    batch_rate: float = 4.0,
    bad_rate: float = 2.0,
) -> list[Stream]:
    """The lab's two-phase mix (see the module docstring); rates are requests per second."""
    return [
        Stream("steady", SINGLE_PAYLOAD, steady_rate, 0.0, concurrency=4),
        Stream("batches", batch_payload(batch_rows), batch_rate, phase_seconds, concurrency=2),
        Stream("bad", BAD_PAYLOAD, bad_rate, phase_seconds, concurrency=1),
    ]


def cluster_streams(*, phase_seconds: float = 30.0) -> list[Stream]:
    """The same two-phase mix, sized for the lab's small pods (0.1 CPU) and a 5 s scrape interval."""
    return [
        Stream("steady", SINGLE_PAYLOAD, 5.0, 0.0, concurrency=2),
        Stream("batches", batch_payload(1000), 0.5, phase_seconds, concurrency=1),
        Stream("bad", BAD_PAYLOAD, 0.5, phase_seconds, concurrency=1),
    ]


def run_traffic(
    url: str,
    streams: Sequence[Stream] | None = None,
    *,
    duration: float = 8.0,
    headers: Mapping[str, str] | None = None,
    allow_hosts: Sequence[str] = (),
) -> TrafficResult:
    """Send every stream to ``url`` (a V1 predict URL) at once; each runs until ``duration`` s.

    ``headers`` and ``allow_hosts`` go to the load generator (the cluster's ingress needs a Host
    header and its host allowed). Blocks until every stream has finished.
    """
    streams = list(streams) if streams is not None else lab_streams(phase_seconds=duration / 2)
    if not streams:
        raise WorkshopError("run_traffic needs at least one stream")
    for stream in streams:
        if not 0 <= stream.start < duration:
            raise WorkshopError(f"stream {stream.name!r} starts at {stream.start} s, outside the {duration} s run")

    def send(stream: Stream, origin: float) -> LoadResult:
        time.sleep(max(0.0, origin + stream.start - time.monotonic()))
        return run_load(
            url,
            stream.payload,
            concurrency=stream.concurrency,
            rate=stream.rate,
            duration=duration - stream.start,
            headers=headers,
            allow_hosts=allow_hosts,
        )

    started_at = time.time()
    origin = time.monotonic()
    with ThreadPoolExecutor(max_workers=len(streams), thread_name_prefix="traffic") as pool:
        futures = {stream.name: pool.submit(send, stream, origin) for stream in streams}
        results = {name: future.result() for name, future in futures.items()}
    return TrafficResult(started_at=started_at, ended_at=time.time(), streams=results)
