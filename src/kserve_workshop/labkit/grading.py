"""Graded checks for the labs: ``@lab_check`` registers a check, ``check("lab1.name")`` runs it.

A check is a function in ``kserve_workshop.labkit.checks.<lab>`` whose parameter names are the notebook
variables it grades::

    @lab_check("lab1", hint="Score the model on the test split with model.score(X_test, y_test).")
    def accuracy(accuracy):
        if not 0.9 <= accuracy <= 1.0:
            raise CheckFailed(expected="an accuracy between 0.9 and 1.0", found=accuracy)

In a notebook, ``check("lab1.accuracy")`` reads ``accuracy`` from the notebook's namespace, runs
the check and shows the result (✓/✗, expected, found, hint). It never raises on a wrong, missing or
malformed answer, whatever the learner's objects do (an exception, ``sys.exit()``, a
``KeyboardInterrupt`` raised by their code, a loop that never ends: the check gives up after
``CHECK_TIME_LIMIT`` seconds); a real interrupt (Jupyter's stop button) still stops the cell.
With ``WORKSHOP_CHECKS_STRICT=1`` (CI running
the masters) a failed check raises :class:`CheckNotPassed`, so a master whose solutions do not pass
its own checks fails. With ``WORKSHOP_GRADE_REPORT=path`` every result is appended to that JSONL
file (the scorecard reads it).

Lesson cells that need an exercise's answer start with ``if answered("knee"):``: without an answer
they say "finish the exercise above first" instead of failing with a traceback.
"""

from __future__ import annotations

import html
import inspect
import json
import os
import sys
import time
from collections import ChainMap
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Mapping

from .check_guard import CHECK_TIME_LIMIT, CheckTimedOut, UserInterrupt, call_guarded
from .check_registry import find_check, lab_check  # noqa: F401 - lab_check: notebooks import it from here

STRICT_ENV = "WORKSHOP_CHECKS_STRICT"
REPORT_ENV = "WORKSHOP_GRADE_REPORT"
_REPR_LIMIT = 300
_MISSING = object()


class CheckFailed(Exception):
    """Raised by a check function when the answer is wrong.

    ``expected`` and ``found`` are shown to the learner as they are (strings) or through a
    shortened ``repr``; ``hint`` overrides the hint given to ``@lab_check``.
    """

    def __init__(
        self, message: str | None = None, *, expected: Any = _MISSING, found: Any = _MISSING, hint: str | None = None
    ):
        self.message = message
        self.expected = expected
        self.found = found
        self.hint = hint
        super().__init__(message or "the answer is not right yet")


class quoted:  # noqa: N801 - used like a function: found=quoted(answer)
    """Marks an ``expected``/``found`` value to be shown with ``repr`` even when it is a string.

    A plain string given as ``expected``/``found`` is shown as it is (a description written by the
    check); a learner's answer goes through ``quoted`` so that ``'246'`` shows with its quotes and
    cannot be mistaken for the number 246.
    """

    def __init__(self, value: Any):
        self.value = value


class CheckNotPassed(AssertionError):
    """Raised by ``check()`` in strict mode (``WORKSHOP_CHECKS_STRICT=1``) when a check fails."""

    def __init__(self, result: "CheckResult"):
        self.result = result
        super().__init__(result.text())


