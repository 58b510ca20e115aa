"""What diagnosis reads: one InferenceService and the objects around it, as plain JSON-shaped dicts.

A ``Snapshot`` holds the objects exactly as ``kubectl get ... -o json`` prints them (camelCase keys),
whether they came from a live cluster or from a saved directory, so the rules never care where
the state came from. The helpers below read conditions and container states out of those dicts.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Iterator

from ..kube.conditions import condition as kube_condition

#: Label KServe puts on everything it creates for an InferenceService (ksvc, route, revisions, pods).
ISVC_LABEL = "serving.kserve.io/inferenceservice"
MODEL_CONTAINER = "kserve-container"
STORAGE_INITIALIZER = "storage-initializer"
QUEUE_PROXY = "queue-proxy"


@dataclass(frozen=True)
class LogKey:
    """Which log: a pod's container, this run or the previous (crashed) one."""

    pod: str
    container: str
    previous: bool = False

    def describe(self) -> str:
        return f"{self.pod}/{self.container}" + (" (previous run)" if self.previous else "")


@dataclass
class Snapshot:
    """The state of one InferenceService and its surroundings at one moment."""

    name: str
    namespace: str
    isvc: dict[str, Any]
    ksvcs: list[dict] = field(default_factory=list)
    revisions: list[dict] = field(default_factory=list)
    routes: list[dict] = field(default_factory=list)
    pods: list[dict] = field(default_factory=list)
    #: Events of the namespace; ``related_events()`` keeps those about this InferenceService.
    events: list[dict] = field(default_factory=list)
    namespace_obj: dict | None = None
    logs: dict[LogKey, str] = field(default_factory=dict)
    #: Where the snapshot came from (a directory, a kube context), for the report.
    origin: str = ""
    #: What could not be gathered, each with the reason (shown so a diagnosis is never silently partial).
    missing: list[str] = field(default_factory=list)

    def related_events(self) -> list[dict]:
        """Events about the InferenceService and its children (all named ``<name>-...``), oldest first."""
        prefix = f"{self.name}-"
        related = [
            e
            for e in self.events
            if (name := (e.get("involvedObject") or {}).get("name", "")) == self.name or name.startswith(prefix)
        ]
        return sorted(related, key=event_time)

    def log(self, pod: str, container: str) -> tuple[LogKey, str] | None:
        """The most telling log of a container: the previous run's when it crashed, else the current one."""
        for previous in (True, False):
            key = LogKey(pod, container, previous)
            if self.logs.get(key):
                return key, self.logs[key]
        return None


def name_of(obj: dict) -> str:
    return (obj.get("metadata") or {}).get("name", "?")


def ref(obj: dict) -> str:
    """``Kind namespace/name``, how the report names an object."""
    meta = obj.get("metadata") or {}
    return f"{obj.get('kind', 'Object')} {meta.get('namespace', '')}/{meta.get('name', '?')}".replace(" /", " ")


def conditions(obj: dict | None) -> list[dict]:
    return list(((obj or {}).get("status") or {}).get("conditions") or [])


def condition(obj: dict | None, ctype: str) -> dict | None:
    return kube_condition(obj, ctype)


def is_true(cond: dict | None) -> bool:
    return bool(cond) and cond.get("status") == "True"


def is_false(cond: dict | None) -> bool:
    return bool(cond) and cond.get("status") == "False"


def condition_path(ctype: str, attr: str = "reason") -> str:
    """The field a condition's attribute lives at, as evidence cites it."""
    return f"status.conditions[type={ctype}].{attr}"


def container_statuses(pod: dict, *, init: bool = False) -> list[dict]:
    key = "initContainerStatuses" if init else "containerStatuses"
    return list((pod.get("status") or {}).get(key) or [])


def container_status(pod: dict, container: str) -> tuple[str, dict] | None:
    """``(field path, status)`` of a named container, init containers included."""
    for init in (True, False):
        key = "initContainerStatuses" if init else "containerStatuses"
        for status in container_statuses(pod, init=init):
            if status.get("name") == container:
                return f"status.{key}[name={container}]", status
    return None


def container_spec(pod: dict, container: str) -> dict | None:
    spec = pod.get("spec") or {}
    for item in (spec.get("initContainers") or []) + (spec.get("containers") or []):
        if item.get("name") == container:
            return item
    return None


def all_statuses(pod: dict) -> Iterator[tuple[str, dict]]:
    """Every container status of a pod with its field path (init containers first)."""
    for init in (True, False):
        key = "initContainerStatuses" if init else "containerStatuses"
        for status in container_statuses(pod, init=init):
            yield f"status.{key}[name={status.get('name')}]", status


def event_time(event: dict) -> str:
    """Sort key for events (ISO timestamps sort as text)."""
    return (
        event.get("lastTimestamp")
        or event.get("eventTime")
        or event.get("firstTimestamp")
        or (event.get("metadata") or {}).get("creationTimestamp")
        or ""
    )


def storage_uri(isvc: dict) -> str | None:
    """The predictor's storageUri (model spec or the older framework-specific specs)."""
    predictor = (isvc.get("spec") or {}).get("predictor") or {}
    model = predictor.get("model") or {}
    if model.get("storageUri"):
        return model["storageUri"]
    for value in predictor.values():
        if isinstance(value, dict) and value.get("storageUri"):
            return value["storageUri"]
    return None


def model_spec(isvc: dict) -> dict:
    return ((isvc.get("spec") or {}).get("predictor") or {}).get("model") or {}
