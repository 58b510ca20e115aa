"""Tasks: labs.catchup --to N and labs.reset --lab N (added to the ``labs`` collection)."""

from __future__ import annotations

from invoke import Collection

from ..classroom import catchup
from ..console import console, warn
from ..errors import WorkshopError
from ..kube import guard_context, require_tools
from ..namespace import workshop_namespace
from ..plan import Runner
from .common import workshop_task


def _cluster_context(context: str | None, local_only: bool, yes: bool, dry_run: bool) -> str | None:
    """The workshop cluster's context, or None (local part only) when there is none and none was named."""
    if local_only:
        return None
    try:
        return guard_context(context or None, yes, dry_run=dry_run)
    except WorkshopError:
        if context:
            raise
        warn("no workshop cluster in your kubeconfig: only the local part is done (pass --context to name one)")
        return None


_HELP = {
    "context": "kube context (default: the workshop's cluster, when there is one)",
    "namespace": "namespace of the labs (default: $WORKSHOP_NAMESPACE or default)",
    "local_only": "leave the cluster alone",
    "yes": "confirm acting on a cluster that is not the workshop's",
    "dry_run": "print what would be done, do nothing",
}


@workshop_task(auto_shortflags=False, help={"to": "the lab to catch up to (its number)", **_HELP})
def catchup_(c, to="", context="", namespace="", local_only=False, yes=False, dry_run=False):
    """Bring your environment to the state lab N starts from (models, cluster objects, caches)."""
    lab = catchup.check_lab(to, "--to")
    target = _cluster_context(context, local_only, yes, dry_run)
    kind_cluster = target.removeprefix("kind-") if target and target.startswith("kind-") else None
    plan = catchup.catchup_plan(lab, context=target, namespace=workshop_namespace(namespace or None),
                                kind_cluster=kind_cluster)
    if target and not dry_run:
        require_tools("kubectl")
    Runner(c, dry_run=dry_run).execute(plan)
    if not dry_run:
        console.print(f"[green]ready for lab {lab}[/green]: open notebooks/ or labs/ {lab:02d}-*.ipynb")


@workshop_task(auto_shortflags=False, help={"lab": "the lab to undo (its number)", **_HELP})
def reset(c, lab="", context="", namespace="", local_only=False, yes=False, dry_run=False):
    """Remove what lab N created (InferenceServices, cache files) and verify the namespace is as before."""
    number = catchup.check_lab(lab, "--lab")
    target = _cluster_context(context, local_only, yes, dry_run)
    ns = workshop_namespace(namespace or None)
    plan = catchup.reset_plan(number, context=target, namespace=ns)
    if dry_run or target is None:
        Runner(c, dry_run=dry_run).execute(plan)
    else:
        require_tools("kubectl")
        runner = Runner(c)
        before = catchup.list_objects(runner, target, ns)
        runner.execute(plan)
        isvcs = catchup.lab_isvcs(number)
        catchup.verify_reset(before - {o for o in before if catchup.belongs_to(o, isvcs)},
                             catchup.list_objects(runner, target, ns), isvcs)
    console.print("Servers a notebook started stop with its kernel: restart or shut down the notebook's kernel.")
    if not dry_run:
        console.print(f"[green]lab {number} reset[/green]" + (f"; namespace {ns} is as it was before the lab."
                                                               if target else " (local part)."))


def register(root: Collection) -> None:
    labs = root.collections.get("labs")
    if labs is None:
        labs = Collection("labs")
        root.add_collection(labs)
    labs.add_task(catchup_, name="catchup")
    labs.add_task(reset)
