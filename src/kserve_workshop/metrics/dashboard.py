"""The workshop's Grafana dashboard (JSON): read it, and find what is wrong with it.

Two kinds of checks: ``structure_problems`` looks at the JSON alone (templated Prometheus
datasource everywhere, unique ids, panels on the grid); ``query_problems`` asks a live Prometheus
to evaluate every panel's and variable's PromQL with the template variables filled in, and
reports queries that do not parse or find no series (a metric the model server does not export).
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any, Iterator

from ..errors import WorkshopError
from ..paths import MANIFESTS_DIR
from .client import PromQLError

DASHBOARD_FILE = MANIFESTS_DIR / "platform" / "monitoring" / "dashboards" / "kserve-models.json"
DATASOURCE_VARIABLE = "datasource"
GRID_WIDTH = 24
#: What Grafana would put in place of the variables, for evaluating the queries locally
#: (``All`` for the multi-value variables: their ``allValue`` is ``.*``).
LOCAL_VALUES = {"namespace": ".*", "model_name": ".*", "__rate_interval": "5s", "__interval": "1s", "__range": "1m"}
_VARIABLE = re.compile(r"\$\{(\w+)(?::\w+)?\}|\$(\w+)|\[\[(\w+)\]\]")
# A rate over KServe's histograms. Both pods of an InferenceService with a transformer export
# request_*_seconds{model_name=<isvc>}, so such a query must pick a component or split by it
# (the PodMonitor copies the pods' `component` label onto every series).
_MODEL_SERVER_RATE = re.compile(r"\b(?:rate|increase|irate)\(\s*request_\w+_seconds")
_BY_COMPONENT = re.compile(r'component\s*=~?\s*"[^"]+"|\bby\s*\([^)]*\bcomponent\b')
_LABEL_VALUES = re.compile(r"^\s*label_values\(\s*(?P<expr>.+?)\s*,\s*(?P<label>\w+)\s*\)\s*$", re.S)


def load_dashboard(path: str | Path = DASHBOARD_FILE) -> dict[str, Any]:
    try:
        return json.loads(Path(path).read_text())
    except OSError as exc:
        raise WorkshopError(f"cannot read the dashboard {path}: {exc.strerror}") from exc
    except ValueError as exc:
        raise WorkshopError(f"the dashboard {path} is not valid JSON: {exc}") from exc


def panels(dashboard: dict[str, Any]) -> Iterator[dict[str, Any]]:
    """Every panel, including those nested in rows."""
    for panel in dashboard.get("panels", []):
        yield panel
        yield from panel.get("panels", [])


def targets(dashboard: dict[str, Any]) -> Iterator[tuple[dict[str, Any], dict[str, Any]]]:
    """(panel, target) for every query target."""
    for panel in panels(dashboard):
        for target in panel.get("targets", []):
            yield panel, target


def variables(dashboard: dict[str, Any]) -> list[dict[str, Any]]:
    return dashboard.get("templating", {}).get("list", [])


def substitute(expr: str, values: dict[str, str] = LOCAL_VALUES) -> str:
    """``expr`` with Grafana's ``$var``, ``${var}`` and ``[[var]]`` replaced; unknown ones are an error."""

    def replace(match: re.Match) -> str:
        name = next(group for group in match.groups() if group)
        if name not in values:
            raise WorkshopError(f"no value to substitute for ${name} in: {expr}")
        return values[name]

    return _VARIABLE.sub(replace, expr)


def _variable_query(variable: dict[str, Any]) -> str:
    query = variable.get("query")
    return query.get("query", "") if isinstance(query, dict) else (query or "")


def _uses_datasource_variable(datasource: Any) -> bool:
    uid = datasource.get("uid") if isinstance(datasource, dict) else datasource
    return uid in {f"${DATASOURCE_VARIABLE}", f"${{{DATASOURCE_VARIABLE}}}"}


