"""class.report over submitted scorecards, and grade --submit."""

from __future__ import annotations

import json
import re

import pytest
from invoke import MockContext
from invoke.exceptions import Exit

from kserve_workshop.classroom import report as report_lib
from kserve_workshop.classroom.submit import learner_name, submit
from kserve_workshop.errors import WorkshopError
from kserve_workshop.tasks import classroom as class_tasks


def card(learner, graded_at, lab1=("passed", "passed"), lab2=None):
    def lab(name, statuses, checks):
        return {
            "notebook": name,
            "checks": [
                {
                    "name": check,
                    "status": status,
                    "message": f"{check} wrong" if status == "failed" else "",
                    "hint": f"hint for {check}" if status == "failed" else None,
                }
                for check, status in zip(checks, statuses)
            ],
        }

    labs = [lab("01-serve-a-model.ipynb", lab1, ["lab1.accuracy", "lab1.v2"])]
    if lab2:
        labs.append(lab("02-first-inferenceservice.ipynb", lab2, ["lab2.manifest", "lab2.cluster"]))
    data = {"labs_dir": "labs", "generated_at": graded_at, "labs": labs}
    if learner is not None:
        data["learner"] = learner
    return data


def write(folder, name, data):
    (folder / name).write_text(data if isinstance(data, str) else json.dumps(data))


@pytest.fixture
def submissions(tmp_path):
    write(tmp_path, "a.json", card("ada", "2026-03-01T10:00:00+0000", ("passed", "failed"), ("failed", "skipped")))
    write(tmp_path, "b.json", card("grace", "2026-03-01T10:05:00+0000", ("passed", "passed"), ("passed", "skipped")))
    write(tmp_path, "c-old.json", card("linus", "2026-03-01T09:00:00+0000", ("failed", "failed")))
    write(tmp_path, "c-new.json", card("linus", "2026-03-01T11:00:00+0000", ("passed", "failed")))
    write(tmp_path, "broken.json", "{not json")
    write(tmp_path, "other.json", {"hello": "world"})
    write(tmp_path, "anonymous.json", card(None, "2026-03-01T10:00:00+0000"))
    write(tmp_path, "notes.txt", "ignored: not *.json")
    (tmp_path / "roster.txt").write_text("# the class\nada\ngrace\nlinus\nmargaret\n")
    return tmp_path


def test_report_merges_scorecards_and_names_every_problem_once(submissions):
    result = report_lib.build_report(submissions, submissions / "roster.txt")
    assert [c.learner for c in result.learners] == ["ada", "grace", "linus"]
    linus = next(c for c in result.learners if c.learner == "linus")
    assert linus.file == "c-new.json", "the newest submission counts"
    problems = "\n".join(result.problems)
    assert len(result.problems) == 5
    for expected in (
        "broken.json: not valid JSON",
        "other.json: not a scorecard",
        "anonymous.json: no valid learner",
        "c-old.json: a second scorecard of linus",
        "margaret: on the roster, but no scorecard",
    ):
        assert expected in problems
    # lab1.v2 fails for ada and linus; lab2.manifest for ada only; skipped checks do not count as failed.
    assert result.common_failures()[0] == ("lab1.v2", 2, "hint for lab1.v2")
    assert ("lab2.manifest", 1, "hint for lab2.manifest") in result.common_failures()
    assert result.lab_score(
        next(c for c in result.learners if c.learner == "grace"), "02-first-inferenceservice.ipynb"
    ) == (1, 1)


def test_report_files_are_static_and_escaped(submissions, tmp_path):
    write(submissions, "evil.json", card("mallory", "2026-03-01T12:00:00+0000", ("failed", "passed")))
    data = json.loads((submissions / "evil.json").read_text())
    data["labs"][0]["checks"][0]["hint"] = "<script>alert(1)</script>"
    write(submissions, "evil.json", data)
    html_path, md_path = report_lib.write_report(report_lib.build_report(submissions), tmp_path / "out")
    page = html_path.read_text()
    assert "<script>" not in page and "&lt;script&gt;" in page
    assert "http://" not in page and "https://" not in page and "<link" not in page and " src=" not in page
    markdown = md_path.read_text()
    assert "| learner | `01-serve-a-model.ipynb` | `02-first-inferenceservice.ipynb` | last graded |" in markdown
    assert "| ada | 1/2 | 0/1 | 2026-03-01T10:00:00+0000 |" in markdown
    assert "| linus | 1/2 | — |" in markdown


