"""Running a learner's code from a check: with a time limit, and with interrupts told apart.

A check calls the learner's functions and objects. Whatever they do must end as a verdict:
a loop that never ends is stopped after ``CHECK_TIME_LIMIT`` seconds (a timer on the main thread),
and a ``KeyboardInterrupt`` the learner's code raises itself is a wrong answer, while a real
interrupt (SIGINT: Jupyter's stop button, a grader's cell timeout) still stops the cell.
"""

from __future__ import annotations

import signal
import threading
from typing import Any, Callable

#: Seconds a check may run the learner's code before it gives up.
CHECK_TIME_LIMIT = 60.0


class CheckTimedOut(BaseException):
    """The learner's code ran longer than the limit (a BaseException: checks' ``except Exception``
    around learner calls must not turn it into an ordinary wrong answer)."""


class UserInterrupt(BaseException):
    """A real SIGINT arrived while the check ran."""


def call_guarded(func: Callable[..., Any], arguments: dict[str, Any], *, time_limit: float | None = None) -> Any:
    """``func(**arguments)``; on the main thread under a timer (``CheckTimedOut``) and with SIGINT
    turned into ``UserInterrupt``. Elsewhere (a worker thread) it is a plain call."""
    if threading.current_thread() is not threading.main_thread() or not hasattr(signal, "setitimer"):
        return func(**arguments)

    def on_interrupt(signum, frame):
        raise UserInterrupt()

    def on_alarm(signum, frame):
        raise CheckTimedOut()

    previous_int = signal.signal(signal.SIGINT, on_interrupt)
    previous_alarm = signal.signal(signal.SIGALRM, on_alarm)
    signal.setitimer(signal.ITIMER_REAL, time_limit or CHECK_TIME_LIMIT)
    try:
        return func(**arguments)
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous_alarm if previous_alarm is not None else signal.SIG_DFL)
        signal.signal(signal.SIGINT, previous_int if previous_int is not None else signal.default_int_handler)
