"""What every workshop task shares: expected errors become one message and a non-zero exit, and a
confirmation that is never guessed."""

from __future__ import annotations

import functools
import sys
from typing import Callable

from invoke import task as invoke_task
from invoke.exceptions import Exit

from ..console import console, error
from ..errors import WorkshopError


def workshop_task(*args, **kwargs) -> Callable:
    """Like ``invoke.task``, but a ``WorkshopError`` prints as a clear message and exits non-zero.

    Use as ``@workshop_task`` or ``@workshop_task(help={...})``.
    """

    def decorate(body: Callable) -> Callable:
        @functools.wraps(body)
        def wrapper(*call_args, **call_kwargs):
            try:
                return body(*call_args, **call_kwargs)
            except WorkshopError as exc:
                error(exc)
                raise Exit(code=exc.exit_code) from None
            except KeyboardInterrupt:
                error("interrupted; the last step may be half-done: run the same task again, it is idempotent")
                raise Exit(code=130) from None

        return invoke_task(wrapper, **kwargs)

    if len(args) == 1 and callable(args[0]) and not kwargs:
        return decorate(args[0])
    return decorate


def confirm(question: str, yes: bool) -> None:
    """Go on when ``yes``; ask on a terminal; refuse otherwise (never guess for a destructive action)."""
    if yes:
        return
    if not sys.stdin.isatty():
        raise WorkshopError(f"{question} Not confirmed (no terminal to ask on).", hint="pass --yes to confirm")
    answer = console.input(f"{question} [y/N] ").strip().lower()
    if answer not in {"y", "yes"}:
        raise WorkshopError("cancelled; nothing was changed")
