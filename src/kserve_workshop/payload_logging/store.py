"""Reading what a sink kept: one JSON object per line (JSON lines), one line per request/response pair."""

from __future__ import annotations

import json
from pathlib import Path

from ..errors import WorkshopError


def read_pairs(path: str | Path) -> list[dict]:
    """The records of a JSON-lines store, in order ([] when the file does not exist yet).

    A line that is not JSON is an error naming the line (a sink that writes half a line, or two
    objects on one line, loses data a reader cannot get back).
    """
    path = Path(path)
    if not path.exists():
        return []
    if path.is_dir():
        raise WorkshopError(f"the store {path} is a directory, not a JSON-lines file")
    records = []
    with path.open(encoding="utf-8") as handle:
        for number, line in enumerate(handle, 1):
            if not line.strip():
                continue
            try:
                records.append(json.loads(line))
            except ValueError as exc:
                raise WorkshopError(
                    f"{path.name}, line {number} is not one JSON object: {exc}: {line[:80]!r}",
                    hint="write each pair with json.dumps(pair) + '\\n', and flush",
                ) from None
    return records


def pair_count(path: str | Path) -> int:
    return len(read_pairs(path))
