"""`invoke gke.create` / `gke.delete`: a GKE cluster for the workshop (a cost estimate first, a check that
nothing billable is left after)."""

from __future__ import annotations

from dataclasses import fields

from invoke import Collection

from .. import gke as gke_lib
from .. import doctor as doctor_lib, tools as tools_lib
from ..console import console, plain, warn
from ..plan import Runner
from .common import confirm, workshop_task

_GKE = {f.name: f.default for f in fields(gke_lib.GkeSpec) if f.name != "project"}
# Empty means "not given": GkeSpec refuses a zone and a region together, and defaults to DEFAULT_ZONE.
_GKE["zone"] = ""

_GKE_HELP = {
    "project": "GCP project id (required)",
    "zone": f"zone for a zonal cluster (default {gke_lib.DEFAULT_ZONE}; not with --region)",
    "region": "region for a regional cluster instead (3 zones: 3x the nodes and the cost)",
    "machine_type": f"node machine type (default {_GKE['machine_type']})",
    "nodes": f"nodes (per zone for a regional cluster; default {_GKE['node_count']})",
    "name": "cluster name",
    "disk_size": f"boot disk per node in GB (default {_GKE['disk_size_gb']})",
    "dry_run": "print the plan, change nothing",
    "yes": "do not ask for confirmation",
}


def _gke_spec(project, zone, region, machine_type, nodes, name, disk_size) -> gke_lib.GkeSpec:
    return gke_lib.GkeSpec(
        project=project,
        zone=zone or None,
        region=region or None,
        machine_type=machine_type,
        node_count=nodes,
        name=name,
        disk_size_gb=disk_size,
    )


@workshop_task(name="create", auto_shortflags=False, help=_GKE_HELP)
def gke_create(
    c,
    project="",
    zone=_GKE["zone"],
    region="",
    machine_type=_GKE["machine_type"],
    nodes=_GKE["node_count"],
    name=_GKE["name"],
    disk_size=_GKE["disk_size_gb"],
    dry_run=False,
    yes=False,
):
    """Create a GKE cluster for the workshop (prints a cost estimate and asks first)."""
    spec = _gke_spec(project, zone, region, machine_type, nodes, name, disk_size)
    plan = gke_lib.gke_create_plan(spec)
    warn(gke_lib.gke_cost_estimate(spec).warning(spec))
    if not dry_run:
        doctor_lib.run_doctor(strict=True, target="gke")
        confirm(f"Create GKE cluster {spec.name} in {spec.project}/{spec.location}?", yes)
    tools_lib.use_local_tools()
    Runner(c, dry_run=dry_run).execute(plan)
    if not dry_run:
        console.print(f"[green]GKE cluster {spec.name} is up[/green]; kube context {plain(spec.context)}.")


@workshop_task(
    name="delete",
    auto_shortflags=False,
    help={k: v for k, v in _GKE_HELP.items() if k not in {"machine_type", "nodes", "disk_size"}},
)
def gke_delete(c, project="", zone=_GKE["zone"], region="", name=_GKE["name"], dry_run=False, yes=False):
    """Delete the GKE cluster, then verify it, its firewall rules, load balancer and disks are gone."""
    spec = _gke_spec(project, zone, region, _GKE["machine_type"], _GKE["node_count"], name, _GKE["disk_size_gb"])
    plan = gke_lib.gke_delete_plan(spec)
    if not dry_run:
        confirm(f"Delete GKE cluster {spec.name} in {spec.project}/{spec.location} and everything on it?", yes)
    tools_lib.use_local_tools()
    Runner(c, dry_run=dry_run).execute(plan)
    if not dry_run:
        console.print(f"[green]GKE cluster {spec.name} deleted; nothing it created is left.[/green]")


namespace = Collection("gke", gke_create, gke_delete)
