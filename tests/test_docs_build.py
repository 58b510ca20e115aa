"""The docs site: a strict build, a page per lab notebook, generated tables that match their sources,
nothing loaded from another host, and the `docs.*` tasks."""

from __future__ import annotations

import functools

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
import posixpath
from urllib.parse import unquote, urlsplit

import pytest
from bs4 import BeautifulSoup
from invoke import MockContext, Result
from invoke.exceptions import Exit

from kserve_workshop import docs_site
from kserve_workshop.docs_pages import lab_catalog, page_html
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
    result = subprocess.run(
        docs_site.build_command(site_dir),
        cwd=site_dir.parent,
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, "NO_MKDOCS_2_WARNING": "1"},
    )
    assert result.returncode == 0, f"mkdocs build --strict failed:\n{result.stdout}\n{result.stderr}"
    return site_dir


@functools.cache  # parsed once per run: the tests only read the pages (parsing them all costs ~2 s)
def page(site: Path, url: str) -> BeautifulSoup:
    return BeautifulSoup((site / url / "index.html").read_text(encoding="utf-8"), "html.parser")


def notebook(path: Path) -> dict:
    return json.loads(path.read_text(encoding="utf-8"))


def image_outputs(path: Path) -> int:
    return sum(
        1
        for cell in notebook(path)["cells"]
        for output in cell.get("outputs", [])
        if any(kind.startswith("image/") for kind in output.get("data", {}))
    )


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
        assert len(images) >= image_outputs(path), (
            f"{path.name}: {len(images)} plots shown, {image_outputs(path)} saved"
        )
        assert "solutions blanked" in article.get_text(), "the note pointing at the student version is missing"


def test_the_labs_overview_links_every_lab(site):
    links = {a["href"] for a in page(site, "labs").select("article table a[href]")}
    assert {f"{path.stem}/" for path in NOTEBOOKS} <= links


def site_pages(site: Path) -> dict[str, BeautifulSoup]:
    """Every HTML page of the site, parsed (the same objects as ``page`` gives)."""
    return {
        str(path.relative_to(site)): page(site, str(path.parent.relative_to(site)))
        if path.name == "index.html"
        else BeautifulSoup(path.read_text(encoding="utf-8"), "html.parser")
        for path in sorted(site.rglob("*.html"))
    }


def broken_anchors(pages: dict[str, BeautifulSoup]) -> list[tuple[str, str]]:
    """Every link with a #fragment to a page of the site whose target id is not on that page."""
    ids = {
        name: {tag["id"] for tag in soup.find_all(id=True)}
        | {a["name"] for a in soup.find_all("a", attrs={"name": True})}
        for name, soup in pages.items()
    }
    broken = []
    for name, soup in pages.items():
        for link in soup.find_all("a", href=True):
            parts = urlsplit(link["href"])
            if parts.scheme or parts.netloc or not parts.fragment:
                continue
            target = name
            if parts.path:
                target = posixpath.normpath(posixpath.join(posixpath.dirname(name), unquote(parts.path)))
                target = target if target.endswith(".html") else posixpath.join(target, "index.html")
            if target not in ids or unquote(parts.fragment) not in ids[target]:
                broken.append((name, link["href"]))
    return broken


def test_every_anchor_on_every_page_resolves(site):
    pages = site_pages(site)
    assert len(pages) >= 7 + len(NOTEBOOKS)
    assert broken_anchors(pages) == []


def test_the_anchor_check_finds_a_link_to_a_missing_heading():
    pages = {
        "a/index.html": BeautifulSoup(
            '<h2 id="here">x</h2><a href="#here">ok</a><a href="#gone">no</a>'
            '<a href="../b/#there">ok</a><a href="../b/#nowhere">no</a>'
            '<a href="../c/#x">no page</a><a href="https://x.org/#y">off-site</a>',
            "html.parser",
        ),
        "b/index.html": BeautifulSoup('<p id="there">y</p>', "html.parser"),
    }
    assert broken_anchors(pages) == [
        ("a/index.html", "#gone"),
        ("a/index.html", "../b/#nowhere"),
        ("a/index.html", "../c/#x"),
    ]


def lab_article(site: Path, path: Path) -> BeautifulSoup:
    return page(site, f"labs/{path.stem}").select_one("article")