@dataclass
class CheckResult:
    """The outcome of one ``check()`` call; shows itself as rich text, plain text and HTML."""

    name: str
    passed: bool
    message: str = ""
    expected: str | None = None
    found: str | None = None
    hint: str | None = None
    #: Exception type when the learner's objects (or the check) raised something unexpected.
    error: str | None = None
    timestamp: float = field(default_factory=time.time)
    _shown_in: int | None = field(default=None, repr=False, compare=False)

    @property
    def lab(self) -> str:
        return self.name.split(".", 1)[0]

    @property
    def check(self) -> str:
        return self.name.split(".", 1)[-1]

    def __bool__(self) -> bool:
        return self.passed

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data.pop("_shown_in", None)
        data["lab"], data["check"] = self.lab, self.check
        return data

    def text(self) -> str:
        mark = "✓" if self.passed else "✗"
        lines = [f"{mark} {self.name}: {self.message or ('passed' if self.passed else 'failed')}"]
        if not self.passed:
            if self.expected is not None:
                lines.append(f"  expected: {self.expected}")
            if self.found is not None:
                lines.append(f"  found:    {self.found}")
            if self.hint:
                lines.append(f"  hint:     {self.hint}")
        return "\n".join(lines)

    __str__ = text

    def __rich__(self):
        from rich.markup import escape
        from rich.panel import Panel
        from rich.table import Table
        from rich.text import Text

        # Text(), not str: a learner's value such as "[/x]" or "[setosa]" is not rich markup.
        body = Table.grid(padding=(0, 1))
        body.add_column(style="bold")
        body.add_column()
        body.add_row("", Text(self.message or ("passed" if self.passed else "failed")))
        if not self.passed:
            for label, value in (("expected", self.expected), ("found", self.found), ("hint", self.hint)):
                if value is not None:
                    body.add_row(label, Text(value))
        colour = "green" if self.passed else "red"
        title = f"[{colour}]{'✓' if self.passed else '✗'} {escape(self.name)}[/{colour}]"
        return Panel(body, title=title, title_align="left", border_style=colour, expand=False)

    def _repr_html_(self) -> str:
        from .boxes import box

        mark = "✓" if self.passed else "✗"
        rows = [
            f"<strong>{mark} {html.escape(self.name)}</strong>: "
            f"{html.escape(self.message or ('passed' if self.passed else 'failed'))}"
        ]
        if not self.passed:
            for label, value in (("expected", self.expected), ("found", self.found), ("hint", self.hint)):
                if value is not None:
                    rows.append(
                        f"<div><em>{label}:</em> <code>{html.escape(value)}</code></div>"
                        if label != "hint"
                        else f"<div><em>hint:</em> {html.escape(value)}</div>"
                    )
        return box("pass" if self.passed else "fail", "".join(rows))

    def _ipython_display_(self) -> None:
        # check() shows its result itself; when the same result is then the cell's value, IPython
        # would show it a second time. Skip exactly that second showing.
        shell = _ipython_shell()
        if shell is not None and self._shown_in is not None and self._shown_in == shell.execution_count:
            self._shown_in = None
            return
        from IPython.display import display

        display({"text/plain": self.text(), "text/html": self._repr_html_()}, raw=True)


# ----------------------------------------------------------------------------------------- check


def check(name: str, namespace: Mapping[str, Any] | None = None, *, show: bool = True, **answers: Any) -> CheckResult:
    """Run check ``name`` (``"lab1.accuracy"``) on the answers in the caller's namespace.

    ``namespace`` defaults to the calling frame's variables (in a notebook: the notebook's
    namespace); keyword arguments override single answers. Never raises for a wrong or malformed
    answer, except in strict mode (``WORKSHOP_CHECKS_STRICT=1``), which raises CheckNotPassed.
    """
    if namespace is None:
        caller = sys._getframe(1)
        namespace = ChainMap(caller.f_locals, caller.f_globals)
    result = _evaluate(name, ChainMap(answers, namespace))
    if show:
        _show(result)
    _append_report(result)
    if not result.passed and strict_mode():
        raise CheckNotPassed(result)
    return result


def strict_mode() -> bool:
    return os.environ.get(STRICT_ENV, "").strip().lower() in {"1", "true", "yes"}


