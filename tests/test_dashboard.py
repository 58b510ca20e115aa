"""Our Grafana dashboard: valid JSON, templated Prometheus datasource, and PromQL that a live
Prometheus evaluates against the series KServe's model server really exports."""

from __future__ import annotations

import copy
import re

import pytest

from kserve_workshop.metrics.exposition import read_metrics
from kserve_workshop.metrics import dashboard as dash
from kserve_workshop.metrics.promql import MODEL_SERVER_HISTOGRAMS

from support.monitoring_stack import monitoring_stack

#: Labels the cluster's scrape adds (prometheus-operator target labels); a local scrape has none.
SCRAPE_TIME_LABELS = {"namespace", "pod", "container", "endpoint"}


#: Tests using these fixtures start servers: marked slow (see conftest.py).
SLOW_FIXTURES = {"stack"}


@pytest.fixture(scope="module")
def stack(tmp_path_factory):
    # No traffic needed: one prediction creates every series, and Prometheus scrapes them.
    with monitoring_stack(tmp_path_factory.mktemp("dashboard"), duration=0, settle=2.1) as built:
        yield built


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
        assert any(e.startswith(f"histogram_quantile({quantile},") and "request_predict_seconds_bucket" in e
                   and "namespace, model_name" in e for e in exprs), quantile
    units = {p["title"]: p["fieldConfig"]["defaults"].get("unit") for p in dash.panels(board) if p["type"] != "text"}
    assert units["Request rate by model"] == "reqps"
    assert units["Predict latency p50 / p95 / p99 by model"] == "s"


@pytest.mark.parametrize("breakage, message", [
    (lambda b: b["panels"][1].update(datasource={"type": "prometheus", "uid": "P1809F7CD0C75ACF3"}),
     "does not use the $datasource"),
    (lambda b: b["panels"][1]["targets"][0].update(datasource={"uid": "prometheus"}), "has its own datasource"),
    (lambda b: b["templating"]["list"].pop(0), "no datasource variable"),
    (lambda b: b["panels"][2].update(id=b["panels"][1]["id"]), "ids must be present and unique"),
    (lambda b: b["panels"][2]["gridPos"].update(x=4), "overlap"),
    (lambda b: b["panels"][2]["gridPos"].update(x=20), "does not fit"),
    (lambda b: b["panels"][1]["targets"][0].update(expr="sum(rate(x{ns=\"$nmspace\"}[5m]))"),
     "$nmspace, which is not a dashboard variable"),
    (lambda b: b["panels"][1].update(targets=[]), "has no query"),
    (lambda b: b["templating"]["list"][1].update(datasource={"uid": "abc"}), "variable $namespace does not use"),
])
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
    targets[0]["expr"] = "sum(rate(request_predict_seconds_count[$__rate_interval])"        # unbalanced
    targets[1]["expr"] = "sum(rate(kserve_request_latency_count[$__rate_interval]))"        # not exported
    targets[2]["expr"] = 'histogram_quantile(0.95, rate(revision_app_request_latencies_bucket[5m]))'  # KFServing-era
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
