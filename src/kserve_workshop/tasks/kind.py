"""`invoke kind.create` / `kind.delete`: the workshop's kind cluster (pinned node image; ingress on 127.0.0.1:8080)."""

from __future__ import annotations

from pathlib import Path

from invoke import Collection

from .. import cluster
from .. import doctor as doctor_lib, tools as tools_lib
from ..console import console, plain
from ..errors import WorkshopError
from ..plan import Runner
from .common import workshop_task


@workshop_task(
    name="create",
    auto_shortflags=False,
    help={
        "name": "cluster name",
        "config": "kind config file",
        "dry_run": "print the plan, change nothing",
        "skip_doctor": "do not run the doctor's checks first",
        "registry_mirror": "start pull-through caches (127.0.0.1 only) and make the node pull through them",
    },
)
def kind_create(
    c,
    name=cluster.KIND_CLUSTER_NAME,
    config=str(cluster.KIND_CONFIG),
    dry_run=False,
    skip_doctor=False,
    registry_mirror=False,
):
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
        console.print(
            f"[green]kind cluster {plain(name)} is up[/green]; kube context {plain(cluster.kind_context(name))}."
        )


@workshop_task(
    name="delete",
    auto_shortflags=False,
    help={
        "name": "cluster name",
        "dry_run": "print the plan, change nothing",
        "yes": "confirm deleting a cluster that is not the workshop's",
    },
)
def kind_delete(c, name=cluster.KIND_CLUSTER_NAME, dry_run=False, yes=False):
    """Delete the workshop's kind cluster and verify nothing of it is left."""
    plan = cluster.kind_delete_plan(name)
    if name != cluster.KIND_CLUSTER_NAME and not dry_run and not yes:
        raise WorkshopError(
            f"kind cluster {name!r} is not the workshop's ({cluster.KIND_CLUSTER_NAME}); refusing to delete it",
            hint="pass --yes if you really mean it",
        )
    tools_lib.use_local_tools()
    Runner(c, dry_run=dry_run).execute(plan)
    if not dry_run:
        console.print(f"[green]kind cluster {plain(name)} deleted and verified gone.[/green]")


namespace = Collection("kind", kind_create, kind_delete)
