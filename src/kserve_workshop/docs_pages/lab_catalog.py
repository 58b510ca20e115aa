"""The labs the docs site shows, discovered from the master notebooks (``notebooks/NN-*.ipynb``):
each one's title, sections and cell counts (``Lab``), and their entries in the site's navigation."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Iterable

from ..errors import WorkshopError
from ..paths import NOTEBOOKS_DIR

#: The nav section (in mkdocs.yml) that the lab pages are appended to.
LABS_SECTION = "Labs"
#: Where the lab pages live in the site (``labs/01-serve-a-model/``).
LABS_URI_DIR = "labs"
#: The cell magic that marks cells needing a cluster (see kserve_workshop.labkit.cluster_magic).
_CLUSTER_MAGIC = "%%cluster"
_LAB_TITLE = re.compile(r"^Lab\s+(\d+)\s*[—–:-]\s*(.+)$")
_SECTION_NUMBER = re.compile(r"^\d+\.\s*")


@dataclass(frozen=True)
class Lab:
    """One master notebook, as the site shows it."""

    path: Path
    title: str  # the notebook's first heading, e.g. "Lab 1 — Train, package and serve a model"
    topic: str  # the title without "Lab N —"
    sections: tuple[str, ...]  # its "## N. ..." headings, numbers dropped (the recap left out)
    code_cells: int
    cluster_cells: int
    plots: int  # image outputs saved in the notebook

    @property
    def slug(self) -> str:
        return self.path.stem

    @property
    def number(self) -> int:
        return int(self.slug.split("-", 1)[0])

    @property
    def src_uri(self) -> str:
        """The page's path inside the docs tree (mkdocs-jupyter renders it)."""
        return f"{LABS_URI_DIR}/{self.path.name}"

    @property
    def url(self) -> str:
        """The built page's URL, relative to the site root."""
        return f"{LABS_URI_DIR}/{self.slug}/"

    @property
    def nav_title(self) -> str:
        """Plain text (navigation entries are not Markdown): ``6. A custom transformer with kserve.Model``."""
        return f"{self.number}. {self.topic.replace('`', '')}"


def master_notebooks(notebooks_dir: Path = NOTEBOOKS_DIR) -> list[Path]:
    """The master notebooks, in lab order (the same rule as ``invoke labs.generate``)."""
    from kserve_workshop.labkit.labgen import masters

    return masters(notebooks_dir)


def read_lab(path: Path) -> Lab:
    """Title, sections and cell counts of one master notebook (a clear error if it is not one)."""
    try:
        notebook = json.loads(path.read_text(encoding="utf-8"))
        cells = notebook["cells"]
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise WorkshopError(
            f"{path} is not a readable notebook ({exc})",
            hint="fix or remove it: every notebooks/NN-*.ipynb becomes a page of the docs",
        ) from None
    title = _title(cells)
    if title is None:
        raise WorkshopError(
            f"{path.name} has no '# Lab N — topic' heading in its first markdown cell",
            hint="the heading is the lab's title in the docs' navigation",
        )
    match = _LAB_TITLE.match(title)
    code = [_source(cell) for cell in cells if cell.get("cell_type") == "code"]
    plots = sum(
        1
        for cell in cells
        for output in cell.get("outputs", [])
        if any(kind.startswith("image/") for kind in (output.get("data") or {}))
    )
    return Lab(
        path=path,
        title=title,
        topic=match.group(2).strip() if match else title,
        sections=_sections(cells),
        code_cells=len(code),
        cluster_cells=sum(src.lstrip().startswith(_CLUSTER_MAGIC) for src in code),
        plots=plots,
    )


def discover_labs(notebooks_dir: Path = NOTEBOOKS_DIR) -> list[Lab]:
    labs = [read_lab(path) for path in master_notebooks(notebooks_dir)]
    if not labs:
        raise WorkshopError(f"no master notebooks (NN-topic.ipynb) in {notebooks_dir}")
    return labs


def _source(cell: dict) -> str:
    source = cell.get("source", "")
    return "".join(source) if isinstance(source, list) else str(source)


def _sections(cells: list[dict]) -> tuple[str, ...]:
    headings = [
        line[3:].strip()
        for cell in cells
        if cell.get("cell_type") == "markdown"
        for line in _source(cell).splitlines()
        if line.startswith("## ")
    ]
    return tuple(_SECTION_NUMBER.sub("", h) for h in headings if h.lower() not in {"recap", "summary"})


def _title(cells: list[dict]) -> str | None:
    """The first markdown cell's ``# heading`` (None when the notebook does not start with one)."""
    for cell in cells:
        if cell.get("cell_type") == "markdown":
            lines = _source(cell).strip().splitlines()
            return lines[0][2:].strip() if lines and lines[0].startswith("# ") else None
    return None


def expand_nav(nav: list, labs: Iterable[Lab]) -> list:
    """``nav`` with one entry per lab appended to the "Labs" section (after its overview page)."""
    entries = [{lab.nav_title: lab.src_uri} for lab in labs]
    expanded, found = [], False
    for item in nav:
        if isinstance(item, dict) and LABS_SECTION in item:
            section = item[LABS_SECTION]
            section = [section] if isinstance(section, str) else list(section)
            listed = {value for entry in section if isinstance(entry, dict) for value in entry.values()}
            item = {LABS_SECTION: section + [e for e in entries if next(iter(e.values())) not in listed]}
            found = True
        expanded.append(item)
    if not found:
        raise WorkshopError(
            f"mkdocs.yml's nav has no '{LABS_SECTION}' section for the lab pages",
            hint=f"add `- {LABS_SECTION}: [labs/index.md]` to the nav",
        )
    return expanded
