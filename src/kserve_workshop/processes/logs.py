"""Local servers' log files: one new file per start under ``cache_dir()/logs``, the oldest pruned.

A start never reuses (and so never empties) a file: two servers of the same name on the same port,
one of them another process's, each get their own.
"""

from __future__ import annotations

import os
import uuid
from pathlib import Path

from ..paths import cache_dir

#: Server logs kept in ``cache_dir()/logs`` (one per start; the oldest are deleted beyond this).
KEEP_LOGS = 100


def log_dir() -> Path:
    path = cache_dir() / "logs"
    path.mkdir(parents=True, exist_ok=True)
    return path


def new_log(name: str, port: int):
    """A new, empty log file for a server start: ``(path, binary handle)``."""
    directory = log_dir()
    prune_logs(directory)
    while True:
        path = directory / f"{slug(name)}-{port}-{uuid.uuid4().hex[:8]}.log"
        try:
            return path, path.open("xb")
        except FileExistsError:  # pragma: no cover - a 32-bit collision
            continue


def prune_logs(directory: Path, keep: int = KEEP_LOGS) -> None:
    """Delete all but the ``keep`` newest ``*.log`` files (each server start writes one)."""
    logs = sorted(directory.glob("*.log"), key=mtime, reverse=True)
    for old in logs[keep:]:
        old.unlink(missing_ok=True)


def tail(path: Path | None, lines: int = 20) -> str:
    """The last ``lines`` lines of a log file ("" when it does not exist)."""
    if path is None or not path.exists():
        return ""
    with path.open("rb") as handle:
        handle.seek(0, os.SEEK_END)
        handle.seek(max(0, handle.tell() - 64_000))
        text = handle.read().decode("utf-8", errors="replace")
    return "\n".join(text.splitlines()[-lines:])


def slug(name: str) -> str:
    return "".join(c if c.isalnum() or c in "-_." else "-" for c in name) or "server"


def mtime(path: Path) -> float:
    try:
        return path.stat().st_mtime
    except OSError:  # deleted meanwhile (another process pruning)
        return 0.0
