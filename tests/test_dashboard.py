"""Our Grafana dashboard: valid JSON, templated Prometheus datasource, and PromQL that a live
Prometheus evaluates against the series KServe's model servers really export.

The live part runs what a transformer InferenceService runs, on 127.0.0.1: the Lab 6 transformer in
front of the iris predictor, two KServe model servers that both export
``request_predict_seconds{model_name=<the same name>}``. Prometheus scrapes each with the label the
cluster's PodMonitor copies from the pod (``component``), so the series look like the cluster's.
"""

from __future__ import annotations

import copy
import re
import time
from types import SimpleNamespace

import pytest

from kserve_workshop.custom.chain import LocalChain, predict_labels
from kserve_workshop.metrics import LocalPrometheus
from kserve_workshop.metrics import dashboard as dash
from kserve_workshop.metrics.exposition import read_metrics
from kserve_workshop.metrics.promql import MODEL_SERVER_HISTOGRAMS
from kserve_workshop.training import save_model, train_iris

#: Labels the cluster's scrape adds (prometheus-operator target labels); a local scrape has none.
SCRAPE_TIME_LABELS = {"namespace", "pod", "container", "endpoint"}
FLOWERS = [
    {"sepal_length": 6.8, "sepal_width": 2.8, "petal_length": 4.8, "petal_width": 1.4},
    {"sepal_length": 5.1, "sepal_width": 3.5, "petal_length": 1.4, "petal_width": 0.2},
]
REQUESTS = 12
TOTAL = REQUESTS + 1  # and the first one

#: Tests using these fixtures start servers: marked slow (see conftest.py).
SLOW_FIXTURES = {"stack"}


def _scraped_count(prom, component: str) -> float:
    frame = prom.query(f'sum(request_predict_seconds_count{{component="{component}"}})')
    return float(frame["value"].iloc[0]) if not frame.empty else -1.0


@pytest.fixture(scope="module")
def stack(tmp_path_factory):
    model_dir = tmp_path_factory.mktemp("dashboard") / "model"
    save_model(train_iris(), model_dir)
    with LocalChain(model_dir) as chain:
        targets = [(chain.predictor, {"component": "predictor"}), (chain.transformer, {"component": "transformer"})]
        with LocalPrometheus(targets).start() as prom:
            # One request creates the series; once scraped, REQUESTS more make every rate non-zero.
            for wanted in (1, TOTAL):
                for _ in range(wanted - max(0, int(_scraped_count(prom, "predictor")))):
                    predict_labels(chain.url, chain.model_name, FLOWERS)
                _wait_scraped(prom, wanted)
            time.sleep(2.1)  # a few more scrapes: a rate needs two samples inside its window
            yield SimpleNamespace(prom=prom, chain=chain, server=chain.predictor)


def _wait_scraped(prom, count: int, timeout: float = 15) -> None:
    deadline = time.monotonic() + timeout
    while min(_scraped_count(prom, c) for c in ("predictor", "transformer")) < count:
        assert time.monotonic() < deadline, f"Prometheus did not scrape {count} requests within {timeout} s"
        time.sleep(0.25)


@pytest.fixture()
def board():
    return dash.load_dashboard()


# -- the JSON alone ------------------------------------------------------------------------------------


def test_dashboard_is_well_formed(board):
    assert dash.structure_problems(board) == []
    assert board["uid"] == "kserve-workshop-models"
    assert [v["name"] for v in dash.variables(board)] == ["datasource", "namespace", "model_name"]


def test_every_query_panel_uses_the_datasource_variable(board):
    query_panels = [p for p in dash.panels(board) if p["type"] not in {"text", "row"}]
    assert query_panels
    for panel in query_panels:
        assert panel["datasource"] == {"type": "prometheus", "uid": "${datasource}"}
        assert all(t["datasource"]["uid"] == "${datasource}" for t in panel["targets"])


def test_panels_cover_rate_and_latency_quantiles_per_model(board):
    exprs = [t["expr"] for _, t in dash.targets(board)]
    assert any("rate(request_predict_seconds_count" in e and "model_name" in e for e in exprs)
    for quantile in ("0.5", "0.95", "0.99"):
        assert any(
            e.startswith(f"histogram_quantile({quantile},")
            and "request_predict_seconds_bucket" in e
            and "namespace, model_name" in e
            for e in exprs
        ), quantile
    units = {p["title"]: p["fieldConfig"]["defaults"].get("unit") for p in dash.panels(board) if p["type"] != "text"}
    assert units["Request rate by model and component"] == "reqps"
    assert units["Predict latency p50 / p95 / p99 by model and component"] == "s"


@pytest.mark.parametrize(
    "breakage, message",
    [
        (
            lambda b: b["panels"][1].update(datasource={"type": "prometheus", "uid": "P1809F7CD0C75ACF3"}),
            "does not use the $datasource",
        ),
        (lambda b: b["panels"][1]["targets"][0].update(datasource={"uid": "prometheus"}), "has its own datasource"),
        (lambda b: b["templating"]["list"].pop(0), "no datasource variable"),
        (lambda b: b["panels"][2].update(id=b["panels"][1]["id"]), "ids must be present and unique"),
        (lambda b: b["panels"][2]["gridPos"].update(x=4), "overlap"),
        (lambda b: b["panels"][2]["gridPos"].update(x=20), "does not fit"),
        (
            lambda b: b["panels"][1]["targets"][0].update(expr='sum(rate(x{ns="$nmspace"}[5m]))'),
            "$nmspace, which is not a dashboard variable",
        ),
        (lambda b: b["panels"][1].update(targets=[]), "has no query"),
        (lambda b: b["templating"]["list"][1].update(datasource={"uid": "abc"}), "variable $namespace does not use"),
        (
            lambda b: b["panels"][1]["targets"][0].update(
                expr=b["panels"][1]["targets"][0]["expr"].replace(', component="predictor"', "")
            ),
            "mixes the predictor's and the transformer's series",
        ),
        (
            lambda b: b["panels"][4]["targets"][0].update(
                expr=b["panels"][4]["targets"][0]["expr"].replace("model_name, component)", "model_name)")
            ),
            "mixes the predictor's and the transformer's series",
        ),
    ],
)
def test_structure_check_rejects_broken_dashboards(board, breakage, message):
    broken = copy.deepcopy(board)
    breakage(broken)
    problems = dash.structure_problems(broken)
    assert any(message in problem for problem in problems), problems


