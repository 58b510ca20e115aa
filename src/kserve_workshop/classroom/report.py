"""``invoke class.report``: the class's progress from the scorecards learners submitted.

Reads only the ``*.json`` files in the folder it is given (no server, no network) and writes one
static HTML page (inline CSS, no external assets) and a Markdown table: per learner x lab x check,
passed / failed / skipped / not run; the checks that fail most often, with their hints; when each
learner was last graded. A file that is not JSON, not a scorecard, or a second submission of the
same learner gets one clear message each (the newest submission counts), and so does a learner on
the roster with no scorecard.
"""

from __future__ import annotations

import html
import json
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from ..errors import WorkshopError
from .submit import _LEARNER

PASSED, FAILED, SKIPPED, NOT_RUN = "passed", "failed", "skipped", "not run"
_MARK = {PASSED: "✓", FAILED: "✗", SKIPPED: "○", NOT_RUN: "–"}


@dataclass
class LearnerCard:
    learner: str
    file: str
    graded_at: str
    #: lab notebook -> check name -> (status, message, hint)
    results: dict[str, dict[str, tuple[str, str, str]]]


@dataclass
class ClassReport:
    learners: list[LearnerCard] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)

    def labs(self) -> list[str]:
        return sorted({lab for card in self.learners for lab in card.results})

    def checks(self, lab: str) -> list[str]:
        seen: dict[str, None] = {}
        for card in self.learners:
            for name in card.results.get(lab, {}):
                seen.setdefault(name, None)
        return list(seen)

    def lab_score(self, card: LearnerCard, lab: str) -> tuple[int, int]:
        rows = card.results.get(lab, {}).values()
        return sum(s == PASSED for s, _, _ in rows), sum(s != SKIPPED for s, _, _ in rows)

    def common_failures(self, limit: int = 10) -> list[tuple[str, int, str]]:
        """``(check, learners failing it, the most frequent hint)``, most failed first."""
        counts: Counter[str] = Counter()
        hints: dict[str, Counter[str]] = defaultdict(Counter)
        for card in self.learners:
            for checks in card.results.values():
                for name, (status, message, hint) in checks.items():
                    if status in (FAILED, NOT_RUN):
                        counts[name] += 1
                        hints[name][hint or message] += 1
        return [
            (name, count, hints[name].most_common(1)[0][0] if hints[name] else "")
            for name, count in sorted(counts.items(), key=lambda item: (-item[1], item[0]))[:limit]
        ]


def _parse(path: Path) -> tuple[LearnerCard | None, str | None]:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except UnicodeDecodeError:
        return None, f"{path.name}: not a text file, skipped"
    except json.JSONDecodeError as exc:
        return None, f"{path.name}: not valid JSON (line {exc.lineno}: {exc.msg}), skipped"
    except RecursionError:
        return None, f"{path.name}: nested too deeply to be a scorecard, skipped"
    except OSError as exc:
        return None, f"{path.name}: cannot be read ({exc.strerror or exc}), skipped"
    if not isinstance(data, dict) or not isinstance(data.get("labs"), list):
        return None, f"{path.name}: not a scorecard (no 'labs' list; expected the JSON `invoke grade` writes), skipped"
    learner = data.get("learner")
    if not isinstance(learner, str) or not _LEARNER.match(learner):
        return None, (
            f"{path.name}: no valid learner name in it (submit with `invoke grade --submit DIR "
            "--learner NAME`), skipped"
        )
    results: dict[str, dict[str, tuple[str, str, str]]] = {}
    for lab in data["labs"]:
        if (
            not isinstance(lab, dict)
            or not isinstance(lab.get("notebook"), str)
            or not isinstance(lab.get("checks"), list)
        ):
            return None, f"{path.name}: a lab entry has no 'notebook' or 'checks', skipped"
        rows = results.setdefault(lab["notebook"], {})
        for check in lab["checks"]:
            if not isinstance(check, dict) or not isinstance(check.get("name"), str):
                return None, f"{path.name}: a check in {lab['notebook']} has no name, skipped"
            status = check.get("status") if check.get("status") in _MARK else NOT_RUN
            rows[check["name"]] = (status, str(check.get("message") or ""), str(check.get("hint") or ""))
    graded_at = str(data.get("generated_at") or data.get("submitted_at") or "")
    return LearnerCard(learner, path.name, graded_at, results), None


