"""The workshop's cluster from start to end: `invoke start` (the README's one command: a cluster where
Docker can run one, else the local tier), `up` (doctor, kind, platform, smoke), `down`, `setup-gke`
(GKE and the platform) and `smoke`."""

from __future__ import annotations

import shutil
import subprocess

from .. import smoke as smoke_lib
from .. import tools as tools_lib
from ..console import console, info, plain, warn
from ..errors import WorkshopError
from ..kube import WORKSHOP_CLUSTER, WORKSHOP_CONTEXT, guard_context
from ..paths import bin_dir
from ..platform import DEFAULT_PROFILE, get_profile, install_plan
from ..platform.base import rendered_dir
from .common import workshop_task
from .platform import CONTEXT_HELP, DRY_RUN_HELP, YES_HELP, runner_for


def docker_engine_running() -> bool:
    """True when a Docker engine answers (the client alone, as on CI machines, is not enough)."""
    if shutil.which("docker") is None:
        return False
    try:
        probe = subprocess.run(
            ["docker", "info", "--format", "{{.ServerVersion}}"],
            capture_output=True,
            text=True,
            timeout=15,
            check=False,
        )
    except (OSError, subprocess.TimeoutExpired):
        return False
    return probe.returncode == 0 and bool(probe.stdout.strip())


@workshop_task(help={"local": "Skip the cluster even where Docker runs: serve the model locally."})
def start(c, local=False):
    """Create the kind cluster with the KServe stack (`up`), or, without Docker, run the local tier (`local`)."""
    if not local and docker_engine_running():
        info("Docker is running: creating the kind cluster and installing the KServe stack (invoke up).")
        up(c)
    else:
        if not local:
            info(
                "No Docker engine here, so no kind cluster: running the local tier instead "
                "(KServe's model server on 127.0.0.1). `invoke doctor` tells what a cluster needs."
            )
        from .local import local as run_local

        run_local(c)


# ----- top level -----------------------------------------------------------------------------------


@workshop_task(
    name="smoke",
    auto_shortflags=False,
    help={
        "dry_run": DRY_RUN_HELP,
        "context": CONTEXT_HELP,
        "yes": YES_HELP,
        "base_url": "ingress URL (default: http://127.0.0.1:8080 on kind, the LoadBalancer IP on GKE)",
    },
)
def smoke(c, dry_run=False, context=None, yes=False, base_url=None):
    """Serve the docs' iris model, predict through the ingress (expect [1, 1]), delete it."""
    target = guard_context(context, yes, dry_run=dry_run)
    if base_url is not None:
        from ..ingress import check_base_url

        base_url = check_base_url(base_url)
    runner = runner_for(c, dry_run=dry_run, tools=("kubectl",))
    if not dry_run:
        from ..kube.client import require_reachable

        require_reachable(target)
    found = smoke_lib.run_smoke(runner, target, base_url=base_url)
    if not dry_run:
        console.print(f"[green]Smoke test passed[/green] on {plain(target)}: predictions {found}.")


@workshop_task(
    name="up",
    auto_shortflags=False,
    help={
        "profile": "laptop or ci (kind profiles)",
        "dry_run": DRY_RUN_HELP,
        "skip_smoke": "do not run the smoke test at the end",
    },
)
def up(c, profile=DEFAULT_PROFILE, dry_run=False, skip_smoke=False):
    """Everything on a laptop: doctor, kind cluster, KServe platform, smoke test."""
    from ..cluster import KIND_CONFIG, kind_create_plan
    from ..doctor import run_doctor

    chosen = get_profile(profile)
    if not chosen.on_kind:
        raise WorkshopError(
            f"`up` creates a kind cluster; profile {chosen.name!r} is not for kind",
            hint="for GKE: invoke setup-gke --project YOUR_PROJECT",
        )
    plans = [kind_create_plan(WORKSHOP_CLUSTER, KIND_CONFIG), install_plan(WORKSHOP_CONTEXT, chosen)]
    if dry_run:
        info(
            "(not a dry run: the pinned kind, helm and kubectl would be installed into .bin/ where missing, "
            "then `invoke doctor` would check this machine)"
        )
    else:
        missing = tools_lib.tools_to_install()
        if missing:
            info(f"Installing the pinned {', '.join(missing)} into {bin_dir()} (SHA-256 verified) first.")
            tools_lib.install_tools(missing)
        run_doctor(strict=True)
    runner = runner_for(c, dry_run=dry_run, tools=("kind", "helm", "kubectl"))
    for plan in plans:
        runner.execute(plan)
    if not skip_smoke:
        smoke_lib.run_smoke(runner, WORKSHOP_CONTEXT)
    if not dry_run:
        console.print(
            "[green]The workshop cluster is ready.[/green] Models answer on http://127.0.0.1:8080 "
            "(Host header from the InferenceService's status.url). `invoke status` shows the platform."
        )


@workshop_task(name="down", auto_shortflags=False, help={"dry_run": DRY_RUN_HELP})
def down(c, dry_run=False):
    """Delete the workshop's kind cluster (and this cluster's generated credentials in the cache)."""
    from ..cluster import kind_delete_plan

    runner_for(c, dry_run=dry_run, tools=("kind",)).execute(kind_delete_plan(WORKSHOP_CLUSTER))
    if not dry_run:
        shutil.rmtree(rendered_dir(WORKSHOP_CONTEXT), ignore_errors=True)
        console.print(f"[green]kind cluster {WORKSHOP_CLUSTER} deleted.[/green]")


@workshop_task(
    name="setup-gke",
    auto_shortflags=False,
    help={
        "project": "GCP project id (required)",
        "zone": "zone of a zonal cluster (default us-central1-a; not with --region)",
        "region": "region of a regional cluster instead (3x the nodes and cost)",
        "machine_type": "node machine type (default e2-standard-4)",
        "nodes": "nodes (per zone; default 3)",
        "dry_run": DRY_RUN_HELP,
        "yes": "create without asking (the cost estimate is still printed)",
    },
)
def setup_gke(c, project="", zone="", region="", machine_type="e2-standard-4", nodes=3, dry_run=False, yes=False):
    """Create a GKE cluster and install the KServe platform on it (profile gke)."""
    from ..gke import GkeSpec
    from .gke import gke_create

    spec = GkeSpec(
        project=project, zone=zone or None, region=region or None, machine_type=machine_type, node_count=nodes
    )
    gke_create(
        c,
        project=project,
        zone=zone,
        region=region,
        machine_type=machine_type,
        nodes=spec.node_count,
        dry_run=dry_run,
        yes=yes,
    )
    runner_for(c, dry_run=dry_run).execute(install_plan(spec.context, get_profile("gke")))
    if not dry_run:
        console.print(
            f"[green]KServe platform installed on {plain(spec.context)}.[/green] "
            f"Check it: invoke smoke --context {spec.context}; delete it when done: "
            f"invoke gke.delete --project {spec.project}"
        )
    else:
        warn("a dry run creates nothing; the plans above are what would run")
