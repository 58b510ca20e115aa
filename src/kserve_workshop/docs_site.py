"""The docs site: lab pages from the master notebooks, tables generated from the project, mkdocs hooks.

``mkdocs.yml`` uses this module twice:

* as a **hook file** (``hooks:``): it adds every ``notebooks/NN-*.ipynb`` as a lab page (no copies
  in ``docs/``), lists them in the "Labs" section of the nav, and keeps lab pages offline;
* as a **mkdocs-macros module** (``modules:``): ``{{ versions_table() }}``, ``{{ tasks_table() }}``,
  ``{{ labs_table() }}``... so nothing the project already knows is typed again in the docs.

mkdocs loads a hook file by path, so this module imports the package absolutely.
"""

from __future__ import annotations

import posixpath
import sys
from pathlib import Path
from typing import Any, Iterable

from kserve_workshop import versions
from kserve_workshop.docs_pages.lab_catalog import LABS_URI_DIR, Lab, discover_labs, expand_nav
from kserve_workshop.errors import WorkshopError
from kserve_workshop.paths import NOTEBOOKS_DIR, REPO_ROOT, VERSIONS_FILE, cache_dir

MKDOCS_CONFIG = REPO_ROOT / "mkdocs.yml"


# ----- generated tables -------------------------------------------------------------------------


def flatten_pins(table: dict, prefix: str = "") -> list[tuple[str, str, Any]]:
    """``versions.toml`` as rows (section, key, value); nested tables become ``kind.sha256``."""
    rows: list[tuple[str, str, Any]] = []
    for key, value in table.items():
        if isinstance(value, dict):
            rows += flatten_pins(value, f"{prefix}{key}.")
        elif prefix:
            rows.append((prefix[:-1], key, value))
    return rows


def _cell(value: Any) -> str:
    text = str(value).replace("|", "\\|")
    return f"`{text}`"


def _markdown_table(header: list[str], rows: Iterable[Iterable[str]]) -> str:
    lines = ["| " + " | ".join(header) + " |", "|" + "|".join("---" for _ in header) + "|"]
    lines += ["| " + " | ".join(row) + " |" for row in rows]
    return "\n".join(lines)


def versions_table() -> str:
    """Every pin in versions.toml as Markdown: component pins, then the download checksums."""
    rows = flatten_pins(versions.load())
    pins = [(s, k, v) for s, k, v in rows if not s.endswith(".sha256")]
    sums = [(s, k, v) for s, k, v in rows if s.endswith(".sha256")]
    header = ["Component", "Setting", "Value"]
    main = _markdown_table(header, ([f"**{s}**", k, _cell(v)] for s, k, v in pins))
    checksums = _markdown_table(
        ["Tool", "Platform", "SHA-256"], ([f"**{s.removesuffix('.sha256')}**", k, _cell(v)] for s, k, v in sums)
    )
    return f"{main}\n\n#### Download checksums\n\n{checksums}\n"


def _flag(argument) -> str:
    name = argument.names[0]
    return f"`--{name}`" + (" (positional)" if getattr(argument, "positional", False) else "")


def task_rows() -> list[tuple[str, str, list[tuple[str, str]]]]:
    """(task, first line of its docstring, [(flag, help)]) for every task of ``invoke --list``."""
    from kserve_workshop.tasks import build_collection

    collection = build_collection()
    rows = []
    for name, aliases in sorted(collection.task_names.items(), key=lambda item: ("." in item[0], item[0])):
        task = collection[name]
        doc = (task.body.__doc__ or "").strip().splitlines()
        label = name + "".join(f" ({alias})" for alias in aliases if "." not in alias and alias != name)
        flags = [(_flag(arg), (arg.help or "").strip()) for arg in task.get_arguments()]
        rows.append((label, doc[0] if doc else "", flags))
    return rows


