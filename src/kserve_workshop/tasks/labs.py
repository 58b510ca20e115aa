"""`invoke labs.generate` / `labs.check` (the student notebooks, generated from the masters and checked),
`labs.execute` (the masters run on this machine, their outputs written in place),
`labs.catchup --to N` / `labs.reset --lab N` (a learner's environment brought to, or back from, a
lab), and `invoke grade` (a learner's notebooks run and scored; a top-level task)."""

from __future__ import annotations

import os
from pathlib import Path

from invoke import Collection

from ..classroom import catchup
from ..console import console, info, plain, warn
from ..errors import WorkshopError
from ..kube import LAB_CONTEXT_ENV, guard_context, lab_context, require_tools
from ..namespace import workshop_namespace
from ..paths import LABS_DIR, NOTEBOOKS_DIR, REPO_ROOT, cache_dir, writable_dir
from ..plan import Runner
from .common import workshop_task


def _relative(path: Path) -> str:
    try:
        return str(path.resolve().relative_to(REPO_ROOT))
    except ValueError:
        return str(path)


@workshop_task(
    help={
        "notebooks_dir": "Folder of master notebooks (default: notebooks/).",
        "labs_dir": "Folder of student notebooks to write (default: labs/).",
    }
)
def generate(c, notebooks_dir=None, labs_dir=None):
    """Write labs/ from the masters in notebooks/ (solutions blanked, outputs cleared)."""
    from ..labkit.labgen import generate as generate_labs

    if labs_dir:
        writable_dir(labs_dir, f"--labs-dir {labs_dir}")
    changed = generate_labs(Path(notebooks_dir or NOTEBOOKS_DIR), Path(labs_dir or LABS_DIR))
    if changed:
        for path in changed:
            info(f"{'removed' if not path.exists() else 'wrote'} {_relative(path)}")
    else:
        info("labs/ is already up to date")


@workshop_task(
    help={
        "notebooks_dir": "Folder of master notebooks (default: notebooks/).",
        "labs_dir": "Folder of student notebooks (default: labs/).",
    }
)
def check(c, notebooks_dir=None, labs_dir=None):
    """Fail when labs/ is out of date with notebooks/ or a notebook's code has static problems."""
    from ..console import step
    from ..labkit.labgen import find_drift, masters
    from ..labkit.notebook_lint import check_notebooks

    notebooks = Path(notebooks_dir or NOTEBOOKS_DIR)
    labs = Path(labs_dir or LABS_DIR)
    paths = masters(notebooks)
    if not paths:
        raise WorkshopError(f"no master notebooks in {_relative(notebooks)}")
    with step(f"checking {len(paths)} master notebook(s)"):
        drift = find_drift(notebooks, labs)
        problems = check_notebooks(paths)
    messages = [*(f"drift: {line}" for line in drift), *(str(problem) for problem in problems)]
    if messages:
        fixes = [
            *(["fix the masters in notebooks/"] if problems else []),
            *(["run `invoke labs.generate` (never edit labs/ by hand)"] if drift else []),
        ]
        raise WorkshopError(
            f"{len(messages)} problem(s):\n  " + "\n  ".join(messages),
            hint=", then ".join(fixes) + ", then run `invoke labs.check` again",
        )
    info(f"labs/ is in sync and {len(paths)} notebook(s) pass the static checks")


@workshop_task(
    help={
        "lab": "Only this lab (its number); default: every master.",
        "timeout": "Time limit per cell, in seconds (default 300).",
    }
)
def execute(c, lab="", timeout=300):
    """Run the masters top to bottom on this machine and write their outputs in place (then `labs.generate`)."""
    from ..console import step
    from ..labkit.labgen import masters
    from ..labkit.masters import execute_master

    paths = masters(NOTEBOOKS_DIR)
    if lab:
        number = catchup.check_lab(lab, "--lab")
        paths = [path for path in paths if path.name.startswith(f"{number:02d}-")]
    try:
        timeout = int(timeout)
    except (TypeError, ValueError):
        raise WorkshopError(f"--timeout must be a whole number of seconds, got {timeout!r}") from None
    if timeout < 1:
        raise WorkshopError(f"--timeout must be at least 1 second, got {timeout}")
    for path in paths:
        with step(f"running {_relative(path)}"):
            seconds = execute_master(path, timeout=timeout)
        info(f"{_relative(path)}: executed in {seconds:.0f} s and written")
    info("now run `invoke labs.generate`, then `invoke labs.check`")