def structure_problems(dashboard: dict[str, Any]) -> list[str]:
    """What is wrong with the dashboard's JSON itself (an empty list when nothing)."""
    problems = []
    for key in ("uid", "title", "panels", "templating", "schemaVersion"):
        if key not in dashboard:
            problems.append(f"missing top-level key {key!r}")
    declared = {v.get("name"): v for v in variables(dashboard)}
    source = declared.get(DATASOURCE_VARIABLE)
    if not source or source.get("type") != "datasource" or source.get("query") != "prometheus":
        problems.append(f"no datasource variable ${DATASOURCE_VARIABLE} of type 'datasource' for Prometheus")
    for name, variable in declared.items():
        if variable.get("type") == "query" and not _uses_datasource_variable(variable.get("datasource")):
            problems.append(f"variable ${name} does not use the ${DATASOURCE_VARIABLE} datasource")
    ids = [panel.get("id") for panel in panels(dashboard)]
    if len(ids) != len(set(ids)) or None in ids:
        problems.append(f"panel ids must be present and unique, got {ids}")
    problems.extend(_grid_problems(list(panels(dashboard))))
    for panel in panels(dashboard):
        title = panel.get("title", f"panel {panel.get('id')}")
        if panel.get("type") in {"row", "text"}:
            continue
        if not _uses_datasource_variable(panel.get("datasource")):
            problems.append(f"panel {title!r} does not use the ${DATASOURCE_VARIABLE} datasource")
        refs = [t.get("refId") for t in panel.get("targets", [])]
        if not refs:
            problems.append(f"panel {title!r} has no query")
        if len(refs) != len(set(refs)):
            problems.append(f"panel {title!r} repeats a refId: {refs}")
        for target in panel.get("targets", []):
            if not _uses_datasource_variable(target.get("datasource")):
                problems.append(f"panel {title!r} query {target.get('refId')} has its own datasource")
            if not target.get("expr", "").strip():
                problems.append(f"panel {title!r} query {target.get('refId')} has no expr")
            for name in _used_variables(target.get("expr", "")):
                if name not in declared and not name.startswith("__"):
                    problems.append(f"panel {title!r} uses ${name}, which is not a dashboard variable")
            expr = target.get("expr", "")
            if _MODEL_SERVER_RATE.search(expr) and not _BY_COMPONENT.search(expr):
                problems.append(
                    f"panel {title!r} query {target.get('refId')} mixes the predictor's and the "
                    'transformer\'s series: select component="..." or split by component'
                )
    return problems


def _used_variables(expr: str) -> set[str]:
    return {next(group for group in match.groups() if group) for match in _VARIABLE.finditer(expr)}


def _grid_problems(items: list[dict[str, Any]]) -> list[str]:
    problems, boxes = [], []
    for panel in items:
        grid = panel.get("gridPos") or {}
        if not all(isinstance(grid.get(k), int) for k in ("x", "y", "w", "h")):
            problems.append(f"panel {panel.get('title')!r} has no complete gridPos")
            continue
        if grid["x"] < 0 or grid["x"] + grid["w"] > GRID_WIDTH:
            problems.append(f"panel {panel.get('title')!r} does not fit the {GRID_WIDTH}-column grid")
        for other_title, other in boxes:
            if (
                grid["x"] < other["x"] + other["w"]
                and other["x"] < grid["x"] + grid["w"]
                and grid["y"] < other["y"] + other["h"]
                and other["y"] < grid["y"] + grid["h"]
            ):
                problems.append(f"panels {other_title!r} and {panel.get('title')!r} overlap")
        boxes.append((panel.get("title"), grid))
    return problems


def dashboard_queries(dashboard: dict[str, Any]) -> list[tuple[str, str]]:
    """(where, PromQL) for every panel target and every ``label_values`` variable query."""
    found = []
    for panel, target in targets(dashboard):
        found.append((f"panel {panel.get('title')!r} query {target.get('refId')}", target.get("expr", "")))
    for variable in variables(dashboard):
        if variable.get("type") != "query":
            continue
        match = _LABEL_VALUES.match(_variable_query(variable))
        if match is None:
            found.append((f"variable ${variable.get('name')}", _variable_query(variable)))
        else:
            found.append((f"variable ${variable.get('name')}", match.group("expr")))
    return found


def query_problems(
    dashboard: dict[str, Any], prom, *, values: dict[str, str] = LOCAL_VALUES, must_have_data: bool = True
) -> list[str]:
    """Evaluate every query on ``prom``; report those Prometheus rejects or (optionally) finds no series for."""
    problems = []
    for where, expr in dashboard_queries(dashboard):
        try:
            promql = substitute(expr, values)
            result = prom.query(promql)
        except PromQLError as exc:
            problems.append(f"{where}: Prometheus rejects it ({exc.error_type}): {exc.detail}")
            continue
        except WorkshopError as exc:
            problems.append(f"{where}: {exc.message}")
            continue
        if must_have_data and result.empty:
            problems.append(f"{where}: no series for {promql}")
    return problems
