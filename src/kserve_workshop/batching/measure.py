"""Measure what batching saves on a real model server: one request of N rows vs N requests of one row.

For each N the same rows are sent two ways, one request at a time on one keep-alive connection
(the server does nothing else meanwhile, so the times are the server's cost plus one round trip):

- **batched**: one V1 request carrying N rows, ``repeats`` times (the median is kept);
- **one by one**: N V1 requests of one row each, back to back, in every fourth round.

The sizes take turns, round after round, so that a busy moment of the machine touches them alike.

The ratio of the two is what a batcher in front of the server can save per row; the batched curve's
rise with N is what a bigger batch costs each request in it.
"""

from __future__ import annotations

import statistics
import time
from dataclasses import dataclass, field
from typing import Any, Iterable, Sequence

from ..errors import WorkshopError
from ..load.targets import check_target

DEFAULT_SIZES = (1, 2, 4, 8, 16, 32, 64)
MAX_SIZE = 1024


@dataclass(frozen=True)
class BatchPoint:
    """Times (seconds, medians) for ``size`` rows: in one request, and in ``size`` requests."""

    size: int
    one_request: float
    one_by_one: float

    @property
    def batched_rows_per_second(self) -> float:
        return self.size / self.one_request

    @property
    def single_rows_per_second(self) -> float:
        return self.size / self.one_by_one

    @property
    def speedup(self) -> float:
        """How many times faster the batched request served the same rows."""
        return self.one_by_one / self.one_request


@dataclass
class BatchingCurve:
    """A measurement of ``url`` for every size in ``points`` (ascending); ``requests`` were sent."""

    url: str
    points: list[BatchPoint] = field(default_factory=list)
    requests: int = 0

    @property
    def sizes(self) -> list[int]:
        return [point.size for point in self.points]

    def latency(self, size: float) -> float:
        """Seconds one request of ``size`` rows takes, interpolated between the measured sizes."""
        import numpy as np

        if not self.points:
            raise WorkshopError("the curve has no points")
        if not self.sizes[0] <= size <= self.sizes[-1]:
            raise WorkshopError(
                f"{size:g} rows is outside the measured sizes {self.sizes[0]}..{self.sizes[-1]}",
                hint="measure the sizes you want to reason about",
            )
        return float(np.interp(size, self.sizes, [point.one_request for point in self.points]))

    def to_dataframe(self):
        import pandas as pd

        return pd.DataFrame(
            [
                {
                    "rows": p.size,
                    "one request (ms)": round(1000 * p.one_request, 3),
                    "one by one (ms)": round(1000 * p.one_by_one, 3),
                    "batched rows/s": round(p.batched_rows_per_second),
                    "one-by-one rows/s": round(p.single_rows_per_second),
                    "speedup": round(p.speedup, 1),
                }
                for p in self.points
            ]
        ).set_index("rows")


def _check_sizes(sizes: Iterable[int]) -> list[int]:
    try:
        sizes = sorted(set(sizes))
    except TypeError:
        raise WorkshopError(f"sizes must be whole numbers, not {sizes!r}") from None
    if not sizes or not all(isinstance(s, int) and not isinstance(s, bool) and 1 <= s <= MAX_SIZE for s in sizes):
        raise WorkshopError(
            f"sizes must be whole numbers from 1 to {MAX_SIZE}, got {sizes!r}",
            hint="for example sizes=(1, 2, 4, 8, 16, 32, 64)",
        )
    return sizes


def measure_batching(
    url: str,
    rows: Sequence[Sequence[float]],
    *,
    sizes: Iterable[int] = DEFAULT_SIZES,
    repeats: int = 16,
    timeout: float = 10.0,
) -> BatchingCurve:
    """Time ``rows[:N]`` in one V1 request and in N one-row requests, for each N in ``sizes``.

    ``url`` is a V1 predict URL on this machine (``server.v1_url``). ``rows`` must hold at least
    ``max(sizes)`` rows (they are reused from the start when there are fewer). A failed request is an
    error: a curve with holes would mislead.
    """
    from ..processes import loopback_session

    check_target(url)
    sizes = _check_sizes(sizes)
    if not isinstance(repeats, int) or isinstance(repeats, bool) or not 1 <= repeats <= 1000:
        raise WorkshopError(f"repeats must be a whole number from 1 to 1000, not {repeats!r}")
    rows = [list(map(float, row)) for row in rows]
    if not rows:
        raise WorkshopError("rows is empty: give the feature rows to send (e.g. the held-out test set)")
    while len(rows) < sizes[-1]:
        rows = rows + rows
    curve = BatchingCurve(url)
    with loopback_session() as session:

        def post(body: dict[str, Any]) -> float:
            began = time.perf_counter()
            try:
                answer = session.post(url, json=body, timeout=timeout, allow_redirects=False)  # stay on loopback
            except Exception as exc:  # noqa: BLE001 - requests' errors, with the URL named
                raise WorkshopError(f"cannot reach {url}: {exc}", hint="is the model server running?") from None
            elapsed = time.perf_counter() - began
            curve.requests += 1
            if answer.status_code != 200:
                raise WorkshopError(f"{url} answered {answer.status_code}: {answer.text[:200]}")
            return elapsed

        for _ in range(20):  # warm up: connection, the server's first-call costs
            post({"instances": rows[:1]})
        # Rounds over every size, so a slow moment of the machine touches all sizes alike.
        batched: dict[int, list[float]] = {size: [] for size in sizes}
        single: dict[int, list[float]] = {size: [] for size in sizes}
        for round_number in range(repeats):
            for size in sizes:
                batched[size].append(post({"instances": rows[:size]}))
                if round_number % 4 == 0:
                    single[size].append(sum(post({"instances": [row]}) for row in rows[:size]))
        curve.points = [
            BatchPoint(size, statistics.median(batched[size]), statistics.median(single[size])) for size in sizes
        ]
    return curve
