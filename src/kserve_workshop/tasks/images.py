"""Tasks: images.list, images.preload, images.mirrors-stop (pull the workshop's images once)."""

from __future__ import annotations

from invoke import Collection

from .. import cluster
from ..classroom import images as images_lib, mirrors
from ..console import console
from ..errors import WorkshopError
from ..kube import kubectl_cmd, read_context, require_tools
from ..plan import Runner
from .common import workshop_task


def _local_size(runner: Runner, reference: str) -> int | None:
    result = runner.run(["docker", "image", "inspect", "--format", "{{.Size}}", reference], check=False)
    try:
        return int((result.stdout or "").strip()) if result is not None and result.exited == 0 else None
    except ValueError:
        return None


@workshop_task(
    name="list",
    auto_shortflags=False,
    help={
        "sizes": "measure each image's size in the local Docker (images not pulled show as unknown)",
        "from_cluster": "print the exact references the pods of a running cluster use instead",
        "context": "kube context for --from-cluster (default: the workshop's)",
    },
)
def list_(c, sizes=False, from_cluster=False, context=None):
    """Every image the workshop needs at the pinned versions, where each name comes from."""
    if from_cluster:
        require_tools("kubectl")
        result = Runner(c).run(
            kubectl_cmd(
                read_context(context),
                "get",
                "pods",
                "--all-namespaces",
                "--output",
                "jsonpath={range .items[*]}{range .spec.containers[*]}{.image}{'\\n'}"
                "{end}{range .spec.initContainers[*]}{.image}{'\\n'}{end}{end}",
            )
        )
        for reference in sorted({line.strip() for line in (result.stdout or "").splitlines() if line.strip()}):
            console.print(reference)
        return
    runner = Runner(c)
    if sizes:
        require_tools("docker")
    total = 0
    for image in images_lib.workshop_images():
        size = _local_size(runner, image.reference) if sizes and image.kind != images_lib.AT_INSTALL else None
        total += size or 0
        console.print(
            f"{image.reference}\n    {image.component}; {image.kind}; from {image.source}"
            + (f"; {images_lib.human_size(size)}" if sizes else ""),
            markup=False,
        )
    if sizes:
        console.print(f"measured total: {total / 1e9:.2f} GB of the images present locally")
    console.print("Not listed: the Lab 6 image kserve-workshop/custom-model, built here (`invoke image.build`).")


@workshop_task(auto_shortflags=False, help={"name": "kind cluster name", "dry_run": "print the plan, change nothing"})
def preload(c, name=cluster.KIND_CLUSTER_NAME, dry_run=False):
    """Pull every pinned image once on this machine and copy them into the kind node (`kind load`)."""
    plan = images_lib.preload_plan(name)
    if not dry_run:
        require_tools("docker", "kind")
        if name not in cluster.kind_clusters(Runner(c)):
            raise WorkshopError(
                f"there is no kind cluster named {name!r}",
                hint="create it first (`invoke kind.create`, or `--registry-mirror` to cache every "
                "pull, digest-pinned Knative images included)",
            )
    Runner(c, dry_run=dry_run).execute(plan)


@workshop_task(
    name="mirrors-stop",
    auto_shortflags=False,
    help={"purge": "also delete the cached images (the volumes)", "dry_run": "print the plan, change nothing"},
)
def mirrors_stop(c, purge=False, dry_run=False):
    """Remove the registry mirror containers started by `kind.create --registry-mirror`."""
    if not dry_run:
        require_tools("docker")
    Runner(c, dry_run=dry_run).execute(mirrors.stop_plan(purge))


namespace = Collection("images", list_, preload, mirrors_stop)
