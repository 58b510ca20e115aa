"""A real Prometheus server on 127.0.0.1 that scrapes local KServe model servers.

``LocalPrometheus`` finds the ``prometheus`` binary, writes a generated config (one scrape job over
the given targets) and a data directory under ``cache_dir()/prometheus``, and runs it through
``ServerProcess`` (free loopback port, bounded readiness wait, exits with its parent). It is ready
when every target has been scraped successfully. ``stop()`` ends the process and deletes its
config and data, so nothing is left behind.

    with LocalModelServer(model_dir) as server, LocalPrometheus([server]) as prom:
        prom.query("up")
"""

from __future__ import annotations

import os
import re
import shutil
import signal
import time as _time
import uuid
import weakref
from pathlib import Path
from typing import Any, Iterable

import pandas as pd
import yaml

from ..errors import WorkshopError
from ..processes import LOOPBACK, ServerProcess, on_server_ready
from ..paths import cache_dir
from .client import PrometheusClient, TimeLike
from .promql import selector

#: Where Debian/Ubuntu's ``prometheus`` package installs the server.
DEBIAN_BINARY = "/usr/bin/prometheus"
PROMETHEUS_ENV = "WORKSHOP_PROMETHEUS"
DEFAULT_JOB = "kserve-model-server"
_DURATION = re.compile(r"^([0-9]+(ms|s|m|h))+$")
_LOOPBACK_HOSTS = {"127.0.0.1", "localhost"}

INSTALL_HINT = (
    "Install Prometheus: `sudo apt-get install prometheus` (Debian/Ubuntu; then "
    "`sudo systemctl disable --now prometheus` if you do not want the system service), "
    "`brew install prometheus` (macOS), or download it from https://prometheus.io/download/ and set "
    f"{PROMETHEUS_ENV}=/path/to/prometheus. Or skip the local part and use the cluster part of the "
    "lab, which queries the cluster's Prometheus."
)


def find_prometheus() -> str:
    """The path of the ``prometheus`` binary: ``$WORKSHOP_PROMETHEUS``, the PATH, or /usr/bin."""
    configured = os.environ.get(PROMETHEUS_ENV)
    if configured:
        if Path(configured).is_file() and os.access(configured, os.X_OK):
            return configured
        raise WorkshopError(f"{PROMETHEUS_ENV}={configured} is not an executable file", hint=INSTALL_HINT)
    found = shutil.which("prometheus")
    if found:
        return found
    if Path(DEBIAN_BINARY).is_file() and os.access(DEBIAN_BINARY, os.X_OK):
        return DEBIAN_BINARY
    raise WorkshopError("the Prometheus server (`prometheus`) is not installed", hint=INSTALL_HINT)


def scrape_target(target: Any) -> str:
    """``host:port`` for a target given as a local server object, a port, ``host:port`` or a URL.

    Only loopback targets are accepted: the local Prometheus scrapes this machine's servers.
    """
    if hasattr(target, "port") and not isinstance(target, (str, int)):
        port = target.port
        if port is None:
            raise WorkshopError(
                f"{target!r} has not been started, so it has no port to scrape",
                hint="start the model server before Prometheus",
            )
        return f"{LOOPBACK}:{port}"
    if isinstance(target, int) and not isinstance(target, bool):
        host, port = LOOPBACK, target
    elif isinstance(target, str):
        text = target.strip()
        text = re.sub(r"^https?://", "", text).split("/", 1)[0]
        host, _, port_text = text.rpartition(":")
        if not host or not port_text.isdigit():
            raise WorkshopError(f"not a scrape target: {target!r}", hint="use '127.0.0.1:PORT' or the server object")
        port = int(port_text)
    else:
        raise WorkshopError(
            f"not a scrape target: {target!r}", hint="pass LocalModelServer objects, ports, or '127.0.0.1:PORT' strings"
        )
    if host not in _LOOPBACK_HOSTS:
        raise WorkshopError(
            f"the local Prometheus scrapes only this machine (127.0.0.1), not {host!r}",
            hint="for a cluster, port-forward the cluster's Prometheus instead",
        )
    if not 0 < port < 65536:
        raise WorkshopError(f"port out of range in scrape target {target!r}")
    return f"{LOOPBACK}:{port}"


_LABEL_NAME = re.compile(r"^[a-zA-Z_][a-zA-Z0-9_]*$")


