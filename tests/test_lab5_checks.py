"""Lab 5's graded checks: PromQL is graded by its results on the live Prometheus, never by its text."""

from __future__ import annotations

import math

import pandas as pd
import pytest

from kserve_workshop.labkit.grading import CheckNotPassed, check
from kserve_workshop.metrics.compare import compare_frames

from support.monitoring_stack import monitoring_stack


#: Tests using these fixtures start servers: marked slow (see conftest.py).
SLOW_FIXTURES = {"stack"}


@pytest.fixture(scope="module")
def stack(tmp_path_factory):
    # 6 s idle after the traffic: long enough for a 5 s rate window to empty out, as in the lab.
    with monitoring_stack(tmp_path_factory.mktemp("lab5"), settle=6.0) as built:
        yield built


def grade(name, stack, **answers):
    return check(f"lab5.{name}", {"prom": stack.prom, "traffic": stack.traffic}, show=False, **answers)


# -- right answers, spelled in different ways, pass ------------------------------------------------------


@pytest.mark.parametrize(
    "query",
    [
        "sum(rate(request_predict_seconds_count[5s]))",
        'sum by (model_name) (rate(request_predict_seconds_count{model_name="sklearn-iris"}[5s]))',
        "rate(request_predict_seconds_count[5s])",
        "  sum(rate(request_predict_seconds_count{job='kserve-model-server'}[5s]))\n",
    ],
)
def test_equivalent_rate_queries_pass(stack, query):
    result = grade("request_rate_query", stack, request_rate_query=query)
    assert result.passed, result.text()


@pytest.mark.parametrize(
    "query",
    [
        "histogram_quantile(0.95, sum by (le) (rate(request_predict_seconds_bucket[5s])))",
        "histogram_quantile(0.95, rate(request_predict_seconds_bucket[5s]))",
        'histogram_quantile(0.95, sum by (le, model_name) (rate(request_predict_seconds_bucket{model_name="sklearn-iris"}[5s])))',
    ],
)
def test_equivalent_p95_queries_pass(stack, query):
    result = grade("p95_query", stack, p95_query=query)
    assert result.passed, result.text()


def test_mean_latency_query_passes(stack):
    query = "sum(rate(request_predict_seconds_sum[5s])) / sum(rate(request_predict_seconds_count[5s]))"
    assert grade("mean_latency_query", stack, mean_latency_query=query).passed


# -- wrong answers fail with expected / found / hint ---------------------------------------------------


@pytest.mark.parametrize(
    "query, hint",
    [
        ("sum(rate(request_predict_seconds_count[1m]))", "not [1m]"),  # another window: another curve
        ("sum(irate(request_predict_seconds_count[5s]))", "last two samples"),  # the last two samples only
        ("sum(rate(request_predict_seconds_sum[5s]))", "_count"),  # seconds of work per second, not requests
        ("sum(request_predict_seconds_count)", "take its rate()"),  # a counter, not a rate
        ("sum(increase(request_predict_seconds_count[5s]))", "per-second"),  # requests per 5 s, not per second
        ('sum(rate(request_predict_seconds_count{model_name="other"}[5s]))', "_count"),  # no data
    ],
)
def test_wrong_rate_queries_fail_with_a_hint(stack, query, hint):
    result = grade("request_rate_query", stack, request_rate_query=query)
    assert not result.passed
    assert result.hint and hint in result.hint
    assert result.expected and result.found
    assert result.error is None, "a wrong answer is a failed check, not a crash"


@pytest.mark.parametrize(
    "query, found, hint",
    [
        ("histogram_quantile(0.99, sum by (le) (rate(request_predict_seconds_bucket[5s])))", " s at ", "0.95"),
        ("histogram_quantile(0.5, sum by (le) (rate(request_predict_seconds_bucket[5s])))", " s at ", "0.95"),
        ("histogram_quantile(0.95, sum by (le) (request_predict_seconds_bucket))", " s at ", "rate()"),
        ("histogram_quantile(0.95, sum by (le) (rate(request_predict_seconds_bucket[30s])))", " s at ", "not [30s]"),
        ("histogram_quantile(0.95, sum(rate(request_predict_seconds_bucket[5s])))", "no series", "`le`"),
        ("sum(rate(request_predict_seconds_sum[5s])) / sum(rate(request_predict_seconds_count[5s]))", " s at ", "0.95"),
        ("rate(request_predict_seconds_bucket[5s])", "le=", "0.95"),
    ],
)
def test_wrong_p95_queries_fail(stack, query, found, hint):
    result = grade("p95_query", stack, p95_query=query)
    assert not result.passed, query
    assert found in result.found
    assert hint in result.hint


def test_inverted_mean_fails(stack):
    query = "sum(rate(request_predict_seconds_count[5s])) / sum(rate(request_predict_seconds_sum[5s]))"
    result = grade("mean_latency_query", stack, mean_latency_query=query)
    assert not result.passed and "_sum" in result.hint


