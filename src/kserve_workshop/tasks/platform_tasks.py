"""Tasks that put the KServe platform on a cluster.

    platform.install / platform.uninstall / platform.status / platform.upload-model / platform.budget
    up (doctor + kind + platform + smoke), down, status, setup-gke (GKE + platform), smoke

Every task that changes a cluster takes ``--dry-run`` (print the exact plan, change nothing),
``--context`` and ``--yes`` (acting on a context that is not the workshop's needs both).
"""

from __future__ import annotations

import shutil

from invoke import Collection

from .. import smoke as smoke_lib
from .. import tools as tools_lib
from ..console import console, info, warn
from ..errors import WorkshopError
from ..kube import WORKSHOP_CLUSTER, WORKSHOP_CONTEXT, guard_context, read_context, require_tools
from ..paths import bin_dir
from ..plan import Runner
from ..platform import (COMPONENT_NAMES, DEFAULT_PROFILE, PROFILES, ComponentStatus, collect_status,
                        get_profile, install_plan, select, uninstall_plan)
from ..platform import budget as budget_lib
from ..platform.base import rendered_dir
from .common import workshop_task

_CONTEXT = ("kube context to act on (default: the workshop's cluster, kind-kserve-workshop or "
            "gke_<project>_<location>_kserve-workshop)")
_YES = "confirm acting on a --context that is not the workshop's cluster"
_DRY_RUN = "print the plan (exact commands, in order, with pins) and change nothing"
_COMPONENT = f"only these components, comma-separated: {', '.join(COMPONENT_NAMES)} (default: all)"
_PROFILE = "; ".join(f"{name}: {profile.description}" for name, profile in PROFILES.items())


def _runner(c, *, dry_run: bool, reinstall: bool = False, tools: tuple[str, ...] = ("helm", "kubectl")) -> Runner:
    if not dry_run:
        require_tools(*tools)
    return Runner(c, dry_run=dry_run, reinstall=reinstall)


# ----- platform.* ----------------------------------------------------------------------------------

@workshop_task(name="install", auto_shortflags=False, help={
    "component": _COMPONENT, "profile": _PROFILE, "reinstall": "run every step again, even those already done",
    "dry_run": _DRY_RUN, "context": _CONTEXT, "yes": _YES})
def install(c, component=None, profile=DEFAULT_PROFILE, reinstall=False, dry_run=False, context=None, yes=False):
    """Install the KServe stack, or --component NAME, in order; steps already done are skipped."""
    chosen = get_profile(profile)
    select(component)  # unknown names fail before anything else
    target = guard_context(context, yes, dry_run=dry_run)
    plan = install_plan(target, chosen, component)
    if component is None:
        info(f"Installing on {target} (profile {chosen.name}); "
             f"{budget_lib.platform_totals(chosen).summary()}.")
    _runner(c, dry_run=dry_run, reinstall=reinstall).execute(plan)
    if not dry_run:
        console.print(f"[green]Installed[/green] {component or 'the KServe platform'} on {target}. "
                      "Check it with `invoke status`.")


@workshop_task(name="uninstall", auto_shortflags=False, help={
    "component": _COMPONENT, "dry_run": _DRY_RUN, "context": _CONTEXT, "yes": _YES})
def uninstall(c, component=None, dry_run=False, context=None, yes=False):
    """Remove the KServe stack (or --component NAME) in reverse install order."""
    select(component)
    target = guard_context(context, yes, dry_run=dry_run)
    _runner(c, dry_run=dry_run).execute(uninstall_plan(target, component))
    if not dry_run:
        console.print(f"[green]Uninstalled[/green] {component or 'the KServe platform'} from {target}.")


def status_table(rows: list[ComponentStatus], context: str):
    from rich.table import Table

    table = Table(title=f"KServe platform on {context}")
    for column in ("component", "pinned", "installed", "ready", "why not"):
        table.add_column(column, overflow="fold")
    for row in rows:
        ready = "[green]yes[/green]" if row.ready else "[bold red]no[/bold red]"
        table.add_row(row.name, row.pinned, row.installed or "-", ready, "" if row.ready else row.reason)
    return table


@workshop_task(name="status", auto_shortflags=False, help={
    "component": _COMPONENT, "context": "kube context to look at (read-only; default: the workshop's cluster)"})
