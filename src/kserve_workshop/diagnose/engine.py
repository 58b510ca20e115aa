"""Run the rules over a snapshot and decide the overall state, honestly."""

from __future__ import annotations

from .findings import (
    HEALTHY,
    NOT_READY,
    READY_WITH_WARNINGS,
    STARTING,
    UNKNOWN,
    Diagnosis,
    Finding,
    rank,
)
from .rules import RULES, Rule, all_conditions
from .snapshot import Snapshot, all_statuses, condition, is_true, name_of, ref


def run_rules(snap: Snapshot, rules: list[Rule] = RULES) -> tuple[list[Finding], list[str]]:
    """All findings, plus a note for any rule that broke (one broken rule must not hide the others)."""
    findings: list[Finding] = []
    broken: list[str] = []
    for rule in rules:
        try:
            findings.extend(rule(snap))
        except Exception as exc:  # noqa: BLE001 - reported in the diagnosis, never swallowed silently
            broken.append(f"internal: rule {rule.__name__} failed ({type(exc).__name__}: {exc})")
    return findings, broken


def raw_conditions(snap: Snapshot) -> list[dict]:
    return [
        {
            "object": ref(obj),
            "type": c.get("type", ""),
            "status": c.get("status", ""),
            "reason": c.get("reason", ""),
            "message": c.get("message", ""),
        }
        for obj, c in all_conditions(snap)
    ]


def pod_states(snap: Snapshot) -> list[str]:
    """One line per pod: phase and every container's state, as `kubectl get pods` would hint."""
    lines = []
    for pod in snap.pods:
        parts = []
        for _, status in all_statuses(pod):
            state = status.get("state") or {}
            if "running" in state:
                text = "running" + ("" if status.get("ready") else " (not ready)")
            elif "waiting" in state:
                text = f"waiting: {(state['waiting'] or {}).get('reason', '?')}"
            elif "terminated" in state:
                term = state["terminated"] or {}
                text = f"terminated: {term.get('reason', '?')} (exit {term.get('exitCode', '?')})"
            else:
                text = "no state"
            restarts = status.get("restartCount") or 0
            parts.append(f"{status.get('name')} {text}" + (f", {restarts} restarts" if restarts else ""))
        phase = (pod.get("status") or {}).get("phase", "?")
        lines.append(f"{name_of(pod)} [{phase}]: " + ("; ".join(parts) if parts else "no container statuses yet"))
    return lines


def diagnose_snapshot(snap: Snapshot, rules: list[Rule] = RULES) -> Diagnosis:
    findings, broken = run_rules(snap, rules)
    findings = rank(findings)
    if any(f.severity in ("error", "warning") for f in findings):
        # "still starting" is only worth saying when nothing is actually wrong.
        findings = [f for f in findings if f.severity != "info"]
    subject = f"InferenceService {snap.namespace}/{snap.name}"
    url = (snap.isvc.get("status") or {}).get("url")
    ready = is_true(condition(snap.isvc, "Ready"))
    if ready and not findings:
        state, summary = HEALTHY, f"Ready{f' at {url}' if url else ''}; nothing looks wrong."
    elif ready:
        state, summary = READY_WITH_WARNINGS, f"Ready{f' at {url}' if url else ''}, but: {findings[0].title}."
    elif any(f.severity in ("error", "warning") for f in findings):
        state, summary = NOT_READY, f"Not Ready. Most likely: {findings[0].title}."
    elif findings:
        state, summary = STARTING, f"Not Ready yet, and nothing has failed: {findings[0].title.lower()}."
    else:
        state = UNKNOWN
        summary = (
            "Not Ready, and none of the known causes matches. This is what the objects say (read the "
            "messages below); `kubectl describe inferenceservice` and the events may tell more."
        )
    return Diagnosis(
        subject, state, summary, findings, raw_conditions(snap), pod_states(snap), snap.missing + broken, snap.origin
    )
