"""The local monitoring stack, for real: Prometheus on 127.0.0.1 scraping KServe's model server under load."""

from __future__ import annotations

import math
import os

import matplotlib
import numpy as np
import pandas as pd
import psutil
import pytest
import requests

from kserve_workshop.errors import WorkshopError
from kserve_workshop.processes import wait_until_gone
from kserve_workshop.metrics import LocalPrometheus, PrometheusClient, PromQLError, build_config, promql
from kserve_workshop.metrics import local_prometheus
from kserve_workshop.metrics.client_side import answers_over_time, error_ratio
from kserve_workshop.metrics.plots import bucket_table, plot_buckets, plot_model_metrics
from kserve_workshop.metrics.traffic import BAD_PAYLOAD, Stream, batch_payload, run_traffic

from support.monitoring_stack import MODEL_NAME, monitoring_stack

matplotlib.use("Agg")
WHOLE_RUN = "60s"  # a window covering the whole (short) test run


#: Tests using these fixtures start servers: marked slow (see conftest.py).
SLOW_FIXTURES = {"stack"}


@pytest.fixture(scope="module")
def stack(tmp_path_factory):
    with monitoring_stack(tmp_path_factory.mktemp("monitoring")) as built:
        yield built


def at_end(stack) -> float:
    return stack.traffic.ended_at + 1.0


# -- the stack is real and up ------------------------------------------------------------------------


def test_prometheus_scrapes_the_model_server(stack):
    targets = stack.prom.client.targets()
    assert [t["scrapeUrl"] for t in targets] == [stack.server.metrics_url]
    assert all(t["health"] == "up" for t in targets)
    assert stack.prom.query_value(f'up{{job="{local_prometheus.DEFAULT_JOB}"}}') == 1.0


def test_prometheus_listens_on_loopback_only(stack):
    process = psutil.Process(stack.prom.pid)
    connections = getattr(process, "net_connections", process.connections)(kind="inet")
    listening = [c.laddr for c in connections if c.status == psutil.CONN_LISTEN]
    assert listening, "Prometheus should listen somewhere"
    assert {address.ip for address in listening} == {"127.0.0.1"}
    assert {address.port for address in listening} == {stack.prom.port}


def test_every_request_is_counted_failed_ones_included(stack):
    # The histogram times predict() whether it raised or not: 400s are in the count too.
    assert stack.traffic.errors > 0
    count = stack.prom.query_value(f'sum(request_predict_seconds_count{{model_name="{MODEL_NAME}"}})')
    assert count == stack.warmup_requests + stack.traffic.requests


# -- request rate and latency against what the load generator measured --------------------------------


def test_request_rate_matches_the_client_side_rate(stack):
    traffic = stack.traffic
    frame = stack.prom.query_range(promql.request_rate(MODEL_NAME), traffic.started_at, at_end(stack), "1s")
    assert not frame.empty and (frame["value"] > 0).any()
    # Averaged over the whole run, the server's count and the client's agree within a few percent.
    span = traffic.ended_at - traffic.started_at
    whole_run = stack.prom.query_value(
        f'sum(increase(request_predict_seconds_count{{model_name="{MODEL_NAME}"}}[{WHOLE_RUN}]))', time=at_end(stack)
    )
    assert whole_run / span == pytest.approx(traffic.requests / span, rel=0.1)
    # The peak windowed rate is of the order of what was sent (rate() averages over 5 s windows).
    client_rate = traffic.requests / span
    assert 0.3 * client_rate < frame["value"].max() < 3 * client_rate


def all_client_latencies(stack) -> np.ndarray:
    return np.asarray([d for run in stack.traffic.streams.values() for d in run.durations])


@pytest.mark.parametrize("quantile", [0.5, 0.95, 0.99])
def test_quantiles_are_within_what_the_client_measured(stack, quantile):
    server = stack.prom.query_value(promql.latency_quantile(quantile, MODEL_NAME, window=WHOLE_RUN), time=at_end(stack))
    latencies = all_client_latencies(stack)
    client = float(np.quantile(latencies, quantile))
    # The server times only predict(), a part of what the client waits for, and histogram_quantile
    # interpolates inside a bucket: the estimate is at most the bound of the bucket holding the
    # client's value. Below, only an order of magnitude: the client's queueing time has no bound on
    # a busy machine, but no estimate can be far below the fastest request (a unit slip would be).
    bound = next(b for b in promql.DEFAULT_BUCKETS if b >= client)
    assert latencies.min() / 10 < server <= bound