def status(c, component=None, context=None):
    """Table of components: pinned version, installed version, ready or why not (exit 1 if not all ready)."""
    select(component)
    target = read_context(context)
    rows = collect_status(_runner(c, dry_run=False), target, component)
    console.print(status_table(rows, target))
    not_ready = [row.name for row in rows if not row.ready]
    if not_ready:
        raise WorkshopError(f"not ready: {', '.join(not_ready)}",
                            hint="`invoke platform.install` installs what is missing (it skips what is done)")
    console.print("[green]All components ready.[/green]")


@workshop_task(name="upload-model", auto_shortflags=False, help={
    "file": "model file to upload (.joblib, .pkl or .pickle)", "name": "model name: s3://models/NAME",
    "dry_run": _DRY_RUN, "context": _CONTEXT, "yes": _YES})
def upload_model(c, file, name, dry_run=False, context=None, yes=False):
    """Upload a trained model to the in-cluster model store; prints its s3:// storageUri."""
    from ..platform import storage

    if not dry_run:
        require_tools("kubectl")
    uri = storage.upload_model(file, name, context=context, yes=yes, runner=Runner(c, dry_run=dry_run))
    console.print(f"storageUri: {uri}  (with serviceAccountName: {storage.SERVICE_ACCOUNT})")


@workshop_task(name="budget", auto_shortflags=False, help={"profile": _PROFILE})
def budget(c, profile=DEFAULT_PROFILE):
    """CPU and memory the platform's pods request (from the values files the install uses)."""
    from rich.table import Table

    totals = budget_lib.platform_totals(get_profile(profile))
    table = Table(title=f"Platform resource requests (profile {profile})")
    for column in ("component", "container", "cpu", "memory"):
        table.add_column(column)
    for workload in totals.workloads:
        table.add_row(workload.component, workload.name, workload.cpu, workload.memory)
    console.print(table)
    console.print(totals.summary())
    _print_runtime_images()
    if not totals.within_laptop_budget:
        raise WorkshopError("the platform requests more than the laptop budget",
                            hint="shrink the requests in manifests/platform/*")


def _print_runtime_images() -> None:
    """The model runtimes' images (pulled on first use, not part of the platform) and Lab 8's extra pods."""
    from rich.table import Table

    from ..boosting import images

    table = Table(title="Runtime images the labs pull on first use (Python wheels, estimated from upstream uv.lock)")
    for column in ("image", "labs", "amd64", "arm64", "mostly"):
        table.add_column(column)
    for item in images.RUNTIME_IMAGES:
        table.add_row(item.image, item.labs, f"{item.wheels_mb_amd64} MB", f"{item.wheels_mb_arm64} MB",
                      item.largest)
    console.print(table)
    cpu, memory, pods = images.lab8_requests()
    console.print(f"Lab 8 adds {pods} model pods requesting {cpu / 1000:.2f} CPU and {memory / 1024:.2f} GiB in all "
                  f"(plus each pod's queue-proxy); every model pod also runs {images.storage_initializer_image()} "
                  "once. Pre-pull them on a good network: invoke images.preload (docker pull, then kind load "
                  f"docker-image ... --name {WORKSHOP_CLUSTER}).")


# ----- top level -----------------------------------------------------------------------------------

@workshop_task(name="smoke", auto_shortflags=False, help={
    "dry_run": _DRY_RUN, "context": _CONTEXT, "yes": _YES,
    "base_url": "ingress URL (default: http://127.0.0.1:8080 on kind, the LoadBalancer IP on GKE)"})
def smoke(c, dry_run=False, context=None, yes=False, base_url=None):
    """Serve the docs' iris model, predict through the ingress (expect [1, 1]), delete it."""
    target = guard_context(context, yes, dry_run=dry_run)
    found = smoke_lib.run_smoke(_runner(c, dry_run=dry_run, tools=("kubectl",)), target, base_url=base_url)
    if not dry_run:
        console.print(f"[green]Smoke test passed[/green] on {target}: predictions {found}.")


@workshop_task(name="up", auto_shortflags=False, help={
    "profile": "laptop or ci (kind profiles)", "dry_run": _DRY_RUN,
    "skip_smoke": "do not run the smoke test at the end"})
