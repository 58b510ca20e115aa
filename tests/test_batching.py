"""Lab 7's batching library: the estimate's arithmetic by hand, the measurement against KServe's real
model server, and the bad inputs a learner would type."""

from __future__ import annotations

import math

import matplotlib
import pytest

from kserve_workshop.batching import (
    BatchingCurve,
    BatchPoint,
    estimate_batcher,
    fit_cost,
    measure_batching,
    plot_batching,
    plot_estimates,
)
from kserve_workshop.metrics.exposition import histogram_count, read_metrics
from kserve_workshop.errors import WorkshopError
from kserve_workshop.training import iris_split

pytest_plugins = ["support.lab7_files"]  # the model_server fixture
#: Tests using these fixtures start servers: marked slow (see conftest.py).
SLOW_FIXTURES = {"model_server"}

matplotlib.use("Agg")
SIZES = (1, 2, 4, 8, 16, 32, 64)


def synthetic(fixed: float = 0.001, per_row: float = 0.0, one_row_request: float = 0.001) -> BatchingCurve:
    """A curve whose batched time is fixed + per_row x N and whose one-row requests take one_row_request."""
    return BatchingCurve(
        "http://127.0.0.1:1/v1/models/m:predict",
        [BatchPoint(n, fixed + per_row * n, n * one_row_request) for n in SIZES],
        requests=100,
    )


# ---------------------------------------------------------------------------------------- estimate


def test_a_batch_that_fills_before_max_latency_closes_full():
    estimate = estimate_batcher(synthetic(), rate=1000, max_batch_size=8, max_latency_ms=10)
    assert estimate.closes_when == "full"
    assert estimate.batch_size == 8
    assert estimate.fill_wait == pytest.approx(0.007)  # 7 more requests at 1 ms apart
    assert estimate.service == pytest.approx(0.001)
    assert estimate.utilisation == pytest.approx(1000 * 0.001 / 8)
    assert estimate.worst_latency == pytest.approx(0.007 + 2 * 0.001)
    assert estimate.model_requests_per_second == pytest.approx(125)


def test_a_batch_that_cannot_fill_closes_on_time_with_fewer_rows():
    estimate = estimate_batcher(synthetic(), rate=1000, max_batch_size=32, max_latency_ms=5)
    assert estimate.closes_when == "on time"
    assert estimate.batch_size == pytest.approx(6)  # the first request and 5 more in 5 ms
    assert estimate.fill_wait == pytest.approx(0.005)


def test_the_service_time_is_interpolated_between_measured_sizes():
    curve = synthetic(fixed=0.001, per_row=0.0001)
    estimate = estimate_batcher(curve, rate=1000, max_batch_size=12, max_latency_ms=50)
    assert estimate.service == pytest.approx(0.001 + 0.0001 * 12)


def test_kserves_defaults_at_a_quiet_hour_make_requests_wait_five_seconds():
    estimate = estimate_batcher(synthetic(), rate=0.1, max_batch_size=32, max_latency_ms=5000)
    assert estimate.closes_when == "on time"
    assert estimate.worst_latency == pytest.approx(5.002)


def test_without_batching_an_overloaded_model_is_unstable():
    estimate = estimate_batcher(synthetic(fixed=0.001), rate=2500, max_batch_size=1, max_latency_ms=1)
    assert estimate.utilisation == pytest.approx(2.5)
    assert not estimate.stable and math.isinf(estimate.worst_latency)
    assert not estimate.fits(1.0)
    assert "cannot keep up" in estimate.describe()


def test_fits_needs_both_the_budget_and_the_utilisation_margin():
    busy = estimate_batcher(synthetic(fixed=0.0035), rate=1000, max_batch_size=4, max_latency_ms=3)
    assert busy.utilisation == pytest.approx(0.875) and busy.worst_latency < 0.02
    assert not busy.fits(0.02)
    slow = estimate_batcher(synthetic(), rate=1000, max_batch_size=64, max_latency_ms=100)
    assert slow.utilisation < 0.1 and not slow.fits(0.02)


