"""Reading an InferenceService's status: readiness (for a generation), conditions, the traffic
split and its tagged routes, the Host header of ``status.url``. (``kubectl get isvc`` itself prints
the summary table: the labs run it.)

Pure functions over the object as the API returns it (``kubectl get isvc -o json`` shape).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Mapping
from urllib.parse import urlparse

from ..errors import WorkshopError
from ..kube.conditions import condition as kube_condition
from .rollout import rolled_out


def condition(isvc: Mapping, kind: str = "Ready") -> dict | None:
    """The status condition of the given type, or None."""
    return kube_condition(isvc, kind)


def is_ready(isvc: Mapping, expected_generation: int | None = None) -> bool:
    """Ready=True with every component's latest revision ready, and (when given) ``status.observedGeneration``
    at least ``expected_generation``.

    ``status.observedGeneration`` is copied from the Knative Service of the last component KServe
    reconciled, not the InferenceService's own (see ``isvc.rollout``): it tells a predictor-only
    InferenceService's rollout, never a transformer's, so with a transformer or explainer and an
    ``expected_generation`` this is False; ``wait_ready`` decides those by watching the rollout move.
    """
    return rolled_out(isvc, expected_generation)


def describe_conditions(isvc: Mapping) -> str:
    """Conditions as readable lines (the fallback explanation when ``diagnose`` is unavailable)."""
    status = isvc.get("status") or {}
    lines = []
    for item in status.get("conditions") or []:
        detail = ": ".join(part for part in (item.get("reason"), item.get("message")) if part)
        lines.append(f"  {item.get('type')}={item.get('status')}" + (f" ({detail})" if detail else ""))
    transition = (status.get("modelStatus") or {}).get("transitionStatus")
    if transition:
        lines.append(f"  modelStatus.transitionStatus={transition}")
    return "\n".join(lines) if lines else "  no status conditions yet (the controller has not reconciled it)"


@dataclass(frozen=True)
class TrafficTarget:
    """One entry of ``status.components.predictor.traffic``."""

    revision_name: str | None
    percent: int
    latest_revision: bool
    tag: str | None = None
    url: str | None = None


def traffic_from_status(isvc: Mapping) -> list[TrafficTarget]:
    """The predictor's traffic split as reported by KServe (empty when not reported yet)."""
    predictor = ((isvc.get("status") or {}).get("components") or {}).get("predictor") or {}
    targets = []
    for entry in predictor.get("traffic") or []:
        targets.append(
            TrafficTarget(
                revision_name=entry.get("revisionName"),
                # Knative omits a zero percent from the serialised object.
                percent=int(entry.get("percent") or 0),
                latest_revision=bool(entry.get("latestRevision")),
                tag=entry.get("tag"),
                url=entry.get("url"),
            )
        )
    return targets


def traffic_by_role(isvc: Mapping) -> dict[str, TrafficTarget]:
    """``{"latest": ..., "prev": ...}``: the latest revision's entry and the previous rolled-out one."""
    roles: dict[str, TrafficTarget] = {}
    for target in traffic_from_status(isvc):
        if target.latest_revision and "latest" not in roles:
            roles["latest"] = target
        elif target.tag == "prev":
            roles["prev"] = target
    return roles


def tagged_hosts(isvc: Mapping) -> dict[str, str]:
    """Hosts of the tagged routes (``prev``, ``latest``), present with ``enable-tag-routing``.

    Taken from the ``url`` Knative reports for each tagged traffic target, never guessed.
    """
    return {
        target.tag: urlparse(target.url).netloc for target in traffic_from_status(isvc) if target.tag and target.url
    }


def host_from_status(isvc: Mapping) -> str:
    """The Host header that routes to this InferenceService: the netloc of ``status.url``."""
    url = (isvc.get("status") or {}).get("url")
    if not url:
        name = (isvc.get("metadata") or {}).get("name", "?")
        raise WorkshopError(
            f"InferenceService {name} has no status.url yet",
            hint="wait until it is Ready (serving.wait_ready) before calling it",
        )
    return urlparse(url).netloc
