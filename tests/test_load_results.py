"""LoadResult arithmetic on hand-made runs (no server): percentiles, throughput, bins, summary."""

from __future__ import annotations

import json
import math

import pytest

from kserve_workshop.load import LoadResult


def make_result(latencies_ms, oks=None, *, elapsed=2.0, starts=None, error_kinds=None):
    oks = oks if oks is not None else [True] * len(latencies_ms)
    starts = starts if starts is not None else [0.0] * len(latencies_ms)
    return LoadResult(
        url="http://127.0.0.1:1/x",
        concurrency=4,
        rate=None,
        started_at=1_700_000_000.0,
        elapsed=elapsed,
        starts=list(starts),
        durations=[ms / 1000 for ms in latencies_ms],
        oks=list(oks),
        error_kinds=error_kinds or {},
    )


def test_percentiles_of_one_to_a_hundred_ms():
    # Linear interpolation between ranks: p50 of 1..100 lies halfway between 50 and 51.
    result = make_result(range(1, 101))
    assert result.percentiles["p50"] == pytest.approx(0.0505)
    assert result.percentiles["p90"] == pytest.approx(0.0901)
    assert result.percentiles["p95"] == pytest.approx(0.09505)
    assert result.percentiles["p99"] == pytest.approx(0.09901)
    assert result.mean_latency == pytest.approx(0.0505)


def test_failed_requests_do_not_count_in_latency_or_throughput():
    # Two fast successes and two slow failures: only the successes shape the percentiles.
    result = make_result(
        [1, 3, 500, 900], oks=[True, True, False, False], elapsed=0.5, error_kinds={"http_503": 1, "timeout": 1}
    )
    assert result.requests == 4 and result.errors == 2 and result.succeeded == 2
    assert result.latencies == [0.001, 0.003]
    assert result.percentiles["p50"] == pytest.approx(0.002)
    assert result.throughput == pytest.approx(4.0)  # 2 successes in 0.5 s


def test_nothing_succeeded_gives_nan_and_none():
    result = make_result([5, 5], oks=[False, False], error_kinds={"http_500": 2})
    assert result.throughput == 0
    assert all(math.isnan(v) for v in result.percentiles.values())
    summary = result.summary()
    assert summary["latency_ms"] == {"p50": None, "p90": None, "p95": None, "p99": None, "mean": None, "max": None}
    json.dumps(summary)  # JSON-ready even then


def test_timeline_is_sorted_by_start():
    result = make_result([10, 20, 30], starts=[0.2, 0.0, 0.1], oks=[True, False, True])
    assert result.timeline == [(0.0, 0.02, False), (0.1, 0.03, True), (0.2, 0.01, True)]


def test_per_second_bins_count_requests_where_they_finished():
    # Finishing at 0.5 s, 0.9 s, 1.2 s (failed) and 1.8 s.
    result = make_result([500, 400, 200, 800], oks=[True, True, False, True], starts=[0.0, 0.5, 1.0, 1.0], elapsed=2.0)
    bins = result.per_second(1.0)
    assert bins["t"] == [0.0, 1.0] and bins["width"] == [1.0, 1.0]
    assert bins["throughput"] == [2.0, 1.0]
    assert bins["errors"] == [0.0, 1.0]
    assert bins["p50"] == pytest.approx([0.45, 0.8])
    with pytest.raises(ValueError):
        result.per_second(0)


def test_the_last_bin_takes_the_tail_of_the_run():
    # 2.25 s: two bins, the second 1.25 s wide, so its four answers read as 3.2 req/s, not 4.
    result = make_result([100, 100, 100, 100, 100], starts=[0.2, 1.0, 1.5, 2.0, 2.1], elapsed=2.25)
    bins = result.per_second(1.0)
    assert bins["width"] == [1.0, 1.25]
    assert bins["throughput"] == pytest.approx([1.0, 3.2])
    short = make_result([10], starts=[0.1], elapsed=0.3).per_second(1.0)
    assert short["width"] == [0.3] and short["throughput"] == pytest.approx([1 / 0.3])


def test_summary_reports_milliseconds_and_counts():
    result = make_result([2, 4], elapsed=0.01, error_kinds={})
    summary = result.summary()
    assert summary["requests"] == 2 and summary["errors"] == 0
    assert summary["throughput_rps"] == 200.0
    assert summary["latency_ms"]["p50"] == 3.0 and summary["latency_ms"]["max"] == 4.0
    assert summary["concurrency"] == 4 and summary["rate"] is None


def test_mismatched_columns_are_rejected():
    with pytest.raises(ValueError):
        LoadResult(url="u", concurrency=1, rate=None, started_at=0, elapsed=1, starts=[0.0], durations=[], oks=[True])
