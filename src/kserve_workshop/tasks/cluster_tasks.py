"""Tasks: doctor, tools, kind.create/delete, gke.create/delete, schemas, validate."""

from __future__ import annotations

import sys
from dataclasses import fields
from pathlib import Path

from invoke import Collection

from .. import cluster, paths
from .. import doctor as doctor_lib, schemas as schemas_lib, tools as tools_lib, validate as validate_lib
from ..console import console, err_console, warn
from ..errors import WorkshopError
from ..plan import Runner
from .common import workshop_task

_GKE = {f.name: f.default for f in fields(cluster.GkeSpec) if f.name != "project"}


def _confirm(question: str, yes: bool) -> None:
    """Go on when ``yes``; ask on a terminal; refuse otherwise (never guess for a destructive action)."""
    if yes:
        return
    if not sys.stdin.isatty():
        raise WorkshopError(f"{question} Not confirmed (no terminal to ask on).", hint="pass --yes to confirm")
    answer = console.input(f"{question} [y/N] ").strip().lower()
    if answer not in {"y", "yes"}:
        raise WorkshopError("cancelled; nothing was changed")


# ----- doctor, tools -------------------------------------------------------------------------------

@workshop_task(help={
    "gke": "check for a GKE cluster (gcloud) instead of a kind cluster (Docker)",
    "config": "kind config whose host ports must be free",
    "name": "kind cluster name (its own ports count as free)",
})
def doctor(c, gke=False, config=str(cluster.KIND_CONFIG), name=cluster.KIND_CLUSTER_NAME):
    """Check this machine: tools and versions, Docker, CPU/RAM, ports, architecture, inotify, kube context."""
    results = doctor_lib.run_doctor(strict=True, target="gke" if gke else "kind", config_path=Path(config),
                                    cluster_name=name)
    warnings = sum(r.status == doctor_lib.WARN for r in results)
    console.print(f"[green]Ready[/green] ({warnings} warning(s): see the fixes above)." if warnings else
                  "[green]Ready.[/green]")


@workshop_task(help={
    "only": "comma-separated subset of kind,helm,kubectl",
    "base_url": f"download from this mirror instead of upstream (or set {tools_lib.BASE_URL_ENV})",
})
def tools(c, only="", base_url=""):
    """Download the pinned kind, helm and kubectl into .bin/ (SHA-256 verified; skipped when present)."""
    names = [n.strip() for n in only.split(",") if n.strip()] or list(tools_lib.TOOL_NAMES)
    tools_lib.install_tools(names, base_url=base_url or None)
    console.print(f"Tasks use {paths.bin_dir()} first; for your shell: "
                  f'export PATH="{paths.bin_dir()}:$PATH"')


# ----- kind ----------------------------------------------------------------------------------------

@workshop_task(name="create", auto_shortflags=False, help={
    "name": "cluster name", "config": "kind config file", "dry_run": "print the plan, change nothing",
    "skip_doctor": "do not run the doctor's checks first",
    "registry_mirror": "start pull-through caches (127.0.0.1 only) and make the node pull through them",
})
def kind_create(c, name=cluster.KIND_CLUSTER_NAME, config=str(cluster.KIND_CONFIG), dry_run=False,
                skip_doctor=False, registry_mirror=False):
    """Create the workshop's kind cluster (pinned node image; ingress on http://127.0.0.1:8080)."""
    if registry_mirror:
        from ..classroom.mirrors import kind_create_with_mirrors_plan

        plan = kind_create_with_mirrors_plan(name, Path(config))
    else:
        plan = cluster.kind_create_plan(name, Path(config))
    if not dry_run and not skip_doctor:
        doctor_lib.run_doctor(strict=True, config_path=Path(config), cluster_name=name)
    tools_lib.use_local_tools()
    Runner(c, dry_run=dry_run).execute(plan)
    if not dry_run:
        console.print(f"[green]kind cluster {name} is up[/green]; kube context {cluster.kind_context(name)}.")


@workshop_task(name="delete", auto_shortflags=False, help={
    "name": "cluster name", "dry_run": "print the plan, change nothing",
    "yes": "confirm deleting a cluster that is not the workshop's",
})
def kind_delete(c, name=cluster.KIND_CLUSTER_NAME, dry_run=False, yes=False):
    """Delete the workshop's kind cluster and verify nothing of it is left."""
    plan = cluster.kind_delete_plan(name)
    if name != cluster.KIND_CLUSTER_NAME and not dry_run and not yes:
        raise WorkshopError(f"kind cluster {name!r} is not the workshop's ({cluster.KIND_CLUSTER_NAME}); "
                            "refusing to delete it", hint="pass --yes if you really mean it")
    tools_lib.use_local_tools()
    Runner(c, dry_run=dry_run).execute(plan)
    if not dry_run:
        console.print(f"[green]kind cluster {name} deleted and verified gone.[/green]")


# ----- GKE -----------------------------------------------------------------------------------------

