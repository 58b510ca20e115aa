"""``invoke doctor``: is this machine ready for the workshop, tier by tier?

The **local tier** (``doctor_local``: Python, the pinned packages, loopback, Prometheus for Lab 5,
the cached schema) and the **cluster tier** (``doctor_cluster``: kind: Docker, kind, helm, kubectl,
ports...; or GKE: gcloud) are reported separately, and a tier is ready when none of its checks failed.

Each check is a small function that takes ``Probes`` (how to look at the machine: which, run a
command, is a port free, read a file...) and returns a ``DoctorResult`` (pass / warn / fail, what
was found, how to fix it). Tests pass fake probes to simulate a machine without Docker, an old
kind, a busy port or low inotify limits; ``Probes()`` looks at the real machine.
"""

from __future__ import annotations

import platform
import socket
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

from . import cluster, kube, tools
from .console import console, plain
from .errors import WorkshopError

PASS, WARN, FAIL = "pass", "warn", "fail"
GIB = 1024**3
#: kind's recommended Linux inotify limits ("Pod errors due to too many open files", kind known issues).
INOTIFY_RECOMMENDED = {"max_user_watches": 524288, "max_user_instances": 512}
#: Below the first figure the platform does not fit; below the second, models will be tight.
#: (The platform itself requests at most 1.5 CPU and 3 GiB; Kubernetes and the models need the rest.)
CPU_MIN, CPU_GOOD = 2, 4
MEMORY_MIN_GIB, MEMORY_GOOD_GIB = 4, 8


@dataclass(frozen=True)
class DoctorResult:
    check: str
    status: str  # pass | warn | fail
    detail: str
    fix: str = ""


@dataclass(frozen=True)
class CommandOutput:
    returncode: int
    stdout: str = ""
    stderr: str = ""


def _run(argv: list[str]) -> CommandOutput:
    try:
        done = subprocess.run(argv, capture_output=True, text=True, timeout=30, check=False, env=tools.tool_env())
    except FileNotFoundError:
        return CommandOutput(127, "", f"{argv[0]}: not found")
    except subprocess.TimeoutExpired:
        return CommandOutput(124, "", f"{argv[0]}: timed out after 30 s")
    return CommandOutput(done.returncode, done.stdout, done.stderr)