def test_strict_mode_turns_a_wrong_query_into_an_error(stack, monkeypatch):
    monkeypatch.setenv("WORKSHOP_CHECKS_STRICT", "1")
    with pytest.raises(CheckNotPassed):
        grade("p95_query", stack, p95_query="histogram_quantile(0.99, rate(request_predict_seconds_bucket[5s]))")


# -- malformed answers never crash ------------------------------------------------------------------------


@pytest.mark.parametrize(
    "query, message",
    [
        ("histogram_quantile(0.95, sum by (le) (rate(request_predict_seconds_bucket[5s]))", "parse error"),
        ("rate(request_predict_seconds_count)", "expected type range vector"),
        ("SELECT * FROM requests", "parse error"),
    ],
)
def test_malformed_promql_is_a_failed_check_with_prometheus_message(stack, query, message):
    result = grade("p95_query", stack, p95_query=query)
    assert not result.passed and result.error is None
    assert result.message == "Prometheus could not run your query"
    assert "bad_data" in result.found and message in result.found


@pytest.mark.parametrize("answer", [42, None, "", "   ", ["sum(up)"]])
def test_non_string_answers_fail_cleanly(stack, answer):
    result = grade("request_rate_query", stack, request_rate_query=answer)
    assert not result.passed and result.error is None
    assert "PromQL query" in result.message


def test_blank_left_in_is_reported_as_such(stack):
    result = grade("request_rate_query", stack, request_rate_query=...)
    assert not result.passed and "`...`" in result.message


def test_missing_or_wrong_prometheus_fails_cleanly(stack):
    result = check("lab5.request_rate_query", {"request_rate_query": "sum(up)"}, show=False)
    assert not result.passed and "`prom` is not defined" in result.message
    result = check("lab5.request_rate_query", {"request_rate_query": "sum(up)", "prom": "localhost:9090"}, show=False)
    assert not result.passed and "not a Prometheus connection" in result.message


def test_stopped_prometheus_is_a_failed_check_not_a_crash(stack):
    from kserve_workshop.metrics import PrometheusClient
    from kserve_workshop.processes import free_port

    gone = PrometheusClient(f"http://127.0.0.1:{free_port()}")
    result = check("lab5.p95_query", {"p95_query": "sum(up)", "prom": gone}, show=False)
    assert not result.passed and result.error is None
    assert "could not ask Prometheus" in result.message and "Re-run" in result.hint


# -- the client-side error ratio -----------------------------------------------------------------------------


def test_error_ratio_passes_with_the_measured_fraction(stack):
    answer = stack.traffic.errors / stack.traffic.requests
    assert grade("error_ratio", stack, error_ratio=answer).passed


@pytest.mark.parametrize(
    "answer, message",
    [
        ("percent", "must be a number"),
        (float("nan"), "must be a finite number"),
        (True, "must be a number"),
    ],
)
def test_error_ratio_refuses_non_numbers(stack, answer, message):
    result = grade("error_ratio", stack, error_ratio=answer)
    assert not result.passed and message in result.message


def test_error_ratio_refuses_a_percentage_and_a_wrong_fraction(stack):
    ratio = stack.traffic.errors / stack.traffic.requests
    as_percent = grade("error_ratio", stack, error_ratio=ratio * 100)
    assert not as_percent.passed and "not a percentage" in as_percent.message
    wrong = grade("error_ratio", stack, error_ratio=stack.traffic.errors / (stack.traffic.requests - 1))
    assert not wrong.passed and wrong.expected != wrong.found and float(wrong.expected) == pytest.approx(ratio, 1e-3)


# -- the comparison itself, on hand-made frames ---------------------------------------------------------------


def frame(values, **labels):
    stamps = pd.to_datetime([1000 + i for i in range(len(values))], unit="s", utc=True)
    return pd.DataFrame(
        {**{k: [v] * len(values) for k, v in labels.items()}, "timestamp": stamps, "value": [float(v) for v in values]}
    )


def test_compare_treats_nan_as_a_value_that_must_match():
    nan = math.nan
    assert compare_frames(frame([1, 2, nan]), frame([1, 2, nan], other="x"))
    verdict = compare_frames(frame([1, 2, nan]), frame([1, 2, 3]))
    assert not verdict and "1 of 3" in verdict.reason and verdict.expected.startswith("no value")


def test_compare_pairs_several_series_by_labels():
    expected = pd.concat([frame([1, 2], model_name="a"), frame([3, 4], model_name="b")])
    assert compare_frames(expected, expected.iloc[::-1])
    renamed = pd.concat([frame([1, 2], model_name="a"), frame([3, 4], model_name="c")])
    assert "same labels" in compare_frames(expected, renamed).reason
    assert "1 series" in compare_frames(expected, frame([1, 2])).reason


def test_compare_tolerates_only_rounding():
    assert compare_frames(frame([1.0]), frame([1.0 + 1e-9]))
    assert not compare_frames(frame([1.0]), frame([1.01]))
    assert not compare_frames(
        frame(
            [],
        ),
        frame([1.0]),
    )
