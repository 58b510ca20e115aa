"""Static checks of notebook code: syntax, undefined names, library references and signatures."""

from __future__ import annotations

from pathlib import Path

import nbformat
import pytest

from kserve_workshop.errors import WorkshopError
from kserve_workshop.labkit.check_registry import lab_check
from kserve_workshop.labkit.grading import CheckFailed
from kserve_workshop.labkit.notebook_cells import python_of
from kserve_workshop.labkit.notebook_lint import (
    Problem,
    bound_names,
    check_notebook,
    raise_for_problems,
)

SAMPLE = Path(__file__).parent / "fixtures" / "notebooks" / "01-sample.ipynb"
FIRST = "%load_ext kserve_workshop.notebook\nfrom kserve_workshop.grading import check"


@lab_check("lab89", hint="Add the two numbers with +.")
def total(total):  # a check registered in this process, as kserve_workshop.checks.labN would be
    if total != 5:
        raise CheckFailed(expected=5, found=total)


@lab_check("lab89", hint="double(x) returns x * 2.")
def doubled(doubled):
    if doubled != 42:
        raise CheckFailed(expected=42, found=doubled)


def problems_of(tmp_path, *sources: str) -> list[str]:
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_markdown_cell("# title"), *(nbformat.v4.new_code_cell(source) for source in sources)]
    path = tmp_path / "05-test.ipynb"
    nbformat.write(nb, path)
    return [str(problem) for problem in check_notebook(path)]


def test_the_sample_master_is_clean():
    assert check_notebook(SAMPLE) == []


def test_a_clean_notebook_using_the_library_correctly_passes(tmp_path):
    assert (
        problems_of(
            tmp_path,
            FIRST,
            "import kserve_workshop.plan as plan\nfrom kserve_workshop import errors\n"
            "steps = plan.Plan('install', steps=[plan.Step(title='a', command=['true'])])\n"
            "failure = errors.WorkshopError('bad', hint='fix it')\n"
            "kwargs = {'hint': 'x'}\nerrors.WorkshopError('m', **kwargs)",
            "!pip list\nfiles = !ls\n%time y = 1\nprint(steps, failure, files)",
            "%%bash\necho $UNDEFINED_SHELL_VARIABLE",
        )
        == []
    )


def test_an_undefined_name_is_reported_with_cell_and_line(tmp_path):
    assert problems_of(tmp_path, FIRST, "x = 1\nprint(x, predictions)") == [
        "05-test.ipynb cell 3, line 2: undefined name 'predictions'"
    ]


def test_a_name_used_before_the_cell_that_defines_it_is_undefined(tmp_path):
    assert problems_of(tmp_path, "print(later)", "later = 1") == [
        "05-test.ipynb cell 2, line 1: undefined name 'later'"
    ]


def test_a_name_bound_only_in_cluster_cells_is_reported_in_local_cells(tmp_path):
    problems = problems_of(tmp_path, FIRST, "%%cluster\nurl = 'http://x'", "%%cluster\nprint(url)", "print(url)")
    assert problems == [
        "05-test.ipynb cell 5, line 1: undefined name 'url' (it is bound only in %%cluster "
        "cells, which are skipped without a cluster)"
    ]


def test_undefined_names_inside_cluster_cells_are_reported_too(tmp_path):
    assert problems_of(tmp_path, FIRST, "%%cluster\nprint(isvc_name)") == [
        "05-test.ipynb cell 3, line 2: undefined name 'isvc_name'"
    ]


def test_a_syntax_error_names_the_cell(tmp_path):
    problems = problems_of(tmp_path, FIRST, "%%cluster\nif True\n    pass")
    assert len(problems) == 1 and problems[0].startswith("05-test.ipynb cell 3, line 2: syntax error")


def test_names_inside_a_top_level_await_are_checked(tmp_path):
    assert problems_of(tmp_path, "result = await fetch_it()") == [
        "05-test.ipynb cell 2, line 1: undefined name 'fetch_it'"
    ]


