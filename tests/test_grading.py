"""check() and @lab_check: wrong answers fail with a hint, malformed ones never crash the notebook."""

from __future__ import annotations

import json
import pkgutil

import nbformat
import pytest

import kserve_workshop.labkit.checks
from kserve_workshop.labkit import check_registry, grading
from kserve_workshop.labkit.check_registry import checks_for, lab_check
from kserve_workshop.labkit.grading import CheckFailed, CheckNotPassed, check

HINT = "Score the model with model.score(X_test, y_test)."


@lab_check("lab97", hint=HINT)
def accuracy(accuracy):
    if not 0.9 <= accuracy <= 1.0:
        raise CheckFailed("the accuracy is too low", expected="between 0.9 and 1.0", found=accuracy)


@lab_check("lab97")
def payload(payload):
    if payload.get("instances") != [[6.8, 2.8, 4.8, 1.4]]:
        raise CheckFailed(
            expected={"instances": [[6.8, 2.8, 4.8, 1.4]]},
            found=payload,
            hint="V1 payloads put the rows under 'instances'.",
        )


@lab_check("lab97", hint="Use both answers.")
def pair(first, second=2):
    assert first + second == 3, "first + second should be 3"


@lab_check("lab97", hint="a buggy check")
def broken(accuracy):
    return accuracy.no_such_attribute  # the check itself raises AttributeError


class Hostile:
    """A learner object whose comparisons and repr all raise."""

    def __le__(self, other):
        raise RuntimeError("comparison exploded")

    __ge__ = __lt__ = __gt__ = __le__

    def __repr__(self):
        raise ValueError("repr exploded")


@pytest.fixture(autouse=True)
def _not_strict(monkeypatch):
    monkeypatch.delenv(grading.STRICT_ENV, raising=False)
    monkeypatch.delenv(grading.REPORT_ENV, raising=False)


def test_a_right_answer_passes():
    result = check("lab97.accuracy", {"accuracy": 0.95}, show=False)
    assert result.passed and bool(result)
    assert result.name == "lab97.accuracy"


def test_a_wrong_answer_fails_with_expected_found_and_the_decorator_hint():
    result = check("lab97.accuracy", {"accuracy": 0.5}, show=False)
    assert not result.passed
    assert result.message == "the accuracy is too low"
    assert result.expected == "between 0.9 and 1.0"
    assert result.found == "0.5"
    assert result.hint == HINT


def test_the_hint_of_the_failure_wins_over_the_decorator():
    result = check("lab97.payload", {"payload": {"inputs": []}}, show=False)
    assert not result.passed
    assert result.hint == "V1 payloads put the rows under 'instances'."
    assert result.found == "{'inputs': []}"
    assert "instances" in result.expected


def _check_with_a_local_answer(accuracy):
    return check("lab97.accuracy", show=False)  # finds `accuracy` among the caller's locals


def test_answers_come_from_the_callers_variables():
    assert _check_with_a_local_answer(0.97).passed
    assert not _check_with_a_local_answer(0.3).passed


def test_keyword_answers_override_the_namespace():
    assert check("lab97.accuracy", {"accuracy": 0.1}, show=False, accuracy=0.99).passed


def test_a_missing_answer_names_the_variable_to_define():
    result = check("lab97.accuracy", {}, show=False)
    assert not result.passed
    assert "`accuracy` is not defined" in result.message
    assert "accuracy" in result.hint


@pytest.mark.parametrize("blank", [..., [[...]], {"instances": ...}, ([1, ...],)])
def test_a_still_blank_answer_is_reported(blank):
    result = check("lab97.payload", {"payload": blank}, show=False)
    assert not result.passed
    assert "still contains `...`" in result.message


def test_an_exception_in_a_learner_object_is_a_failed_check_with_its_message():
    result = check("lab97.accuracy", {"accuracy": Hostile()}, show=False)
    assert not result.passed
    assert result.error == "RuntimeError"
    assert "comparison exploded" in result.message
    assert result.hint == HINT


def test_a_learner_object_whose_repr_raises_is_still_shown():
    result = check("lab97.payload", {"payload": {"instances": Hostile()}}, show=False)
    assert not result.passed
    assert result.found == "<dict object whose repr() raised ValueError>"
    assert "found:    <dict object" in result.text()


def test_the_wrong_type_of_answer_is_a_failed_check_not_a_crash():
    result = check("lab97.payload", {"payload": [1, 2, 3]}, show=False)  # a list has no .get
    assert not result.passed
    assert result.error == "AttributeError"


def test_a_plain_assert_in_a_check_reads_as_a_failure_and_defaults_apply():
    assert check("lab97.pair", {"first": 1}, show=False).passed
    result = check("lab97.pair", {"first": 5}, show=False)
    assert not result.passed
    assert result.message.startswith("first + second should be 3")
    assert result.hint == "Use both answers."


def test_a_bug_in_the_check_itself_does_not_raise():
    result = check("lab97.broken", {"accuracy": 1.0}, show=False)
    assert not result.passed
    assert result.error == "AttributeError"


@pytest.mark.parametrize("name", ["lab97.nope", "accuracy", "lab96.anything", ".x"])
def test_an_unknown_check_is_reported_not_raised(name):
    result = check(name, {}, show=False)
    assert not result.passed
    assert result.error == "LookupError"


def test_unknown_check_lists_the_known_ones():
    result = check("lab97.nope", {}, show=False)
    assert "lab97.accuracy" in result.message


def test_lab_ids_are_normalised():
    assert check("lab097.accuracy", {"accuracy": 0.95}, show=False).passed
    assert check_registry.canonical_lab("Lab01") == "lab1"
    assert [spec.name for spec in checks_for("lab97")] == ["accuracy", "broken", "pair", "payload"]


