"""Lab 5's cluster part: a learner's local PromQL, adjusted for the labels of the cluster's scrape.

``promql.for_cluster`` is checked on the ways learners write the lab's three queries (the right
answers of tests/learner_answers/test_learner_answers_lab5.py), on what it must leave alone and
what it must refuse; then live, on a real Prometheus scraping a predictor and a transformer with the
labels the PodMonitor gives them: the adjusted query counts the predictor's requests once, where
the same query without the component would count them twice.
"""

from __future__ import annotations

import time
from types import SimpleNamespace

import pytest

from kserve_workshop.custom.chain import LocalChain, predict_labels
from kserve_workshop.errors import WorkshopError
from kserve_workshop.metrics import LocalPrometheus
from kserve_workshop.metrics.promql import CLUSTER_WINDOW, for_cluster
from kserve_workshop.training import save_model, train_iris

MODEL, NAMESPACE = "iris-monitored", "learner-07"
SELECT = f'{{namespace="{NAMESPACE}",model_name="{MODEL}",component="predictor"}}'
SLOW_FIXTURES = {"cluster_like"}


def adjusted(query: str, **kwargs) -> str:
    return for_cluster(query, model_name=MODEL, namespace=NAMESPACE, **kwargs).query


@pytest.mark.parametrize(
    "local, cluster",
    [
        ("sum(rate(request_predict_seconds_count[5s]))", f"sum(rate(request_predict_seconds_count{SELECT}[1m]))"),
        (
            'sum by (model_name) (rate(request_predict_seconds_count{model_name="sklearn-iris"}[5s]))',
            f"sum by (model_name) (rate(request_predict_seconds_count{SELECT}[1m]))",
        ),
        ("rate(request_predict_seconds_count[5s])", f"rate(request_predict_seconds_count{SELECT}[1m])"),
        (
            "  sum(rate(request_predict_seconds_count{job='kserve-model-server'}[5s]))\n",
            f"  sum(rate(request_predict_seconds_count{SELECT}[1m]))\n",
        ),
        (
            "histogram_quantile(0.95, sum by (le) (rate(request_predict_seconds_bucket[5s])))",
            f"histogram_quantile(0.95, sum by (le) (rate(request_predict_seconds_bucket{SELECT}[1m])))",
        ),
        (
            "histogram_quantile(0.95, rate(request_predict_seconds_bucket [ 5s ]))",
            f"histogram_quantile(0.95, rate(request_predict_seconds_bucket{SELECT} [1m]))",
        ),
        (
            "rate(request_predict_seconds_sum[5s]) / rate(request_predict_seconds_count[5s])",
            f"rate(request_predict_seconds_sum{SELECT}[1m]) / rate(request_predict_seconds_count{SELECT}[1m])",
        ),
        (
            'sum(rate({__name__="request_predict_seconds_count"}[5s]))',
            f'sum(rate({{__name__="request_predict_seconds_count",{SELECT[1:]}[1m]))',
        ),
    ],
)
def test_the_ways_learners_write_the_queries_get_the_clusters_selectors(local, cluster):
    assert adjusted(local) == cluster


def test_what_changed_is_said_once_each():
    result = for_cluster(
        'sum(rate(request_predict_seconds_count{model_name="sklearn-iris", job="x"}[5s])) / '
        "sum(rate(request_predict_seconds_count[5s]))",
        model_name=MODEL,
        namespace=NAMESPACE,
    )
    assert result.changes == (
        'model_name="sklearn-iris" -> model_name="iris-monitored"',
        'dropped job="x" (a label of the local scrape)',
        'added namespace="learner-07"',
        'added component="predictor"',
        "window [5s] -> [1m]",
        'added model_name="iris-monitored"',
    )


def test_what_is_not_a_model_servers_selector_is_left_alone():
    query = (
        'sum(rate(request_predict_seconds_count{le!="a}b[5s]", model_name=~"iris.*"}[5s] offset 1m)) '
        '* on() group_left() up{job="kserve-model-server"} and vector(1)'
    )
    result = adjusted(query)
    assert 'le!="a}b[5s]"' in result and "[1m] offset 1m" in result  # strings are not parsed as PromQL
    assert 'model_name=~"iris.*"' not in result and 'model_name="iris-monitored"' in result
    assert result.endswith('up{job="kserve-model-server"} and vector(1)')  # other series keep their matchers
    assert adjusted("rate(request_predict_seconds_count[5m:1m])").endswith("[5m:1m])")  # a subquery is not a window


def test_a_transformer_or_another_window_can_be_asked_for():
    assert (
        adjusted("rate(request_preprocess_seconds_count[5s])", component="transformer", window="30s")
        == f"rate(request_preprocess_seconds_count{SELECT.replace('predictor', 'transformer')}[30s])"
    )
    assert (
        adjusted("rate(request_predict_seconds_count[5s])", component=None)
        == f'rate(request_predict_seconds_count{{namespace="{NAMESPACE}",model_name="{MODEL}"}}[1m])'
    )


