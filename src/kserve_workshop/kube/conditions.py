"""Status conditions of any Kubernetes object (``status.conditions``: type, status, reason, message)."""

from __future__ import annotations

from typing import Mapping


def condition(obj: Mapping | None, kind: str) -> dict | None:
    """The condition of type ``kind`` in ``obj``'s status, None when there is none."""
    for entry in ((obj or {}).get("status") or {}).get("conditions") or []:
        if isinstance(entry, Mapping) and entry.get("type") == kind:
            return dict(entry) if not isinstance(entry, dict) else entry
    return None


def has_true_condition(obj: Mapping | None, kind: str) -> bool:
    """Is the condition of type ``kind`` there with status ``True``?"""
    found = condition(obj, kind)
    return found is not None and str(found.get("status")) == "True"