def _order(card: LearnerCard) -> tuple[float, str, str]:
    """When a scorecard was graded, as a moment (its text carries a local time with an offset), for
    choosing a learner's newest; text that is not such a time sorts first, by itself."""
    try:
        moment = datetime.strptime(card.graded_at, "%Y-%m-%dT%H:%M:%S%z").timestamp()
    except ValueError:
        moment = float("-inf")
    return moment, card.graded_at, card.file


def build_report(folder: Path, roster: Path | None = None) -> ClassReport:
    folder = Path(folder).expanduser()
    if folder.is_file():
        raise WorkshopError(
            f"--scorecards {folder} is a file, not a folder", hint="pass the folder learners submitted to"
        )
    if not folder.is_dir():
        raise WorkshopError(f"scorecards folder not found: {folder}")
    files = sorted(p for p in folder.glob("*.json") if p.is_file())
    if not files:
        raise WorkshopError(
            f"no scorecards (*.json) in {folder}", hint="learners submit with `invoke grade --submit DIR`"
        )
    report = ClassReport()
    newest: dict[str, LearnerCard] = {}
    for path in files:
        card, problem = _parse(path)
        if problem:
            report.problems.append(problem)
            continue
        assert card is not None
        kept = newest.get(card.learner)
        if kept is None:
            newest[card.learner] = card
            continue
        later, earlier = (card, kept) if _order(card) > _order(kept) else (kept, card)
        newest[card.learner] = later
        report.problems.append(
            f"{earlier.file}: a second scorecard of {card.learner} "
            f"(graded {earlier.graded_at or 'at an unknown time'}); the newer {later.file} counts"
        )
    report.learners = [newest[name] for name in sorted(newest)]
    if roster is not None:
        try:
            expected = [
                line.strip()
                for line in Path(roster).read_text(encoding="utf-8").splitlines()
                if line.strip() and not line.lstrip().startswith("#")
            ]
        except OSError as exc:
            raise WorkshopError(f"cannot read the roster {roster}: {exc.strerror or exc}") from None
        except UnicodeDecodeError:
            raise WorkshopError(
                f"the roster {roster} is not a text file", hint="one learner name per line, as plain UTF-8 text"
            ) from None
        report.problems.extend(
            f"{name!r} on the roster cannot be a learner name (letters, digits, '.', '_' and '-', as learners "
            "pass to `invoke grade --submit DIR --learner NAME`)"
            for name in expected
            if not _LEARNER.match(name)
        )
        report.problems.extend(
            f"{name}: on the roster, but no scorecard was submitted"
            for name in expected
            if name not in newest and _LEARNER.match(name)
        )
    return report


# ----- rendering ---------------------------------------------------------------------------------


def _md_cell(text: str) -> str:
    return text.replace("|", "\\|").replace("\n", " ")


def markdown(report: ClassReport) -> str:
    labs = report.labs()
    lines = [
        f"# Class report: {len(report.learners)} learner(s)",
        "",
        "| learner | " + " | ".join(f"`{_md_cell(lab)}`" for lab in labs) + " | last graded |",
        "|---|" + "---|" * len(labs) + "---|",
    ]
    for card in report.learners:
        cells = []
        for lab in labs:
            passed, total = report.lab_score(card, lab)
            cells.append(f"{passed}/{total}" if lab in card.results else "—")
        lines.append(f"| {card.learner} | " + " | ".join(cells) + f" | {_md_cell(card.graded_at or '?')} |")
    failures = report.common_failures()
    if failures:
        lines += ["", "## Checks failed most often", "", "| check | learners | hint |", "|---|---|---|"]
        lines += [f"| `{_md_cell(name)}` | {count} | {_md_cell(hint)} |" for name, count, hint in failures]
    if report.problems:
        lines += ["", "## Problems with the files", ""] + [f"- {_md_cell(problem)}" for problem in report.problems]
    for lab in labs:
        checks = report.checks(lab)
        lines += [
            "",
            f"## {_md_cell(lab)}",
            "",
            "| learner | " + " | ".join(f"`{_md_cell(c)}`" for c in checks) + " |",
            "|---|" + "---|" * len(checks),
        ]
        for card in report.learners:
            row = card.results.get(lab, {})
            lines.append(
                f"| {card.learner} | "
                + " | ".join(f"{_MARK[row[c][0]]} {row[c][0]}" if c in row else "—" for c in checks)
                + " |"
            )
    return "\n".join(lines) + "\n"


