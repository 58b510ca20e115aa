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
        version = image.project_version()
    except WorkshopError:  # pragma: no cover - a broken pyproject is reported by the task
        version = "VERSION"
    return (
        f"image NAME:TAG (default: kserve-workshop/custom-model:{version}-DIGEST, DIGEST naming the model "
        "file's content)"
    )


MODEL_FILE_HELP = (
    "the model file the image serves (default: Lab 6's .cache/lab6/iris_model.py once the lab has "
    "written it, else the lab's worked solution)"
)


@workshop_task(help={"tag": _tag_help(), "model_file": MODEL_FILE_HELP, "dry_run": "print the plan, change nothing"})
def build(c, tag="", model_file="", dry_run=False):
    """Build the custom KServe server image for a model file (docker/custom-model/Dockerfile, pins from versions.toml)."""
    source = image.model_source(model_file or None)
    plan = image.build_plan(tag or None, source)
    if not dry_run:
        require_tools("docker")
    image.execute(c, plan, dry_run=dry_run)
    if not dry_run:
        console.print(
            f"[green]built {plain(tag or image.local_tag(source))}[/green] serving {plain(source.label)}; "
            "next: `invoke image.load-kind` (kind) or `invoke image.push --registry ...` (GKE), with the "
            "same --model-file or --tag."
        )


@workshop_task(
    name="load-kind",
    help={
        "tag": _tag_help(),
        "model_file": MODEL_FILE_HELP + "; names the default tag",
        "name": "kind cluster name",
        "dry_run": "print the plan, change nothing",
    },
)
def load_kind(c, tag="", model_file="", name=cluster.KIND_CLUSTER_NAME, dry_run=False):
    """Copy the image into the kind cluster's node, so InferenceServices can use it without a registry."""
    tag = tag or image.local_tag(model_file or None)
    plan = image.load_kind_plan(tag, name)
    if not dry_run:
        require_tools("docker", "kind")
        if name not in cluster.kind_clusters(Runner(c)):
            raise WorkshopError(
                f"there is no kind cluster named {name!r}", hint="create the workshop's cluster with `invoke up`"
            )
    image.execute(c, plan, dry_run=dry_run)
    if not dry_run:
        console.print(f"[green]{plain(tag)} is on the nodes of kind cluster {plain(name)}.[/green]")


@workshop_task(
    help={
        "registry": "where to push: REGION-docker.pkg.dev/PROJECT/REPO for GKE's Artifact Registry",
        "tag": _tag_help(),
        "model_file": MODEL_FILE_HELP + "; names the default tag",
        "dry_run": "print the plan, change nothing",
    }
)
def push(c, registry="", tag="", model_file="", dry_run=False):
    """Tag the image for a registry and push it (GKE); then use that image in the lab's manifests."""
    image.check_registry(registry)
    tag = tag or image.local_tag(model_file or None)
    plan = image.push_plan(registry, tag)
    target = image.remote_tag(registry, tag)
    if not dry_run:
        require_tools("docker")
    image.execute(c, plan, dry_run=dry_run)
    if not dry_run:
        console.print(
            f"[green]pushed {plain(target)}[/green]. For Lab 6 on this cluster: export {image.IMAGE_ENV}={target}"
        )


namespace = Collection("image", build, load_kind, push)
