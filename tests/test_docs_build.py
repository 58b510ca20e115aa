"""The docs site: a strict build, a page per lab notebook, generated tables that match their sources,
nothing loaded from another host, and the `docs.*` tasks."""

from __future__ import annotations

import hashlib
import json
import os
import re
import shlex
import socket
import subprocess
import sys
import tomllib
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from bs4 import BeautifulSoup
from invoke import MockContext, Result
from invoke.exceptions import Exit

from kserve_workshop import docs_site
from kserve_workshop.errors import WorkshopError
from kserve_workshop.paths import DOCS_DIR, NOTEBOOKS_DIR, REPO_ROOT, VERSIONS_FILE
from kserve_workshop.tasks import docs as docs_tasks

# The rule for master notebooks, written out here rather than taken from the code under test.
NOTEBOOKS = sorted(NOTEBOOKS_DIR.glob("[0-9][0-9]-*.ipynb"))
LOOPBACK = {"127.0.0.1", "localhost", "::1"}


#: Tests using these fixtures start servers: marked slow (see conftest.py).
SLOW_FIXTURES = {"site"}


@pytest.fixture(scope="module")
def site(tmp_path_factory) -> Path:
    """The site, built once for this module exactly as `invoke docs.build` builds it."""
    site_dir = tmp_path_factory.mktemp("site")
    # From another directory: the build must not depend on where it is started.
    result = subprocess.run(docs_site.build_command(site_dir), cwd=site_dir.parent, capture_output=True, text=True,
                            timeout=120, env={**os.environ, "NO_MKDOCS_2_WARNING": "1"})
    assert result.returncode == 0, f"mkdocs build --strict failed:\n{result.stdout}\n{result.stderr}"
    return site_dir


def page(site: Path, url: str) -> BeautifulSoup:
    return BeautifulSoup((site / url / "index.html").read_text(encoding="utf-8"), "html.parser")


def notebook(path: Path) -> dict:
    return json.loads(path.read_text(encoding="utf-8"))


def image_outputs(path: Path) -> int:
    return sum(1 for cell in notebook(path)["cells"] for output in cell.get("outputs", [])
               if any(kind.startswith("image/") for kind in output.get("data", {})))


def first_heading(path: Path) -> str:
    first_markdown = next(c for c in notebook(path)["cells"] if c["cell_type"] == "markdown")
    return "".join(first_markdown["source"]).splitlines()[0].lstrip("# ").replace("`", "").strip()


# ----- the build -------------------------------------------------------------------------------------

def test_the_strict_build_writes_every_page(site):
    for url in ("", "setup", "architecture", "labs", "troubleshooting", "reference", "contributing"):
        assert (site / url / "index.html").is_file(), f"no page {url or 'home'}"
    assert list(DOCS_DIR.rglob("*.ipynb")) == [], "lab pages are rendered from notebooks/, never copied into docs/"


def test_every_master_notebook_has_a_page_in_the_navigation(site):
    assert NOTEBOOKS, "no master notebooks found"
    nav_links = {a["href"] for a in page(site, "").select("nav.md-nav--primary a[href]")}
    for path in NOTEBOOKS:
        assert f"labs/{path.stem}/" in nav_links, f"{path.name} is not in the navigation: {sorted(nav_links)}"
        lab_page = page(site, f"labs/{path.stem}")
        assert first_heading(path) in lab_page.select_one("article").get_text(), f"{path.name}: page without its lesson"


def test_lab_pages_show_the_saved_outputs_and_plots(site):
    plotted = [path for path in NOTEBOOKS if image_outputs(path)]
    assert plotted, "no master notebook has a plot"
    for path in NOTEBOOKS:
        article = page(site, f"labs/{path.stem}").select_one("article")
        images = [img for img in article.select(".jupyter-wrapper img") if img["src"].startswith("data:image/")]
        assert len(images) >= image_outputs(path), f"{path.name}: {len(images)} plots shown, {image_outputs(path)} saved"
        assert "solutions blanked" in article.get_text(), "the note pointing at the student version is missing"


def test_the_labs_overview_links_every_lab(site):
    links = {a["href"] for a in page(site, "labs").select("article table a[href]")}
    assert {f"{path.stem}/" for path in NOTEBOOKS} <= links


# ----- generated tables ------------------------------------------------------------------------------

def _toml_rows(table: dict, prefix: str = "") -> set[tuple[str, str, str]]:
    rows: set[tuple[str, str, str]] = set()
    for key, value in table.items():
        if isinstance(value, dict):
            rows |= _toml_rows(value, f"{prefix}{key}.")
        else:
            rows.add((prefix.rstrip("."), key, str(value)))
    return rows


