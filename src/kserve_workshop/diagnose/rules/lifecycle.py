"""Rules about where the InferenceService is in its life: not reconciled, starting, stopped, failed revision."""

from __future__ import annotations

from ..findings import Evidence, Finding
from ..snapshot import (
    STORAGE_INITIALIZER,
    Snapshot,
    all_statuses,
    condition,
    conditions,
    is_false,
    is_true,
    name_of,
    ref,
)
from .helpers import (
    ABSENT,
    all_conditions,
    clip,
    condition_evidence,
    failing_termination,
    isvc_ready,
)


def revision_failed(snap: Snapshot) -> list[Finding]:
    """Generic: Knative marked the latest revision failed; cite its own reason and message."""
    evidence: list[Evidence] = []
    detail = ""
    for rev in snap.revisions:
        if not is_false(condition(rev, "Ready")):
            continue
        for ctype in ("ContainerHealthy", "ResourcesAvailable", "Ready"):
            cond = condition(rev, ctype)
            if is_false(cond):
                evidence += [condition_evidence(rev, cond), condition_evidence(rev, cond, "message")]
                detail = detail or f"{name_of(rev)}: {cond.get('reason')}: {clip(cond.get('message', ''), 200)}"
                break
    for obj, cond in all_conditions(snap):
        if (
            obj.get("kind") != "Revision"
            and is_false(cond)
            and cond.get("reason") in {"RevisionFailed", "RevisionMissing"}
        ):
            if len(evidence) < 6:
                evidence += [condition_evidence(obj, cond), condition_evidence(obj, cond, "message")]
            detail = detail or clip(cond.get("message", ""), 200)
    if not evidence:
        return []
    serving_old = any((k.get("status") or {}).get("latestReadyRevisionName") for k in snap.ksvcs)
    return [
        Finding(
            "revision-failed",
            "The predictor's latest Knative revision failed",
            f"Knative could not make the latest revision ready ({detail})."
            + (" Traffic stays on the last revision that was ready." if serving_old else ""),
            [
                "The revision's reason above (and any other finding here) names what to fix in the spec.",
                f"kubectl get revisions -n {snap.namespace} -l serving.kserve.io/inferenceservice={snap.name}",
                "After fixing the InferenceService, applying it creates a new revision.",
            ],
            evidence[:6],
            0.5,
        )
    ]


def not_reconciled(snap: Snapshot) -> list[Finding]:
    """The InferenceService has no status at all: KServe's controller has not processed it."""
    status = snap.isvc.get("status") or {}
    model_status = status.get("modelStatus") or {}
    if conditions(snap.isvc) or model_status.get("transitionStatus") or model_status.get("lastFailureInfo"):
        return []
    return [
        Finding(
            "not-reconciled",
            "KServe's controller has not processed this InferenceService",
            "The object exists but has no status: KServe's controller is not running, cannot reach the API, "
            "or the object was created a moment ago.",
            [
                "Check the controller: kubectl get pods -n kserve; kubectl logs -n kserve "
                "deployment/kserve-controller-manager --tail=50",
                "If it was just created, wait a few seconds and diagnose again.",
            ],
            [Evidence(ref(snap.isvc), "status" if not status else "status.conditions", ABSENT)],
            0.6,
        )
    ]


def stopped(snap: Snapshot) -> list[Finding]:
    cond = condition(snap.isvc, "Stopped")
    if not is_true(cond):
        return []
    return [
        Finding(
            "stopped",
            "The InferenceService is stopped on purpose",
            'Its annotation serving.kserve.io/stop is "true", so KServe removed its pods and routes.',
            [
                f"Resume it: kubectl annotate inferenceservice {snap.name} -n {snap.namespace} serving.kserve.io/stop=false --overwrite"
            ],
            [condition_evidence(snap.isvc, cond, "status")],
            0.95,
            "warning",
        )
    ]


STARTING_WAITS = {"ContainerCreating", "PodInitializing"}


def still_starting(snap: Snapshot) -> list[Finding]:
    """Nothing has failed: pods are being created, the model downloaded, or readiness awaited."""
    if isvc_ready(snap) or not conditions(snap.isvc):
        return []
    if any(is_false(cond) for _, cond in all_conditions(snap)):
        return []
    evidence = []
    for pod in snap.pods:
        for path, status in all_statuses(pod):
            if failing_termination(pod, status.get("name", "")):
                return []
            state = status.get("state") or {}
            if (state.get("waiting") or {}).get("reason") in STARTING_WAITS:
                evidence.append(Evidence(ref(pod), f"{path}.state.waiting.reason", state["waiting"]["reason"]))
            elif status.get("name") == STORAGE_INITIALIZER and state.get("running"):
                evidence.append(
                    Evidence(ref(pod), f"{path}.state.running.startedAt", str(state["running"].get("startedAt", "")))
                )
            elif state.get("running") and not status.get("ready"):
                evidence.append(Evidence(ref(pod), f"{path}.ready", str(status.get("ready", False))))
    ready = condition(snap.isvc, "Ready")
    if ready:
        evidence.append(condition_evidence(snap.isvc, ready, "status"))
    return [
        Finding(
            "still-starting",
            "Still starting: nothing has failed yet",
            "No condition is False and no container has failed: the predictor is still being created "
            "(pulling images, downloading the model, or waiting for the model server to answer readiness). "
            "A first start on a fresh kind cluster can take a few minutes.",
            [
                "Wait a little and diagnose again; if nothing changes for several minutes, the events "
                f"show what it waits for: kubectl get events -n {snap.namespace} --sort-by=.lastTimestamp"
            ],
            evidence[:5],
            0.3,
            "info",
        )
    ]