def test_strict_mode_raises_on_failure_and_not_on_success(monkeypatch):
    monkeypatch.setenv(grading.STRICT_ENV, "1")
    assert check("lab97.accuracy", {"accuracy": 0.95}, show=False).passed
    with pytest.raises(CheckNotPassed) as caught:
        check("lab97.accuracy", {"accuracy": 0.2}, show=False)
    assert "lab97.accuracy" in str(caught.value) and HINT in str(caught.value)
    with pytest.raises(CheckNotPassed):
        check("lab97.accuracy", {}, show=False)


def test_every_result_is_appended_to_the_report(monkeypatch, tmp_path):
    report = tmp_path / "sub" / "report.jsonl"
    monkeypatch.setenv(grading.REPORT_ENV, str(report))
    check("lab97.accuracy", {"accuracy": 0.95}, show=False)
    check("lab97.accuracy", {"accuracy": 0.5}, show=False)
    check("lab97.nope", {}, show=False)
    records = [json.loads(line) for line in report.read_text().splitlines()]
    assert [(r["name"], r["passed"]) for r in records] == [
        ("lab97.accuracy", True),
        ("lab97.accuracy", False),
        ("lab97.nope", False),
    ]
    assert records[1]["lab"] == "lab97" and records[1]["check"] == "accuracy"
    assert records[1]["expected"] == "between 0.9 and 1.0" and records[1]["hint"] == HINT


def test_an_unwritable_report_warns_and_goes_on(monkeypatch, tmp_path, capsys):
    monkeypatch.setenv(grading.REPORT_ENV, str(tmp_path))  # a directory: cannot be appended to
    assert check("lab97.accuracy", {"accuracy": 0.95}, show=False).passed
    assert "could not append" in capsys.readouterr().err


def test_the_displays_show_mark_expected_found_and_hint_and_escape_html():
    result = check("lab97.payload", {"payload": {"x": "<script>"}}, show=False)
    text, markup = result.text(), result._repr_html_()
    assert text.startswith("✗ lab97.payload")
    for part in ("expected:", "found:", "hint:"):
        assert part in text
    assert "&lt;script&gt;" in markup and "<script>" not in markup
    assert "✓" in check("lab97.accuracy", {"accuracy": 0.95}, show=False)._repr_html_()


def test_check_prints_its_result_outside_a_notebook(capsys):
    check("lab97.accuracy", {"accuracy": 0.5})
    out = capsys.readouterr().out
    assert "lab97.accuracy" in out and "between 0.9 and 1.0" in out and HINT.split()[0] in out


@pytest.mark.bad_input(
    tool="check() outside a notebook (a script, a terminal Python)",
    input="a learner's value with brackets (`[/x]`, `[setosa]`)",
    example="found: ['[/oops]'] [setosa]",
    behaviour="printed verbatim in the result box (before: rich read it as markup, crashed on `[/x]`, dropped `[setosa]`)",
)
def test_outside_a_notebook_a_result_with_brackets_is_printed_verbatim(capsys):
    # A learner's value is not rich markup: "[/x]" crashed the printer, "[setosa]" vanished.
    result = grading.CheckResult(
        "lab97.x", False, message="wrong [word]", expected="a list", found="['[/oops]'] [setosa]", hint="use [x]"
    )
    grading._show(result)
    out = capsys.readouterr().out
    for shown in ("wrong [word]", "['[/oops]'] [setosa]", "use [x]"):
        assert shown in out, out


def _real_checks():
    for module in pkgutil.iter_modules(kserve_workshop.labkit.checks.__path__):
        if module.name.startswith("lab"):
            for spec in checks_for(module.name):
                yield pytest.param(spec, id=spec.qualified_name)


@pytest.mark.parametrize(
    "spec", list(_real_checks()) or [pytest.param(None, marks=pytest.mark.skip("no lab checks yet"))]
)
def test_every_real_check_rejects_empty_answers(spec):
    """A check that passes when every answer is None cannot fail for real."""
    result = check(spec.qualified_name, {variable: None for variable in spec.variables}, show=False)
    assert not result.passed, f"{spec.qualified_name} passed with None for {spec.variables}"


@pytest.mark.slow
def test_in_a_kernel_the_result_is_shown_once(tmp_path):
    """check() displays its result; the same result as the cell's value must not show twice."""
    from nbclient import NotebookClient

    nb = nbformat.v4.new_notebook()
    nb.cells = [
        nbformat.v4.new_code_cell(
            "from kserve_workshop.grading import check, lab_check, CheckFailed\n"
            "@lab_check('lab98')\ndef answer(answer):\n    if answer != 42:\n"
            "        raise CheckFailed(expected=42, found=answer, hint='Think.')\nanswer = 41"
        ),
        nbformat.v4.new_code_cell("check('lab98.answer')"),
        nbformat.v4.new_code_cell("result = check('lab98.answer', answer=42)"),
        nbformat.v4.new_code_cell("result"),
    ]
    NotebookClient(nb, timeout=60, kernel_name="python3", resources={"metadata": {"path": str(tmp_path)}}).execute()
    shown = [[o for o in cell.outputs if o.output_type in ("display_data", "execute_result")] for cell in nb.cells[1:]]
    assert [len(outputs) for outputs in shown] == [1, 1, 1]
    failed_html = shown[0][0]["data"]["text/html"]
    assert "✗" in failed_html and "42" in failed_html and "Think." in failed_html
    assert "✓" in shown[1][0]["data"]["text/html"]
    assert "✓ lab98.answer" in shown[2][0]["data"]["text/plain"]
