"""Lab 5 answers as learners write them, graded on a live Prometheus scraping a live model server."""

from __future__ import annotations

import time
from fractions import Fraction

import numpy as np
import pytest

from answer_cases import FAIL, PASS, Case, cases, grade, judge
from kserve_workshop.dataplane.client import predict_v1
from kserve_workshop.processes import LocalModelServer
from kserve_workshop.metrics import LocalPrometheus
from kserve_workshop.metrics.traffic import TrafficResult, lab_streams, run_traffic
from kserve_workshop.training import DOCS_IRIS_INPUT, save_model, train_iris
from support.monitoring_stack import monitoring_stack, wait_for_count

SLOW_FIXTURES = {"stack"}

RATE = "sum(rate(request_predict_seconds_count[5s]))"
P95 = "histogram_quantile(0.95, sum by (le) (rate(request_predict_seconds_bucket[5s])))"
MEAN = "sum(rate(request_predict_seconds_sum[5s])) / sum(rate(request_predict_seconds_count[5s]))"


@pytest.fixture(scope="module")
def stack(tmp_path_factory):
    with monitoring_stack(tmp_path_factory.mktemp("lab5-answers"), settle=6.0) as built:
        yield built


def query(variable, text):
    return lambda stack: {variable: text, "prom": stack.prom, "traffic": stack.traffic}


@pytest.mark.parametrize(
    "case",
    cases(
        Case("reference", query("request_rate_query", RATE), PASS, "traffic run"),
        Case(
            "by-model",
            query(
                "request_rate_query",
                'sum by (model_name) (rate(request_predict_seconds_count{model_name="sklearn-iris"}[5s]))',
            ),
            PASS,
        ),
        Case("no-sum", query("request_rate_query", "rate(request_predict_seconds_count[5s])"), PASS),
        Case(
            "job-selector",
            query("request_rate_query", "  sum(rate(request_predict_seconds_count{job='kserve-model-server'}[5s]))\n"),
            PASS,
        ),
        Case(
            "a-minute-window", query("request_rate_query", "sum(rate(request_predict_seconds_count[1m]))"), FAIL, "[5s]"
        ),
        Case("the-counter", query("request_rate_query", "sum(request_predict_seconds_count)"), FAIL, "rate()"),
        Case(
            "increase",
            query("request_rate_query", "sum(increase(request_predict_seconds_count[5s]))"),
            FAIL,
            "per-second",
        ),
        Case(
            "seconds-not-requests",
            query("request_rate_query", "sum(rate(request_predict_seconds_sum[5s]))"),
            FAIL,
            "_count",
        ),
        Case(
            "another-model",
            query("request_rate_query", 'sum(rate(request_predict_seconds_count{model_name="iris"}[5s]))'),
            FAIL,
            "_count",
        ),
        Case("a-typo", query("request_rate_query", "sum(rate(request_predict_seconds_count[5s])"), FAIL, "brackets"),
        Case("not-text", query("request_rate_query", 42), FAIL, "quotes"),
    ),
)
def test_request_rate_query(case, stack):
    judge("lab5.request_rate_query", case, stack=stack)


@pytest.mark.parametrize(
    "case",
    cases(
        Case("reference", query("p95_query", P95), PASS),
        Case("no-sum", query("p95_query", "histogram_quantile(0.95, rate(request_predict_seconds_bucket[5s]))"), PASS),
        Case(
            "by-le-and-model",
            query(
                "p95_query",
                "histogram_quantile(0.95, sum by (le, model_name) "
                '(rate(request_predict_seconds_bucket{model_name="sklearn-iris"}[5s])))',
            ),
            PASS,
        ),
        Case("p99", query("p95_query", P95.replace("0.95", "0.99")), FAIL, "histogram_quantile(0.95"),
        Case(
            "no-rate",
            query("p95_query", "histogram_quantile(0.95, sum by (le) (request_predict_seconds_bucket))"),
            FAIL,
            "rate",
        ),
        Case(
            "le-dropped",
            query("p95_query", "histogram_quantile(0.95, sum(rate(request_predict_seconds_bucket[5s])))"),
            FAIL,
            "keep the `le` label",
        ),
        Case("the-mean", query("p95_query", MEAN), FAIL, "histogram_quantile"),
    ),
)
def test_p95_query(case, stack):
    judge("lab5.p95_query", case, stack=stack)


