"""The docs site's view of a master notebook: the same lesson, arranged for a reader.

The page of a lab is rendered from this view (written to the cache, never over the notebook):

* under the title: the banner (what the page is, where the student notebook is) and
  "Before you begin" (what the lab needs, how long it takes, the lab it builds on);
* at each step with known pitfalls, a line linking its Troubleshooting entries;
* in each section with ``%%cluster`` cells, **one** notice in plain words before its first cluster
  cell, instead of a skip notice under every cell; the cluster cells carry the tag ``cluster``;
* the ``expected-output`` / ``captured-output`` cells stay where they are (the stylesheet draws
  them as labelled boxes);
* check results written by older notebooks get the classes of ``labkit.boxes``, and every box loses
  its inline fallback style (the site's stylesheet styles both colour schemes).
"""

from __future__ import annotations

import copy
import json
import re
from dataclasses import dataclass
from html import escape
from pathlib import Path

from ..errors import WorkshopError
from ..labkit.boxes import FALLBACK_ATTRIBUTE, box
from ..labkit.cluster_magic import is_skip_output
from .lab_facts import LabFacts, facts_for

TAG_EXPECTED, TAG_CAPTURED = "expected-output", "captured-output"
#: Tag the view puts on cluster code cells (shown as a chip on the cell, and a class to style).
TAG_CLUSTER = "cluster"
#: Tag on the cells the view adds (so a view is never mistaken for a notebook to edit).
TAG_ADDED = "docs-site"
CLUSTER_MAGIC = "%%cluster"
_SECTION = re.compile(r"^##\s+(?:(\d+)\.\s*)?(.+?)\s*$", re.M)
_LEGACY_CHECK = re.compile(r'<div class="workshop-check" style="[^"]*?border-left:4px solid (#[0-9a-f]{6})[^"]*">')
_INLINE_FALLBACK = re.compile(rf'(<div class="workshop-box[^"]*") {FALLBACK_ATTRIBUTE}="[^"]*"')
_PASS_COLOUR = "#2e7d32"


#: Anchors of the setup page the lab pages link to (its "Local only" prerequisites tab, its step 3).
LOCAL_TAB = "prerequisites-local-only"
CLUSTER_STEP = "3-create-the-cluster-and-install-the-platform"


@dataclass(frozen=True)
class PageLinks:
    """Where the page's links point, relative to the lab page (``labs/NN-topic/``)."""

    root: str = "../../"

    def setup(self, anchor: str = "") -> str:
        return f"{self.root}setup/" + (f"#{anchor}" if anchor else "")

    def troubleshooting(self, anchor: str) -> str:
        return f"{self.root}troubleshooting/#{anchor}"

    def lab(self, slug: str) -> str:
        return f"{self.root}labs/{slug}/"

    def download(self, filename: str) -> str:
        return f"{self.root}downloads/{filename}"


def source(cell: dict) -> str:
    text = cell.get("source", "")
    return "".join(text) if isinstance(text, list) else str(text)


def tags(cell: dict) -> list[str]:
    return list((cell.get("metadata") or {}).get("tags") or [])


def is_cluster_cell(cell: dict) -> bool:
    return cell.get("cell_type") == "code" and source(cell).lstrip().startswith(CLUSTER_MAGIC)


def _markdown(text: str) -> dict:
    return {"cell_type": "markdown", "metadata": {"tags": [TAG_ADDED]}, "source": text}


# ----- what the page adds ------------------------------------------------------------------------


def banner(filename: str, links: PageLinks) -> str:
    return (
        '<div class="admonition info workshop-lab-banner"><p class="admonition-title">Expected outputs from a real '
        "run</p>"
        f"<p>This page is the master notebook <code>notebooks/{escape(filename)}</code>: the lesson with its "
        "solutions and the outputs of a real run on a machine without a cluster (the local tier). To do the lab, "
        f'download the student notebook <a class="workshop-download" href="{links.download(filename)}" '
        f'download="{escape(filename)}">{escape(filename)}</a> (solutions blanked; also in <code>labs/</code> of the '
        "repository), open it in Jupyter and run its <code>check(...)</code> cells. The "
        f'<a href="{links.setup()}">setup guide</a> has the commands.</p></div>'
    )


def _numbers(numbers: list[str]) -> str:
    """`` (sections 1–6 and 8)``: runs of consecutive section numbers as ranges."""
    if not numbers:
        return ""
    values = [int(n) for n in numbers]
    runs: list[list[int]] = []
    for value in values:
        if runs and value == runs[-1][-1] + 1:
            runs[-1].append(value)
        else:
            runs.append([value])
    parts = [str(run[0]) if len(run) == 1 else f"{run[0]}–{run[-1]}" for run in runs]
    shown = parts[0] if len(parts) == 1 else ", ".join(parts[:-1]) + " and " + parts[-1]
    return f" ({'section' if len(values) == 1 else 'sections'} {shown})"


