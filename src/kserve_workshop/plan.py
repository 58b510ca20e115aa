"""A task's work as data: ordered steps that can be printed (``--dry-run``), tested and executed.

A ``Step`` is one command (argv, exact, with pins; objects are written to files under the cache
and applied with ``kubectl apply -f FILE``), plus an optional check that tells whether it is
already done (so installs are idempotent), an optional bounded wait, and the hint a user gets
when its command fails. ``Runner`` executes a plan through an invoke ``Context`` (``MockContext`` in tests),
so what the tests assert is exactly what a user's machine would run.
"""

from __future__ import annotations

import shlex
import time
from dataclasses import dataclass, field
from typing import Any, Callable

from .console import console, plain, step as progress_step
from .errors import WorkshopError


@dataclass
class Step:
    """One unit of work: a command (or none, for a note), an is-done check and bounded waits."""

    title: str
    command: list[str] | None = None
    #: Returns True when the step's effect is already in place (the step is then skipped).
    is_done: Callable[["Runner"], bool] | None = None
    #: Commands that wait for the step's effect (each bounded by its own --timeout).
    waits: list[list[str]] = field(default_factory=list)
    #: Called when a wait fails; returns text explaining what is wrong (conditions, events, pods).
    diagnose: Callable[["Runner"], str] | None = None
    #: Try the command this many times in all (e.g. a helm install that can race a webhook).
    attempts: int = 1
    #: What to do when the command fails (shown with the command's own output).
    hint: str | None = None
    #: Seconds to wait between two attempts (a webhook that is not serving yet needs a moment).
    retry_delay: float = 0
    #: Called with the command's result once it succeeded; returns a line to show (e.g. what it deleted).
    report: Callable[[Any], str] | None = None

    def describe(self) -> str:
        lines = [f"# {self.title}"]
        if self.command:
            lines.append(shlex.join(self.command))
        lines.extend(shlex.join(wait) for wait in self.waits)
        return "\n".join(lines)


@dataclass
class Plan:
    name: str
    steps: list[Step] = field(default_factory=list)

    def add(self, *steps: Step) -> "Plan":
        self.steps.extend(steps)
        return self

    def extend(self, other: "Plan") -> "Plan":
        self.steps.extend(other.steps)
        return self

    def commands(self) -> list[str]:
        """Every command the plan would run, in order, as shell strings (what tests compare)."""
        out: list[str] = []
        for item in self.steps:
            if item.command:
                out.append(shlex.join(item.command))
            out.extend(shlex.join(wait) for wait in item.waits)
        return out

    def render(self) -> str:
        header = f"Plan: {self.name} ({len(self.steps)} steps)"
        return "\n\n".join([header, *(s.describe() for s in self.steps)])


class Runner:
    """Runs commands through an invoke ``Context``; prints instead when ``dry_run``."""

    def __init__(
        self, ctx: Any, *, dry_run: bool = False, reinstall: bool = False, sleep: Callable[[float], None] = time.sleep
    ):
        self.ctx = ctx
        self.dry_run = dry_run
        self.reinstall = reinstall
        self.sleep = sleep

    def run(self, argv: list[str], *, capture: bool = True, check: bool = True):
        """Run ``argv``; on failure raise WorkshopError with the command and its output."""
        command = shlex.join(argv)
        result = self.ctx.run(command, hide=capture, warn=True, in_stream=False)
        if check and (result is None or result.exited != 0):
            output = "" if result is None else (result.stderr or result.stdout or "").strip()
            raise WorkshopError(f"command failed: {command}" + (f"\n{output[-2000:]}" if output else ""))
        return result

    def succeeds(self, argv: list[str]) -> bool:
        """Run a read-only probe; True when it exits 0 (never raises)."""
        result = self.ctx.run(shlex.join(argv), hide=True, warn=True, in_stream=False)
        return result is not None and result.exited == 0

    def execute(self, plan: Plan) -> list[str]:
        """Execute (or, with dry_run, print) the plan; returns the titles of the steps that ran."""
        if self.dry_run:
            console.print(plan.render(), markup=False)  # commands hold user input verbatim
            return []
        ran: list[str] = []
        for index, item in enumerate(plan.steps, 1):
            label = f"[{index}/{len(plan.steps)}] {item.title}"
            if item.is_done is not None and not self.reinstall and item.is_done(self):
                console.print(f"[dim]- {plain(label)}: already done, skipped[/dim]")
                continue
            with progress_step(label):
                self._run_step(item)
            ran.append(item.title)
        return ran

    def _run_step(self, item: Step) -> None:
        if item.command:
            for attempt in range(1, item.attempts + 1):
                try:
                    result = self.run(item.command)
                    break
                except WorkshopError as exc:
                    if attempt == item.attempts:
                        if item.hint:
                            raise WorkshopError(exc.message, hint=item.hint) from None
                        raise
                    if item.retry_delay:
                        console.print(f"[dim]  failed; trying again in {item.retry_delay:g} s[/dim]")
                        self.sleep(item.retry_delay)
            if item.report is not None:
                console.print(f"  {item.report(result)}", markup=False, highlight=False)
        for wait in item.waits:
            try:
                self.run(wait)
            except WorkshopError as exc:
                details = item.diagnose(self) if item.diagnose else ""
                raise WorkshopError(
                    f"{item.title}: wait did not succeed.\n{exc.message}"
                    + (f"\n\nWhat is wrong:\n{details}" if details else ""),
                    hint="run `invoke status` (and `invoke diagnose NAME` for a model)",
                ) from exc


def output_of(runner: Runner, argv: list[str], *, tail: int | None = None) -> str:
    """stdout+stderr of a read-only command (for diagnostics; never raises)."""
    try:
        result = runner.run(argv, check=False)
    except Exception as exc:  # noqa: BLE001 - a diagnostic must never hide the original failure
        return f"(could not run {shlex.join(argv)}: {exc})"
    if result is None:
        return ""
    text = ((result.stdout or "") + (result.stderr or "")).strip()
    if tail is not None:
        text = "\n".join(text.splitlines()[-tail:])
    return text