_GKE_HELP = {
    "project": "GCP project id (required)",
    "zone": f"zone for a zonal cluster (default {_GKE['zone']})",
    "region": "region for a regional cluster instead (3 zones: 3x the nodes and the cost)",
    "machine_type": f"node machine type (default {_GKE['machine_type']})",
    "nodes": f"nodes (per zone for a regional cluster; default {_GKE['node_count']})",
    "name": "cluster name",
    "disk_size": f"boot disk per node in GB (default {_GKE['disk_size_gb']})",
    "dry_run": "print the plan, change nothing",
    "yes": "do not ask for confirmation",
}


def _whole_number(flag: str, value) -> int:
    # Numeric flags are declared as strings: invoke would print a traceback for `--nodes abc`.
    try:
        return int(str(value).strip())
    except ValueError:
        raise WorkshopError(f"--{flag} must be a whole number, got {value!r}") from None


def _gke_spec(project, zone, region, machine_type, nodes, name, disk_size) -> cluster.GkeSpec:
    return cluster.GkeSpec(project=project, zone=zone or None, region=region or None, machine_type=machine_type,
                           node_count=_whole_number("nodes", nodes), name=name,
                           disk_size_gb=_whole_number("disk-size", disk_size))


@workshop_task(name="create", auto_shortflags=False, help=_GKE_HELP)
def gke_create(c, project="", zone=_GKE["zone"], region="", machine_type=_GKE["machine_type"],
               nodes=str(_GKE["node_count"]), name=_GKE["name"], disk_size=str(_GKE["disk_size_gb"]), dry_run=False,
               yes=False):
    """Create a GKE cluster for the workshop (prints a cost estimate and asks first)."""
    spec = _gke_spec(project, zone, region, machine_type, nodes, name, disk_size)
    plan = cluster.gke_create_plan(spec)
    warn(cluster.gke_cost_estimate(spec).warning(spec))
    if not dry_run:
        doctor_lib.run_doctor(strict=True, target="gke")
        _confirm(f"Create GKE cluster {spec.name} in {spec.project}/{spec.location}?", yes)
    tools_lib.use_local_tools()
    Runner(c, dry_run=dry_run).execute(plan)
    if not dry_run:
        console.print(f"[green]GKE cluster {spec.name} is up[/green]; kube context {spec.context}.")


@workshop_task(name="delete", auto_shortflags=False, help={k: v for k, v in _GKE_HELP.items()
                                     if k not in {"machine_type", "nodes", "disk_size"}})
def gke_delete(c, project="", zone=_GKE["zone"], region="", name=_GKE["name"], dry_run=False, yes=False):
    """Delete the GKE cluster, then verify it, its firewall rules, load balancer and disks are gone."""
    spec = _gke_spec(project, zone, region, _GKE["machine_type"], _GKE["node_count"], name, _GKE["disk_size_gb"])
    plan = cluster.gke_delete_plan(spec)
    if not dry_run:
        _confirm(f"Delete GKE cluster {spec.name} in {spec.project}/{spec.location} and everything on it?", yes)
    tools_lib.use_local_tools()
    Runner(c, dry_run=dry_run).execute(plan)
    if not dry_run:
        console.print(f"[green]GKE cluster {spec.name} deleted; nothing it created is left.[/green]")


# ----- schemas, validate ---------------------------------------------------------------------------

@workshop_task(help={"from_file": "seed the cache from a local copy of the CRD (its sha256 is checked)",
                     "refresh": "fetch again even when the cache already holds the pinned CRD"})
def schemas(c, from_file="", refresh=False):
    """Fetch the pinned KServe InferenceService CRD (schema for `validate`) into the cache."""
    if not from_file and not refresh and schemas_lib.cached_isvc_crd_is_valid():
        console.print(f"The pinned CRD is already cached: {schemas_lib.isvc_crd_path()}")
        return
    schemas_lib.fetch_isvc_crd(from_file or None)


@workshop_task(positional=["path"], help={
    "path": "file or directory (comma-separated for several; more after `--`)",
    "fetch": "fetch the KServe CRD schema first if it is not cached",
})
def validate(c, path, fetch=False):
    """Validate manifests offline: `invoke validate manifests` or `invoke validate a.yaml -- b.yaml c.yaml`."""
    targets = [p for p in path.split(",") if p] + (getattr(c, "remainder", "") or "").split()
    if fetch and not schemas_lib.isvc_crd_path().is_file():
        schemas_lib.fetch_isvc_crd()
    issues = validate_lib.validate_paths(targets)
    for issue in issues:
        style = {"error": "bold red", "warning": "yellow", "info": "dim"}[issue.severity]
        err_console.print(f"[{style}]{issue.severity}[/{style}] {issue}")
    failed = validate_lib.errors(issues)
    files = len(validate_lib.yaml_files(targets))
    if failed:
        raise WorkshopError(f"{len(failed)} error(s) in {files} file(s)",
                            hint="each line above names the file, the object and the field")
    console.print(f"[green]{files} file(s) valid[/green]"
                  + (f" ({len(issues)} note(s) above)" if issues else "") + ".")


def register(root: Collection) -> None:
    root.add_task(doctor)
    root.add_task(tools)
    root.add_task(schemas)
    root.add_task(validate)
    root.add_collection(Collection("kind", kind_create, kind_delete))
    root.add_collection(Collection("gke", gke_create, gke_delete))