def test_report_refuses_an_empty_or_missing_folder(tmp_path):
    with pytest.raises(WorkshopError, match="no scorecards"):
        report_lib.build_report(tmp_path)
    with pytest.raises(WorkshopError, match="not found"):
        report_lib.build_report(tmp_path / "nope")


def test_report_task(submissions, capsys):
    class_tasks.report(MockContext(run={}), scorecards=str(submissions), roster=str(submissions / "roster.txt"))
    captured = capsys.readouterr()
    assert "3 learner(s), 5 problem(s)" in captured.out
    assert (submissions / "class-report.html").is_file() and "margaret" in captured.err
    with pytest.raises(Exit):
        class_tasks.report(MockContext(run={}))


def test_submit_writes_a_unique_copy(tmp_path):
    scorecard = tmp_path / "scorecard.json"
    scorecard.write_text(json.dumps(card(None, "2026-03-01T10:00:00+0000")))
    share = tmp_path / "share"
    share.mkdir()
    first, second = submit(scorecard, share, "ada"), submit(scorecard, share, "ada")
    assert first != second and first.name.startswith("scorecard-ada-")
    assert json.loads(first.read_text())["learner"] == "ada"
    assert not list(share.glob(".*")), "no temporary file is left"
    assert [c.learner for c in report_lib.build_report(share).learners] == ["ada"]
    with pytest.raises(WorkshopError, match="not found"):
        submit(scorecard, tmp_path / "missing", "ada")
    with pytest.raises(WorkshopError, match="cannot name a learner"):
        submit(scorecard, share, "../../etc")


def test_learner_name_sources(monkeypatch):
    monkeypatch.delenv("WORKSHOP_LEARNER", raising=False)
    monkeypatch.setenv("WORKSHOP_NAMESPACE", "learner-07")
    assert learner_name() == "learner-07"
    monkeypatch.setenv("WORKSHOP_LEARNER", "ada")
    assert learner_name() == "ada" and learner_name("grace") == "grace"
    with pytest.raises(WorkshopError):
        learner_name("has space")


def test_grade_submit_refuses_a_missing_folder_before_running_anything(tmp_path, capsys, monkeypatch):
    from kserve_workshop.tasks import labs as lab_tasks

    ran = []
    monkeypatch.setattr("kserve_workshop.labkit.scorecard.grade", lambda *a, **k: ran.append(a))
    with pytest.raises(Exit):
        lab_tasks.grade(MockContext(run={}), labs_dir=str(tmp_path), submit=str(tmp_path / "share"), learner="ada")
    assert "submit folder not found" in capsys.readouterr().err and ran == []


@pytest.mark.bad_input(
    tool="invoke class.report",
    input="A scorecard file instead of the folder; an --out that cannot be a folder",
    example="--scorecards subs/ada.json; --out /proc/nope",
    behaviour='one message each ("is a file, not a folder"; "cannot write the class report to ..."), no traceback',
)
def test_report_bad_paths_give_one_message(submissions, tmp_path, capsys):
    """What an instructor mistypes: a scorecard file for the folder, an output path that cannot be a folder."""
    with pytest.raises(WorkshopError, match="is a file, not a folder"):
        report_lib.build_report(submissions / "a.json")
    blocker = tmp_path / "taken"
    blocker.write_text("a file where the output folder should go")
    with pytest.raises(Exit):
        class_tasks.report(MockContext(run={}), scorecards=str(submissions), out=str(blocker / "report"))
    err = capsys.readouterr().err
    assert "cannot write the class report" in err and "Traceback" not in err


