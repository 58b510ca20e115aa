"""What changed between two manifests: field by field (for checks) and as a unified diff (for people).

Both work on any dicts a learner builds, including ones holding numpy numbers (``np.int64(20)``),
which ``yaml.safe_dump`` refuses: they are shown as the plain numbers they stand for.
"""

from __future__ import annotations

import difflib
from typing import Any, Iterator

import yaml

_MISSING = object()


def plain(value: Any) -> Any:
    """``value`` with numpy numbers and arrays turned into Python numbers and lists (recursively)."""
    if isinstance(value, dict):
        return {plain(key): plain(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [plain(item) for item in value]
    if hasattr(value, "tolist") and not isinstance(value, (str, bytes)):
        try:
            return value.tolist()
        except Exception:  # noqa: BLE001 - not numpy after all
            return value
    return value


def changed_fields(before: Any, after: Any, path: str = "") -> list[tuple[str, Any, Any]]:
    """``(dotted.path, old, new)`` for every field that differs, in the order of ``before``'s fields
    and then ``after``'s new ones; a field missing on one side shows as ``"(absent)"``. Numbers that
    are equal (20 and 20.0) are not a change; a bool is not a number (True is not 1 here)."""
    return list(_walk(before, after, path))


def _walk(before: Any, after: Any, path: str) -> Iterator[tuple[str, Any, Any]]:
    if isinstance(before, dict) and isinstance(after, dict):
        for key in [*before, *(k for k in after if k not in before)]:
            child = f"{path}.{key}" if path else str(key)
            old, new = before.get(key, _MISSING), after.get(key, _MISSING)
            if old is _MISSING or new is _MISSING:
                yield child, _shown(old), _shown(new)
            else:
                yield from _walk(old, new, child)
        return
    if type(before) is not type(after) or before != after:
        if not (_is_number(before) and _is_number(after) and before == after):
            yield path or "(the whole object)", before, after


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _shown(value: Any) -> Any:
    return "(absent)" if value is _MISSING else value


def describe(changes: list[tuple[str, Any, Any]], limit: int = 4) -> str:
    """``"spec.predictor.minReplicas: 1 -> 2; ..."`` for a message."""
    parts = [f"{path}: {old!r} -> {new!r}" for path, old, new in changes[:limit]]
    return "; ".join(parts) + (f"; and {len(changes) - limit} more" if len(changes) > limit else "")


def unified_diff(before: Any, after: Any, before_name: str = "before", after_name: str = "after") -> str:
    """A unified diff of the two manifests as YAML (keys sorted, so only real changes show)."""
    return "".join(
        difflib.unified_diff(
            yaml.safe_dump(plain(before)).splitlines(keepends=True),
            yaml.safe_dump(plain(after)).splitlines(keepends=True),
            before_name,
            after_name,
        )
    )