def test_each_lab_page_starts_with_its_title_then_the_banner_and_before_you_begin(site):
    for path in NOTEBOOKS:
        article = lab_article(site, path)
        title, banner = article.select_one("h1"), article.select_one(".workshop-lab-banner")
        before = article.find(id="before-you-begin")
        assert title is not None and banner is not None and before is not None, path.name
        order = [element for element in article.find_all(True) if element in (title, banner, before)]
        assert order == [title, banner, before], f"{path.name}: the banner must sit under the page title"
        listed = before.find_next("ul").get_text(" ", strip=True)
        assert "Local part" in listed and "Time" in listed and "Builds on" in listed, listed


def test_each_lab_page_offers_its_student_notebook_for_download(site):
    for path in NOTEBOOKS:
        link = lab_article(site, path).select_one("a.workshop-download")
        assert link is not None and link.has_attr("download"), path.name
        served = site / "labs" / path.stem / link["href"]
        assert served.resolve().read_bytes() == (REPO_ROOT / "labs" / path.name).read_bytes()


def test_cluster_sections_have_one_plain_notice_and_no_skip_notice_per_cell(site):
    for path in NOTEBOOKS:
        cells = notebook(path)["cells"]
        article = lab_article(site, path)
        text = article.get_text(" ")
        assert "Cluster cell skipped" not in text and "Skipped: this cell" not in text, path.name
        assert "kube-config" not in text and "⏭" not in text
        sections = [s for s in docs_view_sections(cells) if s.cluster_cells]
        notices = article.select(".workshop-notice--cluster")
        assert len(notices) == len(sections), (
            f"{path.name}: {len(notices)} notices for {len(sections)} cluster sections"
        )
        for notice in notices:
            assert "`" not in notice.get_text() and not notice.has_attr("style")
        tagged = article.select(".jp-CodeCell.celltag_cluster")
        assert len({id(cell) for cell in tagged}) >= sum(s.cluster_cells for s in sections)


def docs_view_sections(cells):
    from kserve_workshop.docs_pages.lab_view import sections

    return sections(cells)


def test_expected_outputs_are_drawn_as_labelled_boxes(site):
    with_boxes = [
        path
        for path in NOTEBOOKS
        if any("expected-output" in c.get("metadata", {}).get("tags", []) for c in notebook(path)["cells"])
    ]
    assert with_boxes, "no lab has expected-output cells yet"
    for path in with_boxes:
        boxes = lab_article(site, path).select(".jp-RenderedMarkdown.celltag_expected-output")
        assert boxes and all(box.get_text(strip=True).startswith("Expected on a cluster") for box in boxes)


def test_boxes_on_the_site_carry_no_inline_colours(site):
    for path in NOTEBOOKS:
        for box in lab_article(site, path).select(".workshop-box, .workshop-check"):
            assert not box.has_attr("style"), f"{path.name}: {str(box)[:120]}"
            assert {"workshop-check--pass", "workshop-check--fail", "workshop-notice--cluster"} & set(box["class"])


def test_the_table_of_contents_is_the_headings_as_rendered(site):
    for path in NOTEBOOKS:
        soup = page(site, f"labs/{path.stem}")
        toc = [(a["href"], a.get_text(" ", strip=True)) for a in soup.select("nav.md-nav--secondary a.md-nav__link")]
        headings = {f"#{h['id']}": page_html.heading_text(h.decode_contents()) for h in soup.select("article h2[id]")}
        assert toc and all(headings.get(href) == text for href, text in toc), (path.name, toc[:5])
    lab3 = page(site, "labs/03-autoscaling").select("nav.md-nav--secondary a")
    assert "4. From capacity to scaleTarget" in [a.get_text(" ", strip=True) for a in lab3]


def test_search_results_carry_no_pilcrow(site):
    index = json.loads((site / "search" / "search_index.json").read_text(encoding="utf-8"))
    with_pilcrow = [doc["location"] for doc in index["docs"] if "¶" in doc["title"] or "¶" in doc["text"]]
    assert with_pilcrow == []


def test_the_repository_link_is_set_and_nothing_asks_githubs_api(site):
    urls = docs_site.project_urls()
    home = page(site, "")
    assert home.select_one("a.md-source")["href"] == urls["Repository"]
    assert not home.select('[data-md-component="source"]'), "the theme would fetch the repository's facts"
    assert home.select_one('link[rel="canonical"]')["href"].startswith(urls["Documentation"])
    for name, soup in site_pages(site).items():
        assert "<this repository>" not in soup.get_text(), name
    assert f"git clone {urls['Repository']}.git" in page(site, "setup").get_text()


