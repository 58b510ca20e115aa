"""The load plots draw what they claim: one bar per percentile and run, failures marked, knee and budget."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import pytest  # noqa: E402

from kserve_workshop.load import CapacityPoint, LoadResult, plot_capacity, plot_latency, plot_timeline  # noqa: E402


@pytest.fixture(autouse=True)
def close_figures():
    yield
    plt.close("all")


def run(concurrency, latencies_ms, oks=None):
    n = len(latencies_ms)
    return LoadResult(
        url="http://127.0.0.1:1/x",
        concurrency=concurrency,
        rate=None,
        started_at=0.0,
        elapsed=2.0,
        starts=[i * 2.0 / n for i in range(n)],
        durations=[ms / 1000 for ms in latencies_ms],
        oks=oks or [True] * n,
    )


def bar_heights(ax):
    return [round(patch.get_height(), 6) for patch in ax.patches]


def test_latency_bars_show_each_percentile_in_ms():
    fig = plot_latency(run(4, list(range(1, 101))))
    ax = fig.axes[0]
    assert [t.get_text() for t in ax.get_xticklabels()] == ["p50", "p90", "p95", "p99"]
    assert bar_heights(ax) == pytest.approx([50.5, 90.1, 95.05, 99.01])
    assert ax.get_ylabel() == "latency (ms)"


def test_several_runs_get_grouped_bars_and_a_legend():
    fig = plot_latency({"c=1": run(1, [1, 2, 3]), "c=16": run(16, [10, 20, 30])})
    ax = fig.axes[0]
    assert len(ax.patches) == 8
    assert [t.get_text() for t in ax.get_legend().get_texts()] == ["c=1", "c=16"]
    with pytest.raises(ValueError):
        plot_latency([])


def test_timeline_marks_failures_and_plots_throughput():
    fig = plot_timeline(run(2, [5, 6, 7, 8], oks=[True, False, True, True]), bin_seconds=1.0)
    ax, right = fig.axes
    scatter_sizes = [len(c.get_offsets()) for c in ax.collections]
    assert scatter_sizes == [3, 1]  # three successes, one failure
    throughput_line = right.get_lines()[0]
    assert list(throughput_line.get_ydata()) == [1.0, 2.0]  # finished per second bin
    assert "failed request" in [t.get_text() for t in ax.get_legend().get_texts()]


def test_short_runs_get_shorter_throughput_bins():
    fig = plot_timeline(run(2, [5] * 40))  # 2 s: ten bins of 0.2 s, four answers each
    assert list(fig.axes[1].get_lines()[0].get_ydata()) == pytest.approx([20.0] * 10)


def test_timeline_without_failures_has_no_failure_marks():
    fig = plot_timeline(run(2, [5, 6]))
    assert len(fig.axes[0].collections) == 1


def test_capacity_plot_marks_knee_and_budget():
    points = [
        CapacityPoint(1, 1000, 0.0008, 0.001, 0.0012, 100, 0),
        CapacityPoint(2, 1900, 0.00096, 0.0012, 0.0014, 100, 0),
        CapacityPoint(4, 2000, 0.00176, 0.0022, 0.003, 100, 0),
    ]
    fig = plot_capacity(points, latency_budget=0.002)
    ax, right = fig.axes
    assert list(ax.get_lines()[0].get_ydata()) == [1000, 1900, 2000]
    knee_line = [line for line in ax.get_lines() if line.get_linestyle() == ":"][0]
    assert list(knee_line.get_xdata()) == [2, 2]
    budget_line = [line for line in right.get_lines() if line.get_linestyle() == "--"][0]
    assert list(budget_line.get_ydata()) == [2.0, 2.0]
    assert [round(v, 6) for v in right.get_lines()[1].get_ydata()] == [1.0, 1.2, 2.2]  # p95 in ms
    with pytest.raises(ValueError):
        plot_capacity([])


def test_plots_draw_on_given_axes():
    fig, (left, right) = plt.subplots(1, 2)
    assert plot_latency(run(1, [1, 2]), ax=left) is fig
    assert plot_timeline(run(1, [1, 2]), ax=right) is fig
