"""The learner-answer suite's one helper: run an answer through the real check and judge the verdict.

Each case is an answer a learner could write (right ones written in different ways, typical wrong
ones), the verdict it must get, and for a wrong answer a text the hint must hold: the hint has to
point at the mistake actually made, not just say "wrong".
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable, Mapping

import pytest

from kserve_workshop.labkit.grading import CheckResult, check

PASS, FAIL = True, False


@dataclass(frozen=True)
class Case:
    """``answers``: the notebook variables (a dict, or a function of the test's fixtures returning one)."""

    id: str
    answers: Mapping[str, Any] | Callable[..., Mapping[str, Any]]
    passes: bool
    #: For a wrong answer: text the hint must contain. For a right one: text the message must contain.
    says: str | None = None
    #: Where ``says`` must appear for a wrong answer: "hint" (default) or "message".
    where: str = "hint"
    marks: tuple = field(default_factory=tuple)


def cases(*items: Case) -> list:
    return [pytest.param(item, id=item.id, marks=item.marks) for item in items]


def grade(name: str, answers: Mapping[str, Any]) -> CheckResult:
    return check(name, dict(answers), show=False)


def judge(name: str, case: Case, **fixtures: Any) -> CheckResult:
    """Run ``case`` through check ``name`` and assert its verdict, its hint and that nothing crashed."""
    answers = case.answers(**fixtures) if callable(case.answers) else case.answers
    result = grade(name, answers)
    text = result.text()
    assert result.passed is case.passes, f"{case.id}: expected {'pass' if case.passes else 'fail'}, got\n{text}"
    if case.passes:
        if case.says:
            assert case.says in result.message, f"{case.id}: {case.says!r} not in the message\n{text}"
        return result
    assert result.error in (None, "SystemExit", "KeyboardInterrupt", "Timeout"), (
        f"{case.id}: a wrong answer must be a verdict, not a crash of the check\n{text}"
    )
    assert result.hint, f"{case.id}: failed without a hint\n{text}"
    if result.expected is not None and result.found is not None:
        assert result.expected != result.found, f"{case.id}: expected and found read the same\n{text}"
    if case.says:
        where = result.hint if case.where == "hint" else result.message
        assert case.says in where, f"{case.id}: {case.says!r} not in the {case.where}\n{text}"
    return result