@pytest.mark.parametrize(
    "source, fragment",
    [
        ("from kserve_workshop.grading import no_such_helper", "kserve_workshop.grading.no_such_helper does not exist"),
        ("import kserve_workshop.no_such_module", "kserve_workshop.no_such_module does not exist"),
        ("import kserve_workshop.plan as plan\nplan.NoSuchClass", "kserve_workshop.plan.NoSuchClass does not exist"),
        (
            "import kserve_workshop\nkserve_workshop.plan.Plan.no_method",
            "kserve_workshop.plan.Plan.no_method does not exist",
        ),
        ("from kserve_workshop import no_such_module", "kserve_workshop.no_such_module does not exist"),
    ],
)
def test_a_library_name_that_does_not_exist_is_reported(tmp_path, source, fragment):
    problems = problems_of(tmp_path, source)
    assert any(fragment in problem for problem in problems), problems


def test_instance_attributes_declared_on_a_class_are_not_reported(tmp_path):
    # Step.title is a dataclass field: an attribute of instances, declared on the class.
    assert problems_of(tmp_path, "import kserve_workshop.plan as plan\nprint(plan.Step.title)") == []


@pytest.mark.parametrize(
    "call, fragment",
    [
        ("plan.Plan('x', stepz=[])", "got an unexpected keyword argument 'stepz'"),
        ("plan.Step()", "missing a required argument: 'title'"),
        ("plan.Plan('x', [], 'extra')", "too many positional arguments"),
        ("plan.Plan(*names, color='red')", "has no keyword argument 'color'"),
    ],
)
def test_a_library_call_that_does_not_match_the_signature_is_reported(tmp_path, call, fragment):
    problems = problems_of(tmp_path, f"import kserve_workshop.plan as plan\nnames = ['x']\n{call}")
    assert len(problems) == 1 and fragment in problems[0] and "cell 2, line 3" in problems[0], problems


def test_calls_through_from_imports_are_checked_in_cluster_cells(tmp_path):
    problems = problems_of(
        tmp_path,
        FIRST,
        "from kserve_workshop.errors import WorkshopError",
        "%%cluster\nraise WorkshopError('m', hints='x')",
    )
    assert problems == [
        "05-test.ipynb cell 4, line 2: kserve_workshop.errors.WorkshopError() called wrongly: "
        "got an unexpected keyword argument 'hints' (signature: (message: 'str', "
        "hint: 'str | None' = None, exit_code: 'int' = 1))"
    ]


def test_a_check_call_must_name_a_known_check(tmp_path):
    problems = problems_of(tmp_path, FIRST, "total = 5", "check('lab89.totl')")
    assert len(problems) == 1 and "there is no check 'lab89.totl'" in problems[0]


def test_a_check_needs_its_answer_defined_earlier(tmp_path):
    assert problems_of(tmp_path, FIRST, "check('lab89.total')", "total = 5") == [
        "05-test.ipynb cell 3, line 1: check('lab89.total') grades `total`, which no earlier local "
        "(non-%%cluster) cell defines"
    ]
    assert problems_of(tmp_path, FIRST, "total = 5\ncheck('lab89.total')") == []


def test_a_local_check_of_an_answer_bound_in_a_cluster_cell_is_reported(tmp_path):
    problems = problems_of(tmp_path, FIRST, "%%cluster\ndoubled = 42", "check('lab89.doubled')")
    assert any("grades `doubled`, which no earlier local" in problem for problem in problems)
    assert problems_of(tmp_path, FIRST, "%%cluster\ndoubled = 42", "%%cluster\ncheck('lab89.doubled')") == []


def test_a_check_name_must_be_a_literal(tmp_path):
    assert any("string literal" in p for p in problems_of(tmp_path, FIRST, "name = 'lab89.total'\ncheck(name)"))


def test_writefile_python_is_checked_on_its_own(tmp_path):
    problems = problems_of(
        tmp_path,
        "%%writefile transformer.py\nimport os\nprint(os.sep, undefined_in_file)",
        "%%writefile notes.txt\nnot python at all (",
    )
    assert problems == ["05-test.ipynb cell 2, line 3: undefined name 'undefined_in_file'"]


