"""Capacity sweeps: the knee, the recommended scaleTarget, Knative's replica arithmetic."""

from __future__ import annotations

import pytest

from kserve_workshop.errors import WorkshopError
from kserve_workshop.load import (
    CapacityPoint,
    CapacitySweep,
    find_knee,
    measure_capacity,
    recommend_scale_target,
    replicas_for,
)
from kserve_workshop.processes import LocalModelServer
from kserve_workshop.training import DOCS_IRIS_INPUT, save_model, train_iris


def point(concurrency, throughput, p50_ms, p95_ms, errors=0):
    return CapacityPoint(concurrency, throughput, p50_ms / 1000, p95_ms / 1000, p95_ms * 1.2 / 1000, 1000, errors)


#: A server that saturates at ~2000 req/s: past concurrency 2 latency doubles with concurrency.
SATURATING = CapacitySweep(
    [
        point(32, 2000, 14.0, 17.6),
        point(1, 1000, 0.8, 1.0),
        point(2, 1900, 0.96, 1.2),
        point(4, 2000, 1.76, 2.2),
        point(8, 2000, 3.5, 4.4),
        point(16, 2000, 7.0, 8.8),
    ]
)


def test_points_are_kept_in_concurrency_order():
    assert SATURATING.levels == [1, 2, 4, 8, 16, 32]
    assert SATURATING.max_throughput == 2000


def test_knee_is_where_throughput_per_latency_peaks():
    # throughput / p50: 1250 (c=1), 1979 (c=2), 1136 (c=4), ... -> the knee is at 2.
    assert find_knee(SATURATING).concurrency == 2
    assert SATURATING.knee().concurrency == 2


def test_knee_skips_levels_with_errors():
    sweep = [point(1, 1000, 0.8, 1.0), point(2, 1900, 0.5, 1.2, errors=30), point(4, 1950, 1.7, 2.0)]
    assert find_knee(sweep).concurrency == 1


def test_scale_target_interpolates_between_the_levels_around_the_budget():
    # p95 8.8 ms at 16 and 17.6 ms at 32: a 10 ms budget is met up to 16 + 1.2 * 16 / 8.8 = 18.18.
    advice = recommend_scale_target(SATURATING, 0.010)
    assert advice.measured == 16
    assert advice.estimate == pytest.approx(18.1818, abs=1e-3)
    assert advice.scale_target == 18
    assert advice.steady_concurrency == pytest.approx(18 * 0.7)
    assert advice.acceptable_range() == (12, 20)
    assert "16" in advice.basis and "32" in advice.basis


def test_scale_target_extrapolates_with_littles_law_but_not_too_far():
    # Every level meets 25 ms: 32 * 25 / 17.6 = 45.45.
    assert recommend_scale_target(SATURATING, 0.025).scale_target == 45
    # 32 * 100 / 17.6 = 181.8, capped at twice the highest level measured.
    assert recommend_scale_target(SATURATING, 0.100).scale_target == 64


def test_tight_budget_keeps_scale_target_low():
    # 1.5 ms: met at 2 (1.2 ms), broken at 4 (2.2 ms) -> 2 + 0.3 * 2 / 1.0 = 2.6.
    advice = recommend_scale_target(SATURATING, 0.0015)
    assert (advice.measured, advice.scale_target) == (2, 2)


def test_budget_no_level_meets_is_an_error_with_a_hint():
    with pytest.raises(WorkshopError, match="no level of the sweep meets") as info:
        recommend_scale_target(SATURATING, 0.0005)
    assert "more pods cannot make one request faster" in info.value.hint


@pytest.mark.parametrize("budget", [0, -1, "10ms", None, True])
def test_bad_budgets_are_refused(budget):
    with pytest.raises(WorkshopError, match="latency budget"):
        recommend_scale_target(SATURATING, budget)


def test_levels_with_errors_are_not_trusted_for_the_budget():
    sweep = [point(1, 1000, 0.8, 1.0), point(2, 1900, 0.9, 1.2), point(4, 100, 1.0, 1.5, errors=900)]
    assert recommend_scale_target(sweep, 0.002).measured == 2


def test_empty_sweep_is_an_error():
    with pytest.raises(WorkshopError, match="no points"):
        find_knee([])


@pytest.mark.parametrize(
    "concurrency, target, expected",
    [
        (5, 1, 8),  # 5 / 0.7 = 7.14 -> 8 pods
        (3.5, 1, 5),  # exactly 5: float noise must not add a sixth
        (14, 10, 2),  # 14 / 7 = 2
        (15, 10, 3),
        (0, 1, 0),
    ],
)
def test_replicas_follow_knatives_formula(concurrency, target, expected):
    assert replicas_for(concurrency, target) == expected


def test_replicas_are_clamped_to_min_and_max():
    assert replicas_for(0, 1, min_replicas=1) == 1
    assert replicas_for(50, 1, max_replicas=5) == 5
    with pytest.raises(WorkshopError):
        replicas_for(5, 0)


def test_sweep_table_is_in_milliseconds():
    row = SATURATING.table()[0]
    assert row == {"concurrency": 1, "throughput_rps": 1000, "p50_ms": 0.8, "p95_ms": 1.0, "p99_ms": 1.2, "errors": 0}
    assert list(SATURATING.to_dataframe().index) == [1, 2, 4, 8, 16, 32]


@pytest.mark.slow
def test_a_real_sweep_against_kserves_model_server(tmp_path, capsys):
    save_model(train_iris(kind="tree"), tmp_path / "model")
    with LocalModelServer(tmp_path / "model") as server:
        sweep = measure_capacity(server.v1_url, {"instances": DOCS_IRIS_INPUT}, levels=(4, 1), duration=0.4, warmup=0.1)
    assert sweep.levels == [1, 4]
    progress = capsys.readouterr().out
    assert "concurrency   1:" in progress and "concurrency   4:" in progress
    for p in sweep.points:
        assert p.errors == 0 and p.requests > 20
        assert 0 < p.p50 <= p.p95 <= p.p99
    # Four requests in flight against one single-threaded server: each waits behind the others.
    assert sweep.points[1].p50 > sweep.points[0].p50
    with pytest.raises(WorkshopError, match="levels"):
        measure_capacity(server.v1_url, {}, levels=[0, 2])
