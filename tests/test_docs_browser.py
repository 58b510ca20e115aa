"""Headless Chromium opens the built docs site from a server on 127.0.0.1: the pages have content, a
lab's plots are there, diagrams and formulas come from the site's own scripts, and no request leaves
the machine. Screenshots go to test-artifacts/screenshots/ (CI keeps them)."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import threading
import time
from dataclasses import dataclass, field
from functools import partial
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from bs4 import BeautifulSoup
from PIL import Image

from kserve_workshop import docs_site
from kserve_workshop.paths import NOTEBOOKS_DIR, REPO_ROOT

CHROMIUM = shutil.which("chromium")
pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(
        CHROMIUM is None, reason="Debian's chromium is not installed (scripts/bootstrap.sh --test-tools installs it)"
    ),
]

SCREENSHOTS = REPO_ROOT / "test-artifacts" / "screenshots"
LOOPBACK = {"127.0.0.1", "localhost", "::1"}
# No background traffic, and every name but 127.0.0.1 fails to resolve (so an off-machine request shows).
CHROMIUM_FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
    "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1",
]
# Enough virtual time for mermaid and MathJax to finish before the DOM is dumped.
VIRTUAL_TIME_MS = 8000


class RecordingHandler(SimpleHTTPRequestHandler):
    """Serves the built site and records every request it gets (path and status)."""

    def log_request(self, code="-", size="-"):
        self.server.requests.append((self.path, int(code) if str(code).isdigit() else 0))

    def log_message(self, format, *args):  # noqa: A002 - the base class's name; quiet
        pass


@dataclass
class SiteServer:
    url: str
    root: Path
    requests: list[tuple[str, int]] = field(default_factory=list)


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    root = tmp_path_factory.mktemp("site")
    built = subprocess.run(
        docs_site.build_command(root),
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, "NO_MKDOCS_2_WARNING": "1"},
    )
    assert built.returncode == 0, built.stdout + built.stderr
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), partial(RecordingHandler, directory=str(root)))
    httpd.requests = []
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        yield SiteServer(f"http://127.0.0.1:{httpd.server_address[1]}", root, httpd.requests)
    finally:
        httpd.shutdown()
        httpd.server_close()
        thread.join(timeout=10)


@dataclass
class Visit:
    dom: BeautifulSoup
    screenshot: Path
    page_requests: list[str]  # URLs the page asked for
    connections: list[str]  # every address Chromium opened a TCP connection to
    served: list[tuple[str, int]]  # what the site's server answered during the visit


def read_net_log(path: Path) -> tuple[list[str], list[str]]:
    """(URLs the page requested, addresses of all TCP connections) from a Chromium net log.

    A page's own requests carry its origin as initiator (the navigation is the "main frame"
    request); Chromium's housekeeping (update checks, sign-in) carries none: those are counted by
    the connections check instead, and the resolver rules make them fail before any packet leaves.
    """
    log = json.loads(path.read_text())
    names = {number: name for name, number in log["constants"]["logEventTypes"].items()}
    requested, connections = [], []
    for event in log["events"]:
        kind, params = names.get(event["type"]), event.get("params") or {}
        if kind == "URL_REQUEST_START_JOB":
            initiator = params.get("initiator", "")
            if initiator.startswith(("http://", "https://")) or params.get("request_type") == "main frame":
                requested.append(params["url"])
        elif kind == "TCP_CONNECT":
            connections += params.get("address_list", []) + (
                [params["remote_address"]] if "remote_address" in params else []
            )
    return requested, connections


def host(address_or_url: str) -> str:
    if "://" in address_or_url:
        return urlsplit(address_or_url).hostname or ""
    return address_or_url.rsplit(":", 1)[0].strip("[]")


def off_machine(visit: Visit) -> list[str]:
    return [url for url in visit.page_requests if not url.startswith("data:") and host(url) not in LOOPBACK] + [
        f"TCP to {address}" for address in visit.connections if host(address) not in LOOPBACK
    ]


def open_page(server: SiteServer, path: str, name: str, tmp_path: Path, *, height: int = 2400) -> Visit:
    """Load ``path`` in headless Chromium: screenshot, DOM after scripts ran, and its net log."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    screenshot, net_log = SCREENSHOTS / f"{name}.png", tmp_path / f"{name}-netlog.json"
    screenshot.unlink(missing_ok=True)
    first = len(server.requests)
    argv = [
        CHROMIUM,
        *CHROMIUM_FLAGS,
        f"--user-data-dir={tmp_path / f'{name}-profile'}",
        f"--window-size=1280,{height}",
        f"--virtual-time-budget={VIRTUAL_TIME_MS}",
        f"--log-net-log={net_log}",
        f"--screenshot={screenshot}",
        "--dump-dom",
        f"{server.url}/{path}",
    ]
    # Its own session, so a hung browser and all its helper processes go together.
    browser = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, start_new_session=True)
    try:
        dom, errors = browser.communicate(timeout=90)
    finally:
        try:
            os.killpg(browser.pid, signal.SIGKILL)  # helpers left behind, if any
        except ProcessLookupError:
            pass
        browser.wait()
    assert browser.returncode == 0, errors[-2000:]
    assert screenshot.is_file(), f"no screenshot of {path}: {errors[-2000:]}"
    requested, connections = read_net_log(net_log)
    return Visit(BeautifulSoup(dom, "html.parser"), screenshot, requested, connections, server.requests[first:])