def up(c, profile=DEFAULT_PROFILE, dry_run=False, skip_smoke=False):
    """Everything on a laptop: doctor, kind cluster, KServe platform, smoke test."""
    from ..cluster import KIND_CONFIG, kind_create_plan
    from ..doctor import run_doctor

    chosen = get_profile(profile)
    if not chosen.on_kind:
        raise WorkshopError(f"`up` creates a kind cluster; profile {chosen.name!r} is not for kind",
                            hint="for GKE: invoke setup-gke --project YOUR_PROJECT")
    plans = [kind_create_plan(WORKSHOP_CLUSTER, KIND_CONFIG), install_plan(WORKSHOP_CONTEXT, chosen)]
    if dry_run:
        info("(not a dry run: the pinned kind, helm and kubectl would be installed into .bin/ where missing, "
             "then `invoke doctor` would check this machine)")
    else:
        missing = tools_lib.tools_to_install()
        if missing:
            info(f"Installing the pinned {', '.join(missing)} into {bin_dir()} (SHA-256 verified) first.")
            tools_lib.install_tools(missing)
        run_doctor(strict=True)
    runner = _runner(c, dry_run=dry_run, tools=("kind", "helm", "kubectl"))
    for plan in plans:
        runner.execute(plan)
    if not skip_smoke:
        smoke_lib.run_smoke(runner, WORKSHOP_CONTEXT)
    if not dry_run:
        console.print("[green]The workshop cluster is ready.[/green] Models answer on http://127.0.0.1:8080 "
                      "(Host header from the InferenceService's status.url). `invoke status` shows the platform.")


@workshop_task(name="down", auto_shortflags=False, help={"dry_run": _DRY_RUN})
def down(c, dry_run=False):
    """Delete the workshop's kind cluster (and this cluster's generated credentials in the cache)."""
    from ..cluster import kind_delete_plan

    _runner(c, dry_run=dry_run, tools=("kind",)).execute(kind_delete_plan(WORKSHOP_CLUSTER))
    if not dry_run:
        shutil.rmtree(rendered_dir(WORKSHOP_CONTEXT), ignore_errors=True)
        console.print(f"[green]kind cluster {WORKSHOP_CLUSTER} deleted.[/green]")


def _whole_number(flag: str, value) -> int:
    # Numeric flags are strings: invoke would print a traceback for `--nodes abc`.
    try:
        return int(str(value).strip())
    except ValueError:
        raise WorkshopError(f"--{flag} must be a whole number, got {value!r}") from None


@workshop_task(name="setup-gke", auto_shortflags=False, help={
    "project": "GCP project id (required)", "zone": "zone of a zonal cluster (default us-central1-a)",
    "region": "region of a regional cluster instead (3x the nodes and cost)",
    "machine_type": "node machine type (default e2-standard-4)", "nodes": "nodes (per zone; default 3)",
    "dry_run": _DRY_RUN, "yes": "create without asking (the cost estimate is still printed)"})
def setup_gke(c, project="", zone="us-central1-a", region="", machine_type="e2-standard-4", nodes="3",
              dry_run=False, yes=False):
    """Create a GKE cluster and install the KServe platform on it (profile gke)."""
    from ..cluster import GkeSpec
    from .cluster_tasks import gke_create

    spec = GkeSpec(project=project, zone=zone or None, region=region or None, machine_type=machine_type,
                   node_count=_whole_number("nodes", nodes))
    gke_create(c, project=project, zone=zone, region=region, machine_type=machine_type, nodes=str(spec.node_count),
               dry_run=dry_run, yes=yes)
    _runner(c, dry_run=dry_run).execute(install_plan(spec.context, get_profile("gke")))
    if not dry_run:
        console.print(f"[green]KServe platform installed on {spec.context}.[/green] "
                      f"Check it: invoke smoke --context {spec.context}; delete it when done: "
                      f"invoke gke.delete --project {spec.project}")
    else:
        warn("a dry run creates nothing; the plans above are what would run")


def register(root: Collection) -> None:
    root.add_collection(Collection("platform", install, uninstall, status, upload_model, budget))
    root.add_task(status, name="status")
    for task in (up, down, smoke, setup_gke):
        root.add_task(task)
