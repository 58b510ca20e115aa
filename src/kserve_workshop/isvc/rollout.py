"""When is an InferenceService Ready *for the change just applied*? Pure functions over its status.

What KServe v0.20 reports (kserve ``pkg/apis/serving/v1beta1/inference_service_status.go``,
``PropagateStatus``), and why Ready=True alone is not enough:

- Right after a change the old ``Ready=True`` is still there, until the controller has acted.
- ``status.observedGeneration`` is not the InferenceService's own: KServe copies it from the Knative
  Service of each component it reconciles (predictor, then transformer, then explainer), so it is
  the generation of the *last* component's Knative Service. For a predictor-only InferenceService
  it follows the InferenceService's generation (one Knative Service change per spec change); with a
  transformer it is the transformer's, which a predictor-only change never moves.
- ``status.components.<component>.latestCreatedRevision`` / ``latestReadyRevision`` say whether
  each component's newest revision is up; ``traffic`` says where requests go.

So a change has rolled out when Ready=True, every component's latest created revision is its
latest ready one, and the controller has visibly acted on the change: its observedGeneration
reached the applied generation (predictor-only), or the rollout state moved since the wait began
(a new revision, a new split, another observedGeneration). A transformer InferenceService whose
change moved nothing visible is accepted once the state has stood still for a while.
"""

from __future__ import annotations

from typing import Any, Mapping

#: Components besides the predictor; with any of them, observedGeneration is not the predictor's.
OTHER_COMPONENTS = ("transformer", "explainer")


def _status(isvc: Mapping) -> Mapping:
    status = isvc.get("status") if isinstance(isvc, Mapping) else None
    return status if isinstance(status, Mapping) else {}


def components(isvc: Mapping) -> dict[str, Mapping]:
    found = _status(isvc).get("components")
    return (
        {name: value for name, value in (found or {}).items() if isinstance(value, Mapping)}
        if isinstance(found, Mapping)
        else {}
    )


def ready_condition_true(isvc: Mapping) -> bool:
    for item in _status(isvc).get("conditions") or []:
        if isinstance(item, Mapping) and item.get("type") == "Ready":
            return str(item.get("status", "")).lower() == "true"
    return False


def revisions_settled(isvc: Mapping) -> bool:
    """Every component's latest created revision is also its latest ready one (when both are reported)."""
    for component in components(isvc).values():
        created, ready = component.get("latestCreatedRevision"), component.get("latestReadyRevision")
        if created and ready and created != ready:
            return False
    return True


def has_other_components(isvc: Mapping) -> bool:
    """True for an InferenceService with a transformer or explainer (in its spec or its status)."""
    spec = isvc.get("spec") if isinstance(isvc.get("spec"), Mapping) else {}
    return any(spec.get(name) for name in OTHER_COMPONENTS) or any(
        name in components(isvc) for name in OTHER_COMPONENTS
    )


def observed_generation(isvc: Mapping) -> int:
    value = _status(isvc).get("observedGeneration")
    return value if isinstance(value, int) and not isinstance(value, bool) else 0


def rollout_state(isvc: Mapping) -> tuple[Any, ...]:
    """What moves while KServe acts on a change: Ready, observedGeneration, revisions, traffic."""
    per_component = []
    for name, component in sorted(components(isvc).items()):
        traffic = tuple(
            (t.get("revisionName"), t.get("percent"), t.get("tag"), bool(t.get("latestRevision")))
            for t in component.get("traffic") or []
            if isinstance(t, Mapping)
        )
        per_component.append(
            (name, component.get("latestCreatedRevision"), component.get("latestReadyRevision"), traffic)
        )
    return ready_condition_true(isvc), observed_generation(isvc), tuple(per_component)


def rolled_out(isvc: Mapping, expected_generation: int | None, *, moved: bool = False, settled: bool = False) -> bool:
    """Ready for the change that produced ``expected_generation``.

    ``moved``: the rollout state differs from the one seen when the wait began. ``settled``: it has
    stood still long enough that a transformer InferenceService's change evidently created nothing
    new to wait for.
    """
    if not ready_condition_true(isvc) or not revisions_settled(isvc):
        return False
    if expected_generation is None:
        return True
    if not has_other_components(isvc):
        return observed_generation(isvc) >= expected_generation or moved
    return moved or settled
