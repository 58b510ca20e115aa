"""Terminal output: one rich console, colour off when not a TTY or when NO_COLOR is set."""

from __future__ import annotations

import os
import sys
from contextlib import contextmanager
from typing import Iterator

from rich.console import Console

from .errors import WorkshopError


def _make_console(stderr: bool = False) -> Console:
    stream = sys.stderr if stderr else sys.stdout
    no_color = bool(os.environ.get("NO_COLOR")) or not stream.isatty()
    return Console(stderr=stderr, no_color=no_color, highlight=False, soft_wrap=True)


console = _make_console()
err_console = _make_console(stderr=True)


def info(message: str) -> None:
    console.print(message)


def warn(message: str) -> None:
    err_console.print(f"[yellow]warning:[/yellow] {message}")


def error(err: WorkshopError | str) -> None:
    if isinstance(err, WorkshopError):
        err_console.print(f"[bold red]error:[/bold red] {err.message}")
        if err.hint:
            err_console.print(f"[cyan]hint:[/cyan] {err.hint}")
    else:
        err_console.print(f"[bold red]error:[/bold red] {err}")


@contextmanager
def step(message: str) -> Iterator[None]:
    """Show a spinner with ``message`` while the block runs (plain lines when not a TTY)."""
    if not console.is_terminal:
        console.print(f"… {message}")
    try:
        if console.is_terminal:
            with console.status(message):
                yield
        else:
            yield
    except BaseException:
        console.print(f"[red]✗[/red] {message}: failed")
        raise
    console.print(f"[green]✓[/green] {message}")
