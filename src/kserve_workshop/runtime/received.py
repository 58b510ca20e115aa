"""What a local model server received: each distinct row it predicted, and the answer it gave.

A check that grades "the answers of the model server" must know that the server was asked: the
same model in the notebook (``model.predict``) gives the same numbers without any server. So the
workshop's predictor notes every distinct row it predicts, with its answer, in a small JSON-lines
file (``$WORKSHOP_RECORD_PATH``, set by ``processes.LocalModelServer``); Lab 1's check reads it.
(In the runtime package because the model server imports it; it needs nothing outside it.)

Only the rows of requests up to ``MAX_BATCH`` rows are noted, each distinct row once (a load test
repeating one request writes one line), and at most ``MAX_ROWS`` rows per server: the record stays
small and costs a load test nothing measurable.
"""

from __future__ import annotations

import json
import os
import threading
from pathlib import Path
from typing import Any, Iterable, Mapping

RECORD_ENV = "WORKSHOP_RECORD_PATH"
MAX_BATCH = 1000
MAX_ROWS = 20_000


def row_key(row: Iterable[Any]) -> str:
    """A row's key: its numbers to 4 decimals (the same row sent as float32, FP32 or JSON matches)."""
    return ",".join(f"{float(value):.4f}" for value in row)


class Recorder:
    """Server side: appends ``[row_key, answer]`` lines for rows not seen with that answer before."""

    def __init__(self, path: str | Path):
        self.path = Path(path)
        self._seen: dict[str, Any] = {}
        self._lock = threading.Lock()

    @classmethod
    def from_env(cls) -> "Recorder | None":
        path = os.environ.get(RECORD_ENV)
        return cls(path) if path else None

    def note(self, rows: Any, answers: Any) -> None:
        """Note a batch (rows and answers as arrays or lists); never raises."""
        try:
            if len(rows) > MAX_BATCH:
                return
            answers = answers.tolist() if hasattr(answers, "tolist") else list(answers)
            lines = []
            with self._lock:
                for row, answer in zip(rows, answers):
                    if len(self._seen) >= MAX_ROWS:
                        break
                    key = row_key(row)
                    if self._seen.get(key, object()) != answer:
                        self._seen[key] = answer
                        lines.append(json.dumps([key, answer]))
                if lines:
                    with self.path.open("a", encoding="utf-8") as handle:
                        handle.write("\n".join(lines) + "\n")
        except Exception:  # noqa: BLE001 - a record must never break serving
            return


def read_record(path: str | Path | None) -> dict[str, Any]:
    """Row key -> the latest answer the server gave for that row ({} when nothing was recorded)."""
    answers: dict[str, Any] = {}
    if not path or not Path(path).is_file():
        return answers
    for line in Path(path).read_text(encoding="utf-8").splitlines():
        try:
            key, answer = json.loads(line)
        except (ValueError, TypeError):
            continue
        answers[key] = answer
    return answers


def answers_received(server: Any, rows: Iterable[Any]) -> list[Any] | None:
    """The answer ``server`` gave for each row (None for rows it never received), or None when
    ``server`` keeps no record (it is not a ``LocalModelServer``)."""
    path = getattr(server, "received_path", None)
    if path is None:
        return None
    record: Mapping[str, Any] = read_record(path)
    return [record.get(row_key(row)) for row in rows]
