"""Terminal output: one rich console, colour off when not a TTY or when NO_COLOR is set.

Messages are plain text: ``info``, ``warn``, ``error`` and ``step`` print them as they are, so a
path, URL or value with brackets (``HOST[:PORT][/PATH]``, ``[/oops]``) is shown verbatim instead of
being read as rich markup (which drops ``[word]`` and crashes on ``[/word]``). Code that styles a
line itself with markup passes any text it did not write through ``plain()``.
"""

from __future__ import annotations

import os
import sys
from contextlib import contextmanager
from typing import Iterator

from rich.console import Console
from rich.markup import escape

from .errors import WorkshopError


def _make_console(stderr: bool = False) -> Console:
    stream = sys.stderr if stderr else sys.stdout
    no_color = bool(os.environ.get("NO_COLOR")) or not stream.isatty()
    return Console(stderr=stderr, no_color=no_color, highlight=False, soft_wrap=True)


console = _make_console()
err_console = _make_console(stderr=True)


def plain(text: object) -> str:
    """``text`` escaped for a line that uses rich markup: brackets in it are printed as they are."""
    return escape(str(text))


def info(message: str) -> None:
    console.print(message, markup=False)


def warn(message: str) -> None:
    err_console.print(f"[yellow]warning:[/yellow] {plain(message)}")


def error(err: WorkshopError | str) -> None:
    if isinstance(err, WorkshopError):
        err_console.print(f"[bold red]error:[/bold red] {plain(err.message)}")
        if err.hint:
            err_console.print(f"[cyan]hint:[/cyan] {plain(err.hint)}")
    else:
        err_console.print(f"[bold red]error:[/bold red] {plain(err)}")


@contextmanager
def step(message: str) -> Iterator[None]:
    """Show a spinner with ``message`` while the block runs (plain lines when not a TTY)."""
    shown = plain(message)
    if not console.is_terminal:
        console.print(f"… {shown}")
    try:
        if console.is_terminal:
            with console.status(shown):
                yield
        else:
            yield
    except BaseException:
        console.print(f"[red]✗[/red] {shown}: failed")
        raise
    console.print(f"[green]✓[/green] {shown}")