def tasks_table() -> str:
    """A Markdown table of every task: name, what it does, its flags (hover a flag for its help)."""

    def flags(items: list[tuple[str, str]]) -> str:
        return ", ".join(flag for flag, _ in items) or "—"

    return _markdown_table(
        ["Task", "What it does", "Flags"],
        ([f"`invoke {name}`", doc.replace("|", "\\|"), flags(items)] for name, doc, items in task_rows()),
    )


def task_flags(name: str) -> str:
    """The flags of one task with their help, as a Markdown table (e.g. for ``up``)."""
    for label, _, items in task_rows():
        if label.split(" ", 1)[0] == name:
            return _markdown_table(["Flag", "Meaning"], ([flag, text.replace("|", "\\|")] for flag, text in items))
    raise WorkshopError(f"no task named {name!r} (see `invoke --list`)")


def labs_table(page_dir: str = "") -> str:
    """The labs in order: title (linked from a page in ``page_dir``), its steps, what needs a cluster."""

    def cluster(lab: Lab) -> str:
        if not lab.cluster_cells:
            return "runs entirely on your machine"
        return f"{lab.cluster_cells} of {lab.code_cells} code cells need a cluster"

    def link(lab: Lab) -> str:
        return f"[{lab.nav_title}]({posixpath.relpath(lab.src_uri, page_dir or '.')})"

    return _markdown_table(
        ["Lab", "What you do", "Cluster"],
        ([link(lab), " · ".join(lab.sections).replace("|", "\\|"), cluster(lab)] for lab in discover_labs()),
    )


def labs_downloads(page_dir: str = "") -> str:
    """Each lab with a download link for its student notebook (from a page in ``page_dir``)."""

    def link(lab: Lab) -> str:
        target = posixpath.relpath(f"{DOWNLOADS_URI_DIR}/{lab.path.name}", page_dir or ".")
        return f"[`{lab.path.name}`]({target})"

    return _markdown_table(
        ["Lab", "Student notebook (exercises blanked)"],
        (
            [lab.nav_title.replace("|", "\\|"), link(lab)]
            for lab in discover_labs()
            if (STUDENT_LABS_DIR / lab.path.name).is_file()
        ),
    )


def learning_path() -> str:
    """A mermaid flowchart: set up, then each lab in order (top down: a row of eight boxes would
    shrink its text below reading size on a laptop screen)."""
    lines = ["```mermaid", "flowchart TB", '  setup(["Set up<br/>invoke start"])']
    previous = "setup"
    for lab in discover_labs():
        node = f"lab{lab.number}"
        topic = lab.topic.split(":")[0].replace('"', "'").replace("`", "")
        lines += [f'  {node}["Lab {lab.number}<br/>{topic}"]', f"  {previous} --> {node}"]
        previous = node
    return "\n".join([*lines, "```"])


def components_table() -> str:
    """The platform's components in install order, with namespace and pinned version."""
    from kserve_workshop.platform import COMPONENTS

    def row(component) -> list[str]:
        instance = component("docs")  # the context only matters when a plan runs
        what = component.summary.split(": ", 1)[-1] if ": " in component.summary else component.summary
        return [
            f"`{component.name}`",
            what.replace("|", "\\|"),
            f"`{instance.namespace}`" if instance.namespace else "—",
            _cell(instance.pinned_version()),
        ]

    return _markdown_table(["Component", "What it installs", "Namespace", "Pinned"], (row(c) for c in COMPONENTS))


def gke_cost() -> str:
    """The cost estimate `invoke gke.create` prints for the default cluster."""
    from kserve_workshop.gke import GkeSpec, gke_cost_estimate

    spec = GkeSpec(project="your-project")
    estimate = gke_cost_estimate(spec)
    if estimate.usd_per_hour is None:  # pragma: no cover - the default machine type has a price
        return estimate.breakdown
    return (
        f"about **${estimate.usd_per_hour:.2f} per hour** (~${estimate.usd_per_hour * 24:.0f} per day, "
        f"~${estimate.usd_per_hour * 24 * 30:.0f} per month left running): {estimate.breakdown}"
    )