def assert_looks_like_a_page(visit: Visit) -> None:
    """Not blank: the screenshot has real content (text, colours), not one flat colour."""
    with Image.open(visit.screenshot) as image:
        colours = image.convert("RGB").resize((320, 600)).getcolors(maxcolors=1 << 16)
    assert colours is None or len(colours) > 50, f"{visit.screenshot.name} looks blank"


def main_text(visit: Visit) -> str:
    article = visit.dom.select_one("article.md-content__inner")
    assert article is not None, "the page has no main content"
    return article.get_text(" ", strip=True)


def lab_with_plots() -> tuple[Path, int, bool]:
    """The master notebook with the most plots: (path, plots, has TeX formulas)."""

    def count(path: Path) -> tuple[int, bool]:
        cells = json.loads(path.read_text())["cells"]
        plots = sum(1 for c in cells for o in c.get("outputs", []) if "image/png" in o.get("data", {}))
        tex = any("$" in "".join(c["source"]) for c in cells if c["cell_type"] == "markdown")
        return plots, tex

    counted = [(path, *count(path)) for path in sorted(NOTEBOOKS_DIR.glob("[0-9][0-9]-*.ipynb"))]
    return max(counted, key=lambda item: item[1])


def test_home_page_has_the_learning_path_and_loads_only_from_this_machine(server, tmp_path):
    visit = open_page(server, "", "home", tmp_path)
    text = main_text(visit)
    assert "The learning path" in text and len(text) > 1500, text[:500]
    nav = [a.get_text(strip=True) for a in visit.dom.select("nav.md-nav--primary a")]
    assert any(label.startswith("1.") for label in nav) and "Troubleshooting" in nav, nav
    assert off_machine(visit) == []
    served = dict(visit.served)
    assert "/assets/vendor/mermaid/mermaid.min.js" in served, "the diagram did not load the site's own mermaid"
    assert all(status < 400 for status in served.values()), visit.served
    assert_looks_like_a_page(visit)


def test_a_lab_page_shows_its_plots_and_formulas_and_loads_only_from_this_machine(server, tmp_path):
    path, plots, has_tex = lab_with_plots()
    assert plots > 0, "no master notebook has a plot to show"
    visit = open_page(server, f"labs/{path.stem}/", f"lab-{path.stem}", tmp_path, height=4000)
    text = main_text(visit)
    assert "Expected outputs from a real run" in text and len(text) > 3000
    shown = [img for img in visit.dom.select("article .jupyter-wrapper img") if img["src"].startswith("data:image/")]
    assert len(shown) >= plots, f"{len(shown)} of the notebook's {plots} plots are on the page"
    if has_tex:
        assert visit.dom.select("mjx-container"), "the lab's formulas were not typeset"
        assert "/assets/vendor/mathjax/tex-svg.js" in dict(visit.served)
    assert off_machine(visit) == []
    assert all(status < 400 for _, status in visit.served), visit.served
    assert_looks_like_a_page(visit)


def test_the_browser_check_sees_a_page_reaching_off_the_machine(server, tmp_path):
    canary = server.root / "offsite-canary.html"
    canary.write_text(
        '<html><body><p>canary</p><img src="http://example.invalid/plot.png">'
        '<script src="https://unpkg.com/mermaid@11/dist/mermaid.min.js"></script></body></html>'
    )
    try:
        visit = open_page(server, canary.name, "offsite-canary", tmp_path, height=400)
    finally:
        canary.unlink()
        (SCREENSHOTS / "offsite-canary.png").unlink(missing_ok=True)
    found = off_machine(visit)
    assert "http://example.invalid/plot.png" in found
    assert "https://unpkg.com/mermaid@11/dist/mermaid.min.js" in found