def test_the_setup_page_has_a_local_tab_with_captured_and_expected_outputs(site):
    setup = page(site, "setup")
    for tab in (
        "prerequisites-local-only",
        "2-check-your-machine-local-only",
        "3-create-the-cluster-and-install-the-platform-local-only",
    ):
        assert setup.find(id=tab) is not None, tab
    captured = setup.select(".workshop-output--captured")
    expected = setup.select(".workshop-output--expected")
    assert len(captured) == 2 and all("Captured output" in box.get_text() for box in captured)
    commands = [box.select_one("code").get_text().splitlines()[0] for box in expected]
    assert {"$ invoke doctor", "$ invoke up", "$ invoke status", "$ invoke smoke"} <= set(commands)
    assert all("not captured" in box.get_text() for box in expected)


def test_the_setup_curl_calls_the_inferenceservice_it_deploys_first(site):
    import yaml

    text = page(site, "setup").get_text()
    applied = re.search(r"kubectl apply -n (\S+) -f (manifests/\S+\.yaml)", text)
    namespace, manifest_path = applied.groups()
    manifest = yaml.safe_load((REPO_ROOT / manifest_path).read_text())
    name = manifest["metadata"]["name"]
    # The lab manifests leave the namespace to `kubectl apply -n`; one they named would have to agree.
    assert manifest["metadata"].get("namespace", namespace) == namespace
    assert f'-H "Host: {name}.{namespace}.example.com"' in text
    assert f"/v1/models/{name}:predict" in text
    assert f"kubectl delete -n {namespace} -f {manifest_path}" in text


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
    listed = subprocess.run(
        [sys.executable, "-m", "invoke", "--list"],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    ).stdout
    names = set(re.findall(r"^  ([a-z][\w.-]*)", listed, re.M))
    assert {"up", "down", "doctor", "docs.build", "docs.serve"} <= names
    cells = {row[0] for header, rows in html_tables(page(site, "reference")) if header[:1] == ["Task"] for row in rows}
    documented = {cell.removeprefix("invoke ").split(" ")[0] for cell in cells}
    assert names <= documented, f"reference: tasks without a row: {sorted(names - documented)}"
    setup_headers = [header for header, _ in html_tables(page(site, "setup"))]
    assert ["Task", "What it does", "Flags"] not in setup_headers, "the big task table lives on the reference page only"
    assert ["Component", "What it installs", "Namespace", "Pinned"] not in setup_headers


def test_no_platform_version_is_typed_into_a_page():
    pins = tomllib.loads(VERSIONS_FILE.read_text())
    typed = {
        pins["kserve"]["version"],
        pins["istio"]["version"],
        pins["cert_manager"]["version"],
        pins["knative"]["operator_version"],
        pins["knative"]["serving_version"],
        pins["kind"]["version"],
        pins["helm"]["version"],
        pins["kubectl"]["version"],
        pins["python"]["scikit_learn"],
        pins["monitoring"]["kube_prometheus_stack_version"],
    }
    offenders = [
        f"{path.relative_to(REPO_ROOT)}: {pin}"
        for path in DOCS_DIR.rglob("*.md")
        for pin in typed
        if re.search(rf"(?<![\w.]){re.escape(pin)}(?![\w.])", path.read_text())
    ]
    assert not offenders, f"use {{{{ pin(...) }}}} instead: {offenders}"


# ----- offline ---------------------------------------------------------------------------------------

#: Tags whose attribute makes a browser fetch something when the page loads.
FETCHING = {
    "script": "src",
    "link": "href",
    "img": "src",
    "iframe": "src",
    "source": "src",
    "video": "src",
    "audio": "src",
    "embed": "src",
    "object": "data",
    "track": "src",
}
#: Link relations that only name a URL (the page's canonical address, its neighbours): no request.
NOT_FETCHED = {"canonical", "alternate", "prev", "next"}
CSS_URL = re.compile(r"(?:url\(\s*['\"]?|@import\s+['\"])((?:https?:)?//[^'\")\s]+)", re.I)
JS_IMPORT = re.compile(r"""\bimport\s*\(\s*['"]((?:https?:)?//[^'"]+)""", re.I)