def runtime_images_table() -> str:
    """The model runtimes' images with their estimated Python download (from ``boosting.images``)."""
    from kserve_workshop.boosting.images import images_markdown

    return images_markdown()


def define_env(env) -> None:
    """mkdocs-macros entry point: the functions and values pages may use."""
    from kserve_workshop import cluster, doctor, gke, kube
    from kserve_workshop.platform import budget, get_profile

    from kserve_workshop.docs_pages.outputs import captured_output, expected_output

    for function in (
        versions_table,
        tasks_table,
        task_flags,
        labs_table,
        learning_path,
        components_table,
        gke_cost,
        runtime_images_table,
        expected_output,
        captured_output,
        labs_downloads,
    ):
        env.macro(function)
    env.macro(versions.pin, "pin")
    env.variables["workshop"] = {
        "cluster": kube.WORKSHOP_CLUSTER,
        "context": kube.WORKSHOP_CONTEXT,
        "kind_config": str(cluster.KIND_CONFIG.relative_to(REPO_ROOT)),
        "cpu_min": doctor.CPU_MIN,
        "cpu_good": doctor.CPU_GOOD,
        "memory_min_gib": doctor.MEMORY_MIN_GIB,
        "memory_good_gib": doctor.MEMORY_GOOD_GIB,
        "inotify": " ".join(f"fs.inotify.{k}={v}" for k, v in doctor.INOTIFY_RECOMMENDED.items()),
        "platform_budget": budget.platform_totals(get_profile("laptop")).summary(),
        "gke_defaults": gke.GkeSpec(project="your-project"),
        "repo_url": project_urls().get("Repository", ""),
    }


# ----- building -------------------------------------------------------------------------------------


def build_command(site_dir: Path, *, strict: bool = True) -> list[str]:
    """``mkdocs build`` for this repository's site into ``site_dir``."""
    argv = [
        sys.executable,
        "-m",
        "mkdocs",
        "build",
        "--config-file",
        str(MKDOCS_CONFIG),
        "--site-dir",
        str(site_dir),
        "--quiet",
    ]
    return argv + (["--strict"] if strict else [])


def serve_command(port: int) -> list[str]:
    """``mkdocs serve`` bound to loopback only."""
    return [
        sys.executable,
        "-m",
        "mkdocs",
        "serve",
        "--config-file",
        str(MKDOCS_CONFIG),
        "--dev-addr",
        f"127.0.0.1:{port}",
    ]


def default_site_dir() -> Path:
    """The built site lives in the cache, never in the source tree."""
    return cache_dir() / "site"


#: The Python packages the site is built with (the ``docs`` extra of pyproject.toml).
DOCS_MODULES = {
    "mkdocs": "mkdocs",
    "material": "mkdocs-material",
    "mkdocs_jupyter": "mkdocs-jupyter",
    "mkdocs_macros": "mkdocs-macros-plugin",
}


def missing_docs_packages() -> list[str]:
    from importlib.util import find_spec

    return [package for module, package in DOCS_MODULES.items() if find_spec(module) is None]


# ----- mkdocs hook events ---------------------------------------------------------------------------
# mkdocs calls these by name because mkdocs.yml lists this file under `hooks:`.


def _plugin_error(exc: WorkshopError):
    from mkdocs.exceptions import PluginError

    return PluginError(str(exc))


def views_dir() -> Path:
    """Where the site's views of the lab notebooks are written (see docs_pages.lab_view)."""
    return cache_dir() / "docs-site" / "lab-pages"  # not ".../labs/": mkdocs-jupyter ignores labs/*.ipynb


#: Where the student notebooks are offered for download in the site.
DOWNLOADS_URI_DIR = "downloads"
STUDENT_LABS_DIR = REPO_ROOT / "labs"
TROUBLESHOOTING_PAGE = REPO_ROOT / "docs" / "troubleshooting.md"


def project_urls(pyproject: Path = REPO_ROOT / "pyproject.toml") -> dict[str, str]:
    """``[project.urls]`` of pyproject.toml (the repository and the site's address live there only)."""
    import tomllib

    return dict(tomllib.loads(pyproject.read_text(encoding="utf-8")).get("project", {}).get("urls", {}))


