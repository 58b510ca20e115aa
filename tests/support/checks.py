"""Running graded checks in tests: answers in, a ``CheckResult`` out, nothing shown."""

from __future__ import annotations

from typing import Any, Callable

from kserve_workshop.labkit.grading import CheckResult, check


def lab_runner(lab: str) -> Callable[..., CheckResult]:
    """``run(name, **answers)``: check ``<lab>.<name>`` on exactly the given answers (no notebook namespace)."""

    def run(name: str, **answers: Any) -> CheckResult:
        return check(f"{lab}.{name}", {}, show=False, **answers)

    return run


def assert_fails(result: CheckResult, mentions: str | None = None) -> None:
    """The check refused the answer, gave a hint, and (when given) says ``mentions`` somewhere."""
    assert not result.passed, f"{result.name} accepted a wrong answer"
    assert result.hint, f"{result.name} failed without a hint"
    if mentions:
        assert mentions in result.text(), result.text()