def external(url: str) -> bool:
    parts = urlsplit(url.strip())
    return bool(parts.netloc) and parts.hostname not in LOOPBACK


def off_machine_references(html: str) -> list[str]:
    """Everything in a page that would make a browser fetch from another host when it loads."""
    soup = BeautifulSoup(html, "html.parser")
    found = [
        f"<{tag.name} {attr}={tag[attr]}>"
        for name, attr in FETCHING.items()
        for tag in soup.find_all(name)
        if tag.get(attr) and external(tag[attr]) and not (name == "link" and set(tag.get("rel") or []) <= NOT_FETCHED)
    ]
    found += [
        f"<img srcset={tag['srcset']}>"
        for tag in soup.find_all(["img", "source"])
        if tag.get("srcset") and any(external(part.split()[0]) for part in tag["srcset"].split(","))
    ]
    for style in soup.find_all("style"):
        found += [f"<style> {url}" for url in CSS_URL.findall(style.get_text()) if external(url)]
    for script in soup.find_all("script", src=False):
        found += [f"<script> import({url})" for url in JS_IMPORT.findall(script.get_text()) if external(url)]
    return found


def test_the_reference_check_catches_what_would_load_from_elsewhere():
    clean = (
        '<link rel="stylesheet" href="../assets/x.css"><img src="data:image/png;base64,AA"><a href="https://x.org">'
        '<link rel="canonical" href="https://example.github.io/site/">'
    )
    assert off_machine_references(clean) == []
    for bad in (
        '<script src="https://unpkg.com/mermaid@11/dist/mermaid.min.js"></script>',
        '<link rel="stylesheet" href="https://fonts.googleapis.com/css?family=Roboto">',
        '<img src="//cdn.example.com/plot.png">',
        '<style>@font-face{src:url("https://fonts.gstatic.com/r.woff2")}</style>',
        '<script type="module">const m = await import("https://cdnjs.cloudflare.com/m.mjs")</script>',
    ):
        assert off_machine_references(bad), bad


def test_no_page_loads_anything_from_another_host(site):
    pages = list(site.rglob("*.html"))
    assert len(pages) >= 7 + len(NOTEBOOKS)
    offenders = {str(p.relative_to(site)): refs for p in pages if (refs := off_machine_references(p.read_text()))}
    assert not offenders, offenders
    stylesheets = {
        str(p.relative_to(site)): urls
        for p in site.rglob("*.css")
        if (urls := [u for u in CSS_URL.findall(p.read_text()) if external(u)])
    }
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
    cells = (
        [{"cell_type": "markdown", "metadata": {}, "source": [f"{heading}\n\nWhat it is about.\n"]}] if heading else []
    )
    cells += [
        {
            "cell_type": "code",
            "metadata": {},
            "execution_count": 1,
            "source": ["%%cluster\nx = 1"],
            "outputs": [{"output_type": "display_data", "metadata": {}, "data": {"image/png": "AA"}}] * images,
        },
        {"cell_type": "markdown", "metadata": {}, "source": ["## 1. First part\n"]},
    ]
    path.write_text(json.dumps({"cells": cells, "metadata": {}, "nbformat": 4, "nbformat_minor": 5}))
    return path


def test_labs_are_found_by_their_number_and_read_from_the_notebook(tmp_path):
    write_notebook(tmp_path / "02-second.ipynb", "# Lab 2 — Second `things`", images=2)
    write_notebook(tmp_path / "01-first.ipynb", "# Lab 1 — First things")
    write_notebook(tmp_path / "scratch.ipynb", "# not a lab")
    labs = lab_catalog.discover_labs(tmp_path)
    assert [lab.slug for lab in labs] == ["01-first", "02-second"]
    second = labs[1]
    assert (second.nav_title, second.src_uri, second.url) == (
        "2. Second things",
        "labs/02-second.ipynb",
        "labs/02-second/",
    )
    assert (second.plots, second.cluster_cells, second.sections) == (2, 1, ("First part",))


