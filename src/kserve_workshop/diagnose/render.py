"""Show a diagnosis: plain words in the terminal (rich), as plain text, or as JSON."""

from __future__ import annotations

import io
import json

from rich.console import Console, Group
from rich.table import Table
from rich.text import Text

from .findings import (
    CALL_EXPLAINED,
    CALL_UNKNOWN,
    HEALTHY,
    NOT_READY,
    READY_WITH_WARNINGS,
    STARTING,
    UNKNOWN,
    Diagnosis,
    Finding,
)

STATE_STYLE = {
    HEALTHY: "bold green",
    READY_WITH_WARNINGS: "bold yellow",
    NOT_READY: "bold red",
    STARTING: "bold cyan",
    UNKNOWN: "bold magenta",
    CALL_EXPLAINED: "bold red",
    CALL_UNKNOWN: "bold magenta",
}
STATE_LABEL = {
    HEALTHY: "HEALTHY",
    READY_WITH_WARNINGS: "READY, WITH WARNINGS",
    NOT_READY: "NOT READY",
    STARTING: "STARTING",
    UNKNOWN: "UNKNOWN STATE",
    CALL_EXPLAINED: "FAILED CALL",
    CALL_UNKNOWN: "FAILED CALL, UNEXPLAINED",
}


def _indent(spaces: int, text: Text) -> Text:
    # Spaces, not rich's Padding: Padding crops long lines on a soft-wrapping console (the workshop's).
    return Text(" " * spaces) + text


def _one_line(text: str, limit: int) -> str:
    text = " ".join(str(text).split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _finding(index: int, finding: Finding, *, top: bool) -> Group:
    # Text objects, never markup strings: messages are full of [brackets] (e.g. "[Errno 2]").
    head = Text("Most likely: " if top else f"{index}. ", style="bold")
    head.append(finding.title, style="bold")
    head.append(f"   (confidence: {finding.confidence_label}, {finding.severity}, rule {finding.rule})", style="dim")
    evidence = finding.evidence if top else finding.evidence[:3]
    parts = [head, _indent(3, Text(finding.cause)), _indent(3, Text("Fix:", style="bold"))]
    parts += [_indent(5, Text(f"- {step}")) for step in finding.fix]
    parts.append(_indent(3, Text("Evidence:", style="bold")))
    parts += [_indent(5, Text(f"- {_one_line(str(ev), 400)}", style="dim")) for ev in evidence]
    if len(evidence) < len(finding.evidence):
        parts.append(_indent(5, Text(f"- … {len(finding.evidence) - len(evidence)} more (see --json)", style="dim")))
    return Group(*parts)


def _conditions_table(diagnosis: Diagnosis) -> Table:
    table = Table(title="Raw conditions", title_justify="left", expand=False)
    for column in ("object", "type", "status", "reason", "message"):
        table.add_column(column, overflow="fold")
    for cond in diagnosis.conditions:
        table.add_row(
            *(Text(_one_line(cond.get(k, ""), 300)) for k in ("object", "type", "status", "reason", "message"))
        )
    return table


def _not_true(diagnosis: Diagnosis, limit: int = 12) -> list:
    rows = [c for c in diagnosis.conditions if c.get("status") != "True"]
    out: list = [Text("Conditions that are not True:", style="bold")] if rows else []
    for cond in rows[:limit]:
        line = f"- {cond['object']}: {cond['type']}={cond['status']}"
        if cond.get("reason"):
            line += f" {cond['reason']}"
        if cond.get("message"):
            line += f": {cond['message']}"
        out.append(_indent(2, Text(_one_line(line, 200))))
    if len(rows) > limit:
        out.append(_indent(2, Text(f"- … {len(rows) - limit} more (see --json)")))
    return out


def renderables(diagnosis: Diagnosis) -> list:
    """What to print, in order (so notebooks, tasks and plain text share one layout)."""
    state = Text(f"{diagnosis.subject}: ", style="bold")
    state.append(
        STATE_LABEL.get(diagnosis.state, diagnosis.state.upper()), style=STATE_STYLE.get(diagnosis.state, "bold")
    )
    out: list = [state, Text(diagnosis.summary)]
    for index, finding in enumerate(diagnosis.findings, 1):
        if index == 2:
            out.append(Text("Other findings:", style="bold"))
        out.append(_finding(index, finding, top=index == 1))
    if diagnosis.state == UNKNOWN and diagnosis.conditions:
        out.append(_conditions_table(diagnosis))  # nothing matched: show everything the objects say
    elif diagnosis.state != HEALTHY:
        out += _not_true(diagnosis)
    if diagnosis.state != HEALTHY and diagnosis.pod_states:
        out.append(Text("Response:" if diagnosis.state in (CALL_EXPLAINED, CALL_UNKNOWN) else "Pods:", style="bold"))
        out += [_indent(2, Text(f"- {line}")) for line in diagnosis.pod_states]
    if diagnosis.missing:
        out.append(Text("Not available for this diagnosis:", style="bold yellow"))
        out += [_indent(2, Text(f"- {item}")) for item in diagnosis.missing]
    if diagnosis.origin:
        out.append(Text(f"(state read from {diagnosis.origin})", style="dim"))
    return out


def print_diagnosis(diagnosis: Diagnosis, console: Console) -> None:
    for item in renderables(diagnosis):
        console.print(item)


def render_text(diagnosis: Diagnosis, width: int = 110) -> str:
    """The diagnosis as plain text (no colour), e.g. for an exception message."""
    console = Console(file=io.StringIO(), width=width, no_color=True, color_system=None, highlight=False, emoji=False)
    print_diagnosis(diagnosis, console)
    return "\n".join(line.rstrip() for line in console.file.getvalue().splitlines()).strip() + "\n"


def render_json(diagnosis: Diagnosis) -> str:
    return json.dumps(diagnosis.to_dict(), indent=2)