def on_config(config):
    """Append the lab pages to the nav; make the build independent of the working directory."""
    try:
        labs = discover_labs()
        config["nav"] = expand_nav(config["nav"] or [], labs)
    except WorkshopError as exc:
        raise _plugin_error(exc) from None
    urls = project_urls()
    # Set here, not in mkdocs.yml, so pyproject.toml is the one place they are typed. The theme's
    # repository widget is overridden (partials/source.html) so that no page asks GitHub's API.
    if not config["repo_url"] and urls.get("Repository"):
        config["repo_url"] = urls["Repository"]
        config["repo_name"] = urls["Repository"].rstrip("/").split("github.com/")[-1]
    config["site_url"] = config["site_url"] or urls.get("Documentation")
    # Snippets (`--8<-- "CONTRIBUTING.md"`) resolve relative base paths from the working directory.
    snippets = config["mdx_configs"].get("pymdownx.snippets")
    if snippets is not None:
        snippets["base_path"] = [str(REPO_ROOT)]
    # mkdocs-jupyter's render cache (keyed by notebook content) goes to the workshop's cache.
    jupyter = config["plugins"].get("mkdocs-jupyter")
    if jupyter is not None:
        jupyter.config["cache_dir"] = str(cache_dir() / "mkdocs-jupyter")
    return config


def _early(function):
    """Run before other plugins' handlers of the same event (mkdocs-jupyter must see the notebooks)."""
    try:
        from mkdocs.plugins import event_priority
    except ImportError:  # pragma: no cover - mkdocs is only needed when building
        return function
    return event_priority(100)(function)


def _lab_views() -> dict[str, Path]:
    from kserve_workshop.docs_pages.lab_view import write_views

    return write_views(discover_labs(), views_dir(), TROUBLESHOOTING_PAGE.read_text(encoding="utf-8"))


@_early
def on_files(files, config):
    """Add each lab's page (its view of the master notebook, no copy in docs/) and its student notebook."""
    from mkdocs.structure.files import File

    try:
        views = _lab_views()
    except WorkshopError as exc:
        raise _plugin_error(exc) from None
    for lab in discover_labs():
        if files.get_file_from_path(lab.src_uri) is None:
            files.append(File.generated(config, lab.src_uri, abs_src_path=str(views[lab.slug])))
        student = STUDENT_LABS_DIR / lab.path.name
        download = f"{DOWNLOADS_URI_DIR}/{lab.path.name}"
        if student.is_file() and files.get_file_from_path(download) is None:
            files.append(File.generated(config, download, abs_src_path=str(student)))
    return files


def on_nav(nav, config, files):
    """Give mkdocs-jupyter's wrappers of the lab files their source path back.

    Its ``NotebookFile`` wrapper recomputes ``abs_src_path`` from the docs directory, which a file
    that lives outside ``docs/`` does not have; the wrapper then reads as "no source".
    """
    for lab in discover_labs():
        file = files.get_file_from_path(lab.src_uri)
        if file is not None and file.abs_src_path is None:
            file.abs_src_path = str(views_dir() / lab.path.name)
    return nav


def _is_lab_page(page) -> bool:
    return page.file.src_uri.startswith(f"{LABS_URI_DIR}/") and page.file.src_uri.endswith(".ipynb")


def on_page_content(html, page, config, files):
    if _is_lab_page(page):
        from mkdocs.structure.toc import get_toc

        from kserve_workshop.docs_pages.page_html import fix_lab_page, toc_tokens

        html = fix_lab_page(html)
        page.toc = get_toc(toc_tokens(html, depth=2))
    return html


def on_serve(server, config, builder):
    """``mkdocs serve`` also rebuilds when a notebook or versions.toml changes."""
    server.watch(str(NOTEBOOKS_DIR))
    server.watch(str(VERSIONS_FILE))
    return server
