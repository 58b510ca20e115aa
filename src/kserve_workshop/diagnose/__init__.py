"""Why is an InferenceService not Ready? Plain words, the fix, and the evidence.

``diagnose_isvc(name, namespace, source=...)`` reads a snapshot (a live cluster through
``LiveSource``, or a saved directory through ``DirSource``), runs the rules and returns a ranked
``Diagnosis``. ``explain_not_ready`` is what readiness waits call on timeout: it never raises.
``diagnose_call`` explains a failed HTTP call (wrong Host, wrong model name, not JSON, ...).
"""

from __future__ import annotations

from ..errors import WorkshopError
from ..namespace import workshop_namespace
from .calls import diagnose_call
from .engine import diagnose_snapshot
from .findings import Diagnosis, Evidence, Finding
from .render import print_diagnosis, render_json, render_text
from .rules import RULES, findings_from_error_text
from .snapshot import Snapshot
from .sources import DirSource, LiveSource, save_snapshot

__all__ = [
    "Diagnosis",
    "DirSource",
    "Evidence",
    "Finding",
    "LiveSource",
    "RULES",
    "Snapshot",
    "diagnose_call",
    "diagnose_isvc",
    "diagnose_snapshot",
    "explain_call_failure",
    "explain_not_ready",
    "findings_from_error_text",
    "print_diagnosis",
    "render_json",
    "render_text",
    "save_snapshot",
]


def diagnose_isvc(name: str, namespace: str | None = "default", *, source) -> Diagnosis:
    """Diagnose one InferenceService from ``source`` (``LiveSource(context)`` or ``DirSource(dir)``).

    Raises WorkshopError when the state cannot be read (no kubeconfig, no such object, bad files).
    """
    if not name or not isinstance(name, str):
        raise WorkshopError("diagnose needs the InferenceService's name")
    return diagnose_snapshot(source.snapshot(name, namespace))


def _manual_steps(name: str, namespace: str) -> str:
    return (
        "Look yourself with:\n"
        f"  kubectl describe inferenceservice {name} -n {namespace}\n"
        f"  kubectl get pods -n {namespace} -l serving.kserve.io/inferenceservice={name}\n"
        f"  kubectl get events -n {namespace} --sort-by=.lastTimestamp"
    )


def explain_not_ready(name: str, namespace: str | None = None, context: str | None = None) -> str:
    """Why ``name`` is not Ready, as plain text. Never raises: when it cannot look, it says why."""
    try:
        namespace = workshop_namespace(namespace)
        return render_text(diagnose_isvc(name, namespace, source=LiveSource(context, timeout=5)))
    except WorkshopError as exc:
        return (
            f"Could not diagnose InferenceService {namespace}/{name}: {exc.message}\n"
            + (f"hint: {exc.hint}\n" if exc.hint else "")
            + _manual_steps(name, namespace)
        )
    except Exception as exc:  # noqa: BLE001 - a wait's error message must never be replaced by a crash here
        return (
            f"Could not diagnose InferenceService {namespace}/{name} ({type(exc).__name__}: {exc}).\n"
            + _manual_steps(name, namespace)
        )


def explain_call_failure(status_code: int | None, body: str = "", **details) -> str:
    """``diagnose_call`` as plain text, for a client's error message. Never raises."""
    try:
        return render_text(diagnose_call(status_code, body, **details))
    except Exception as exc:  # noqa: BLE001 - an explanation must not turn one error into two
        return f"(could not explain the failed call: {type(exc).__name__}: {exc})\n"
