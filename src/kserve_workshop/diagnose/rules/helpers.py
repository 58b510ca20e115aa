"""What every rule needs: evidence that cites fields, log search, and the common reads of a snapshot."""

from __future__ import annotations

import re
from typing import Iterator

from ..findings import Evidence
from ..snapshot import (
    MODEL_CONTAINER,
    LogKey,
    Snapshot,
    condition,
    condition_path,
    conditions,
    container_status,
    is_true,
    name_of,
    ref,
)


def clip(text: str, limit: int = 300) -> str:
    text = " ".join(str(text).split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


def condition_evidence(obj: dict, cond: dict, attr: str = "reason") -> Evidence:
    return Evidence(ref(obj), condition_path(cond.get("type", "?"), attr), clip(cond.get(attr, "")))


def event_evidence(event: dict) -> Evidence:
    involved = event.get("involvedObject") or {}
    count = event.get("count")
    times = f" (x{count})" if count and count > 1 else ""
    return Evidence(
        f"Event {event.get('reason', '?')}{times} on {involved.get('kind', '?')} {involved.get('name', '?')}",
        "message",
        clip(event.get("message", "")),
    )


def log_evidence(key: LogKey, lineno: int, line: str) -> Evidence:
    return Evidence(f"log {key.describe()}", f"line {lineno}", clip(line))


def find_line(text: str, pattern: str | re.Pattern) -> tuple[int, str, re.Match] | None:
    """First line matching ``pattern``: (1-based line number, line, match)."""
    regex = re.compile(pattern) if isinstance(pattern, str) else pattern
    for lineno, line in enumerate(text.splitlines(), 1):
        match = regex.search(line)
        if match:
            return lineno, line.strip(), match
    return None


def last_lines(text: str, count: int = 6) -> list[str]:
    return [line.strip() for line in text.strip().splitlines() if line.strip()][-count:]


def tail_evidence(key: LogKey, text: str, count: int) -> list[Evidence]:
    """The last ``count`` non-blank lines of a log, each cited with its line number."""
    numbered = [(n, line.strip()) for n, line in enumerate(text.splitlines(), 1) if line.strip()]
    return [log_evidence(key, n, line) for n, line in numbered[-count:]]


def all_conditions(snap: Snapshot) -> Iterator[tuple[dict, dict]]:
    """Every condition of the InferenceService and its Knative objects, with its object."""
    for obj in [snap.isvc, *snap.ksvcs, *snap.routes, *snap.revisions]:
        for cond in conditions(obj):
            yield obj, cond


def last_failure(isvc: dict) -> dict:
    return ((isvc.get("status") or {}).get("modelStatus") or {}).get("lastFailureInfo") or {}


FAILURE_PATH = "status.modelStatus.lastFailureInfo"
#: Evidence value for "this field is not there" (e.g. no storage-initializer in a pod's spec).
ABSENT = "(absent)"


def failing_termination(pod: dict, container: str) -> tuple[str, dict] | None:
    """Where a container's failed run is recorded (field path, terminated state), if it failed."""
    found = container_status(pod, container)
    if not found:
        return None
    path, status = found
    state, last = status.get("state") or {}, status.get("lastState") or {}
    terminated = state.get("terminated")
    if terminated and (terminated.get("exitCode") or 0) != 0:
        return f"{path}.state.terminated", terminated
    if last.get("terminated") and (
        (last["terminated"].get("exitCode") or 0) != 0 or last["terminated"].get("reason") == "OOMKilled"
    ):
        return f"{path}.lastState.terminated", last["terminated"]
    if (state.get("waiting") or {}).get("reason") == "CrashLoopBackOff":
        return f"{path}.state.waiting", state["waiting"]
    return None


def model_server_logs(snap: Snapshot) -> Iterator[tuple[dict, LogKey, str]]:
    for pod in snap.pods:
        found = snap.log(name_of(pod), MODEL_CONTAINER)
        if found:
            yield pod, found[0], found[1]


def current_events(snap: Snapshot) -> list[dict]:
    """Related events that still matter: events outlive their cause (an hour by default), so events
    about pods that no longer exist, and every event once the InferenceService is Ready, are dropped."""
    if isvc_ready(snap):
        return []
    pods = {name_of(p) for p in snap.pods}
    return [
        e
        for e in snap.related_events()
        if not pods or (e.get("involvedObject") or {}).get("kind") != "Pod" or e["involvedObject"].get("name") in pods
    ]


def isvc_ready(snap: Snapshot) -> bool:
    return is_true(condition(snap.isvc, "Ready"))


def pin_or_none(section: str, key: str = "version") -> str | None:
    """A pin for a fix's text; None if versions.toml cannot be read (a diagnosis must not fail on it)."""
    try:
        from ...versions import pin

        return str(pin(section, key))
    except Exception:  # noqa: BLE001 - the fix text just gets less specific
        return None
