"""What the setup page shows a command prints: **captured** from a real run, or **expected**.

* Captured: ``invoke docs.capture`` runs the local tier's commands (``invoke doctor --tier local``,
  ``invoke local``) on this machine and keeps their output in ``docs/captured/NAME.txt``, with the
  date and platform on its first line; paths under the repository are shown relative to it and the
  home folder as ``~``, so no path of the machine that ran it is committed.
* Expected: commands that need Docker or a cluster cannot run here. Their output is written with
  the tasks' own formatters (the doctor's lines, the step lines of the plans, the status table) for
  a machine where everything is ready, and labelled as expected, never as captured.
"""

from __future__ import annotations

import io
import json
import os
import platform
import re
import subprocess
import sys
from datetime import date
from pathlib import Path

from ..errors import WorkshopError
from ..paths import REPO_ROOT

CAPTURED_DIR = REPO_ROOT / "docs" / "captured"
#: name -> the command that ``invoke docs.capture`` runs for it (from the repository's root).
CAPTURES = {"doctor-local": ["doctor", "--tier", "local"], "invoke-local": ["local"]}
_WIDTH = 100


# ----- captured ------------------------------------------------------------------------------------


def without_machine_paths(text: str, root: Path = REPO_ROOT, home: Path | None = None) -> str:
    """Paths under the repository become relative to it, the home folder becomes ``~``."""
    home = home or Path.home()
    text = text.replace(f"{root}/", "").replace(str(root), ".")
    return text.replace(f"{home}/", "~/") if str(home) not in ("/", "") else text


def capture(name: str, *, timeout: float = 300) -> str:
    """Run the command of ``name`` for real; its output with a metadata first line."""
    if name not in CAPTURES:
        raise WorkshopError(f"nothing to capture called {name!r}", hint=f"one of {', '.join(CAPTURES)}")
    argv = [sys.executable, "-m", "invoke", *CAPTURES[name]]
    env = {**os.environ, "NO_COLOR": "1", "COLUMNS": str(_WIDTH), "TERM": "dumb"}
    done = subprocess.run(argv, cwd=REPO_ROOT, env=env, capture_output=True, text=True, timeout=timeout)
    if done.returncode != 0:
        raise WorkshopError(
            f"`invoke {' '.join(CAPTURES[name])}` failed (exit {done.returncode}), nothing captured:\n"
            + (done.stderr or done.stdout)[-1500:],
            hint="fix what it reports (`invoke doctor --tier local`), then capture again",
        )
    meta = {
        "command": "invoke " + " ".join(CAPTURES[name]),
        "date": date.today().isoformat(),
        "platform": f"{platform.system()} {platform.machine()}",
        "python": platform.python_version(),
    }
    return json.dumps(meta) + "\n" + without_machine_paths(done.stdout.rstrip() + "\n")


def read_captured(name: str, directory: Path = CAPTURED_DIR) -> tuple[dict, str]:
    path = directory / f"{name}.txt"
    try:
        first, _, body = path.read_text(encoding="utf-8").partition("\n")
        return json.loads(first), body
    except (OSError, ValueError) as exc:
        raise WorkshopError(f"{path.name}: no captured output ({exc})", hint="run `invoke docs.capture`") from None


def _block(kind: str, label: str, command: str, text: str) -> str:
    fence = "`" * max(3, 1 + max((len(m) for m in re.findall(r"`+", text)), default=0))
    return (
        f'<div class="workshop-output workshop-output--{kind}" markdown>\n\n{label}\n\n'
        f"{fence}text\n$ {command}\n{text.rstrip()}\n{fence}\n\n</div>"
    )


def captured_output(name: str) -> str:
    """A captured output for a page, labelled with where and when it ran."""
    meta, text = read_captured(name)
    label = (
        f"**Captured output** of a real run ({meta['platform']}, Python {meta['python']}, {meta['date']}; "
        "`invoke docs.capture` runs it again):"
    )
    return _block("captured", label, meta["command"], text)


# ----- expected ------------------------------------------------------------------------------------


def _recording_console():
    from rich.console import Console

    return Console(
        file=io.StringIO(), width=_WIDTH, no_color=True, force_terminal=False, highlight=False, soft_wrap=True
    )


def _ticks(plans) -> list[str]:
    return [f"✓ [{index}/{len(plan.steps)}] {step.title}" for plan in plans for index, step in enumerate(plan.steps, 1)]


