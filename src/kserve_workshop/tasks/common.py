"""What every workshop task shares: expected errors become one message and a non-zero exit, and a
confirmation that is never guessed."""

from __future__ import annotations

import functools
import inspect
import sys
import textwrap
from typing import Callable

from invoke import task as invoke_task
from invoke.exceptions import Exit

from ..console import console, error
from ..errors import WorkshopError


HELP_FLAGS = ("--help", "-h")


def workshop_task(*args, **kwargs) -> Callable:
    """Like ``invoke.task``, but a ``WorkshopError`` prints as a clear message and exits non-zero.

    Use as ``@workshop_task`` or ``@workshop_task(help={...})``.

    invoke's parser gives a positional argument the next word whatever it is, so ``invoke diagnose
    --help`` would call the task with ``--help`` as the InferenceService's name: such a call prints
    the task's help instead, as ``invoke --help TASK`` does.
    """

    def decorate(body: Callable) -> Callable:
        @functools.wraps(body)
        def wrapper(*call_args, **call_kwargs):
            if any(isinstance(value, str) and value in HELP_FLAGS for value in call_kwargs.values()):
                print_task_help(task_object, help_texts)
                return None
            try:
                return body(*call_args, **call_kwargs)
            except WorkshopError as exc:
                error(exc)
                raise Exit(code=exc.exit_code) from None
            except KeyboardInterrupt:
                error("interrupted; the last step may be half-done: run the same task again, it is idempotent")
                raise Exit(code=130) from None

        help_texts = dict(kwargs.get("help") or {})  # invoke's Task consumes its own copy
        task_object = invoke_task(wrapper, **kwargs)
        return task_object

    if len(args) == 1 and callable(args[0]) and not kwargs:
        return decorate(args[0])
    return decorate


def _invoked_name(task) -> str:
    """The name the task was called by on the command line (``platform.upload-model``, ``diagnose``)."""
    words = [word for word in sys.argv[1:] if not word.startswith("-")]
    for word in words:
        if word == task.name or word.endswith(f".{task.name}"):
            return word
    return words[0] if words else task.name


def print_task_help(task, help_texts: dict[str, str]) -> None:
    """The task's help in the layout of ``invoke --help TASK``: usage, docstring, options."""
    from invoke.parser import ParserContext

    arguments = task.get_arguments(ignore_unknown_help=True)
    for argument in arguments:
        name = argument.name.rstrip("_")  # invoke's json_ is the flag --json
        argument.help = help_texts.get(name) or help_texts.get(name.replace("_", "-"))
    options = ParserContext(name=task.name, args=arguments).help_tuples()
    print(
        f"Usage: invoke [--core-opts] {_invoked_name(task)} {'[--options] ' if options else ''}[other tasks here ...]\n"
    )
    print("Docstring:")
    print(textwrap.indent(inspect.getdoc(task.body) or "none", "  ") + "\n")
    print("Options:")
    width = max((len(flags) for flags, _ in options), default=0)
    for flags, text in options:
        print(f"  {flags.ljust(width)}   {text or ''}".rstrip())
    if not options:
        print("  none")


def confirm(question: str, yes: bool) -> None:
    """Go on when ``yes``; ask on a terminal; refuse otherwise (never guess for a destructive action)."""
    if yes:
        return
    if not sys.stdin.isatty():
        raise WorkshopError(f"{question} Not confirmed (no terminal to ask on).", hint="pass --yes to confirm")
    answer = console.input(f"{question} [y/N] ").strip().lower()
    if answer not in {"y", "yes"}:
        raise WorkshopError("cancelled; nothing was changed")
