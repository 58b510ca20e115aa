"""`invoke diagnose NAME`: why an InferenceService is not Ready; `diagnose.snapshot` saves the state
for an instructor; `diagnose.call` explains a failed HTTP call to a model."""

from __future__ import annotations

from invoke import Collection

from ..console import console, step
from ..diagnose import (
    DirSource,
    LiveSource,
    diagnose_call,
    diagnose_snapshot,
    print_diagnosis,
    render_json,
    save_snapshot,
)
from ..diagnose.sources import check_output_dir
from ..errors import WorkshopError
from .common import workshop_task

SOURCE_HELP = {
    "namespace": "Namespace of the InferenceService (default: default; with --from-dir, the saved one).",
    "context": "Kube context to read (default: the current one).",
    "from-dir": "Diagnose a snapshot saved by `invoke diagnose.snapshot` instead of a live cluster.",
    "json": "Print the diagnosis as JSON (for scripts) instead of words.",
}


def _source(from_dir: str | None, context: str | None):
    if from_dir and context:
        raise WorkshopError("--from-dir reads saved files and --context names a live cluster: give only one")
    return DirSource(from_dir) if from_dir else LiveSource(context)


def _snapshot(source, name: str, namespace: str | None, quiet: bool):
    label = f"Reading InferenceService {name} and its Knative objects, pods, events and logs"
    if quiet:  # --json: stdout must hold only the JSON
        return source.snapshot(name, namespace)
    with step(label):
        return source.snapshot(name, namespace)


def _print(diagnosis, as_json: bool) -> None:
    if as_json:
        print(render_json(diagnosis))
    else:
        print_diagnosis(diagnosis, console)


@workshop_task(help={"name": "The InferenceService's name.", **SOURCE_HELP})
def explain(c, name, namespace=None, context=None, from_dir=None, json_=False):
    """Explain why an InferenceService is not Ready: the likely cause, the fix and the evidence."""
    source = _source(from_dir, context)
    snap = _snapshot(source, name, namespace, quiet=json_)
    _print(diagnose_snapshot(snap), json_)


@workshop_task(
    help={
        "name": "The InferenceService's name.",
        "out": "A new (or empty) directory to write the snapshot into.",
        "namespace": SOURCE_HELP["namespace"],
        "context": SOURCE_HELP["context"],
    }
)
def snapshot(c, name, out=None, namespace="default", context=None):
    """Save an InferenceService's state (objects, events, logs) as files an instructor can diagnose."""
    if not out:
        raise WorkshopError(
            "diagnose.snapshot needs --out DIR: a new (or empty) directory for the files",
            hint=f"invoke diagnose.snapshot {name} --out {name}-snapshot",
        )
    check_output_dir(out)  # fail before touching the cluster
    snap = _snapshot(LiveSource(context), name, namespace, quiet=False)
    files = save_snapshot(snap, out)
    console.print(f"Saved {len(files)} files to {out} (secret-looking env values redacted).", markup=False)
    for item in snap.missing:
        console.print(f"  not saved: {item}", markup=False)
    console.print(
        f"Send it, e.g. as `tar czf {name}-snapshot.tgz -C {out} .`; it is read with "
        f"`invoke diagnose {name} --from-dir DIR`.",
        markup=False,
    )


@workshop_task(
    help={
        "name": "The InferenceService that was called.",
        "status": "The HTTP status code the call got, or 'none' when nothing answered.",
        "host": "The Host header the call sent.",
        "body": "The response body (or its start).",
        "path": "The URL path called, e.g. /v1/models/sklearn-iris:predict.",
        "error": "With --status none: the client's error (e.g. 'Connection refused').",
        **SOURCE_HELP,
    }
)
def call(
    c,
    name,
    status=None,
    host=None,
    body="",
    path=None,
    error=None,
    namespace=None,
    context=None,
    from_dir=None,
    json_=False,
):
    """Explain a failed call to a model (404 from the gateway, wrong model name, not JSON, ...)."""
    if status is None:
        raise WorkshopError(
            "diagnose.call needs --status: the HTTP status the call got, or 'none'",
            hint=f"invoke diagnose.call {name} --status 404 --host HOST",
        )
    text = str(status).strip().lower()
    if text not in ("none", "0") and not (text.isdigit() and 100 <= int(text) <= 599):
        raise WorkshopError(f"--status must be an HTTP status code (100-599) or 'none', not {status!r}")
    code = None if text in ("none", "0") else int(text)
    snap = _snapshot(_source(from_dir, context), name, namespace, quiet=json_)
    status_url = (snap.isvc.get("status") or {}).get("url")
    _print(diagnose_call(code, body, host=host, status_url=status_url, path=path, model_name=name, error=error), json_)


namespace = Collection("diagnose")
namespace.add_task(explain, default=True)  # `invoke diagnose NAME` runs `explain`
namespace.add_task(snapshot)
namespace.add_task(call)
