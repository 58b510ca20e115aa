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
pytestmark = [pytest.mark.slow,
              pytest.mark.skipif(CHROMIUM is None, reason="Debian's chromium is not installed "
                                 "(scripts/bootstrap.sh --test-tools installs it)")]

SCREENSHOTS = REPO_ROOT / "test-artifacts" / "screenshots"
LOOPBACK = {"127.0.0.1", "localhost", "::1"}
# No background traffic, and every name but 127.0.0.1 fails to resolve (so an off-machine request shows).
CHROMIUM_FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
                  "--disable-component-update", "--disable-sync", "--no-first-run", "--disable-quic",
                  "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1"]
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
    built = subprocess.run(docs_site.build_command(root), cwd=REPO_ROOT, capture_output=True, text=True,
                           timeout=120, env={**os.environ, "NO_MKDOCS_2_WARNING": "1"})
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
            connections += params.get("address_list", []) + ([params["remote_address"]]
                                                             if "remote_address" in params else [])
    return requested, connections


def host(address_or_url: str) -> str:
    if "://" in address_or_url:
        return urlsplit(address_or_url).hostname or ""
    return address_or_url.rsplit(":", 1)[0].strip("[]")


def off_machine(visit: Visit) -> list[str]:
    return ([url for url in visit.page_requests if not url.startswith("data:") and host(url) not in LOOPBACK]
            + [f"TCP to {address}" for address in visit.connections if host(address) not in LOOPBACK])


def open_page(server: SiteServer, path: str, name: str, tmp_path: Path, *, height: int = 2400) -> Visit:
    """Load ``path`` in headless Chromium: screenshot, DOM after scripts ran, and its net log."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    screenshot, net_log = SCREENSHOTS / f"{name}.png", tmp_path / f"{name}-netlog.json"
    screenshot.unlink(missing_ok=True)
    first = len(server.requests)
    argv = [CHROMIUM, *CHROMIUM_FLAGS, f"--user-data-dir={tmp_path / f'{name}-profile'}",
            f"--window-size=1280,{height}", f"--virtual-time-budget={VIRTUAL_TIME_MS}",
            f"--log-net-log={net_log}", f"--screenshot={screenshot}", "--dump-dom", f"{server.url}/{path}"]
    # Its own session, so a hung browser and all its helper processes go together.
    browser = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                               start_new_session=True)
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
    canary.write_text('<html><body><p>canary</p><img src="http://example.invalid/plot.png">'
                      '<script src="https://unpkg.com/mermaid@11/dist/mermaid.min.js"></script></body></html>')
    try:
        visit = open_page(server, canary.name, "offsite-canary", tmp_path, height=400)
    finally:
        canary.unlink()
        (SCREENSHOTS / "offsite-canary.png").unlink(missing_ok=True)
    found = off_machine(visit)
    assert "http://example.invalid/plot.png" in found
    assert "https://unpkg.com/mermaid@11/dist/mermaid.min.js" in found