def test_quantiles_are_ordered_and_mean_is_below_client_mean(stack):
    values = {
        name: stack.prom.query_value(query, time=at_end(stack))
        for name, query in promql.latency_quantiles(MODEL_NAME, window=WHOLE_RUN).items()
    }
    assert values["p50"] < values["p95"] <= values["p99"]
    mean = stack.prom.query_value(promql.mean_latency(MODEL_NAME, window=WHOLE_RUN), time=at_end(stack))
    assert 0 < mean < float(np.mean(all_client_latencies(stack)))


def test_batches_raise_the_tail_but_not_the_median(stack):
    traffic = stack.traffic
    phase_one = traffic.started_at + 1.9  # before the batches start (at half the run)
    end = at_end(stack)
    p99 = promql.latency_quantile(0.99, MODEL_NAME, window="2s")
    assert stack.prom.query_value(p99, time=end - 1.5) > stack.prom.query_value(p99, time=phase_one)
    median = stack.prom.query_value(promql.latency_quantile(0.5, MODEL_NAME, window=WHOLE_RUN), time=end)
    assert median <= promql.DEFAULT_BUCKETS[0]


def test_bucket_table_adds_up_to_the_count(stack):
    table = bucket_table(stack.prom, model_name=MODEL_NAME, time=at_end(stack))
    assert list(table["le"]) == sorted(table["le"]) and math.isinf(table["le"].iloc[-1])
    assert table["in_bucket"].sum() == stack.warmup_requests + stack.traffic.requests
    assert (table["in_bucket"] >= 0).all()
    assert table["in_bucket"].iloc[1:].sum() > 0, "the batches should land above the first bucket"


# -- query results and errors ---------------------------------------------------------------------------


def test_query_range_is_tidy(stack):
    frame = stack.prom.query_range(promql.request_rate(MODEL_NAME), stack.traffic.started_at, at_end(stack), 1)
    assert list(frame.columns) == ["model_name", "timestamp", "value"]
    assert str(frame["timestamp"].dt.tz) == "UTC" and frame["timestamp"].is_monotonic_increasing
    assert frame["value"].dtype == float and set(frame["model_name"]) == {MODEL_NAME}


def test_instant_query_keeps_every_label(stack):
    frame = stack.prom.query(f'request_predict_seconds_count{{model_name="{MODEL_NAME}"}}')
    assert {"__name__", "instance", "job", "model_name", "timestamp", "value"} <= set(frame.columns)
    assert frame["instance"].tolist() == [f"127.0.0.1:{stack.server.port}"]


def test_an_empty_result_is_an_empty_frame(stack):
    frame = stack.prom.query('request_predict_seconds_count{model_name="no-such-model"}')
    assert frame.empty and list(frame.columns) == ["timestamp", "value"]
    with pytest.raises(WorkshopError, match="no data"):
        stack.prom.query_value('request_predict_seconds_count{model_name="no-such-model"}')


def test_query_value_refuses_several_series(stack):
    with pytest.raises(WorkshopError, match="series, expected one") as info:
        stack.prom.query_value("request_predict_seconds_bucket")
    assert "sum" in info.value.hint


@pytest.mark.parametrize(
    "bad, message",
    [
        ("rate(request_predict_seconds_count[5s]", "unclosed left parenthesis"),
        ("rate(request_predict_seconds_count)", "expected type range vector"),
        ("histogram_quantil(0.95, up)", "unknown function"),
        ('up{job="x}', "unterminated quoted string"),
    ],
)
def test_bad_promql_is_a_clear_error_with_prometheus_message(stack, bad, message):
    with pytest.raises(PromQLError) as info:
        stack.prom.query(bad)
    assert isinstance(info.value, WorkshopError)
    assert info.value.error_type == "bad_data" and message in info.value.detail
    assert bad in info.value.message and info.value.hint


def test_bad_promql_in_a_range_query_too(stack):
    with pytest.raises(PromQLError, match="parse error"):
        stack.prom.query_range("sum(", stack.traffic.started_at, at_end(stack), "1s")


@pytest.mark.parametrize("query", [..., "", "  ", None, 42])
def test_a_query_that_is_not_a_string_is_refused_before_asking(stack, query):
    with pytest.raises(WorkshopError, match="non-empty string"):
        stack.prom.query(query)