_CSS = """body{font-family:system-ui,sans-serif;margin:2rem;color:#222}table{border-collapse:collapse;margin:1rem 0}
th,td{border:1px solid #ccc;padding:.3rem .6rem;text-align:left}th{background:#f3f3f3}
td.passed{background:#e6f4ea}td.failed{background:#fce8e6}td.skipped{background:#f1f3f4;color:#666}
td.not-run{background:#fef7e0}caption{font-weight:bold;text-align:left}.problems li{color:#a50e0e}"""


def _e(text: object) -> str:
    return html.escape(str(text), quote=True)


def html_page(report: ClassReport) -> str:
    labs = report.labs()
    out = [
        "<!DOCTYPE html>",
        '<html lang="en"><head><meta charset="utf-8">',
        f"<title>Class report: {len(report.learners)} learner(s)</title><style>{_CSS}</style></head><body>",
        f"<h1>Class report: {len(report.learners)} learner(s)</h1>",
        "<table><caption>Checks passed per lab</caption><tr><th>learner</th>"
        + "".join(f"<th>{_e(lab)}</th>" for lab in labs)
        + "<th>last graded</th></tr>",
    ]
    for card in report.learners:
        cells = []
        for lab in labs:
            passed, total = report.lab_score(card, lab)
            state = (
                "passed" if lab in card.results and passed == total else "failed" if lab in card.results else "not-run"
            )
            cells.append(f'<td class="{state}">{f"{passed}/{total}" if lab in card.results else "—"}</td>')
        out.append(f"<tr><td>{_e(card.learner)}</td>{''.join(cells)}<td>{_e(card.graded_at or '?')}</td></tr>")
    out.append("</table>")
    failures = report.common_failures()
    if failures:
        out.append(
            "<table><caption>Checks failed most often</caption><tr><th>check</th><th>learners</th><th>hint</th></tr>"
        )
        out += [f"<tr><td><code>{_e(n)}</code></td><td>{c}</td><td>{_e(h)}</td></tr>" for n, c, h in failures]
        out.append("</table>")
    if report.problems:
        out.append(
            '<h2>Problems with the files</h2><ul class="problems">'
            + "".join(f"<li>{_e(p)}</li>" for p in report.problems)
            + "</ul>"
        )
    for lab in labs:
        checks = report.checks(lab)
        out.append(
            f"<table><caption>{_e(lab)}</caption><tr><th>learner</th>"
            + "".join(f"<th><code>{_e(c)}</code></th>" for c in checks)
            + "</tr>"
        )
        for card in report.learners:
            row = card.results.get(lab, {})
            cells = []
            for check in checks:
                if check not in row:
                    cells.append('<td class="not-run">—</td>')
                    continue
                status, message, hint = row[check]
                tip = "; ".join(part for part in (message, hint) if part)
                cells.append(
                    f'<td class="{status.replace(" ", "-")}" title="{_e(tip)}">{_MARK[status]} {_e(status)}</td>'
                )
            out.append(f"<tr><td>{_e(card.learner)}</td>{''.join(cells)}</tr>")
        out.append("</table>")
    out.append("</body></html>")
    return "\n".join(out) + "\n"


def write_report(report: ClassReport, out_dir: Path) -> tuple[Path, Path]:
    out_dir = Path(out_dir).expanduser()
    html_path, md_path = out_dir / "class-report.html", out_dir / "class-report.md"
    try:
        out_dir.mkdir(parents=True, exist_ok=True)
        html_path.write_text(html_page(report), encoding="utf-8")
        md_path.write_text(markdown(report), encoding="utf-8")
    except OSError as exc:
        raise WorkshopError(
            f"cannot write the class report to {out_dir}: {exc.strerror or exc}",
            hint="pass --out with a writable folder (by default the report goes into the scorecards folder)",
        ) from None
    return html_path, md_path
