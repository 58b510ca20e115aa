"""Lab tasks: generate the student notebooks, check them (drift + static checks), grade a learner."""

from __future__ import annotations

from pathlib import Path

from invoke import Collection

from ..console import info
from ..errors import WorkshopError
from ..paths import LABS_DIR, NOTEBOOKS_DIR, REPO_ROOT, cache_dir
from .common import workshop_task


def _relative(path: Path) -> str:
    try:
        return str(path.resolve().relative_to(REPO_ROOT))
    except ValueError:
        return str(path)


@workshop_task(help={"notebooks_dir": "Folder of master notebooks (default: notebooks/).",
                     "labs_dir": "Folder of student notebooks to write (default: labs/)."})
def generate(c, notebooks_dir=None, labs_dir=None):
    """Write labs/ from the masters in notebooks/ (solutions blanked, outputs cleared)."""
    from ..labgen import generate as generate_labs

    changed = generate_labs(Path(notebooks_dir or NOTEBOOKS_DIR), Path(labs_dir or LABS_DIR))
    if changed:
        for path in changed:
            info(f"{'removed' if not path.exists() else 'wrote'} {_relative(path)}")
    else:
        info("labs/ is already up to date")


@workshop_task(help={"notebooks_dir": "Folder of master notebooks (default: notebooks/).",
                     "labs_dir": "Folder of student notebooks (default: labs/)."})
def check(c, notebooks_dir=None, labs_dir=None):
    """Fail when labs/ is out of date with notebooks/ or a notebook's code has static problems."""
    from ..console import step
    from ..labgen import find_drift, masters
    from ..notebook_static import check_notebooks

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
        fixes = [*(["fix the masters in notebooks/"] if problems else []),
                 *(["run `invoke labs.generate` (never edit labs/ by hand)"] if drift else [])]
        raise WorkshopError(f"{len(messages)} problem(s):\n  " + "\n  ".join(messages),
                            hint=", then ".join(fixes) + ", then run `invoke labs.check` again")
    info(f"labs/ is in sync and {len(paths)} notebook(s) pass the static checks")


@workshop_task(help={"labs_dir": "Folder holding the learner's lab notebooks (default: labs/).",
                     "out": "Where to write scorecard.json / scorecard.md (default: the cache's grade/).",
                     "timeout": "Time limit per cell, in seconds (default 120).",
                     "submit": "Also copy the scorecard, uniquely named, into this (shared) folder.",
                     "learner": "Your name on a submitted scorecard (default: $WORKSHOP_LEARNER, "
                                "$WORKSHOP_NAMESPACE or your login)."})
def grade(c, labs_dir=None, out=None, timeout=120, submit=None, learner=None):
    """Run a learner's lab notebooks and write a per-lab, per-check scorecard (JSON and Markdown)."""
    from ..scorecard import grade as grade_labs, show

    try:
        timeout = int(timeout)
    except (TypeError, ValueError):
        raise WorkshopError(f"--timeout must be a number of seconds, not {timeout!r}") from None
    if timeout <= 0:
        raise WorkshopError(f"--timeout must be positive, not {timeout}")
    out_dir = Path(out) if out else cache_dir() / "grade"
    if submit:
        from ..classroom.submit import learner_name

        learner = learner_name(learner)  # a bad name or folder fails before the notebooks run
        if not Path(submit).expanduser().is_dir():
            raise WorkshopError(f"submit folder not found: {submit}",
                                hint="the instructor gives you the shared folder's path; it must exist")
    card = grade_labs(Path(labs_dir or LABS_DIR), out_dir, cell_timeout=timeout)
    show(card)
    info(f"scorecard written to {_relative(out_dir / 'scorecard.json')} and {_relative(out_dir / 'scorecard.md')}")
    if submit:
        from ..classroom.submit import submit as submit_card

        info(f"submitted as {learner}: {submit_card(out_dir / 'scorecard.json', Path(submit), learner)}")


def register(root: Collection) -> None:
    labs = Collection("labs")
    labs.add_task(generate)
    labs.add_task(check)
    root.add_collection(labs)
    root.add_task(grade)