def test_a_bad_step_or_time_is_refused_before_asking(stack):
    with pytest.raises(WorkshopError, match="step must be positive"):
        stack.prom.query_range("up", 0, 10, 0)
    with pytest.raises(WorkshopError, match="not a usable time"):
        stack.prom.query("up", time=object())


def test_unreachable_prometheus_is_one_clear_error():
    client = PrometheusClient(f"http://127.0.0.1:{_closed_port()}")
    with pytest.raises(WorkshopError, match="cannot reach Prometheus") as info:
        client.query("up")
    assert not isinstance(info.value, PromQLError)
    assert client.is_ready() is False


def _closed_port() -> int:
    from kserve_workshop.processes import free_port

    return free_port()


# -- errors are measured by the client -----------------------------------------------------------------


def test_error_ratio_is_the_bad_stream_share(stack):
    streams = stack.traffic.streams
    assert streams["bad"].errors == streams["bad"].requests > 0
    assert streams["steady"].errors == 0 and streams["batches"].errors == 0
    assert error_ratio(stack.traffic) == pytest.approx(streams["bad"].requests / stack.traffic.requests)


def test_errors_over_time_add_up_and_start_with_the_second_phase(stack):
    frame = answers_over_time(stack.traffic)
    assert frame["requests"].sum() == stack.traffic.requests
    assert frame["errors"].sum() == stack.traffic.errors
    first_error = frame.loc[frame["errors"] > 0, "timestamp"].min()
    assert first_error >= pd.Timestamp(stack.traffic.started_at + 1, unit="s", tz="UTC")
    assert ((frame["error_ratio"] >= 0) & (frame["error_ratio"] <= 1)).all()


def test_error_ratio_refuses_what_is_not_a_load_result():
    with pytest.raises(WorkshopError, match="LoadResult"):
        error_ratio([1, 2, 3])
    with pytest.raises(WorkshopError, match="LoadResult"):
        error_ratio([])


def test_run_traffic_refuses_streams_outside_the_run():
    with pytest.raises(WorkshopError, match="outside"):
        run_traffic("http://127.0.0.1:9/v1/models/m:predict", [Stream("late", BAD_PAYLOAD, 1.0, start=5)], duration=2)
    with pytest.raises(WorkshopError, match="positive number of rows"):
        batch_payload(0)


# -- plots -----------------------------------------------------------------------------------------------


def test_model_metrics_figure_has_data_in_every_panel(stack):
    fig = plot_model_metrics(
        stack.prom, stack.traffic.started_at - 1, at_end(stack), model_name=MODEL_NAME, traffic=stack.traffic
    )
    try:
        assert len(fig.axes) == 3
        rate_ax, latency_ax, errors_ax = fig.axes
        assert rate_ax.lines and max(rate_ax.lines[0].get_ydata()) > 0
        assert {line.get_label() for line in latency_ax.lines} == {"p50", "p95", "p99", "mean"}
        assert errors_ax.lines and max(errors_ax.lines[0].get_ydata()) > 0
    finally:
        matplotlib.pyplot.close(fig)


def test_bucket_plot_draws_server_and_client(stack):
    table = bucket_table(stack.prom, model_name=MODEL_NAME)
    latencies = list(all_client_latencies(stack))
    ax = plot_buckets(table, client_latencies=latencies)
    try:
        server_bars, client_bars = ax.containers
        assert len(server_bars) == len(client_bars) < len(table)  # empty buckets at the end are left out
        assert sum(bar.get_height() for bar in server_bars) == table["in_bucket"].sum()
        assert sum(bar.get_height() for bar in client_bars) == len(latencies)
    finally:
        matplotlib.pyplot.close(ax.figure)


# -- configuration and lifecycle -------------------------------------------------------------------------


def test_config_scrapes_loopback_targets_given_in_any_form(stack):
    config = build_config(
        [stack.server, 8081, "127.0.0.1:9000", "http://localhost:9001/metrics"], scrape_interval="500ms"
    )
    assert config["global"]["scrape_interval"] == config["global"]["scrape_timeout"] == "500ms"
    job = config["scrape_configs"][0]
    assert job["metrics_path"] == "/metrics"
    assert job["static_configs"][0]["targets"] == [
        f"127.0.0.1:{stack.server.port}",
        "127.0.0.1:8081",
        "127.0.0.1:9000",
        "127.0.0.1:9001",
    ]