def test_window_independent_functions_and_comments_are_adjusted():
    assert adjusted("increase(request_predict_seconds_count[1m]) / 60") == (
        f'increase(request_predict_seconds_count{{namespace="{NAMESPACE}",model_name="{MODEL}",'
        'component="predictor"}[1m]) / 60'
    )
    assert "[1m]" in adjusted("avg_over_time(request_predict_seconds_sum[5s])")
    assert "[1m]" in adjusted("idelta(request_predict_seconds_count[5s])")  # the last two samples, whatever the window
    assert "[1m]" in adjusted("sum(rate(request_predict_seconds_count[5s])) / (increase_factor_not_a_call + 1)")
    with_comment = adjusted("rate(request_predict_seconds_count[5s])  # per second {not a selector}")
    assert with_comment.endswith("[1m])  # per second {not a selector}")


@pytest.mark.parametrize(
    "query, kwargs, message",
    [
        ("sum(rate(up[5s]))", {}, "no series of KServe's model server"),
        ("", {}, "non-empty PromQL string"),
        (42, {}, "non-empty PromQL string"),
        ("rate(request_predict_seconds_count{model_name=iris}[5s])", {}, "cannot read the label matchers"),
        ('rate(request_predict_seconds_count{model_name="iris}[5s])', {}, "cannot read the label matchers"),
        ('label_replace(rate(request_predict_seconds_count[5s]), "a", "b)', {}, "unclosed string"),
        ("rate(request_predict_seconds_count[5s)", {}, "unclosed ["),
        ("rate(request_predict_seconds_count[5s])", {"window": "a minute"}, "not a PromQL range"),
        ("rate(request_predict_seconds_count[5s])", {"namespace": ""}, "namespace must be a non-empty string"),
        ("increase(request_predict_seconds_count[5s]) / 5", {}, "counts over its window"),
        ("sum(increase(request_predict_seconds_count{model_name='x'}[10s]))", {}, "counts over its window"),
        ("sum_over_time(request_predict_seconds_count[30s])", {}, "counts over its window"),
        ('increase(request_predict_seconds_count{path=")"}[5s])', {}, "counts over its window"),
    ],
)
def test_what_cannot_be_adjusted_is_refused(query, kwargs, message):
    arguments = {"model_name": MODEL, "namespace": NAMESPACE, **kwargs}
    with pytest.raises(WorkshopError, match=message.replace("[", r"\[")):
        for_cluster(query, **arguments)


# -- live: a predictor and a transformer labelled as the PodMonitor labels them -----------------


def _scraped(prom) -> float:
    """The smaller of the two components' scraped predict counts (-1 before both are scraped)."""
    frame = prom.query(f'request_predict_seconds_count{{model_name="{MODEL}"}}')
    return float(frame["value"].min()) if len(frame) == 2 else -1.0


def _wait_scraped(prom, count: int, timeout: float = 15) -> None:
    deadline = time.monotonic() + timeout
    while _scraped(prom) < count:
        assert time.monotonic() < deadline, f"Prometheus did not scrape {count} requests within {timeout} s"
        time.sleep(0.25)


@pytest.fixture(scope="module")
def cluster_like(tmp_path_factory):
    model_dir = tmp_path_factory.mktemp("promql-cluster") / "model"
    save_model(train_iris(), model_dir)
    scrape = {"namespace": NAMESPACE, "inferenceservice": MODEL}
    with LocalChain(model_dir, MODEL) as chain:
        targets = [
            (chain.predictor, {**scrape, "component": "predictor"}),
            (chain.transformer, {**scrape, "component": "transformer"}),
        ]
        with LocalPrometheus(targets, scrape_interval="1s").start() as prom:
            flowers = [{"sepal_length": 6.8, "sepal_width": 2.8, "petal_length": 4.8, "petal_width": 1.4}]
            predict_labels(chain.url, MODEL, flowers)  # one request creates the series ...
            _wait_scraped(prom, 1)
            for _ in range(30):  # ... and once both are scraped, more requests make every rate non-zero
                predict_labels(chain.url, MODEL, flowers)
            _wait_scraped(prom, 31)
            time.sleep(2.5)  # a few more scrapes: a rate needs two samples in its window
            yield SimpleNamespace(prom=prom, predictor=chain.predictor)


def test_the_adjusted_queries_select_the_predictor_once(cluster_like):
    prom, now = cluster_like.prom, time.time()
    instance = f'{{instance="127.0.0.1:{cluster_like.predictor.port}"}}'
    rate = adjusted("sum(rate(request_predict_seconds_count[5s]))")
    assert CLUSTER_WINDOW in rate
    by_instance = f"sum(rate(request_predict_seconds_count{instance}[{CLUSTER_WINDOW}]))"
    assert prom.query_value(rate, time=now) > 0
    assert prom.query_value(rate, time=now) == pytest.approx(prom.query_value(by_instance, time=now))
    # On the counters themselves (rates of two targets extrapolate differently): the component halves the count.
    count = adjusted("sum(request_predict_seconds_count)")
    assert (
        prom.query_value(count, time=now)
        == prom.query_value(f"sum(request_predict_seconds_count{instance})", time=now)
        == 31
    )
    assert prom.query_value(count.replace(',component="predictor"', ""), time=now) == 62
    mean = adjusted("sum(rate(request_predict_seconds_sum[5s])) / sum(rate(request_predict_seconds_count[5s]))")
    mean_by_instance = (
        f"sum(rate(request_predict_seconds_sum{instance}[{CLUSTER_WINDOW}])) / "
        f"sum(rate(request_predict_seconds_count{instance}[{CLUSTER_WINDOW}]))"
    )
    assert prom.query_value(mean, time=now) == pytest.approx(prom.query_value(mean_by_instance, time=now))