def html_tables(soup: BeautifulSoup) -> list[tuple[list[str], list[list[str]]]]:
    tables = []
    for table in soup.select("article table"):
        header = [th.get_text(strip=True) for th in table.select("thead th")]
        rows = [[td.get_text(strip=True) for td in tr.select("td")] for tr in table.select("tbody tr")]
        tables.append((header, rows))
    return tables


def test_the_versions_table_is_versions_toml(site):
    pins = _toml_rows(tomllib.loads(VERSIONS_FILE.read_text()))
    shown: set[tuple[str, str, str]] = set()
    for header, rows in html_tables(page(site, "reference")):
        if header == ["Component", "Setting", "Value"]:
            shown |= {tuple(row) for row in rows}
        elif header == ["Tool", "Platform", "SHA-256"]:
            shown |= {(f"{tool}.sha256", key, value) for tool, key, value in rows}
    assert shown == pins, f"missing: {sorted(pins - shown)}\nnot in versions.toml: {sorted(shown - pins)}"


def test_the_task_tables_list_every_task_of_invoke_list(site):
    listed = subprocess.run([sys.executable, "-m", "invoke", "--list"], cwd=REPO_ROOT, capture_output=True,
                            text=True, check=True, timeout=60).stdout
    names = set(re.findall(r"^  ([a-z][\w.-]*)", listed, re.M))
    assert {"up", "down", "doctor", "docs.build", "docs.serve"} <= names
    for url in ("reference", "setup"):
        cells = {row[0] for header, rows in html_tables(page(site, url)) if header[:1] == ["Task"] for row in rows}
        documented = {cell.removeprefix("invoke ").split(" ")[0] for cell in cells}
        assert names <= documented, f"{url}: tasks without a row: {sorted(names - documented)}"


def test_no_platform_version_is_typed_into_a_page():
    pins = tomllib.loads(VERSIONS_FILE.read_text())
    typed = {pins["kserve"]["version"], pins["istio"]["version"], pins["cert_manager"]["version"],
             pins["knative"]["operator_version"], pins["knative"]["serving_version"], pins["kind"]["version"],
             pins["helm"]["version"], pins["kubectl"]["version"], pins["python"]["scikit_learn"],
             pins["monitoring"]["kube_prometheus_stack_version"]}
    offenders = [f"{path.relative_to(REPO_ROOT)}: {pin}" for path in DOCS_DIR.rglob("*.md")
                 for pin in typed if re.search(rf"(?<![\w.]){re.escape(pin)}(?![\w.])", path.read_text())]
    assert not offenders, f"use {{{{ pin(...) }}}} instead: {offenders}"


# ----- offline ---------------------------------------------------------------------------------------

#: Tags whose attribute makes a browser fetch something when the page loads.
FETCHING = {"script": "src", "link": "href", "img": "src", "iframe": "src", "source": "src", "video": "src",
            "audio": "src", "embed": "src", "object": "data", "track": "src"}
CSS_URL = re.compile(r"(?:url\(\s*['\"]?|@import\s+['\"])((?:https?:)?//[^'\")\s]+)", re.I)
JS_IMPORT = re.compile(r"""\bimport\s*\(\s*['"]((?:https?:)?//[^'"]+)""", re.I)


def external(url: str) -> bool:
    parts = urlsplit(url.strip())
    return bool(parts.netloc) and parts.hostname not in LOOPBACK


def off_machine_references(html: str) -> list[str]:
    """Everything in a page that would make a browser fetch from another host when it loads."""
    soup = BeautifulSoup(html, "html.parser")
    found = [f"<{tag.name} {attr}={tag[attr]}>" for name, attr in FETCHING.items()
             for tag in soup.find_all(name) if tag.get(attr) and external(tag[attr])]
    found += [f"<img srcset={tag['srcset']}>" for tag in soup.find_all(["img", "source"])
              if tag.get("srcset") and any(external(part.split()[0]) for part in tag["srcset"].split(","))]
    for style in soup.find_all("style"):
        found += [f"<style> {url}" for url in CSS_URL.findall(style.get_text()) if external(url)]
    for script in soup.find_all("script", src=False):
        found += [f"<script> import({url})" for url in JS_IMPORT.findall(script.get_text()) if external(url)]
    return found