# ===== readability, in one Chromium session driven over the DevTools protocol =========================
# Every page of the site is opened once per configuration in one browser (a tab per colour scheme, each
# in its own browser context, so the theme's remembered scheme does not leak): 1280 px light (anchors,
# overflow, diagrams, contrast), 1280 px dark (contrast, on the pages with boxes) and 390 px light
# (overflow). The measurements are kept in test-artifacts/docs-browser/measurements.json.

from support.cdp import Browser  # noqa: E402

from kserve_workshop.labkit.grading import CheckResult  # noqa: E402

PAGE_CHECKS = (Path(__file__).parent / "support" / "page_checks.js").read_text()
MEASUREMENTS = REPO_ROOT / "test-artifacts" / "docs-browser"
#: Text that must reach WCAG AA contrast (4.5:1): check results, notices, output boxes, their links.
BOXES = (
    ".workshop-box, .workshop-box *, .workshop-trouble, .workshop-trouble *, .workshop-output, "
    ".workshop-output > p, .workshop-output > p *, .celltag_expected-output > p, .celltag_expected-output > p *, "
    ".celltag_captured-output > p, .celltag_captured-output > p *"
)
MIN_CONTRAST, MIN_DIAGRAM_PX = 4.5, 12.0
GALLERY = "box-gallery/"


def gallery_html(template: str) -> str:
    """A page of the site (its theme, its stylesheet) holding one box of every kind, failing check included."""
    from kserve_workshop.docs_pages.lab_view import PageLinks, cluster_notice, restyle_html

    failed = CheckResult(
        "lab1.v1_payload",
        False,
        "the body is not what V1 takes",
        expected='{"instances": [[...]]}',
        found='{"rows": [[6.8, 2.8, 4.8, 1.4]]}',
        hint="V1 wants the key instances",
    )
    passed = CheckResult("lab1.accuracy", True, "0.956 on 45 flowers")
    body = (
        restyle_html(failed._repr_html_())
        + restyle_html(passed._repr_html_())
        + cluster_notice(1, 0, PageLinks(root="../"))
        + '<div class="jupyter-wrapper"><div class="jp-RenderedHTMLCommon jp-RenderedMarkdown '
        'jp-MarkdownOutput celltag_expected-output"><p><strong>Expected on a cluster</strong> (written from '
        "upstream's documented shapes):</p><pre><code>inferenceservice.serving.kserve.io/x created</code></pre>"
        '</div></div><div class="workshop-output workshop-output--captured"><p><strong>Captured output</strong> '
        "of a real run:</p><pre><code>ready</code></pre></div>"
    )
    start, end = template.index('<article class="md-content__inner md-typeset">'), template.index("</article>")
    return (
        template[:start]
        + f'<article class="md-content__inner md-typeset"><h1 id="gallery">Boxes</h1>{body}'
        + template[end:]
    )


def site_paths(root: Path) -> list[str]:
    return sorted(
        str(p.parent.relative_to(root)).replace(".", "", 1) + "/" if p.parent != root else ""
        for p in root.rglob("index.html")
        if "search" not in p.parts and p.parent.name != "assets"
    )


def _ready(page) -> None:
    """Scripts done: the theme has drawn every diagram, MathJax has typeset (both bounded)."""
    page.evaluate(PAGE_CHECKS)
    page.wait_until("document.querySelectorAll('pre.mermaid').length === 0", timeout=15)
    page.wait_until(
        "!document.querySelector('.arithmatex') || !!document.querySelector('mjx-container') || !window.MathJax",
        timeout=15,
    )


