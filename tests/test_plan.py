"""Plan, Step and Runner: a failed command's error carries its step's hint."""

from __future__ import annotations

import pytest
from invoke import MockContext, Result

from kserve_workshop.errors import WorkshopError
from kserve_workshop.plan import Plan, Runner, Step


def failing_context(command: str) -> MockContext:
    return MockContext(run={command: Result(command=command, exited=1, stderr="boom")})


def test_a_failed_command_carries_its_steps_hint():
    plan = Plan("p", [Step(title="say hi", command=["echo", "hi"], hint="try saying hello")])
    with pytest.raises(WorkshopError, match="command failed: echo hi\nboom") as caught:
        Runner(failing_context("echo hi")).execute(plan)
    assert caught.value.hint == "try saying hello"


def test_a_step_without_a_hint_fails_without_one():
    with pytest.raises(WorkshopError) as caught:
        Runner(failing_context("echo hi")).execute(Plan("p", [Step(title="say hi", command=["echo", "hi"])]))
    assert caught.value.hint is None


def test_the_hint_is_used_only_after_the_last_attempt():
    context = MockContext(run={"echo hi": [Result(command="echo hi", exited=1), Result(command="echo hi")]})
    ran = Runner(context).execute(Plan("p", [Step(title="say hi", command=["echo", "hi"], attempts=2, hint="h")]))
    assert ran == ["say hi"]