def before_you_begin(
    facts: LabFacts,
    local_sections: list[str],
    cluster_sections: list[str],
    previous: tuple[int, str, str] | None,
    links: PageLinks,
) -> str:
    """The "Before you begin" section: needs, time, the lab it builds on (``previous``: number, title, slug)."""
    local = [
        f"this machine, no Docker and no cluster ([setup: local only]({links.setup(LOCAL_TAB)}))",
        *facts.needs_local,
    ]
    lines = ["## Before you begin", "", f"- **Local part**{_numbers(local_sections)}: " + "; ".join(local) + "."]
    time = f"about {facts.minutes_local} minutes"
    if cluster_sections:
        cluster = [
            f"the workshop's cluster with KServe ([setup: `invoke up`]({links.setup(CLUSTER_STEP)}) on kind, or GKE)",
            *facts.needs_cluster,
        ]
        lines.append(f"- **Cluster part**{_numbers(cluster_sections)}: " + "; ".join(cluster) + ".")
        time += f" for the local part, plus about {facts.minutes_cluster} on a cluster"
    lines.append(f"- **Time**: {time}.")
    if previous is None:
        lines.append(f"- **Builds on**: the [setup]({links.setup()}) only; this is where the workshop starts.")
    else:
        number, title, slug = previous
        lines.append(f"- **Builds on**: [Lab {number}. {title}]({links.lab(slug)}): do it first.")
    return "\n".join(lines) + "\n"


def trouble_line(anchors: tuple[str, ...], titles: dict[str, str], links: PageLinks) -> str:
    missing = [a for a in anchors if a not in titles]
    if missing:
        raise WorkshopError(
            f"troubleshooting has no entry with id {', '.join(missing)}",
            hint="give the entry an explicit id in docs/troubleshooting.md: `## Title { #id }`",
        )
    entries = " · ".join(f'<a href="{links.troubleshooting(a)}">{escape(titles[a])}</a>' for a in anchors)
    return f'<p class="workshop-trouble">If this step goes wrong: {entries}</p>'


def cluster_notice(expected: int, captured: int, links: PageLinks) -> str:
    """One notice for a section of cluster cells, in plain words."""
    if captured and not expected:
        shown = (
            "under each step, a box labelled <em>Captured on a cluster</em> shows what it printed in a real "
            "run on a cluster (its date and versions are in the label)"
        )
    elif expected or captured:
        shown = (
            "under each step, a box labelled <em>Expected on a cluster</em> shows what it prints on a cluster, "
            "written from the upstream projects' documented output, not captured from a run"
            + (" (boxes labelled <em>Captured on a cluster</em> come from a real run)" if captured else "")
        )
    else:
        shown = "what they print on a cluster is not shown on this page yet"
    return box(
        "cluster",
        "<p><strong>This part needs a Kubernetes cluster with KServe.</strong> This page was run on "
        f"a machine without one, so the cells of this section did not run here: {shown}. To run "
        f'them yourself, <a href="{links.setup()}">create the workshop\'s cluster</a> '
        "(<code>invoke up</code>), then run the cells in order.</p>",
        fallback=False,
    )


# ----- outputs -----------------------------------------------------------------------------------


def restyle_html(markup: str) -> str:
    """Check results of older runs get the box classes; every box loses its inline fallback style."""

    def legacy(match: re.Match) -> str:
        kind = "pass" if match.group(1).lower() == _PASS_COLOUR else "fail"
        return f'<div class="workshop-box workshop-check workshop-check--{kind}">'

    return _INLINE_FALLBACK.sub(r"\1", _LEGACY_CHECK.sub(legacy, markup))


def _restyle_outputs(cell: dict) -> None:
    for output in cell.get("outputs", []):
        html = (output.get("data") or {}).get("text/html")
        if html is not None:
            text = "".join(html) if isinstance(html, list) else html
            output["data"]["text/html"] = restyle_html(text)


# ----- the view ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Section:
    number: str  # "" for unnumbered sections (the recap)
    title: str
    cluster_cells: int
    expected: int
    captured: int


def sections(cells: list[dict]) -> list[Section]:
    """The ``## `` sections in order, with what their cells hold (cells before the first one are left out)."""
    found: list[list] = []
    for cell in cells:
        if cell.get("cell_type") == "markdown":
            for match in _SECTION.finditer(source(cell)):
                found.append([match.group(1) or "", match.group(2).strip(), 0, 0, 0])
        if not found:
            continue
        current = found[-1]
        current[2] += is_cluster_cell(cell)
        current[3] += TAG_EXPECTED in tags(cell)
        current[4] += TAG_CAPTURED in tags(cell)
    return [Section(*entry) for entry in found]


