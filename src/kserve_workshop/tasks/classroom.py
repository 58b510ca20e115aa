"""Tasks: class.create, class.delete, class.can-i (one shared cluster, a namespace per learner)
and class.report (the class's progress from the learners' scorecards)."""

from __future__ import annotations

import json
from pathlib import Path

from invoke import Collection

from .. import gke
from ..classroom import access, capacity, plans
from ..classroom import learners as learner_lib
from ..console import console, err_console, plain, warn
from ..errors import WorkshopError
from ..kube import guard_context, kubectl_cmd, require_tools
from ..plan import Runner
from .common import workshop_task

_DEFAULT_GKE = gke.GkeSpec.__dataclass_fields__


def _context(context: str, project: str, zone: str, region: str, name: str, yes: bool, dry_run: bool) -> str:
    """``--context`` as given, or the workshop GKE cluster's context from ``--project``."""
    if project and context:
        raise WorkshopError("pass --project (the workshop's GKE cluster) or --context, not both")
    if (zone or region) and not project:
        raise WorkshopError(
            "--zone and --region need --project (they locate the workshop's GKE cluster)",
            hint="add --project ID, or name the cluster's kube context with --context",
        )
    if project:
        spec = gke.GkeSpec(project=project, zone=zone or None, region=region or None, name=name)
        context = spec.context
    return guard_context(context or None, yes, dry_run=dry_run)


def _whole(flag: str, value) -> int:
    try:
        return int(str(value).strip())
    except ValueError:
        raise WorkshopError(f"--{flag} must be a whole number, got {value!r}") from None


def _kubectl_items(runner: Runner, context: str, what: str, *args: str) -> list[dict]:
    """The ``items`` of ``kubectl get WHAT ARGS --output json``; WorkshopError when it is not JSON."""
    result = runner.run(kubectl_cmd(context, "get", what, *args, "--output", "json"))
    try:
        return json.loads(result.stdout or "{}").get("items") or []
    except (json.JSONDecodeError, AttributeError):
        raise WorkshopError(f"`kubectl get {what}` did not print JSON") from None


def _live_capacity(runner: Runner, context: str, namespaces: list[str]) -> capacity.Capacity:
    nodes = _kubectl_items(runner, context, "nodes")
    pods = _kubectl_items(runner, context, "pods", "--all-namespaces")
    return capacity.live_capacity(nodes, pods, namespaces)


def _kubeconfigs_folder(kubeconfigs: str, namespaces: list[str] | None = None) -> Path | None:
    """``--kubeconfigs`` as a folder that exists (and holds each learner's file, when asked); None when not given."""
    if not kubeconfigs:
        return None
    folder = Path(kubeconfigs).expanduser()
    if not folder.is_dir():
        raise WorkshopError(
            f"kubeconfigs folder not found: {folder}", hint="the folder `invoke class.create --out` wrote them to"
        )
    missing = [ns for ns in namespaces or [] if not access.kubeconfig_path(folder, ns).is_file()]
    if missing:
        raise WorkshopError(
            f"no kubeconfig for {', '.join(missing)} in {folder} "
            f"(looked for {access.kubeconfig_path(folder, missing[0]).name})",
            hint="pass --learners with the class's size, or the folder `invoke class.create --out` wrote",
        )
    return folder


def _refuse_foreign_namespaces(runner: Runner, context: str, namespaces: list[str], class_name: str) -> None:
    """Refuse namespaces of ours that exist without the class's label: applying would put a quota on
    someone else's workloads, and ``class.delete`` would then delete their namespace."""
    items = _kubectl_items(runner, context, "namespaces")
    foreign = learner_lib.foreign_namespaces(items, namespaces, class_name)
    if foreign:
        raise WorkshopError(
            f"namespace(s) {', '.join(foreign)} exist and are not part of the class: refusing to take them over",
            hint="choose another --prefix, or delete those namespaces yourself if they are leftovers",
        )


_PLACE = {
    "context": "kube context of the shared cluster (default: the workshop's)",
    "project": "GCP project of the workshop's GKE cluster (its context is then used)",
    "zone": "zone of the GKE cluster (with --project)",
    "region": "region of a regional GKE cluster (with --project)",
    "name": "GKE cluster name (with --project)",
    "yes": "confirm acting on a cluster that is not the workshop's",
    "dry_run": "print the plan and the sizing, change nothing",
}