@pytest.mark.bad_input(
    tool="invoke class.report",
    input="Scorecard text with '|' or newlines (check or lab names, times)",
    example='a check named "lab1.a|b"',
    behaviour="escaped in the Markdown tables: no extra columns or rows",
)
def test_markdown_table_survives_pipes_and_newlines_in_scorecard_text(tmp_path):
    """Scorecards come from learners' machines: a check or lab name with '|' or a newline must not add
    columns or rows to the Markdown table."""
    data = card("ada", "2026-03-01T10:00:00+0000")
    data["labs"][0]["notebook"] = "01|x.ipynb"
    data["labs"][0]["checks"][0]["name"] = "lab1.a|b\nc"
    data["generated_at"] = "today|\nnow"
    write(tmp_path, "a.json", data)
    text = report_lib.markdown(report_lib.build_report(tmp_path))
    blocks = [block.splitlines() for block in text.split("\n\n") if block.startswith("|")]
    assert len(blocks) == 2, text  # the summary and the lab's table, each whole
    for rows in blocks:
        pipes = {len(re.findall(r"(?<!\\)\|", row)) for row in rows}
        assert len(pipes) == 1 and all(row.endswith("|") for row in rows), rows


def test_the_newest_submission_is_chosen_by_time_not_by_text(tmp_path):
    """Scorecards carry local time with an offset: 11:30+0200 (09:30 UTC) is older than 10:00+0000,
    though it sorts after it as text (a learner who graded on a laptop, then on a UTC cloud VM)."""
    write(tmp_path, "laptop.json", card("ada", "2026-03-01T11:30:00+0200", ("failed", "failed")))
    write(tmp_path, "vm.json", card("ada", "2026-03-01T10:00:00+0000", ("passed", "passed")))
    result = report_lib.build_report(tmp_path)
    assert [c.file for c in result.learners] == ["vm.json"]
    assert any(p.startswith("laptop.json: a second scorecard of ada") for p in result.problems)


@pytest.mark.bad_input(
    tool="invoke class.report",
    input="A scorecard nested 100,000 deep, or one the instructor may not read",
    example='deep.json holding "[[[[...]]]]"',
    behaviour="that file is skipped with one message; the report covers the others (before: a RecursionError traceback)",
)
def test_a_scorecard_nested_beyond_reason_is_skipped_with_a_message(submissions):
    write(submissions, "deep.json", "[" * 100_000 + "]" * 100_000)
    result = report_lib.build_report(submissions)
    assert "deep.json: nested too deeply to be a scorecard, skipped" in result.problems
    assert len(result.learners) == 3


def test_an_unreadable_scorecard_is_skipped_with_a_message(submissions, monkeypatch):
    """A shared folder may hold a file the instructor may not read (another user's, mode 0600)."""
    real = report_lib.Path.read_text

    def read_text(self, *args, **kwargs):
        if self.name == "b.json":
            raise PermissionError(13, "Permission denied")
        return real(self, *args, **kwargs)

    monkeypatch.setattr(report_lib.Path, "read_text", read_text)
    result = report_lib.build_report(submissions)
    assert "b.json: cannot be read (Permission denied), skipped" in result.problems


def test_a_roster_that_is_not_text_is_refused_with_one_message(submissions):
    (submissions / "roster.xlsx").write_bytes(b"PK\x03\x04\xff\xfe binary spreadsheet")
    with pytest.raises(WorkshopError, match="roster.xlsx is not a text file"):
        report_lib.build_report(submissions, submissions / "roster.xlsx")


def test_a_roster_of_full_names_says_learner_names_are_needed(submissions):
    """Instructors paste full names; a learner name has no spaces, so "Ada Lovelace" can never match."""
    (submissions / "names.txt").write_text("Ada Lovelace\ngrace\n")
    result = report_lib.build_report(submissions, submissions / "names.txt")
    assert any(p.startswith("'Ada Lovelace' on the roster cannot be a learner name") for p in result.problems)
    assert not any(p.startswith("Ada Lovelace: on the roster, but no scorecard") for p in result.problems)
