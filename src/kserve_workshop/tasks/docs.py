"""`invoke docs.build` (mkdocs build --strict, into the cache), `invoke docs.serve` (127.0.0.1 only),
`invoke docs.capture` (the local tier's real outputs for the setup page) and `invoke docs.record`
(the outputs of a real cluster run in place of the expected ones)."""

from __future__ import annotations

import json
import shlex
import socket
from pathlib import Path

from invoke import Collection

from .. import docs_site
from ..docs_pages.lab_catalog import discover_labs
from ..docs_pages import outputs
from ..paths import REPO_ROOT
from ..console import info, step
from ..errors import WorkshopError
from ..paths import writable_dir
from .common import workshop_task

DEFAULT_PORT = 8000
#: mkdocs-material prints a multi-line notice on every build unless this is set.
MKDOCS_ENV = {"NO_MKDOCS_2_WARNING": "1"}


def _require_docs_packages() -> None:
    missing = docs_site.missing_docs_packages()
    if missing:
        raise WorkshopError(
            f"the docs tools are not installed: {', '.join(missing)}",
            hint="scripts/bootstrap.sh installs them (or `.venv/bin/pip install -e '.[docs]'`)",
        )


def _check_port(port: int) -> int:
    if isinstance(port, bool) or not isinstance(port, int) or not 1024 <= port <= 65535:
        raise WorkshopError(f"--port must be a number between 1024 and 65535, got {port!r}")
    return port


def _port_free(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        try:
            probe.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def _failure_details(result) -> str:
    """The lines of mkdocs' output that say what is wrong (warnings and errors), else its tail."""
    output = ((result.stderr or "") + (result.stdout or "")).strip().splitlines()
    relevant = [line for line in output if line.lstrip().startswith(("WARNING", "ERROR", "Error", "Aborted"))]
    return "\n".join((relevant or output)[-20:])


@workshop_task(help={"site_dir": "where to write the site (default: the cache's site/ folder)"})
def build(c, site_dir=""):
    """Build the docs site with `mkdocs build --strict` (any warning fails the build)."""
    _require_docs_packages()
    target = Path(site_dir).expanduser().resolve() if site_dir else docs_site.default_site_dir()
    writable_dir(target, f"--site-dir {site_dir}" if site_dir else None)  # before mkdocs, which would relay a traceback
    labs = discover_labs()  # a broken notebook fails here, with its name
    with step(f"Building the docs site ({len(labs)} lab pages) into {target}"):
        result = c.run(
            shlex.join(docs_site.build_command(target)), hide=True, warn=True, in_stream=False, env=MKDOCS_ENV
        )
        if result is None or result.exited != 0:
            raise WorkshopError(
                "the docs site did not build (mkdocs build --strict):\n"
                + (_failure_details(result) if result is not None else "no output"),
                hint="fix what mkdocs names above, then run `invoke docs.build` again",
            )
    pages = sum(1 for _ in target.rglob("index.html")) if target.is_dir() else 0
    info(f"Built {pages} pages into {target}. Preview them with `invoke docs.serve`.")


@workshop_task(help={"port": f"port on 127.0.0.1 (default {DEFAULT_PORT})"})
def serve(c, port=DEFAULT_PORT):
    """Preview the docs site on http://127.0.0.1:PORT, rebuilt on every change (Ctrl-C stops it)."""
    number = _check_port(port)
    _require_docs_packages()
    if not _port_free(number):
        raise WorkshopError(f"port {number} on 127.0.0.1 is already in use", hint="pass another one: --port 8001")
    info(f"Serving the docs on http://127.0.0.1:{number}/ (only this machine can reach it); Ctrl-C stops.")
    try:
        result = c.run(shlex.join(docs_site.serve_command(number)), warn=True, in_stream=False, env=MKDOCS_ENV)
    except KeyboardInterrupt:
        info("Stopped.")
        return
    if result is not None and result.exited not in (0, 130, -2):
        raise WorkshopError(
            f"mkdocs serve exited with code {result.exited}",
            hint="its messages are above; `invoke docs.build` shows the same problems",
        )


@workshop_task(help={"only": f"one of {', '.join(outputs.CAPTURES)} (default: all)"})
def capture(c, only=""):
    """Run the local tier's commands for real and keep their output for the setup page (docs/captured/)."""
    names = [only] if only else list(outputs.CAPTURES)
    texts = {}
    for name in names:  # all run before any is written: a failure leaves the committed ones as they were
        with step(f"Running `invoke {' '.join(outputs.CAPTURES.get(name, [name]))}`"):
            texts[name] = outputs.capture(name)
    outputs.CAPTURED_DIR.mkdir(parents=True, exist_ok=True)
    for name, text in texts.items():
        (outputs.CAPTURED_DIR / f"{name}.txt").write_text(text, encoding="utf-8")
    info(f"Captured {', '.join(texts)} into {outputs.CAPTURED_DIR.relative_to(REPO_ROOT)}/; review and commit them.")


@workshop_task(
    name="record",
    help={
        "from": "folder with the kind workflow's artefacts (gh run download RUN_ID -D DIR)",
        "notebooks_dir": "folder of master notebooks (default: notebooks/)",
        "labs_dir": "folder of student notebooks to regenerate (default: labs/)",
        "dry_run": "check the run and list what would change, write nothing",
    },
)
def record(c, from_="", notebooks_dir="", labs_dir="", dry_run=False):
    """Replace the expected cluster outputs in the masters with those of a real kind run (checked first)."""
    from ..docs_pages.record import record_run
    from ..docs_pages.run_info import label
    from ..labkit.labgen import generate
    from ..paths import LABS_DIR, NOTEBOOKS_DIR

    if not from_:
        raise WorkshopError(
            "--from is required: the folder with the kind workflow's artefacts",
            hint="gh run download RUN_ID -D DIR, then invoke docs.record --from DIR",
        )
    notebooks = Path(notebooks_dir).resolve() if notebooks_dir else NOTEBOOKS_DIR
    records = record_run(Path(from_).expanduser().resolve(), notebooks, write=not dry_run)
    for item in records:
        info(
            f"{'would replace' if dry_run else 'replaced'} {len(item.captures)} box(es) in {item.master.name} "
            f"with the run's outputs ({label(item.run)})"
        )
    if not dry_run:
        changed = generate(notebooks, Path(labs_dir).resolve() if labs_dir else LABS_DIR)
        info(f"student notebooks regenerated ({len(changed)} changed). Review the diff, then commit.")


@workshop_task(name="run-info", help={"out": "file to write (JSON)", "context": "kube context of the run's cluster"})
def run_info(c, out="", context=""):
    """Write the record of a cluster run (date, platform versions read from the cluster) for docs.record."""
    from ..docs_pages.run_info import collect_run_info, label, missing_fields
    from ..kube import WORKSHOP_CONTEXT

    if not out:
        raise WorkshopError("--out is required (the workflow writes test-artifacts/run.json)")
    found = collect_run_info(context or WORKSHOP_CONTEXT)
    missing = missing_fields(found)
    if missing:
        raise WorkshopError(
            f"the cluster did not report its {', '.join(missing)}", hint="is the platform installed? `invoke status`"
        )
    Path(out).write_text(json.dumps(found, indent=1) + "\n", encoding="utf-8")
    info(f"Wrote {out}: {label(found)}")


namespace = Collection("docs", build, serve, capture, record, run_info)