@workshop_task(
    help={
        "labs_dir": "Folder holding the learner's lab notebooks (default: labs/).",
        "out": "Where to write scorecard.json / scorecard.md (default: the cache's grade/).",
        "timeout": "Time limit per cell, in seconds (default 120).",
        "submit": "Also copy the scorecard, uniquely named, into this (shared) folder.",
        "learner": "Your name on a submitted scorecard (default: $WORKSHOP_LEARNER, "
        "$WORKSHOP_NAMESPACE or your login).",
    }
)
def grade(c, labs_dir=None, out=None, timeout=120, submit=None, learner=None):
    """Run a learner's lab notebooks and write a per-lab, per-check scorecard (JSON and Markdown)."""
    from ..labkit.scorecard import grade as grade_labs, lab_notebooks, show

    try:
        timeout = int(timeout)
    except (TypeError, ValueError):
        raise WorkshopError(f"--timeout must be a number of seconds, not {timeout!r}") from None
    if timeout <= 0:
        raise WorkshopError(f"--timeout must be positive, not {timeout}")
    if submit:
        from ..classroom.submit import learner_name

        learner = learner_name(learner)  # a bad name or folder fails before the notebooks run
        if not Path(submit).expanduser().is_dir():
            raise WorkshopError(
                f"submit folder not found: {submit}",
                hint="the instructor gives you the shared folder's path; it must exist",
            )
    labs = Path(labs_dir or LABS_DIR)
    if labs.is_dir():
        lab_notebooks(labs)  # no notebook there: refused before --out is created
    out_dir = writable_dir(out, f"--out {out}") if out else cache_dir() / "grade"
    card = grade_labs(labs, out_dir, cell_timeout=timeout)
    show(card)
    info(f"scorecard written to {_relative(out_dir / 'scorecard.json')} and {_relative(out_dir / 'scorecard.md')}")
    if submit:
        from ..classroom.submit import submit as submit_card

        info(f"submitted as {learner}: {submit_card(out_dir / 'scorecard.json', Path(submit), learner)}")


# ----- labs.catchup, labs.reset ----------------------------------------------------------------------


def _cluster_context(context: str | None, local_only: bool, yes: bool, dry_run: bool) -> str | None:
    """``--context``, else ``$WORKSHOP_KUBE_CONTEXT``, else the workshop cluster's context; None (local
    part only) when there is none and none was named."""
    if local_only:
        return None
    named = os.environ.get(LAB_CONTEXT_ENV, "").strip()
    if not context and named:
        # A learner on the class cluster names their kubeconfig's context, as the notebooks use it.
        # It must be in the kubeconfig (outside --dry-run): no silent fallback to the local part.
        return named if dry_run else lab_context()
    try:
        return guard_context(context or None, yes, dry_run=dry_run)
    except WorkshopError:
        if context:
            raise
        warn("no workshop cluster in your kubeconfig: only the local part is done (pass --context to name one)")
        return None


_HELP = {
    "context": "kube context (default: $WORKSHOP_KUBE_CONTEXT, else the workshop's cluster when there is one)",
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
    plan = catchup.catchup_plan(
        lab, context=target, namespace=workshop_namespace(namespace or None), kind_cluster=kind_cluster
    )
    if target and not dry_run:
        require_tools("kubectl")
    Runner(c, dry_run=dry_run).execute(plan)
    if not dry_run:
        console.print(f"[green]ready for lab {lab}[/green]: open notebooks/ or labs/ {lab:02d}-*.ipynb")


@workshop_task(auto_shortflags=False, help={"lab": "the lab to undo (its number)", **_HELP})
def reset(c, lab="", context="", namespace="", local_only=False, yes=False, dry_run=False):
    """Remove what lab N created (InferenceServices, other objects, cache files) and check nothing of it is left."""
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
        names = catchup.lab_names(number)
        catchup.verify_reset(
            before - {o for o in before if catchup.belongs_to(o, names)},
            catchup.list_objects(runner, target, ns),
            names,
        )
    console.print("Servers a notebook started stop with its kernel: restart or shut down the notebook's kernel.")
    if not dry_run:
        console.print(
            f"[green]lab {number} reset[/green]"
            + (f"; namespace {plain(ns)} is as it was before the lab." if target else " (local part).")
        )


namespace = Collection("labs", generate, check, execute)
namespace.add_task(catchup_, name="catchup")
namespace.add_task(reset)
