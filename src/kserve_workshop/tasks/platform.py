"""`invoke platform.*`: the KServe platform on a cluster.

    platform.install / platform.uninstall / platform.status / platform.upload-model / platform.budget

(``status`` is also a top-level task; ``up``, ``down``, ``setup-gke`` and ``smoke`` are in ``workshop``.)

Every task that changes a cluster takes ``--dry-run`` (print the exact plan, change nothing),
``--context`` and ``--yes`` (acting on a context that is not the workshop's needs both).
"""

from __future__ import annotations

from invoke import Collection

from ..console import console, info, plain
from ..errors import WorkshopError
from ..kube import guard_context, read_context, require_tools
from ..plan import Runner
from ..platform import (
    COMPONENT_NAMES,
    DEFAULT_PROFILE,
    PROFILES,
    ComponentStatus,
    collect_status,
    get_profile,
    install_plan,
    select,
    uninstall_plan,
)
from ..platform import budget as budget_lib
from .common import workshop_task

CONTEXT_HELP = (
    "kube context to act on (default: the workshop's cluster, kind-kserve-workshop or "
    "gke_<project>_<location>_kserve-workshop)"
)
YES_HELP = "confirm acting on a --context that is not the workshop's cluster"
DRY_RUN_HELP = "print the plan (exact commands, in order, with pins) and change nothing"
_COMPONENT = f"only these components, comma-separated: {', '.join(COMPONENT_NAMES)} (default: all)"
_PROFILE = "; ".join(f"{name}: {profile.description}" for name, profile in PROFILES.items())


def runner_for(c, *, dry_run: bool, reinstall: bool = False, tools: tuple[str, ...] = ("helm", "kubectl")) -> Runner:
    if not dry_run:
        require_tools(*tools)
    return Runner(c, dry_run=dry_run, reinstall=reinstall)


# ----- platform.* ----------------------------------------------------------------------------------


@workshop_task(
    name="install",
    auto_shortflags=False,
    help={
        "component": _COMPONENT,
        "profile": _PROFILE,
        "reinstall": "run every step again, even those already done",
        "dry_run": DRY_RUN_HELP,
        "context": CONTEXT_HELP,
        "yes": YES_HELP,
    },
)
def install(c, component=None, profile=DEFAULT_PROFILE, reinstall=False, dry_run=False, context=None, yes=False):
    """Install the KServe stack, or --component NAME, in order; steps already done are skipped."""
    chosen = get_profile(profile)
    select(component)  # unknown names fail before anything else
    target = guard_context(context, yes, dry_run=dry_run)
    plan = install_plan(target, chosen, component)
    if component is None:
        info(f"Installing on {target} (profile {chosen.name}); {budget_lib.platform_totals(chosen).summary()}.")
    runner_for(c, dry_run=dry_run, reinstall=reinstall).execute(plan)
    if not dry_run:
        console.print(
            f"[green]Installed[/green] {plain(component or 'the KServe platform')} on {plain(target)}. "
            "Check it with `invoke status`."
        )


@workshop_task(
    name="uninstall",
    auto_shortflags=False,
    help={"component": _COMPONENT, "dry_run": DRY_RUN_HELP, "context": CONTEXT_HELP, "yes": YES_HELP},
)
def uninstall(c, component=None, dry_run=False, context=None, yes=False):
    """Remove the KServe stack (or --component NAME) in reverse install order."""
    select(component)
    target = guard_context(context, yes, dry_run=dry_run)
    runner_for(c, dry_run=dry_run).execute(uninstall_plan(target, component))
    if not dry_run:
        console.print(f"[green]Uninstalled[/green] {plain(component or 'the KServe platform')} from {plain(target)}.")


def status_table(rows: list[ComponentStatus], context: str):
    from rich.table import Table

    table = Table(title=f"KServe platform on {context}")
    for column in ("component", "pinned", "installed", "ready", "why not"):
        table.add_column(column, overflow="fold")
    for row in rows:
        ready = "[green]yes[/green]" if row.ready else "[bold red]no[/bold red]"
        table.add_row(
            row.name, plain(row.pinned), plain(row.installed or "-"), ready, "" if row.ready else plain(row.reason)
        )
    return table


@workshop_task(
    name="status",
    auto_shortflags=False,
    help={"component": _COMPONENT, "context": "kube context to look at (read-only; default: the workshop's cluster)"},
)
def status(c, component=None, context=None):
    """Table of components: pinned version, installed version, ready or why not (exit 1 if not all ready)."""
    select(component)
    target = read_context(context)
    rows = collect_status(runner_for(c, dry_run=False), target, component)
    console.print(status_table(rows, target))
    not_ready = [row.name for row in rows if not row.ready]
    if not_ready:
        raise WorkshopError(
            f"not ready: {', '.join(not_ready)}",
            hint="`invoke platform.install` installs what is missing (it skips what is done)",
        )
    console.print("[green]All components ready.[/green]")


@workshop_task(
    name="upload-model",
    auto_shortflags=False,
    help={
        "file": "model file to upload (.joblib, .pkl or .pickle)",
        "name": "model name (required): the model goes to s3://models/NAME/<digest of the file>",
        "dry_run": DRY_RUN_HELP,
        "context": CONTEXT_HELP,
        "yes": YES_HELP,
    },
)
def upload_model(c, file, name=None, dry_run=False, context=None, yes=False):
    """Upload a trained model to the in-cluster model store; prints its s3:// storageUri.

    The URI ends in a digest of the file, so a changed model gets a new URI: put it in the
    InferenceService's storageUri and KServe rolls out a new revision with it.
    """
    from ..platform import storage

    if not name:
        raise WorkshopError(
            "upload-model needs --name NAME: the model's name in the store",
            hint=f"invoke platform.upload-model {file} --name my-iris",
        )
    if not dry_run:
        require_tools("kubectl")
    uri = storage.upload_model(file, name, context=context, yes=yes, runner=Runner(c, dry_run=dry_run))
    console.print(f"storageUri: {uri}  (with serviceAccountName: {storage.SERVICE_ACCOUNT})", markup=False)


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
    from ..boosting.images import print_runtime_images

    print_runtime_images()
    if not totals.within_laptop_budget:
        raise WorkshopError(
            "the platform requests more than the laptop budget", hint="shrink the requests in manifests/platform/*"
        )


namespace = Collection("platform", install, uninstall, status, upload_model, budget)