def test_substitute_refuses_unknown_variables():
    assert dash.substitute('x{a=~"$namespace"}[$__rate_interval]') == 'x{a=~".*"}[5s]'
    assert dash.substitute("[[model_name]] ${model_name:regex}") == ".* .*"
    with pytest.raises(Exception, match=r"no value to substitute for \$cluster"):
        dash.substitute('up{cluster="$cluster"}')


# -- the queries, on the live local Prometheus -----------------------------------------------------------


def test_every_query_parses_and_finds_series(stack, board):
    assert dash.query_problems(board, stack.prom) == []


def test_query_check_rejects_bad_promql_and_unknown_metrics(stack, board):
    broken = copy.deepcopy(board)
    targets = [t for _, t in dash.targets(broken)]
    targets[0]["expr"] = "sum(rate(request_predict_seconds_count[$__rate_interval])"  # unbalanced
    targets[1]["expr"] = "sum(rate(kserve_request_latency_count[$__rate_interval]))"  # not exported
    targets[2]["expr"] = "histogram_quantile(0.95, rate(revision_app_request_latencies_bucket[5m]))"  # KFServing-era
    problems = dash.query_problems(broken, stack.prom)
    assert len(problems) == 3, problems
    assert "Prometheus rejects it (bad_data)" in problems[0] and "parse error" in problems[0]
    assert "no series" in problems[1] and "no series" in problems[2]


def test_metrics_named_by_the_dashboard_are_exported_by_the_model_server(stack, board):
    exported = set(re.findall(r"^# TYPE (\w+) ", read_metrics(stack.server.url), re.M))
    assert set(MODEL_SERVER_HISTOGRAMS) <= exported
    named = set()
    for _, expr in dash.dashboard_queries(board):
        named |= {re.sub(r"_(bucket|count|sum)$", "", name) for name in re.findall(r"\b(request_\w+)", expr)}
    assert named and named <= exported, named - exported


def test_variables_list_labels_the_series_carry(stack, board):
    for variable in dash.variables(board):
        if variable["type"] != "query":
            continue
        match = re.match(r"label_values\((.+),\s*(\w+)\)$", variable["definition"])
        assert match, variable["definition"]
        expr, label = match.groups()
        frame = stack.prom.query(dash.substitute(expr))
        assert not frame.empty
        assert label in frame.columns or label in SCRAPE_TIME_LABELS, label


# -- predictor and transformer apart ---------------------------------------------------------------------


def test_every_model_server_rate_selects_or_splits_by_component(board):
    rates = [(panel["title"], t["expr"]) for panel, t in dash.targets(board) if "rate(request_" in t["expr"]]
    assert len(rates) >= 8
    for title, expr in rates:
        assert 'component="' in expr or re.search(r"by \([^)]*component", expr), (title, expr)


def test_both_components_export_the_same_series_so_unselected_rates_count_twice(stack):
    """Why the dashboard selects components: the chain answered REQUESTS requests, and each was one
    predict at the transformer and one at the predictor."""
    both = stack.prom.query("sum(request_predict_seconds_count)")
    assert float(both["value"].iloc[0]) == 2 * TOTAL
    per_component = stack.prom.query("sum by (component, model_name) (request_predict_seconds_count)")
    assert sorted(zip(per_component["component"], per_component["model_name"], per_component["value"])) == [
        ("predictor", stack.chain.model_name, TOTAL),
        ("transformer", stack.chain.model_name, TOTAL),
    ]


def test_the_request_rate_panel_counts_each_request_once(stack, board):
    """The panel's own selector, on the counter itself (a rate's extrapolation would blur the count)."""
    panel = next(p for p in dash.panels(board) if p["title"].startswith("Request rate (selected models"))
    expr = dash.substitute(panel["targets"][0]["expr"])
    counter = re.sub(r"rate\((request_\w+\{[^}]*\})\[[^\]]+\]\)", r"\1", expr)
    assert counter != expr and "rate(" not in counter, counter
    assert float(stack.prom.query(counter)["value"].iloc[0]) == TOTAL
    unselected = counter.replace(', component="predictor"', "")
    assert float(stack.prom.query(unselected)["value"].iloc[0]) == 2 * TOTAL


def test_latency_panels_show_predictor_and_transformer_apart(stack, board):
    panel = next(p for p in dash.panels(board) if p["title"].startswith("Predict latency p50"))
    frame = stack.prom.query(
        dash.substitute(panel["targets"][1]["expr"], {**dash.LOCAL_VALUES, "__rate_interval": "10m"})
    )
    assert sorted(frame["component"]) == ["predictor", "transformer"]
    transformer = next(p for p in dash.panels(board) if p["title"].startswith("Transformer pre/post"))
    for target in transformer["targets"]:
        assert 'component="transformer"' in target["expr"]
        assert not stack.prom.query(
            dash.substitute(target["expr"], {**dash.LOCAL_VALUES, "__rate_interval": "10m"})
        ).empty