@pytest.mark.parametrize("size, latency", [(0, 5), (-1, 5), (8, 0), (8, 2.5), (True, 5), ("8", 5), (8, None)])
def test_settings_the_agent_would_refuse_are_refused(size, latency):
    with pytest.raises(WorkshopError, match="whole number"):
        estimate_batcher(synthetic(), 1000, size, latency)


@pytest.mark.parametrize("rate", [0, -5, math.inf, math.nan, "fast", True])
def test_a_rate_must_be_a_positive_number(rate):
    with pytest.raises(WorkshopError, match="rate"):
        estimate_batcher(synthetic(), rate, 8, 5)


def test_batches_beyond_the_measured_sizes_are_refused():
    with pytest.raises(WorkshopError, match="beyond the measured sizes"):
        estimate_batcher(synthetic(), 10_000, 128, 50)


def test_fit_cost_recovers_a_straight_line():
    model = fit_cost(synthetic(fixed=0.0008, per_row=0.000004))
    assert model.fixed == pytest.approx(0.0008) and model.per_row == pytest.approx(0.000004)
    assert model.seconds(10) == pytest.approx(0.00084)


def test_the_curve_refuses_sizes_it_did_not_measure():
    with pytest.raises(WorkshopError, match="outside the measured sizes"):
        synthetic().latency(100)


def test_plots_draw_both_curves_and_the_estimates():
    figure = plot_batching(synthetic(per_row=0.00001))
    assert len(figure.axes) == 2 and all(len(ax.lines) == 2 for ax in figure.axes)
    top, bottom = figure.axes
    assert top.get_position().y0 > bottom.get_position().y1 and figure.get_figwidth() <= 7.5, "stacked, page-wide"
    estimates = plot_estimates(synthetic(), 2500, 0.02, chosen=8)
    labels = [text.get_text() for text in estimates.axes[0].get_legend().get_texts()]
    assert any("budget 20 ms" in label for label in labels) and any("8" in label for label in labels)
    assert any("busy" in label for label in labels)  # small batches overload the model at 2500/s


# ------------------------------------------------------------------------------------- measurement


@pytest.mark.parametrize(
    "kwargs, words",
    [
        ({"url": "http://example.com/v1/models/m:predict"}, "refusing"),
        ({"sizes": ()}, "sizes"),
        ({"sizes": (0, 4)}, "sizes"),
        ({"sizes": (True, 4)}, "sizes"),
        ({"sizes": (1, "2")}, "sizes"),
        ({"repeats": 0}, "repeats"),
        ({"rows": []}, "rows is empty"),
    ],
)
def test_bad_measurement_arguments_are_one_clear_message(kwargs, words):
    arguments = {"url": "http://127.0.0.1:9/v1/models/m:predict", "rows": [[1.0, 2.0, 3.0, 4.0]], **kwargs}
    with pytest.raises(WorkshopError, match=words):
        measure_batching(arguments.pop("url"), arguments.pop("rows"), **arguments)


def test_a_server_that_is_not_there_is_named():
    with pytest.raises(WorkshopError, match="cannot reach"):
        measure_batching("http://127.0.0.1:9/v1/models/m:predict", [[1.0, 2.0, 3.0, 4.0]], sizes=(1,), repeats=1)


def test_measuring_a_real_model_server(model_server):
    server = model_server
    before = histogram_count(read_metrics(server.url), "request_predict_seconds", model_name=server.model_name)
    curve = measure_batching(server.v1_url, iris_split().X_test.tolist(), sizes=(1, 8, 64), repeats=8)
    served = histogram_count(read_metrics(server.url), "request_predict_seconds", model_name=server.model_name)
    assert curve.sizes == [1, 8, 64]
    assert served - before == curve.requests  # every request it counts reached the server
    big = curve.points[-1]
    assert big.one_by_one > 10 * big.one_request  # 64 requests cost far more than one carrying 64 rows
    assert big.batched_rows_per_second > 10 * big.single_rows_per_second
    assert list(curve.to_dataframe().index) == [1, 8, 64]


def test_a_model_error_stops_the_measurement(model_server):
    server = model_server
    with pytest.raises(WorkshopError, match="answered 4"):  # the workshop predictor says 400
        measure_batching(server.v1_url, [[1.0, 2.0, 3.0]], sizes=(1,), repeats=1)  # three features, not four