@pytest.mark.parametrize(
    "case",
    cases(
        Case("reference", query("mean_latency_query", MEAN), PASS),
        Case(
            "no-sums",
            query(
                "mean_latency_query", "rate(request_predict_seconds_sum[5s]) / rate(request_predict_seconds_count[5s])"
            ),
            PASS,
        ),
        Case(
            "swapped",
            query(
                "mean_latency_query",
                "sum(rate(request_predict_seconds_count[5s])) / sum(rate(request_predict_seconds_sum[5s]))",
            ),
            FAIL,
            "_sum series divided by",
        ),
        Case(
            "counters",
            query("mean_latency_query", "sum(request_predict_seconds_sum) / sum(request_predict_seconds_count)"),
            FAIL,
            "rate",
        ),
        Case("the-median", query("mean_latency_query", P95.replace("0.95", "0.5")), FAIL, "_sum"),
    ),
)
def test_mean_latency_query(case, stack):
    judge("lab5.mean_latency_query", case, stack=stack)


def test_the_verdict_does_not_depend_on_when_the_check_runs(stack):
    # Anchored on the traffic run, a right query passes and a wrong one fails later on too.
    for _ in range(2):
        assert grade("lab5.request_rate_query", query("request_rate_query", RATE)(stack)).passed
        assert not grade(
            "lab5.request_rate_query",
            query("request_rate_query", "0 * sum(rate(request_predict_seconds_count[5s]))")(stack),
        ).passed
        time.sleep(1)


def test_a_check_refuses_to_judge_without_traffic(stack):
    # A traffic run this Prometheus never saw (say, before the server cell was re-run): no data.
    before = TrafficResult(started_at=stack.traffic.started_at - 3600, ended_at=stack.traffic.started_at - 3590)
    for text in (RATE, "vector(0)", "0 * sum(rate(request_predict_seconds_count[5s]))"):
        result = grade("lab5.request_rate_query", {"request_rate_query": text, "prom": stack.prom, "traffic": before})
        assert not result.passed and "no traffic to compare on" in result.message, result.text()
        assert "run the traffic cell again" in result.hint


@pytest.mark.slow
def test_without_a_traffic_run_the_last_minutes_must_hold_requests(tmp_path):
    with monitoring_stack(tmp_path, duration=0) as idle:
        for text in (RATE, "vector(0)", P95):
            result = grade("lab5.request_rate_query", {"request_rate_query": text, "prom": idle.prom})
            assert not result.passed and "no traffic to compare on" in result.message, result.text()
            assert "last 3 minutes" in result.message


@pytest.mark.slow
def test_prometheus_follows_a_re_run_server_cell(tmp_path):
    """The issue's case: the server cell is run again, so Prometheus must scrape the new server."""
    save_model(train_iris(), tmp_path / "model")
    with LocalModelServer(tmp_path / "model") as first, LocalPrometheus([first]) as prom:
        old_target = prom.targets
        with LocalModelServer(tmp_path / "model") as second:  # the server cell, run a second time
            assert prom.targets == [f"127.0.0.1:{second.port}"] != old_target
            first.stop()
            predict_v1(second.url, second.model_name, DOCS_IRIS_INPUT)
            traffic = run_traffic(second.v1_url, lab_streams(phase_seconds=2), duration=4)
            wait_for_count(prom, 1 + traffic.requests)
            time.sleep(2)
            result = grade("lab5.request_rate_query", {"request_rate_query": RATE, "prom": prom, "traffic": traffic})
            assert result.passed, result.text()


def ratio(value):
    return lambda stack: {"error_ratio": value(stack.traffic) if callable(value) else value, "traffic": stack.traffic}


@pytest.mark.parametrize(
    "case",
    cases(
        Case("errors-over-requests", ratio(lambda t: t.errors / t.requests), PASS),
        Case("float32", ratio(lambda t: np.float32(t.errors / t.requests)), PASS),
        Case("rounded-4", ratio(lambda t: round(t.errors / t.requests, 4)), PASS),
        Case("fraction", ratio(lambda t: Fraction(t.errors, t.requests)), PASS),
        Case(
            "over-streams",
            ratio(lambda t: sum(r.errors for r in t.streams.values()) / sum(r.requests for r in t.streams.values())),
            PASS,
        ),
        Case("percentage", ratio(lambda t: 100 * t.errors / t.requests), FAIL, "divide by 100"),
        Case("success-ratio", ratio(lambda t: 1 - t.errors / t.requests), FAIL, "succeeded"),
        Case("over-successes", ratio(lambda t: t.errors / (t.requests - t.errors)), FAIL, "all requests"),
        Case("the-count", ratio(lambda t: t.errors), FAIL, "number of failed requests"),
        Case("two-decimals", ratio(lambda t: round(t.errors / t.requests, 2)), FAIL, "3 decimals"),
        Case("text", ratio(lambda t: f"{t.errors / t.requests:.1%}"), FAIL, "is text"),
    ),
)
def test_error_ratio(case, stack):
    assert stack.traffic.errors and stack.traffic.requests
    judge("lab5.error_ratio", case, stack=stack)