def _labelled(target: Any) -> tuple[Any, tuple[tuple[str, str], ...]]:
    """``(target, labels)`` for a target given alone or as a ``(target, {label: value})`` pair.

    Labels are what the cluster's scrape adds to every series (the PodMonitor's ``component``, for
    instance), so local series can look like the cluster's.
    """
    if isinstance(target, tuple) and len(target) == 2 and isinstance(target[1], dict):
        target, labels = target
        for name, value in labels.items():
            if not isinstance(name, str) or not _LABEL_NAME.match(name) or name.startswith("__"):
                raise WorkshopError(f"not a Prometheus label name: {name!r}")
            if not isinstance(value, str):
                raise WorkshopError(f"label {name}'s value must be a string, not {value!r}")
        return target, tuple(sorted(labels.items()))
    return target, ()


def build_config(targets: Iterable[Any], *, scrape_interval: str = "1s", job: str = DEFAULT_JOB) -> dict[str, Any]:
    """The Prometheus configuration: one job scraping ``/metrics`` of every target (a target may be a
    ``(target, {label: value})`` pair: its series then carry those labels)."""
    if not isinstance(scrape_interval, str) or not _DURATION.match(scrape_interval):
        raise WorkshopError(f"not a Prometheus duration: {scrape_interval!r}", hint="use e.g. '1s' or '500ms'")
    groups: dict[tuple[tuple[str, str], ...], list[str]] = {}
    for item in targets:
        target, labels = _labelled(item)
        address = scrape_target(target)
        if not any(address in group for group in groups.values()):
            groups.setdefault(labels, []).append(address)
    if not groups:
        raise WorkshopError(
            "LocalPrometheus needs at least one target to scrape",
            hint="pass the running LocalModelServer, e.g. LocalPrometheus([server])",
        )
    return {
        "global": {
            "scrape_interval": scrape_interval,
            # A scrape must finish within its interval; Prometheus refuses a longer timeout.
            "scrape_timeout": scrape_interval,
            "evaluation_interval": scrape_interval,
        },
        "scrape_configs": [
            {
                "job_name": job,
                "metrics_path": "/metrics",
                "static_configs": [
                    {"targets": addresses, **({"labels": dict(labels)} if labels else {})}
                    for labels, addresses in groups.items()
                ],
            }
        ],
    }


def _runs_root() -> Path:
    path = cache_dir() / "prometheus"
    path.mkdir(parents=True, exist_ok=True)
    return path


def remove_stale_runs() -> list[Path]:
    """Delete data directories of earlier runs whose Python process is gone (e.g. a killed kernel)."""
    removed = []
    for run in _runs_root().glob("run-*"):
        match = re.match(r"run-(\d+)-", run.name)
        if match and not _process_exists(int(match.group(1))):
            shutil.rmtree(run, ignore_errors=True)
            removed.append(run)
    return removed