def _port_free(host: str, port: int) -> bool:
    """True when we could listen on host:port ourselves (so Docker can too)."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as sock:
        # SO_REUSEADDR: a port in TIME_WAIT is free for Docker too; a listening one still fails.
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((host, port))
        except OSError:  # in use, not allowed, or an address this machine does not have
            return False
    return True


def _read_text(path: str) -> str | None:
    try:
        return Path(path).read_text()
    except OSError:
        return None


@dataclass
class Probes:
    """How the checks look at the machine; replace any field to simulate another machine."""

    which: Callable[[str], str | None] = tools.which
    run: Callable[[list[str]], CommandOutput] = _run
    port_free: Callable[[str, int], bool] = _port_free
    machine: Callable[[], str] = platform.machine
    system: Callable[[], str] = platform.system
    read_text: Callable[[str], str | None] = _read_text
    kube_context: Callable[[], str | None] = kube.current_context


# ----- all together ------------------------------------------------------------------------------


def collect(
    probes: Probes | None = None,
    *,
    target: str = "kind",
    config_path: Path = cluster.KIND_CONFIG,
    cluster_name: str = cluster.KIND_CLUSTER_NAME,
) -> list[DoctorResult]:
    """Every check for ``target`` ("kind": a laptop cluster; "gke": a cloud cluster)."""
    from .doctor_cluster import (  # here: doctor_cluster imports this module's results and probes
        check_architecture,
        check_docker_client,
        check_docker_daemon,
        check_docker_resources,
        check_gcloud,
        check_helm,
        check_inotify,
        check_kind,
        check_kube_context,
        check_kubectl,
        check_ports,
        docker_info,
    )

    if target not in {"kind", "gke"}:
        raise WorkshopError(f"unknown doctor target {target!r}", hint="use kind or gke")
    probes = probes or Probes()
    results = [check_kubectl(probes, target), check_helm(probes)]
    if target == "kind":
        info, why = docker_info(probes)
        results = [
            check_docker_client(probes),
            check_docker_daemon(info, why),
            check_docker_resources(info),
            check_kind(probes),
            *results,
            *check_ports(probes, config_path, cluster_name),
            check_architecture(probes),
            check_inotify(probes),
        ]
    else:
        results.extend(check_gcloud(probes))
    results.append(check_kube_context(probes, cluster_name))
    return results


def run_doctor(
    strict: bool = True,
    *,
    target: str = "kind",
    probes: Probes | None = None,
    config_path: Path = cluster.KIND_CONFIG,
    cluster_name: str = cluster.KIND_CLUSTER_NAME,
    show: bool = True,
) -> list[DoctorResult]:
    """Run every check, print the table (``show``); with ``strict`` raise WorkshopError on any failure."""
    results = collect(probes, target=target, config_path=config_path, cluster_name=cluster_name)
    if show:
        print_table(results)
    failed = [r.check for r in results if r.status == FAIL]
    if failed and strict:
        raise WorkshopError(
            f"doctor: {len(failed)} check(s) failed: {', '.join(failed)}",
            hint="each failure's fix is listed above; run `invoke doctor` again after fixing",
        )
    return results


# ----- tiers -------------------------------------------------------------------------------------

#: Each tier the doctor can check: (its name in the summary, the title of its table).
TIERS = {
    "local": ("local tier", "Local tier (this machine: no Docker, no cluster)"),
    "kind": ("cluster tier (kind)", "Cluster tier (kind: Docker, tools, ports on this machine)"),
    "gke": ("cluster tier (GKE)", "Cluster tier (GKE: gcloud and tools)"),
}
#: What ``--tier`` accepts besides the names above.
TIER_ALIASES = {"cluster": ["kind"], "all": ["local", "kind"], "": ["local", "kind"]}


@dataclass(frozen=True)
class TierReport:
    tier: str
    results: list[DoctorResult]

    @property
    def failed(self) -> list[str]:
        return [r.check for r in self.results if r.status == FAIL]

    @property
    def ready(self) -> bool:
        return not self.failed

    def summary(self) -> str:
        name = TIERS[self.tier][0]
        warnings = sum(r.status == WARN for r in self.results)
        if self.ready:
            return f"{name}: ready" + (f" ({warnings} warning(s))" if warnings else "")
        return f"{name}: not ready ({', '.join(self.failed)})"


def parse_tiers(text: str) -> list[str]:
    """``--tier`` as tier names: ``local``, ``cluster`` (= ``kind``), ``gke``, ``all``, or a comma list."""
    tiers: list[str] = []
    for word in [w.strip().lower() for w in (text or "").split(",")] or [""]:
        names = TIER_ALIASES.get(word, [word])
        unknown = [n for n in names if n not in TIERS]
        if unknown:
            raise WorkshopError(f"unknown tier {word!r}", hint="use --tier local, cluster (kind), gke or all")
        tiers += [n for n in names if n not in tiers]
    return tiers


def check_tiers(
    tiers: list[str],
    probes: Probes | None = None,
    local_probes=None,
    *,
    config_path: Path = cluster.KIND_CONFIG,
    cluster_name: str = cluster.KIND_CLUSTER_NAME,
) -> list[TierReport]:
    from .doctor_local import collect_local

    return [
        TierReport(
            tier,
            collect_local(local_probes)
            if tier == "local"
            else collect(probes, target=tier, config_path=config_path, cluster_name=cluster_name),
        )
        for tier in tiers
    ]


def run_tiers(
    tiers: list[str],
    *,
    strict: bool = True,
    probes: Probes | None = None,
    local_probes=None,
    config_path: Path = cluster.KIND_CONFIG,
    cluster_name: str = cluster.KIND_CLUSTER_NAME,
    show: bool = True,
) -> list[TierReport]:
    """Check each tier, print a table per tier and one summary line each; with ``strict`` raise
    WorkshopError when a tier that was asked for is not ready (the ready ones are named too)."""
    reports = check_tiers(tiers, probes, local_probes, config_path=config_path, cluster_name=cluster_name)
    if show:
        for report in reports:
            print_table(report.results, title=TIERS[report.tier][1])
        for report in reports:
            console.print(report.summary(), markup=False)
    not_ready = [r for r in reports if not r.ready]
    if not_ready and strict:
        ready = [r.tier for r in reports if r.ready]
        hint = "each failure's fix is listed above"
        if ready:
            hint += f"; to check only what is ready: `invoke doctor --tier {ready[0]}`"
        raise WorkshopError("doctor: " + "; ".join(r.summary() for r in not_ready), hint=hint)
    return reports


_STYLE = {PASS: "green", WARN: "yellow", FAIL: "bold red"}


def print_table(results: list[DoctorResult], title: str = "Workshop doctor", out=None) -> None:
    """A table on a terminal; one plain line per check otherwise (readable in CI logs, greppable)."""
    out = out or console
    if not out.is_terminal:
        out.print(title, markup=False)
        for result in results:
            fix = f"\n      fix: {result.fix}" if result.fix and result.status != PASS else ""
            out.print(f"  {result.status:<4}  {result.check}: {result.detail}{fix}", markup=False)
        return
    from rich.table import Table

    table = Table(title=title, show_lines=False)
    for column in ("check", "status", "found", "fix"):
        table.add_column(column, overflow="fold")
    for result in results:
        style = _STYLE[result.status]
        table.add_row(
            plain(result.check),
            f"[{style}]{result.status}[/{style}]",
            plain(result.detail),
            plain(result.fix) if result.status != PASS else "",
        )
    out.print(table)