def _evaluate(name: str, namespace: Mapping[str, Any]) -> CheckResult:
    try:
        spec = find_check(name)
    except LookupError as exc:
        return CheckResult(
            name,
            False,
            message=str(exc),
            error="LookupError",
            hint="Check the name in the check(...) call against the lab's text.",
        )
    except Exception as exc:  # noqa: BLE001 - a broken checks module must not crash the notebook
        return CheckResult(
            name,
            False,
            message=f"the checks for this lab could not be loaded: {_describe(exc)}",
            error=type(exc).__name__,
            hint="This is a workshop bug: please report it.",
        )
    name = spec.qualified_name
    arguments: dict[str, Any] = {}
    for variable, parameter in inspect.signature(spec.func).parameters.items():
        value = namespace.get(variable, _MISSING) if _has(namespace, variable) else _MISSING
        if value is _MISSING:
            if parameter.default is not inspect.Parameter.empty:
                continue
            return CheckResult(
                name,
                False,
                message=f"`{variable}` is not defined yet",
                expected=f"a variable named `{variable}`",
                found="nothing",
                hint=f"Run the cell that defines `{variable}` (and the cells above it) first.",
            )
        if _contains_ellipsis(value):
            return CheckResult(
                name,
                False,
                message=f"`{variable}` still contains `...`",
                expected=f"your answer in place of the `...` in `{variable}`",
                found=_safe_repr(value),
                hint=f"Replace every `...` in the cell defining `{variable}` and run it again.",
            )
        arguments[variable] = value
    try:
        outcome = call_guarded(spec.func, arguments)
    except CheckFailed as failure:
        return CheckResult(
            name,
            False,
            message=failure.message or "the answer is not right yet",
            expected=_show_value(failure.expected),
            found=_show_value(failure.found),
            hint=failure.hint or spec.hint,
        )
    except AssertionError as exc:  # a plain assert in a check reads as a failed check
        return CheckResult(name, False, message=str(exc) or "the answer is not right yet", hint=spec.hint)
    except CheckTimedOut:
        return CheckResult(
            name,
            False,
            message=f"your code was still running after {CHECK_TIME_LIMIT:g} s: the check gave up",
            error="Timeout",
            hint="Look for a loop that never ends (a while loop whose condition never changes).",
        )
    except UserInterrupt:
        raise KeyboardInterrupt from None  # the learner pressed stop: stop the cell, as any cell would
    except SystemExit as exc:
        return CheckResult(
            name,
            False,
            message=f"your code called exit() (SystemExit: {exc.code!r})",
            error="SystemExit",
            hint="Do not call exit() or sys.exit() in an answer: return a value or raise an error.",
        )
    except KeyboardInterrupt:
        return CheckResult(
            name,
            False,
            message="your code raised KeyboardInterrupt",
            error="KeyboardInterrupt",
            hint="Raise the error the exercise asks for (e.g. ValueError), not KeyboardInterrupt.",
        )
    except Exception as exc:  # noqa: BLE001 - anything a learner's object raises is a failed check
        return CheckResult(
            name,
            False,
            message=f"checking your answer raised {_describe(exc)}",
            error=type(exc).__name__,
            hint=spec.hint,
        )
    except BaseException as exc:  # noqa: BLE001 - GeneratorExit and the like, raised by learner code
        return CheckResult(
            name,
            False,
            message=f"checking your answer raised {_describe(exc)}",
            error=type(exc).__name__,
            hint=spec.hint,
        )
    message = outcome if isinstance(outcome, str) and outcome else "passed"
    return CheckResult(name, True, message=message)


def answered(*variables: str, namespace: Mapping[str, Any] | None = None) -> bool:
    """True when every named variable holds an answer; otherwise say which exercise to finish first.

    For lesson cells that use an exercise's answer::

        if answered("knee"):
            plot_capacity(sweep, knee=knee)

    A variable that is missing, ``None`` or still holds ``...`` is not answered yet: the cell then
    prints one line saying so, instead of failing with a traceback.
    """
    if namespace is None:
        caller = sys._getframe(1)
        namespace = ChainMap(caller.f_locals, caller.f_globals)
    for variable in variables:
        value = namespace.get(variable, _MISSING) if _has(namespace, variable) else _MISSING
        if value is _MISSING or value is None or _contains_ellipsis(value):
            state = "is not defined yet" if value is _MISSING else f"is still {_safe_repr(value)}"
            print(f"⏸  Finish the exercise above first: `{variable}` {state}. Then run this cell again.")
            return False
    return True