def _process_exists(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # pragma: no cover - someone else's process
        return True
    return True


class LocalPrometheus(ServerProcess):
    """Prometheus on 127.0.0.1 (free port) scraping ``targets`` every ``scrape_interval``.

    ``targets``: running ``LocalModelServer`` objects (or any object with ``.port``), ports, or
    ``"127.0.0.1:PORT"``, each possibly paired with labels for its series (``(server, {"component":
    "predictor"})``, as the cluster's PodMonitor adds them). ``start()`` returns once every target has been scraped successfully
    (bounded by ``target_timeout``). Queries go through ``.client`` (also ``.query`` etc. here).

    A target given as a server object is followed: when a server of the same name starts again in
    this process (a notebook's server cell run a second time), Prometheus is re-pointed at it
    (configuration rewritten, SIGHUP) instead of scraping the old, dead address. Starting a second
    ``LocalPrometheus`` of the same ``name`` stops the first (a re-run Prometheus cell).
    """

    def __init__(
        self,
        targets: Iterable[Any],
        scrape_interval: str = "1s",
        *,
        job: str = DEFAULT_JOB,
        port: int | None = None,
        startup_timeout: float = 30.0,
        target_timeout: float = 30.0,
        retention: str = "2h",
        name: str = "prometheus",
    ):
        self.binary = find_prometheus()
        self.job = job
        self.scrape_interval = scrape_interval
        self.target_timeout = target_timeout
        self.retention = retention
        self._targets = list(targets)
        self.config = build_config(self._targets, scrape_interval=scrape_interval, job=job)
        #: Server name -> the address scraped for it, for targets given as server objects.
        self._followed = {
            target.name: scrape_target(target)
            for target in self._targets
            if isinstance(getattr(target, "name", None), str) and hasattr(target, "port")
        }
        on_server_ready(self._follow)
        self.run_dir: Path | None = None
        self._cleanup: weakref.finalize | None = None
        self._client: PrometheusClient | None = None
        super().__init__(
            self._build_argv,
            f"http://{LOOPBACK}:{{port}}/-/ready",
            port=port,
            name=name,
            startup_timeout=startup_timeout,
            replaces=True,
        )

    @property
    def targets(self) -> list[str]:
        """The ``host:port`` addresses scraped."""
        return [address for group in self.config["scrape_configs"][0]["static_configs"] for address in group["targets"]]

    @property
    def client(self) -> PrometheusClient:
        """An API client for this server (one per port; the port changes only on a restart)."""
        if self._client is None or self._client.url != self.url:
            self._client = PrometheusClient(self.url)
        return self._client

    def _build_argv(self, port: int) -> list[str]:
        return [
            self.binary,
            f"--config.file={self.run_dir / 'prometheus.yml'}",
            f"--storage.tsdb.path={self.run_dir / 'data'}",
            f"--storage.tsdb.retention.time={self.retention}",
            f"--web.listen-address={LOOPBACK}:{port}",
            # Links in Prometheus's UI would otherwise point at this machine's hostname.
            f"--web.external-url=http://{LOOPBACK}:{port}/",
        ]

    def start(self, *, wait_for_targets: bool = True) -> "LocalPrometheus":
        """Start Prometheus; unless ``wait_for_targets=False``, return once every target is up.

        (Prometheus applies new scrape targets about 5 s after it starts: a caller can start the
        model server meanwhile and call ``wait_for_targets()`` afterwards.)
        """
        if self.running:
            return self
        remove_stale_runs()
        self.run_dir = _runs_root() / f"run-{os.getpid()}-{uuid.uuid4().hex[:8]}"
        self.run_dir.mkdir(parents=True)
        (self.run_dir / "prometheus.yml").write_text(yaml.safe_dump(self.config, sort_keys=False))
        # Created before the process (and its finalizer), so at interpreter exit it runs after the
        # process has been terminated: finalizers run in reverse order of creation.
        self._cleanup = weakref.finalize(self, shutil.rmtree, str(self.run_dir), True)
        try:
            super().start()
            if wait_for_targets:
                self.wait_for_targets()
        except BaseException:
            self.stop()
            raise
        return self

    def wait_for_targets(self, timeout: float | None = None) -> "LocalPrometheus":
        """Wait until every target has been scraped successfully (bounded by ``target_timeout``)."""
        self.client.wait_for_targets_up(self.job, timeout=self.target_timeout if timeout is None else timeout)
        return self

    def _wait_for_configured_targets(self) -> None:
        """After a reload: wait until Prometheus scrapes exactly the configured addresses, all up."""
        deadline = _time.monotonic() + self.target_timeout
        wanted = {f"http://{address}/metrics" for address in self.targets}
        while _time.monotonic() < deadline:
            try:
                active = {t.get("scrapeUrl") for t in self.client.targets() if t["labels"].get("job") == self.job}
            except WorkshopError:
                active = set()
            if active == wanted:
                break
            _time.sleep(0.25)
        self.wait_for_targets()

    def _follow(self, server: Any) -> None:
        """Re-point Prometheus when a followed server (same name) has started again elsewhere."""
        old = self._followed.get(getattr(server, "name", None))
        if old is None or server is self or not self.running or self.run_dir is None:
            return
        new = scrape_target(server)
        if new == old:
            return
        self._followed[server.name] = new
        targets = [new if address == old else address for address in self.targets]
        self.config["scrape_configs"][0]["static_configs"][0]["targets"] = list(dict.fromkeys(targets))
        (self.run_dir / "prometheus.yml").write_text(yaml.safe_dump(self.config, sort_keys=False))
        os.kill(self.pid, signal.SIGHUP)  # Prometheus reloads its configuration
        try:
            self._wait_for_configured_targets()
            print(f"Prometheus ({self.url}) now scrapes the restarted {server.name} at {new} (was {old})")
        except WorkshopError as exc:
            print(f"warning: Prometheus could not be re-pointed at {new}: {exc.message}")

    def stop(self) -> int | None:
        code = super().stop()
        if self._cleanup is not None:
            self._cleanup()  # deletes the config and the TSDB (once)
            self._cleanup = None
        return code

    def __enter__(self) -> "LocalPrometheus":
        return self.start()

    # Queries, so a lab can write prom.query(...) -------------------------------------------------

    def query(self, promql: str, *, time: TimeLike | None = None) -> pd.DataFrame:
        return self.client.query(promql, time=time)

    def query_range(self, promql: str, start: TimeLike, end: TimeLike, step: str | float = "1s") -> pd.DataFrame:
        return self.client.query_range(promql, start, end, step)

    def query_value(self, promql: str, *, time: TimeLike | None = None) -> float:
        return self.client.query_value(promql, time=time)

    def wait_for_scrape(self, after: float | None = None, *, timeout: float = 30.0) -> None:
        """Wait until every target has been scraped successfully after ``after`` (default: now)."""
        self.client.wait_for_scrape(_time.time() if after is None else after, selector(job=self.job), timeout=timeout)
