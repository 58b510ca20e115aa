"""Tasks: image.build, image.load-kind, image.push (Lab 6's custom server image)."""

from __future__ import annotations

from invoke import Collection

from .. import cluster, image
from ..console import console, plain
from ..errors import WorkshopError
from ..kube import require_tools
from ..plan import Runner
from .common import workshop_task

def _tag_help() -> str:
    try:
        return f"image NAME:TAG (default: {image.local_tag()})"
    except WorkshopError:  # pragma: no cover - a broken pyproject/versions file is reported by the task
        return "image NAME:TAG"


@workshop_task(help={"tag": _tag_help(), "dry_run": "print the plan, change nothing"})
def build(c, tag="", dry_run=False):
    """Build the custom KServe server image (docker/custom-model/Dockerfile, pins from versions.toml)."""
    plan = image.build_plan(tag or None)
    if not dry_run:
        require_tools("docker")
    image.execute(c, plan, dry_run=dry_run)
    if not dry_run:
        console.print(f"[green]built {plain(tag or image.local_tag())}[/green]; next: `invoke image.load-kind` (kind) "
                      "or `invoke image.push --registry ...` (GKE).")


@workshop_task(name="load-kind", help={
    "tag": _tag_help(), "name": "kind cluster name", "dry_run": "print the plan, change nothing"})
def load_kind(c, tag="", name=cluster.KIND_CLUSTER_NAME, dry_run=False):
    """Copy the image into the kind cluster's node, so InferenceServices can use it without a registry."""
    plan = image.load_kind_plan(tag or None, name)
    if not dry_run:
        require_tools("docker", "kind")
        if name not in cluster.kind_clusters(Runner(c)):
            raise WorkshopError(f"there is no kind cluster named {name!r}",
                                hint="create the workshop's cluster with `invoke up`")
    image.execute(c, plan, dry_run=dry_run)
    if not dry_run:
        console.print(f"[green]{plain(tag or image.local_tag())} is on the nodes of kind cluster {plain(name)}.[/green]")


@workshop_task(help={
    "registry": "where to push: REGION-docker.pkg.dev/PROJECT/REPO for GKE's Artifact Registry",
    "tag": _tag_help(), "dry_run": "print the plan, change nothing"})
def push(c, registry="", tag="", dry_run=False):
    """Tag the image for a registry and push it (GKE); then use that image in the lab's manifests."""
    plan = image.push_plan(registry, tag or None)
    target = image.remote_tag(registry, tag or None)
    if not dry_run:
        require_tools("docker")
    image.execute(c, plan, dry_run=dry_run)
    if not dry_run:
        console.print(f"[green]pushed {plain(target)}[/green]. For Lab 6 on this cluster: "
                      f"export {image.IMAGE_ENV}={target}")


namespace = Collection("image", build, load_kind, push)
