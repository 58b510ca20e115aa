"""A payload-logging sink file, run as a local server on 127.0.0.1 (``ServerProcess``).

The sink is a plain Python file (Lab 7's learners write it in a ``%%writefile`` cell) started as
``python FILE --host 127.0.0.1 --port PORT --store PATH``. It is ready when ``GET /healthz``
answers 200; it receives events with ``POST /`` (the path of ``logger.url``) and keeps its pairs,
one JSON object per line, in the store file.
"""

from __future__ import annotations

import sys
from pathlib import Path

from ..errors import WorkshopError
from ..processes import LOOPBACK, ServerProcess

HEALTH_PATH = "/healthz"


class SinkProcess(ServerProcess):
    """The sink in ``sink_file`` on a free loopback port, keeping its pairs in ``store``.

    Starting it stops the sink of the same file this process started before (a re-run cell), unless
    ``replaces=False`` (a grader's sink beside the learner's).

    with SinkProcess(LAB_DIR / "payload_sink.py", LAB_DIR / "pairs.jsonl") as sink:
        requests.post(sink.url, headers=..., data=...)
    """

    def __init__(
        self,
        sink_file: str | Path,
        store: str | Path,
        *,
        port: int | None = None,
        startup_timeout: float = 20.0,
        stop_timeout: float = 5.0,
        fresh: bool = False,
        replaces: bool = True,
    ):
        self.sink_file = Path(sink_file).expanduser().resolve()
        if not self.sink_file.is_file():
            raise WorkshopError(
                f"no sink file at {self.sink_file}", hint="run the %%writefile cell that writes it first"
            )
        if self.sink_file.suffix != ".py":
            raise WorkshopError(f"{self.sink_file.name} is not a Python file (.py)")
        self.store = Path(store).expanduser().resolve()
        if self.store.is_dir():
            raise WorkshopError(f"the store {self.store} is a directory", hint="give a file name, e.g. pairs.jsonl")
        self.store.parent.mkdir(parents=True, exist_ok=True)
        if fresh:
            self.store.unlink(missing_ok=True)
        super().__init__(
            self._argv,
            f"http://{LOOPBACK}:{{port}}{HEALTH_PATH}",
            port=port,
            name=f"sink-{self.sink_file.stem}",
            startup_timeout=startup_timeout,
            stop_timeout=stop_timeout,
            cwd=self.sink_file.parent,
            replaces=replaces,  # a re-run notebook cell stops its previous sink; a check's sink must not
        )

    def _argv(self, port: int) -> list[str]:
        return [
            sys.executable,
            str(self.sink_file),
            "--host",
            LOOPBACK,
            "--port",
            str(port),
            "--store",
            str(self.store),
        ]

    @property
    def event_url(self) -> str:
        """Where the agent would POST its events (``logger.url``)."""
        return f"{self.url}/"