def test_targets_may_carry_the_labels_the_clusters_scrape_adds():
    config = build_config([(8081, {"component": "predictor"}), (8082, {"component": "transformer"}), 8083])
    assert config["scrape_configs"][0]["static_configs"] == [
        {"targets": ["127.0.0.1:8081"], "labels": {"component": "predictor"}},
        {"targets": ["127.0.0.1:8082"], "labels": {"component": "transformer"}},
        {"targets": ["127.0.0.1:8083"]},
    ]


@pytest.mark.parametrize(
    "targets, interval, message",
    [
        ([(8080, {"com-ponent": "x"})], "1s", "not a Prometheus label name"),
        ([(8080, {"__address__": "x"})], "1s", "not a Prometheus label name"),
        ([(8080, {"component": 1})], "1s", "must be a string"),
        ([], "1s", "at least one target"),
        (["10.0.0.5:8080"], "1s", "scrapes only this machine"),
        (["http://example.com:80"], "1s", "scrapes only this machine"),
        (["127.0.0.1"], "1s", "not a scrape target"),
        ([70000], "1s", "port out of range"),
        ([3.5], "1s", "not a scrape target"),
        ([8080], "1 second", "not a Prometheus duration"),
        ([8080], 1, "not a Prometheus duration"),
    ],
)
def test_config_refuses_bad_targets_and_intervals(targets, interval, message):
    with pytest.raises(WorkshopError, match=message):
        build_config(targets, scrape_interval=interval)


def test_missing_prometheus_says_how_to_install_it(monkeypatch, tmp_path):
    monkeypatch.delenv(local_prometheus.PROMETHEUS_ENV, raising=False)
    monkeypatch.setenv("PATH", str(tmp_path))
    monkeypatch.setattr(local_prometheus, "DEBIAN_BINARY", str(tmp_path / "no-prometheus"))
    with pytest.raises(WorkshopError, match="not installed") as info:
        LocalPrometheus([8080])
    assert "apt-get install prometheus" in info.value.hint and "brew install prometheus" in info.value.hint
    assert "cluster part" in info.value.hint


def test_a_configured_binary_that_does_not_exist_is_named(monkeypatch, tmp_path):
    monkeypatch.setenv(local_prometheus.PROMETHEUS_ENV, str(tmp_path / "prometheus"))
    with pytest.raises(WorkshopError, match="is not an executable file"):
        local_prometheus.find_prometheus()


@pytest.mark.slow
def test_stop_leaves_nothing_behind(stack):
    prom = LocalPrometheus([stack.server], target_timeout=20)
    prom.start()
    pid, port, run_dir = prom.pid, prom.port, prom.run_dir
    assert prom.query_value("up") == 1.0 and run_dir.is_dir()
    prom.stop()
    assert wait_until_gone([pid]) == []
    assert not run_dir.exists()
    with pytest.raises(requests.ConnectionError):
        requests.get(f"http://127.0.0.1:{port}/-/ready", timeout=2)
    prom.stop()  # idempotent


@pytest.mark.slow
def test_target_that_never_comes_up_fails_with_its_error_and_cleans_up(stack):
    prom = LocalPrometheus([_closed_port()], target_timeout=6)
    with pytest.raises(WorkshopError, match="scrape targets not up after 6 s") as info:
        prom.start()
    assert "connection refused" in info.value.message.lower()
    assert "model server running" in info.value.hint
    assert not prom.running and not prom.run_dir.exists()


def test_stale_runs_of_dead_processes_are_removed(tmp_path, monkeypatch):
    monkeypatch.setenv("WORKSHOP_CACHE", str(tmp_path))
    dead = psutil.Popen(["true"])
    dead.wait()
    stale = tmp_path / "prometheus" / f"run-{dead.pid}-deadbeef"
    mine = tmp_path / "prometheus" / f"run-{os.getpid()}-cafecafe"
    for run in (stale, mine):
        (run / "data").mkdir(parents=True)
    assert local_prometheus.remove_stale_runs() == [stale]
    assert not stale.exists() and mine.exists()


def test_promql_builders_refuse_bad_input():
    with pytest.raises(WorkshopError, match="between 0 and 1"):
        promql.latency_quantile(95)
    with pytest.raises(WorkshopError, match="not a PromQL range"):
        promql.request_rate(window="5 seconds")
    with pytest.raises(WorkshopError, match="label name"):
        promql.request_rate(by=("model-name",))
    # Label values are escaped, so a quote cannot break out of the selector.
    assert promql.selector(model_name='a"b') == '{model_name="a\\"b"}'