def test_the_reference_check_catches_what_would_load_from_elsewhere():
    clean = '<link rel="stylesheet" href="../assets/x.css"><img src="data:image/png;base64,AA"><a href="https://x.org">'
    assert off_machine_references(clean) == []
    for bad in ('<script src="https://unpkg.com/mermaid@11/dist/mermaid.min.js"></script>',
                '<link rel="stylesheet" href="https://fonts.googleapis.com/css?family=Roboto">',
                '<img src="//cdn.example.com/plot.png">',
                '<style>@font-face{src:url("https://fonts.gstatic.com/r.woff2")}</style>',
                '<script type="module">const m = await import("https://cdnjs.cloudflare.com/m.mjs")</script>'):
        assert off_machine_references(bad), bad


def test_no_page_loads_anything_from_another_host(site):
    pages = list(site.rglob("*.html"))
    assert len(pages) >= 7 + len(NOTEBOOKS)
    offenders = {str(p.relative_to(site)): refs for p in pages if (refs := off_machine_references(p.read_text()))}
    assert not offenders, offenders
    stylesheets = {str(p.relative_to(site)): urls for p in site.rglob("*.css")
                   if (urls := [u for u in CSS_URL.findall(p.read_text()) if external(u)])}
    assert not stylesheets, stylesheets


def test_vendored_scripts_are_the_recorded_files_with_their_licences():
    vendor = DOCS_DIR / "assets" / "vendor"
    sources = (vendor / "SOURCES.txt").read_text()
    for name in ("mermaid/mermaid.min.js", "mathjax/tex-svg.js"):
        digest = hashlib.sha256((vendor / name).read_bytes()).hexdigest()
        assert f"file sha256 {digest}" in sources, f"{name} differs from the file recorded in SOURCES.txt"
        assert (vendor / name).with_name("LICENSE").stat().st_size > 500


# ----- the library behind the site ---------------------------------------------------------------------

def write_notebook(path: Path, heading: str | None, *, images: int = 0) -> Path:
    cells = [{"cell_type": "markdown", "metadata": {}, "source": [f"{heading}\n\nWhat it is about.\n"]}] if heading else []
    cells += [{"cell_type": "code", "metadata": {}, "execution_count": 1, "source": ["%%cluster\nx = 1"],
               "outputs": [{"output_type": "display_data", "metadata": {}, "data": {"image/png": "AA"}}] * images},
              {"cell_type": "markdown", "metadata": {}, "source": ["## 1. First part\n"]}]
    path.write_text(json.dumps({"cells": cells, "metadata": {}, "nbformat": 4, "nbformat_minor": 5}))
    return path


def test_labs_are_found_by_their_number_and_read_from_the_notebook(tmp_path):
    write_notebook(tmp_path / "02-second.ipynb", "# Lab 2 — Second `things`", images=2)
    write_notebook(tmp_path / "01-first.ipynb", "# Lab 1 — First things")
    write_notebook(tmp_path / "scratch.ipynb", "# not a lab")
    labs = docs_site.discover_labs(tmp_path)
    assert [lab.slug for lab in labs] == ["01-first", "02-second"]
    second = labs[1]
    assert (second.nav_title, second.src_uri, second.url) == ("2. Second things", "labs/02-second.ipynb",
                                                              "labs/02-second/")
    assert (second.plots, second.cluster_cells, second.sections) == (2, 1, ("First part",))


@pytest.mark.parametrize("content, message", [
    ("{not json", "is not a readable notebook"),
    (json.dumps({"metadata": {}}), "is not a readable notebook"),
    (None, "has no '# Lab N — topic' heading"),
])
def test_a_notebook_that_cannot_become_a_page_is_named(tmp_path, content, message):
    path = tmp_path / "07-broken.ipynb"
    if content is None:
        write_notebook(path, heading=None)
    else:
        path.write_text(content)
    with pytest.raises(WorkshopError, match=re.escape(message)) as raised:
        docs_site.discover_labs(tmp_path)
    assert "07-broken.ipynb" in str(raised.value)


def test_no_notebooks_is_an_error(tmp_path):
    with pytest.raises(WorkshopError, match="no master notebooks"):
        docs_site.discover_labs(tmp_path)


def test_the_labs_are_appended_to_the_labs_section_only(tmp_path):
    write_notebook(tmp_path / "01-first.ipynb", "# Lab 1 — First things")
    labs = docs_site.discover_labs(tmp_path)
    nav = [{"Home": "index.md"}, {"Labs": ["labs/index.md"]}, {"Reference": "reference.md"}]
    assert docs_site.expand_nav(nav, labs) == [
        {"Home": "index.md"}, {"Labs": ["labs/index.md", {"1. First things": "labs/01-first.ipynb"}]},
        {"Reference": "reference.md"}]
    listed = [{"Labs": ["labs/index.md", {"Lab one": "labs/01-first.ipynb"}]}]
    assert docs_site.expand_nav(listed, labs) == listed, "a lab listed by hand is not added twice"
    with pytest.raises(WorkshopError, match="no 'Labs' section"):
        docs_site.expand_nav([{"Home": "index.md"}], labs)