def lab_view(
    notebook: dict,
    *,
    number: int,
    filename: str,
    previous: tuple[int, str, str] | None,
    troubleshooting_titles: dict[str, str],
    links: PageLinks | None = None,
) -> dict:
    """The page's notebook, built from ``notebook`` (which is not changed)."""
    links = links or PageLinks()
    facts = facts_for(number)
    if facts is None:
        raise WorkshopError(
            f"Lab {number} ({filename}) has no entry in docs_pages.lab_facts.LAB_FACTS",
            hint="add its time, needs and the lab it builds on there",
        )
    view = copy.deepcopy(notebook)
    cells = view.get("cells", [])
    found = sections(cells)
    by_title = {s.title: s for s in found}
    unknown = [title for title in facts.troubleshooting if title not in by_title]
    if unknown:
        raise WorkshopError(
            f"{filename} has no section titled {', '.join(map(repr, unknown))}",
            hint="docs_pages.lab_facts names a section that the notebook renamed: follow it",
        )
    numbered = [s for s in found if s.number]
    local_numbers = [s.number for s in numbered if not s.cluster_cells]
    cluster_numbers = [s.number for s in numbered if s.cluster_cells]

    out: list[dict] = []
    title_seen, section, noticed = False, None, set()
    for cell in cells:
        if is_cluster_cell(cell):
            cell["outputs"] = [o for o in cell.get("outputs", []) if not is_skip_output(o)]
            cell.setdefault("metadata", {})["tags"] = [*tags(cell), TAG_CLUSTER]
            if section is not None and section.title not in noticed:
                noticed.add(section.title)
                out.append(_markdown(cluster_notice(section.expected, section.captured, links)))
        if cell.get("cell_type") == "code":
            _restyle_outputs(cell)
        out.append(cell)
        if cell.get("cell_type") != "markdown" or TAG_ADDED in tags(cell):
            continue
        text = source(cell)
        if not title_seen and text.lstrip().startswith("# "):
            # The title, the banner under it, the lesson's introduction, then "Before you begin".
            title_seen = True
            title, _, introduction = text.lstrip().partition("\n")
            cell["source"] = title
            out.append(_markdown(banner(filename, links)))
            if introduction.strip():
                out.append({**_markdown(introduction.strip()), "metadata": {}})
            out.append(_markdown(before_you_begin(facts, local_numbers, cluster_numbers, previous, links)))
        headings = [m.group(2).strip() for m in _SECTION.finditer(text)]
        if headings:
            section = by_title[headings[-1]]
            anchors = facts.troubleshooting.get(section.title)
            if anchors:
                out.append(_markdown(trouble_line(anchors, troubleshooting_titles, links)))
    if not title_seen:
        raise WorkshopError(f"{filename} does not start with a '# Lab N — topic' title cell")
    view["cells"] = out
    return view


_ENTRY = re.compile(r"^#{2,3}\s+(.+?)\s*\{:?\s*#([\w-]+)\s*\}\s*$", re.M)


def troubleshooting_titles(markdown: str) -> dict[str, str]:
    """``{id: title}`` of the entries of the troubleshooting page (``## Title { #id }``), code marks dropped."""
    return {anchor: title.replace("`", "") for title, anchor in _ENTRY.findall(markdown)}


def write_views(labs, target_dir: Path, troubleshooting_md: str) -> dict[str, Path]:
    """Write the view of each lab (``lab_catalog.Lab``) into ``target_dir``; ``{slug: path}``."""
    titles = troubleshooting_titles(troubleshooting_md)
    by_number = {lab.number: lab for lab in labs}
    target = Path(target_dir)
    target.mkdir(parents=True, exist_ok=True)
    written = {}
    for lab in labs:
        facts = facts_for(lab.number)
        previous = None
        if facts is not None and facts.builds_on is not None:
            earlier = by_number.get(facts.builds_on)
            if earlier is None:
                raise WorkshopError(
                    f"Lab {lab.number} builds on Lab {facts.builds_on}, which has no notebook",
                    hint="fix builds_on in docs_pages.lab_facts",
                )
            previous = (earlier.number, earlier.topic.replace("`", ""), earlier.slug)
        notebook = json.loads(lab.path.read_text(encoding="utf-8"))
        view = lab_view(
            notebook, number=lab.number, filename=lab.path.name, previous=previous, troubleshooting_titles=titles
        )
        path = target / lab.path.name
        text = json.dumps(view, ensure_ascii=False, indent=1)
        if not path.is_file() or path.read_text(encoding="utf-8") != text:  # unchanged: mkdocs-jupyter's cache hits
            path.write_text(text, encoding="utf-8")
        written[lab.slug] = path
    return written