def passes(*names: str, namespace: Mapping[str, Any] | None = None) -> bool:
    """True when every named check passes now; otherwise say which exercise to finish first.

    For lesson cells that run the learner's code (``if passes("lab6.to_labels"):``). The checks run
    quietly: nothing is shown, reported to a grader or raised in strict mode.
    """
    if namespace is None:
        caller = sys._getframe(1)
        namespace = ChainMap(caller.f_locals, caller.f_globals)
    for name in names:
        result = _evaluate(name, namespace)
        if not result.passed:
            print(
                f'⏸  Finish the exercise above first: check("{result.name}") does not pass yet '
                f"({result.message}). Then run this cell again."
            )
            return False
    return True


def _has(namespace: Mapping[str, Any], key: str) -> bool:
    try:
        return key in namespace
    except Exception:  # noqa: BLE001 - a strange namespace mapping counts as "not there"
        return False


def _contains_ellipsis(value: Any, depth: int = 0) -> bool:
    """True when the answer is ``...`` or a list/tuple/dict that still holds one (a blank left in)."""
    if value is Ellipsis:
        return True
    if depth >= 4:
        return False
    try:
        if isinstance(value, (list, tuple)):
            return any(_contains_ellipsis(item, depth + 1) for item in value[:1000])
        if isinstance(value, dict):
            return any(_contains_ellipsis(item, depth + 1) for item in list(value.values())[:1000])
    except Exception:  # noqa: BLE001 - odd containers are left to the check itself
        return False
    return False


def _show_value(value: Any) -> str | None:
    if value is _MISSING:
        return None
    if isinstance(value, quoted):
        return _safe_repr(value.value)
    return value if isinstance(value, str) else _safe_repr(value)


def _safe_repr(value: Any) -> str:
    """A short ``repr`` that survives objects whose ``__repr__`` raises."""
    try:
        text = repr(value)
    except Exception as exc:  # noqa: BLE001
        text = f"<{type(value).__name__} object whose repr() raised {type(exc).__name__}>"
    return text if len(text) <= _REPR_LIMIT else text[: _REPR_LIMIT - 1] + "…"


def _describe(exc: BaseException) -> str:
    try:
        detail = str(exc)
    except Exception:  # noqa: BLE001
        detail = ""
    return f"{type(exc).__name__}: {detail}" if detail else type(exc).__name__


# --------------------------------------------------------------------------------- output/report


def _ipython_shell():
    module = sys.modules.get("IPython")
    if module is None:
        return None
    try:
        return module.get_ipython()
    except Exception:  # noqa: BLE001
        return None


def _show(result: CheckResult) -> None:
    shell = _ipython_shell()
    if shell is not None:  # a notebook kernel or a terminal IPython
        from IPython.display import display

        display({"text/plain": result.text(), "text/html": result._repr_html_()}, raw=True)
        result._shown_in = shell.execution_count
        return
    from ..console import console

    console.print(result)


def _append_report(result: CheckResult) -> None:
    target = os.environ.get(REPORT_ENV)
    if not target:
        return
    path = Path(target)
    record = result.to_dict()
    notebook = os.environ.get("WORKSHOP_GRADE_NOTEBOOK")
    if notebook:
        record["notebook"] = notebook
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        with path.open("a", encoding="utf-8") as handle:
            handle.write(json.dumps(record, ensure_ascii=False, default=str) + "\n")
    except OSError as exc:
        # The learner's notebook must go on even when the report cannot be written.
        print(f"warning: could not append the check result to {path}: {exc}", file=sys.stderr)