@pytest.fixture(scope="module")
def readability(server, tmp_path_factory):
    """Open every page in each configuration once; what the tests assert on."""
    (server.root / GALLERY).mkdir(exist_ok=True)
    (server.root / GALLERY / "index.html").write_text(gallery_html((server.root / "setup" / "index.html").read_text()))
    paths = site_paths(server.root)
    lab_paths = [p for p in paths if p.startswith("labs/") and p != "labs/"]
    boxed = lab_paths + ["setup/", GALLERY]
    found = {"paths": paths, "light": {}, "dark": {}, "narrow": {}, "diagrams": {}, "requests": []}
    started = time.monotonic()
    with Browser.launch(CHROMIUM, tmp_path_factory.mktemp("chromium-profile")) as browser:
        light, dark = browser.new_page(), browser.new_page()
        light.emulate(1280, 1000, dark=False)
        dark.emulate(1280, 1000, dark=True)
        for path in paths:
            found["requests"] += light.goto(f"{server.url}/{path}")
            _ready(light)
            scheme = light.evaluate("document.body.getAttribute('data-md-color-scheme')")
            found["light"][path] = {
                "scheme": scheme,
                "anchors": light.evaluate("__workshopChecks.anchors()"),
                "contrast": light.evaluate(f"__workshopChecks.contrast({BOXES!r})"),
                "overflow": light.evaluate("__workshopChecks.overflow()"),
            }
            if light.evaluate("document.querySelectorAll('div.mermaid').length"):
                found["diagrams"][path] = light.in_closed_shadow_roots(light.evaluate("__workshopChecks.diagramText"))
            if path in lab_paths:
                _screenshots(light, path, "light")
        for path in boxed:
            dark.goto(f"{server.url}/{path}")
            _ready(dark)
            found["dark"][path] = {
                "scheme": dark.evaluate("document.body.getAttribute('data-md-color-scheme')"),
                "contrast": dark.evaluate(f"__workshopChecks.contrast({BOXES!r})"),
            }
            if path in lab_paths:
                _screenshots(dark, path, "dark")
        light.emulate(390, 844, dark=False)
        for path in paths:
            light.goto(f"{server.url}/{path}")
            _ready(light)
            found["narrow"][path] = light.evaluate("__workshopChecks.overflow()")
    found["seconds"] = round(time.monotonic() - started, 1)
    MEASUREMENTS.mkdir(parents=True, exist_ok=True)
    (MEASUREMENTS / "measurements.json").write_text(json.dumps(summary(found), indent=1))
    return found


def _screenshots(page, path: str, scheme: str) -> None:
    name = path.strip("/").replace("/", "-")
    page.evaluate("window.scrollTo(0, 0)")
    page.screenshot(SCREENSHOTS / f"{name}-{scheme}.png")
    if page.evaluate(
        "(() => { const n = document.querySelector('.workshop-notice--cluster');"
        " if (!n) return false; window.scrollTo(0, n.getBoundingClientRect().top + scrollY - 80);"
        " return true; })()"
    ):
        time.sleep(0.4)  # the header's title slides in after a scroll
        page.screenshot(SCREENSHOTS / f"{name}-{scheme}-cluster.png")


def summary(found: dict) -> dict:
    def lowest(per_page: dict) -> dict:
        kinds: dict[str, float] = {}
        for data in per_page.values():
            for item in data["contrast"]:
                kinds[item["box"]] = round(min(kinds.get(item["box"], 99.0), item["ratio"]), 2)
        return kinds

    sizes = {
        path: round(min(s["px"] for d in diagrams if d for s in d["sizes"]), 1)
        for path, diagrams in found["diagrams"].items()
    }
    return {
        "seconds": found["seconds"],
        "pages": len(found["paths"]),
        "lowest_contrast_light": lowest(found["light"]),
        "lowest_contrast_dark": lowest(found["dark"]),
        "smallest_diagram_text_px": sizes,
    }


def test_each_scheme_is_the_one_asked_for(readability):
    assert {data["scheme"] for data in readability["light"].values()} == {"default"}
    assert {data["scheme"] for data in readability["dark"].values()} == {"slate"}


@pytest.mark.parametrize("scheme", ["light", "dark"])
def test_check_results_notices_and_output_boxes_reach_4_5_to_1(readability, scheme):
    pages = readability[scheme]
    measured = [(path, item) for path, data in pages.items() for item in data["contrast"]]
    kinds = {item["box"] for _, item in measured}
    for wanted in (
        "workshop-check--pass",
        "workshop-check--fail",
        "workshop-notice--cluster",
        "workshop-output",
        "celltag_expected-output",
        "workshop-trouble",
    ):
        assert any(wanted in kind for kind in kinds), f"nothing measured in a {wanted} box ({scheme})"
    low = [
        (path, round(item["ratio"], 2), item["element"], item["text"])
        for path, item in measured
        if item["ratio"] < MIN_CONTRAST
    ]
    assert low == [], f"{scheme}: text below {MIN_CONTRAST}:1"


