"""Run the command-line tools in this process, as a user would type them, and keep what they printed.

``invoke_cli("validate", "x.yaml")`` parses and runs the task through invoke's own ``Program`` (the
``invoke`` command), so flag parsing, the task's error handling and the terminal output are the
real ones, without the second or so a new Python process costs.
"""

from __future__ import annotations

import contextlib
import io
import traceback
from dataclasses import dataclass


@dataclass
class Outcome:
    code: int
    out: str
    err: str
    #: The traceback text when the tool crashed (an exception escaped it), else "".
    traceback: str = ""

    @property
    def text(self) -> str:
        return self.out + self.err


def invoke_cli(*args: str) -> Outcome:
    """``invoke ARGS...`` in this process: exit code, stdout, stderr (and a traceback if it crashed)."""
    from invoke import Program

    from kserve_workshop.tasks import build_collection

    program = Program(namespace=build_collection(), name="invoke", binary="invoke")
    return _run(lambda: program.run(["invoke", *args], exit=True))


def load_cli(*args: str) -> Outcome:
    """``kserve-workshop-load ARGS...`` in this process."""
    from kserve_workshop.load.cli import main

    return _run(lambda: main(list(args)))


def _run(call) -> Outcome:
    out, err = io.StringIO(), io.StringIO()
    code, crashed = 0, ""
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        try:
            result = call()
            code = result if isinstance(result, int) else 0
        except SystemExit as exc:
            code = exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
        except Exception:  # noqa: BLE001 - a crash is what the caller asserts against
            crashed = traceback.format_exc()
            code = 1
    return Outcome(code, out.getvalue(), err.getvalue(), crashed)