def test_python_of_sets_ipython_lines_aside_and_keeps_line_numbers():
    python, cluster, standalone = python_of("%%cluster\nif x:\n    !ls\n    y = %env HOME\nz = 1")
    assert (cluster, standalone) == (True, False)
    assert python.split("\n") == ["", "if x:", "    pass", "    y = None", "z = 1"]
    assert python_of("%%html\n<b>x</b>") == (None, False, False)


def test_bound_names_are_the_notebook_level_ones():
    import ast

    tree = ast.parse(
        "import a.b\nfrom c import d as e\nx, (y, z) = 1, (2, 3)\nfor i in []: pass\n"
        "with open('f') as fh: pass\ndef f(local): inner = 1\nclass K: attr = 1\n"
        "[comp for comp in []]\nif (w := 1): pass"
    )
    assert bound_names(tree) == {"a", "e", "x", "y", "z", "i", "fh", "f", "K", "w"}


def test_an_unreadable_notebook_is_a_problem(tmp_path):
    path = tmp_path / "broken.ipynb"
    path.write_text("{")
    assert [p.message.split(":")[0] for p in check_notebook(path)] == ["not a readable notebook"]


def test_raise_for_problems_lists_them():
    raise_for_problems([])
    with pytest.raises(WorkshopError) as caught:
        raise_for_problems([Problem("a.ipynb", 3, 1, "undefined name 'x'")])
    assert "a.ipynb cell 3, line 1: undefined name 'x'" in str(caught.value)


def test_checks_defined_in_the_notebook_itself_are_understood(tmp_path):
    define = (
        "from kserve_workshop.grading import lab_check\n"
        "@lab_check('lab88', hint='h')\ndef answer(answer, extra=1, *, scale):\n    pass"
    )
    assert problems_of(tmp_path, FIRST, define, "answer = scale = 1", "check('lab88.answer')") == []
    assert problems_of(tmp_path, FIRST, define, "answer = 1", "check('lab88.answer')") == [
        "05-test.ipynb cell 5, line 1: check('lab88.answer') grades `scale`, which no earlier local "
        "(non-%%cluster) cell defines"
    ]
    assert any(
        "there is no check 'lab88.other'" in problem
        for problem in problems_of(tmp_path, FIRST, define, "check('lab88.other')")
    )


@pytest.mark.parametrize(
    "grading_import",
    [
        "from kserve_workshop.labkit.grading import check",  # what the masters import
        "from kserve_workshop.labkit.grading import answered, check",
        "from kserve_workshop.labkit import grading as g\ncheck = g.check",
        "from kserve_workshop.grading import check",  # the old path, kept for one release
    ],
)
def test_check_calls_are_checked_whichever_path_imports_check(tmp_path, grading_import):
    first = "%load_ext kserve_workshop.notebook\n" + grading_import
    problems = problems_of(tmp_path, first, "total = 5", "check('lab89.totl')")
    if "check = g.check" in grading_import:  # a rebinding is not followed: nothing to report, nothing to crash
        assert problems == []
        return
    assert len(problems) == 1 and "there is no check 'lab89.totl'" in problems[0]
    assert any("grades `total`" in p for p in problems_of(tmp_path, first, "check('lab89.total')", "total = 5"))


@pytest.mark.parametrize(
    "lab_check_import",
    [
        "from kserve_workshop.labkit.check_registry import lab_check",
        "from kserve_workshop.labkit.grading import lab_check",
        "from kserve_workshop.grading import lab_check",
    ],
)
def test_checks_a_notebook_defines_are_understood_from_every_import_path(tmp_path, lab_check_import):
    define = f"{lab_check_import}\n@lab_check('lab88', hint='h')\ndef answer(answer):\n    pass"
    assert problems_of(tmp_path, FIRST, define, "answer = 1", "check('lab88.answer')") == []
    assert any(
        "there is no check 'lab88.other'" in p for p in problems_of(tmp_path, FIRST, define, "check('lab88.other')")
    )