@pytest.mark.parametrize(
    "content, message",
    [
        ("{not json", "is not a readable notebook"),
        (json.dumps({"metadata": {}}), "is not a readable notebook"),
        (None, "has no '# Lab N — topic' heading"),
    ],
)
def test_a_notebook_that_cannot_become_a_page_is_named(tmp_path, content, message):
    path = tmp_path / "07-broken.ipynb"
    if content is None:
        write_notebook(path, heading=None)
    else:
        path.write_text(content)
    with pytest.raises(WorkshopError, match=re.escape(message)) as raised:
        lab_catalog.discover_labs(tmp_path)
    assert "07-broken.ipynb" in str(raised.value)


def test_no_notebooks_is_an_error(tmp_path):
    with pytest.raises(WorkshopError, match="no master notebooks"):
        lab_catalog.discover_labs(tmp_path)


def test_the_labs_are_appended_to_the_labs_section_only(tmp_path):
    write_notebook(tmp_path / "01-first.ipynb", "# Lab 1 — First things")
    labs = lab_catalog.discover_labs(tmp_path)
    nav = [{"Home": "index.md"}, {"Labs": ["labs/index.md"]}, {"Reference": "reference.md"}]
    assert lab_catalog.expand_nav(nav, labs) == [
        {"Home": "index.md"},
        {"Labs": ["labs/index.md", {"1. First things": "labs/01-first.ipynb"}]},
        {"Reference": "reference.md"},
    ]
    listed = [{"Labs": ["labs/index.md", {"Lab one": "labs/01-first.ipynb"}]}]
    assert lab_catalog.expand_nav(listed, labs) == listed, "a lab listed by hand is not added twice"
    with pytest.raises(WorkshopError, match="no 'Labs' section"):
        lab_catalog.expand_nav([{"Home": "index.md"}], labs)


def test_cdn_loaders_are_taken_out_of_lab_pages():
    html = (
        '<p>lesson</p><script src="https://cdnjs.cloudflare.com/ajax/libs/mathjax/2.7.7/latest.js"> </script>'
        '<script type="text/x-mathjax-config">init_mathjax()</script>'
        '<script type="module">\n document.addEventListener("x", async () => {\n'
        ' const m = (await import("https://cdnjs.cloudflare.com/mermaid.esm.min.mjs")).default; });\n</script>'
        "<script>local()</script>"
    )
    assert page_html.strip_cdn_scripts(html) == "<p>lesson</p><script>local()</script>"


# ----- the tasks -------------------------------------------------------------------------------------


def ran(ctx: MockContext) -> list[str]:
    return [call.args[0] for call in ctx.run.call_args_list]


def test_docs_build_runs_a_strict_mkdocs_build_of_the_repository_site(tmp_path, capsys):
    target = tmp_path / "out"
    command = (
        f"{shlex.quote(sys.executable)} -m mkdocs build --config-file "
        f"{REPO_ROOT / 'mkdocs.yml'} --site-dir {target} --quiet --strict"
    )
    ctx = MockContext(run={command: Result(exited=0)})
    docs_tasks.build(ctx, site_dir=str(target))
    assert ran(ctx) == [command]
    assert ctx.run.call_args.kwargs["env"] == {"NO_MKDOCS_2_WARNING": "1"}
    assert f"into {target}" in capsys.readouterr().out


def test_docs_build_reports_the_warnings_that_failed_it(tmp_path, capsys):
    ctx = MockContext(
        run=Result(
            exited=1,
            stderr="INFO - Building\nWARNING - Doc file 'setup.md' contains a link "
            "'nowhere.md', but the target is not found\nAborted with 1 warnings in "
            "strict mode!\n",
        )
    )
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
    command = (
        f"{shlex.quote(sys.executable)} -m mkdocs serve --config-file "
        f"{REPO_ROOT / 'mkdocs.yml'} --dev-addr 127.0.0.1:{port}"
    )
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


@pytest.mark.parametrize(
    "port, message",
    [
        ("abc", "--port expects a value of type int, got 'abc'"),
        ("80", "--port must be a number between 1024 and 65535, got 80"),
    ],
)
def test_a_bad_port_is_one_message_and_no_traceback(port, message):
    result = subprocess.run(
        [sys.executable, "-m", "invoke", "docs.serve", "--port", port],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        timeout=60,
        env={**os.environ, "NO_COLOR": "1"},
    )
    assert result.returncode == 1
    assert message in result.stderr
    assert "Traceback" not in result.stderr + result.stdout
