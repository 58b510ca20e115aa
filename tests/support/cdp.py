"""A small Chrome DevTools Protocol client for the docs' browser tests: one headless Chromium, one tab
reused for every page, JavaScript evaluated in the page, screenshots, and the page's requests.

Chromium listens for DevTools on 127.0.0.1 only (a free port it picks and writes to its profile);
the resolver rules make every other host fail to resolve, so nothing leaves the machine.
"""

from __future__ import annotations

import base64
import json
import os
import signal
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import websocket  # websocket-client: a dependency of the kubernetes client

FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
    "--hide-scrollbars",
    "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1",
    "--remote-debugging-address=127.0.0.1",
    "--remote-debugging-port=0",
]


class CdpError(RuntimeError):
    pass


@dataclass
class Browser:
    """One Chromium process and its DevTools connection (``with Browser.launch(...) as browser``)."""

    process: subprocess.Popen
    socket: Any
    _next_id: int = 0
    events: list[dict] = field(default_factory=list)

    @classmethod
    def launch(cls, chromium: str, profile: Path, *, timeout: float = 30) -> "Browser":
        profile.mkdir(parents=True, exist_ok=True)
        port_file = profile / "DevToolsActivePort"
        port_file.unlink(missing_ok=True)
        process = subprocess.Popen(
            [chromium, *FLAGS, f"--user-data-dir={profile}", "about:blank"],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,
        )
        deadline = time.monotonic() + timeout
        while not (port_file.is_file() and len(port_file.read_text().splitlines()) >= 2):
            if process.poll() is not None or time.monotonic() > deadline:
                _kill(process)
                raise CdpError(f"Chromium did not open its DevTools port (exit code {process.poll()})")
            time.sleep(0.05)
        port, path = port_file.read_text().splitlines()[:2]
        return cls(
            process, websocket.create_connection(f"ws://127.0.0.1:{port}{path}", timeout=timeout, suppress_origin=True)
        )

    def __enter__(self) -> "Browser":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def close(self) -> None:
        try:
            self.send("Browser.close", timeout=5)
        except Exception:  # noqa: BLE001 - closing anyway
            pass
        try:
            self.socket.close()
        finally:
            _kill(self.process)

    def send(self, method: str, params: dict | None = None, *, session: str | None = None, timeout: float = 60) -> dict:
        self._next_id += 1
        message = {"id": self._next_id, "method": method, "params": params or {}}
        if session:
            message["sessionId"] = session
        self.socket.send(json.dumps(message))
        deadline = time.monotonic() + timeout
        while True:
            reply = self._receive(deadline, f"{method} did not answer within {timeout:g} s")
            if reply.get("id") == self._next_id:
                if "error" in reply:
                    raise CdpError(f"{method}: {reply['error'].get('message')}")
                return reply.get("result", {})
            if "method" in reply:
                self.events.append(reply)

    def wait_for_event(self, method: str, session: str, timeout: float) -> dict:
        deadline = time.monotonic() + timeout
        while True:
            for index, event in enumerate(self.events):
                if event["method"] == method and event.get("sessionId") == session:
                    return self.events.pop(index)
            reply = self._receive(deadline, f"no {method} within {timeout:g} s")
            if "method" in reply:
                self.events.append(reply)

    def _receive(self, deadline: float, message: str) -> dict:
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            raise CdpError(message)
        self.socket.settimeout(remaining)
        try:
            return json.loads(self.socket.recv())
        except websocket.WebSocketTimeoutException:
            raise CdpError(message) from None

    def new_page(self) -> "Page":
        """A tab in a browser context of its own (its own storage: the theme remembers a colour scheme)."""
        context = self.send("Target.createBrowserContext")["browserContextId"]
        target = self.send("Target.createTarget", {"url": "about:blank", "browserContextId": context})["targetId"]
        session = self.send("Target.attachToTarget", {"targetId": target, "flatten": True})["sessionId"]
        for domain in ("Page", "Runtime", "Network"):
            self.send(f"{domain}.enable", session=session)
        return Page(self, session)


@dataclass
class Page:
    browser: Browser
    session: str

    def send(self, method: str, params: dict | None = None, **kwargs) -> dict:
        return self.browser.send(method, params, session=self.session, **kwargs)

    def emulate(self, width: int, height: int, *, dark: bool) -> None:
        self.send(
            "Emulation.setDeviceMetricsOverride",
            {"width": width, "height": height, "deviceScaleFactor": 1, "mobile": width < 600},
        )
        self.send(
            "Emulation.setEmulatedMedia",
            {"features": [{"name": "prefers-color-scheme", "value": "dark" if dark else "light"}]},
        )

    def goto(self, url: str, *, timeout: float = 60) -> list[str]:
        """Load ``url`` until its load event; the URLs the page requested on the way."""
        self.browser.events = [e for e in self.browser.events if e.get("sessionId") != self.session]
        self.send("Page.navigate", {"url": url})
        self.browser.wait_for_event("Page.loadEventFired", self.session, timeout)
        return [
            event["params"]["request"]["url"]
            for event in self.browser.events
            if event["method"] == "Network.requestWillBeSent" and event.get("sessionId") == self.session
        ]

    def evaluate(self, expression: str, *, timeout: float = 60) -> Any:
        result = self.send(
            "Runtime.evaluate", {"expression": expression, "returnByValue": True, "awaitPromise": True}, timeout=timeout
        )
        if "exceptionDetails" in result:
            details = result["exceptionDetails"]
            raise CdpError(f"script error: {details.get('exception', {}).get('description') or details.get('text')}")
        return result["result"].get("value")

    def wait_until(self, expression: str, *, timeout: float = 20) -> bool:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.evaluate(expression):
                return True
            time.sleep(0.1)
        return False

    def screenshot(self, path: Path) -> Path:
        data = self.send("Page.captureScreenshot", {"format": "png"})["data"]
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(base64.b64decode(data))
        return path

    def in_closed_shadow_roots(self, function_declaration: str) -> list[Any]:
        """Call ``function_declaration`` (``this`` = the shadow root) in every closed shadow root of
        the page: the theme draws each diagram inside one, out of reach of the page's own scripts."""
        root = self.send("DOM.getDocument", {"depth": -1, "pierce": True})["root"]
        results = []
        for shadow in _closed_shadow_roots(root):
            target = self.send("DOM.resolveNode", {"backendNodeId": shadow["backendNodeId"]})["object"]
            called = self.send(
                "Runtime.callFunctionOn",
                {"functionDeclaration": function_declaration, "objectId": target["objectId"], "returnByValue": True},
            )
            results.append(called["result"].get("value"))
        return results


def _closed_shadow_roots(node: dict):
    for shadow in node.get("shadowRoots", []):
        if shadow.get("shadowRootType") == "closed":
            yield shadow
        yield from _closed_shadow_roots(shadow)
    for child in node.get("children", []):
        yield from _closed_shadow_roots(child)


def _kill(process: subprocess.Popen) -> None:
    try:
        os.killpg(process.pid, signal.SIGKILL)  # Chromium and every helper it started
    except ProcessLookupError:
        pass
    process.wait(timeout=10)