def expected_doctor() -> str:
    """``invoke doctor`` on a laptop ready for both tiers (the doctor's own line format)."""
    from .. import cluster
    from ..doctor import INOTIFY_RECOMMENDED, PASS, DoctorResult, TierReport, print_table
    from ..versions import pin

    local = [
        DoctorResult("python", PASS, "3.11.9"),
        DoctorResult("kserve", PASS, pin("python", "kserve_sdk")),
        DoctorResult("scikit-learn", PASS, pin("python", "scikit_learn")),
        DoctorResult("loopback (127.0.0.1)", PASS, "can listen (the model servers bind there)"),
        DoctorResult("prometheus (Lab 5)", PASS, "found"),
        DoctorResult("KServe schema", PASS, f"InferenceService CRD of KServe {pin('kserve')} cached"),
    ]
    tools = {name: f"~/kserve-workshop/.bin/{name}" for name in ("kind", "helm", "kubectl")}
    kind = [
        DoctorResult("docker", PASS, "client 28.2.2 (/usr/bin/docker)"),
        DoctorResult("docker daemon", PASS, "running (server 28.2.2, Docker Desktop)"),
        DoctorResult("docker CPU/memory", PASS, "8 CPUs, 15.6 GiB available to Docker"),
        DoctorResult("kind", PASS, f"{pin('kind')} ({tools['kind']})"),
        DoctorResult("kubectl", PASS, f"{pin('kubectl')} ({tools['kubectl']})"),
        DoctorResult("helm", PASS, f"{pin('helm')} ({tools['helm']})"),
        *[DoctorResult(f"port {host}:{port}", PASS, "free") for host, port in cluster.kind_port_mappings()],
        DoctorResult("CPU architecture", PASS, "x86_64 (every pinned image has amd64)"),
        DoctorResult("inotify limits", PASS, ", ".join(f"{k}={v}" for k, v in INOTIFY_RECOMMENDED.items())),
        DoctorResult("kube context", PASS, "none set yet (creating the cluster sets it)"),
    ]
    out = _recording_console()
    reports = [TierReport("local", local), TierReport("kind", kind)]
    for report, title in zip(
        reports,
        (
            "Local tier (this machine: no Docker, no cluster)",
            "Cluster tier (kind: Docker, tools, ports on this machine)",
        ),
    ):
        print_table(report.results, title=title, out=out)
    for report in reports:
        out.print(report.summary(), markup=False)
    out.print("Ready.")
    return out.file.getvalue()


def expected_up() -> str:
    """``invoke up`` on a ready laptop: the step lines of its plans (abridged: no doctor table)."""
    from ..cluster import KIND_CONFIG, kind_create_plan
    from ..kube import WORKSHOP_CLUSTER, WORKSHOP_CONTEXT
    from ..platform import get_profile, install_plan

    plans = [kind_create_plan(WORKSHOP_CLUSTER, KIND_CONFIG), install_plan(WORKSHOP_CONTEXT, get_profile("laptop"))]
    lines = [
        "(the doctor's table, as above)",
        *_ticks(plans),
        *_smoke_lines(WORKSHOP_CONTEXT)[:-1],
        "The workshop cluster is ready. Models answer on http://127.0.0.1:8080 (Host header from the "
        "InferenceService's status.url). `invoke status` shows the platform.",
    ]
    return "\n".join(lines) + "\n"


def _smoke_lines(context: str) -> list[str]:
    from ..smoke import SMOKE_NAME, SMOKE_NAMESPACE, cleanup_plan, deploy_plan

    host = f"{SMOKE_NAME}.{SMOKE_NAMESPACE}.example.com"
    return [
        *_ticks([deploy_plan(context)]),
        f"✓ predict through http://127.0.0.1:8080 with Host {host}",
        *_ticks([cleanup_plan(context)]),
        f"Smoke test passed on {context}: predictions [1, 1].",
    ]


def expected_smoke() -> str:
    from ..kube import WORKSHOP_CONTEXT

    return "\n".join(_smoke_lines(WORKSHOP_CONTEXT)) + "\n"


def expected_status() -> str:
    """``invoke status`` with every component installed at its pin and ready (the task's own table)."""
    from ..kube import WORKSHOP_CONTEXT
    from ..platform import COMPONENTS, ComponentStatus
    from ..tasks.platform import status_table

    rows = []
    for component in COMPONENTS:
        pinned = component(WORKSHOP_CONTEXT).pinned_version()
        rows.append(ComponentStatus(component.name, pinned, pinned, True))
    out = _recording_console()
    out.print(status_table(rows, WORKSHOP_CONTEXT))
    out.print("All components ready.")
    return out.file.getvalue()


EXPECTED = {
    "doctor": ("invoke doctor", expected_doctor),
    "up": ("invoke up", expected_up),
    "status": ("invoke status", expected_status),
    "smoke": ("invoke smoke", expected_smoke),
}


def expected_output(name: str) -> str:
    """An expected output for a page, labelled as such."""
    if name not in EXPECTED:
        raise WorkshopError(f"no expected output called {name!r}", hint=f"one of {', '.join(EXPECTED)}")
    command, make = EXPECTED[name]
    label = (
        "**Expected output** on a machine where it all works (written with the task's own output format, "
        "not captured from a run):"
    )
    return _block("expected", label, command, make())