def test_the_measurements_see_unreadable_text_a_too_wide_element_and_small_diagram_text(server, readability):
    """The checks themselves, on a page made to fail them: the old notice (a light background and no text
    colour) in the dark scheme, a paragraph wider than a phone, text cut off by a box that does not scroll,
    and a diagram squeezed into 300 px."""
    old = (
        '<div style="border-left:4px solid #f0ad4e;padding:4px 8px;background:#fff8e6" class="old-notice">'
        'Cluster cell skipped</div><p style="width:900px" class="too-wide">a fixed-width paragraph</p>'
        '<div style="width:100px;overflow:hidden"><span class="cut-off" style="display:inline-block;width:200px">'
        "cut off</span></div>"
        '<pre class="mermaid" style="width:300px"><code>flowchart LR\n  a[Set up] --> b[Lab 1] --> c[Lab 2] --> '
        "d[Lab 3] --> e[Lab 4] --> f[Lab 5] --> g[Lab 6] --> h[Lab 7]</code></pre>"
    )
    page = (
        (server.root / GALLERY / "index.html")
        .read_text()
        .replace('<h1 id="gallery">Boxes</h1>', f'<h1 id="gallery">Boxes</h1>{old}')
    )
    page = page.replace("</head>", '<script src="../assets/vendor/mermaid/mermaid.min.js"></script></head>')
    (server.root / "canary").mkdir(exist_ok=True)
    (server.root / "canary" / "index.html").write_text(page)
    with Browser.launch(CHROMIUM, server.root.parent / "canary-profile") as browser:
        dark = browser.new_page()
        dark.emulate(390, 800, dark=True)
        dark.goto(f"{server.url}/canary/")
        _ready(dark)
        (measured,) = dark.evaluate("__workshopChecks.contrast('.old-notice')")
        overflow = dark.evaluate("__workshopChecks.overflow()")
        (diagram,) = dark.in_closed_shadow_roots(dark.evaluate("__workshopChecks.diagramText"))
    assert measured["ratio"] < 2, measured
    assert any(item["element"].startswith("p.too-wide") for item in overflow["wide"]), overflow
    assert any(item["element"].startswith("span.cut-off") for item in overflow["cut"]), overflow
    assert min(size["px"] for size in diagram["sizes"]) < MIN_DIAGRAM_PX, diagram


def test_every_anchor_resolves_in_the_browser(readability):
    site = {path: data for path, data in readability["light"].items() if path != GALLERY}  # the gallery is the test's
    ids = {data["anchors"]["path"]: set(data["anchors"]["ids"]) for data in site.values()}
    broken = [
        (data["anchors"]["path"], link["path"] + "#" + link["id"], link["text"])
        for data in site.values()
        for link in data["anchors"]["links"]
        if link["id"] not in ids.get(link["path"], set())
    ]
    assert broken == []
    assert sum(len(data["anchors"]["links"]) for data in site.values()) > 100


@pytest.mark.parametrize("width", ["light", "narrow"])
def test_nothing_is_wider_than_the_viewport_but_scrollable_code(readability, width):
    pages = {path: (data["overflow"] if width == "light" else data) for path, data in readability[width].items()}
    wide = {path: o["wide"][:5] for path, o in pages.items() if o["wide"] or o["scrollWidth"] > o["width"]}
    assert wide == {}, f"{'1280' if width == 'light' else '390'} px"
    cut = {path: o["cut"][:5] for path, o in pages.items() if o["cut"]}
    assert cut == {}, "content cut off by a box that does not scroll"
    breaking = {path: o["breaking"][:5] for path, o in pages.items() if o["breaking"]}
    assert breaking == {}, "outputs and code in tables must not wrap inside a token"
    scrolling = {path: o["scrollers"][:5] for path, o in pages.items() if o["scrollers"]}
    assert scrolling == {}, "only code blocks and tables may scroll sideways"


def test_diagram_text_is_at_least_12_px_at_1280(readability):
    assert readability["diagrams"], "no page has a diagram"
    drawn = [diagram for diagrams in readability["diagrams"].values() for diagram in diagrams]
    assert drawn and all(d is not None and d["sizes"] for d in drawn), "a diagram was not drawn"
    small = [
        (path, round(s["px"], 1), s["text"])
        for path, diagrams in readability["diagrams"].items()
        for d in diagrams
        for s in d["sizes"]
        if s["px"] < MIN_DIAGRAM_PX
    ]
    assert small == []


def test_every_lab_page_has_screenshots_in_both_schemes(readability):
    labs = [path for path in readability["paths"] if path.startswith("labs/") and path != "labs/"]
    for path in labs:
        name = path.strip("/").replace("/", "-")
        for scheme in ("light", "dark"):
            assert (SCREENSHOTS / f"{name}-{scheme}.png").stat().st_size > 10_000, (name, scheme)


def test_the_pages_ask_nothing_of_other_hosts(readability):
    assert readability["requests"] and all(
        host(url) in LOOPBACK for url in readability["requests"] if not url.startswith("data:")
    )