def test_cdn_loaders_are_taken_out_of_lab_pages():
    html = ('<p>lesson</p><script src="https://cdnjs.cloudflare.com/ajax/libs/mathjax/2.7.7/latest.js"> </script>'
            '<script type="text/x-mathjax-config">init_mathjax()</script>'
            '<script type="module">\n document.addEventListener("x", async () => {\n'
            ' const m = (await import("https://cdnjs.cloudflare.com/mermaid.esm.min.mjs")).default; });\n</script>'
            '<script>local()</script>')
    assert docs_site.strip_cdn_scripts(html) == "<p>lesson</p><script>local()</script>"


def test_table_of_contents_titles_get_back_the_code_the_renderer_dropped():
    class Item:
        def __init__(self, title, children=()):
            self.title, self.children = title, list(children)

    toc = [Item("Lab 3", [Item("4. From capacity to"), Item("Recap"), Item("Exercise 1 — fit")])]
    docs_site.complete_toc_titles(toc, ["Lab 3", "4. From capacity to scaleTarget", "Recap", "Recap and more",
                                        "Exercise 1 — fit and evaluate"])
    assert [item.title for item in toc[0].children] == ["4. From capacity to scaleTarget", "Recap",
                                                        "Exercise 1 — fit and evaluate"]


# ----- the tasks -------------------------------------------------------------------------------------

def ran(ctx: MockContext) -> list[str]:
    return [call.args[0] for call in ctx.run.call_args_list]


def test_docs_build_runs_a_strict_mkdocs_build_of_the_repository_site(tmp_path, capsys):
    target = tmp_path / "out"
    command = (f"{shlex.quote(sys.executable)} -m mkdocs build --config-file "
               f"{REPO_ROOT / 'mkdocs.yml'} --site-dir {target} --quiet --strict")
    ctx = MockContext(run={command: Result(exited=0)})
    docs_tasks.build(ctx, site_dir=str(target))
    assert ran(ctx) == [command]
    assert ctx.run.call_args.kwargs["env"] == {"NO_MKDOCS_2_WARNING": "1"}
    assert f"into {target}" in capsys.readouterr().out


def test_docs_build_reports_the_warnings_that_failed_it(tmp_path, capsys):
    ctx = MockContext(run=Result(exited=1, stderr="INFO - Building\nWARNING - Doc file 'setup.md' contains a link "
                                                  "'nowhere.md', but the target is not found\nAborted with 1 warnings in "
                                                  "strict mode!\n"))
    with pytest.raises(Exit) as raised:
        docs_tasks.build(ctx, site_dir=str(tmp_path))
    assert raised.value.code == 1
    err = capsys.readouterr().err
    assert "did not build" in err and "'nowhere.md'" in err and "INFO - Building" not in err


def test_docs_build_without_the_docs_tools_says_how_to_get_them(monkeypatch, capsys):
    monkeypatch.setattr(docs_site, "missing_docs_packages", lambda: ["mkdocs-jupyter"])
    with pytest.raises(Exit):  # a MockContext without results would raise NotImplementedError on any run
        docs_tasks.build(MockContext())
    assert "not installed: mkdocs-jupyter" in capsys.readouterr().err


def test_docs_serve_binds_loopback_only():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    command = (f"{shlex.quote(sys.executable)} -m mkdocs serve --config-file "
               f"{REPO_ROOT / 'mkdocs.yml'} --dev-addr 127.0.0.1:{port}")
    ctx = MockContext(run={command: Result(exited=0)})
    docs_tasks.serve(ctx, port=port)
    assert ran(ctx) == [command]


def test_docs_serve_refuses_a_busy_port(capsys):
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen()
        with pytest.raises(Exit):  # nothing is run: a bare MockContext would raise NotImplementedError
            docs_tasks.serve(MockContext(), port=busy.getsockname()[1])
    assert "already in use" in capsys.readouterr().err


@pytest.mark.parametrize("port, message", [("abc", "--port expects a value of type int, got 'abc'"),
                                           ("80", "--port must be a number between 1024 and 65535, got 80")])
def test_a_bad_port_is_one_message_and_no_traceback(port, message):
    result = subprocess.run([sys.executable, "-m", "invoke", "docs.serve", "--port", port], cwd=REPO_ROOT,
                            capture_output=True, text=True, timeout=60, env={**os.environ, "NO_COLOR": "1"})
    assert result.returncode == 1
    assert message in result.stderr
    assert "Traceback" not in result.stderr + result.stdout
