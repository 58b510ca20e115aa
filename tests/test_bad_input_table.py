"""docs/bad-inputs.md's table is the ``bad_input`` markers of the tests, and nothing else."""

from __future__ import annotations

import pytest

from support import bad_input_table as table


def test_the_page_holds_exactly_the_table_the_markers_make():
    rows = table.collect()
    page = table.PAGE.read_text(encoding="utf-8")
    assert table.generated_part(page) == table.render(rows), (
        "docs/bad-inputs.md is out of date: run `.venv/bin/python tests/support/bad_input_table.py`"
    )


def test_the_table_covers_every_tool_the_issue_named():
    tools = {row.tool for row in table.collect()}
    for tool in (
        "invoke validate",
        "kserve-workshop-load",
        "invoke grade",
        "invoke smoke",
        "scripts/bootstrap.sh",
        "model server (V1 REST)",
        "local servers (model server, Prometheus, transformer, sink)",
    ):
        assert tool in tools


def test_every_row_names_a_test_that_exists():
    for row in table.collect():
        path, name = row.test.split("::")
        assert f"def {name}(" in (table.TESTS_DIR.parent / path).read_text()


def test_markers_are_read_from_source_and_bad_ones_refused(tmp_path):
    good = tmp_path / "test_good.py"
    good.write_text(
        "import pytest\nmark = pytest.mark.bad_input\n\n\n"
        '@mark(tool="t", input="i", example="e", behaviour="b  spread\\n  over lines")\n'
        "def test_one():\n    pass\n\n\n"
        '@pytest.mark.bad_input(tool="t2", input="i2", example="e2 | pipe", behaviour="b2")\n'
        "def test_two():\n    pass\n"
    )
    rows = table.rows_of(good, "tests/test_good.py")
    assert rows == [
        table.Row("t", "i", "e", "b spread over lines", "tests/test_good.py::test_one"),
        table.Row("t2", "i2", "e2 | pipe", "b2", "tests/test_good.py::test_two"),
    ]
    assert "`e2 \\| pipe`" in table.render(rows)
    for decorator, says in (
        ('@pytest.mark.bad_input(tool=NAME, input="i", example="e", behaviour="b")', "must be literal text"),
        ('@pytest.mark.bad_input(tool="t", input="i", example="e")', "needs exactly"),
        ('@pytest.mark.bad_input(tool="", input="i", example="e", behaviour="b")', "needs exactly"),
    ):
        bad = tmp_path / "test_bad.py"
        bad.write_text(f"import pytest\n\n\n{decorator}\ndef test_x():\n    pass\n")
        with pytest.raises(table.MarkerError, match=says):
            table.rows_of(bad, "tests/test_bad.py")
    helper = tmp_path / "test_helper.py"
    helper.write_text(
        'import pytest\n\n\n@pytest.mark.bad_input(tool="t", input="i", example="e", behaviour="b")\n'
        "def helper():\n    pass\n"
    )
    with pytest.raises(table.MarkerError, match="not a test"):
        table.rows_of(helper, "tests/test_helper.py")
