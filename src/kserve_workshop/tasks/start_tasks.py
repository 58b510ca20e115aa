"""`invoke start`: the README's one command. A cluster where Docker can run one, else the local tier."""

from __future__ import annotations

import shutil
import subprocess

from invoke import Collection

from ..console import info
from .common import workshop_task


def docker_engine_running() -> bool:
    """True when a Docker engine answers (the client alone, as on CI machines, is not enough)."""
    if shutil.which("docker") is None:
        return False
    try:
        probe = subprocess.run(["docker", "info", "--format", "{{.ServerVersion}}"],
                               capture_output=True, text=True, timeout=15, check=False)
    except (OSError, subprocess.TimeoutExpired):
        return False
    return probe.returncode == 0 and bool(probe.stdout.strip())


@workshop_task(help={"local": "Skip the cluster even where Docker runs: serve the model locally."})
def start(c, local=False):
    """Create the kind cluster with the KServe stack (`up`), or, without Docker, run the local tier (`local`)."""
    if not local and docker_engine_running():
        info("Docker is running: creating the kind cluster and installing the KServe stack (invoke up).")
        from .platform_tasks import up

        up(c)
    else:
        if not local:
            info("No Docker engine here, so no kind cluster: running the local tier instead "
                 "(KServe's model server on 127.0.0.1). `invoke doctor` tells what a cluster needs.")
        from .local_tasks import local as run_local

        run_local(c)


def register(root: Collection) -> None:
    root.add_task(start)