@workshop_task(
    auto_shortflags=False,
    help={
        **_PLACE,
        "learners": "number of learners (namespaces learner-01 ...)",
        "out": "folder for the learners' kubeconfigs (required; never inside a git checkout)",
        "hours": f"token lifetime in hours ({access.MIN_HOURS}-{access.MAX_HOURS}, default 8)",
        "prefix": "namespace prefix (default learner)",
        "machine_type": "node machine type, for the --dry-run estimate (default e2-standard-4)",
        "nodes": "number of nodes, for the --dry-run estimate (default 3)",
        "no_model_store": "do not copy the model store's Secret (no s3://models/... for learners)",
    },
)
def create(
    c,
    learners=0,
    out="",
    context="",
    project="",
    zone="",
    region="",
    name=_DEFAULT_GKE["name"].default,
    hours="8",
    prefix="learner",
    machine_type="e2-standard-4",
    nodes="3",
    no_model_store=False,
    dry_run=False,
    yes=False,
):
    """A namespace per learner on a shared cluster: quota, limits, RBAC and a kubeconfig each."""
    count = _whole("learners", learners)
    namespaces = learner_lib.namespace_names(count, prefix)
    hours_value = access.check_hours(hours)
    out_dir = access.check_out_dir(out)
    quota = learner_lib.quota_for()
    context_name = _context(context, project, zone, region, name, yes, dry_run)
    runner = Runner(c, dry_run=dry_run)
    if dry_run:
        from ..platform import get_profile
        from ..platform.budget import platform_totals

        platform = platform_totals(get_profile("gke"))
        room = capacity.estimated_capacity(
            machine_type, _whole("nodes", nodes), platform.cpu_millicores, platform.memory_mib
        )
    else:
        require_tools("kubectl")
        room = _live_capacity(Runner(c), context_name, namespaces)
    console.print(capacity.require_fit(room, quota, count))
    spec = plans.ClassSpec(context_name, tuple(namespaces), quota, out_dir, hours_value, not no_model_store)
    if not dry_run:
        _refuse_foreign_namespaces(Runner(c), context_name, namespaces, spec.class_name)
    runner.execute(plans.create_plan(spec))
    if not dry_run:
        console.print(
            f"[green]{count} learner namespace(s) ready[/green]; kubeconfigs in {plain(out_dir)} (private: "
            f"one per learner). A learner runs: export KUBECONFIG=<their file> WORKSHOP_NAMESPACE=<their "
            "namespace> WORKSHOP_KUBE_CONTEXT=<their namespace> (their kubeconfig's only context is named "
            "after it)"
        )


@workshop_task(
    auto_shortflags=False, help={**_PLACE, "kubeconfigs": "also remove the learners' kubeconfig files from this folder"}
)
def delete(
    c,
    context="",
    project="",
    zone="",
    region="",
    name=_DEFAULT_GKE["name"].default,
    kubeconfigs="",
    dry_run=False,
    yes=False,
):
    """Delete every learner namespace of the class (and so every learner token), then verify."""
    folder = _kubeconfigs_folder(kubeconfigs)
    context_name = _context(context, project, zone, region, name, yes, dry_run)
    if not dry_run:
        require_tools("kubectl")
    Runner(c, dry_run=dry_run).execute(plans.delete_plan(context_name))
    if folder is not None:
        for path in sorted(folder.glob("*.kubeconfig")):
            console.print(f"{'would remove' if dry_run else 'removed'} {path}", markup=False)
            if not dry_run:
                path.unlink()
    if not dry_run:
        console.print("[green]class deleted; no learner namespace is left and every learner token is void.[/green]")


@workshop_task(
    name="can-i",
    auto_shortflags=False,
    help={
        **{k: v for k, v in _PLACE.items() if k != "dry_run"},
        "learners": "how many learner namespaces to check (default 2)",
        "prefix": "namespace prefix (default learner)",
        "kubeconfigs": "ask with each learner's own kubeconfig from this folder instead of --as",
        "dry_run": "print the commands, run nothing",
    },
)
def can_i(
    c,
    learners=2,
    context="",
    project="",
    zone="",
    region="",
    name=_DEFAULT_GKE["name"].default,
    prefix="learner",
    kubeconfigs="",
    dry_run=False,
    yes=False,
):
    """Check the RBAC table on the API server: `kubectl auth can-i` for every row and learner."""
    namespaces = learner_lib.namespace_names(_whole("learners", learners), prefix)
    folder = _kubeconfigs_folder(kubeconfigs, None if dry_run else namespaces)
    context_name = _context(context, project, zone, region, name, yes, dry_run)
    commands = plans.can_i_commands(context_name, namespaces, kubeconfigs=folder)
    if dry_run:
        import shlex

        for row, _own, _other, argv in commands:
            console.print(f"# expect {'yes' if row.allowed else 'no'}: {row.label}\n{shlex.join(argv)}", markup=False)
        return
    require_tools("kubectl")
    mismatches = plans.run_can_i(Runner(c), commands)
    for row, own, _other, said in mismatches:
        err_console.print(
            f"[red]✗[/red] {plain(own)}: {plain(row.label)}: expected {'yes' if row.allowed else 'no'}, "
            f"the API server said {plain(said)}"
        )
    if mismatches:
        raise WorkshopError(
            f"{len(mismatches)} of {len(commands)} RBAC checks disagree with the table",
            hint="the learner Role in kserve_workshop.classroom.learners or the cluster's "
            "bindings grant more (or less) than intended",
        )
    console.print(
        f"[green]all {len(commands)} RBAC checks agree with the table[/green] "
        f"({len(namespaces)} learners x {len(commands) // len(namespaces)} rows)."
    )


@workshop_task(
    auto_shortflags=False,
    help={
        "scorecards": "folder of submitted scorecards (*.json, from `invoke grade --submit DIR`)",
        "out": "folder for class-report.html and class-report.md (default: the scorecards folder)",
        "roster": "optional file with one learner name per line: who should have submitted",
    },
)
def report(c, scorecards="", out="", roster=""):
    """Merge the learners' scorecards into one static HTML page and a Markdown table."""
    from ..classroom.report import build_report, write_report

    if not scorecards:
        raise WorkshopError(
            "--scorecards is required: the folder learners submitted to",
            hint="learners run `invoke grade --submit DIR`",
        )
    result = build_report(Path(scorecards), Path(roster) if roster else None)
    for problem in result.problems:
        warn(problem)
    html_path, md_path = write_report(result, Path(out) if out else Path(scorecards))
    console.print(
        f"{len(result.learners)} learner(s), {len(result.problems)} problem(s) with the files. "
        f"Report: {html_path} and {md_path}",
        markup=False,
    )


namespace = Collection("class", create, delete, can_i, report)
