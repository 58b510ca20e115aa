"""The shape a saved snapshot must have before the rules read it.

A saved directory is anyone's files: a hand-edited ``pods.json`` whose ``status`` is a string, a
``metadata: null``, a Service saved as ``pods.json``. The rules read fields with ``.get`` on what
they expect to be mappings and lists; wrong types there would end in a traceback (or, worse, a
wrong kind of object would be diagnosed as a pod). ``check_objects`` refuses such files with one
message naming the file, the field and what it should be.

The schemas cover only the fields diagnosis reads (types as Kubernetes, Knative and KServe define
them); every other field may be anything, so real ``kubectl get -o json`` output always passes.
"""

from __future__ import annotations

from typing import Any

import jsonschema

from ..errors import WorkshopError

_STR = {"type": "string"}
_OPT_STR = {"type": ["string", "null"]}
_STR_MAP = {"type": ["object", "null"], "additionalProperties": {"type": ["string", "null"]}}
_METADATA = {
    "type": "object",
    "properties": {
        "name": _STR,
        "namespace": _STR,
        "labels": _STR_MAP,
        "annotations": _STR_MAP,
        "creationTimestamp": _OPT_STR,
        "deletionTimestamp": _OPT_STR,
        "finalizers": {"type": ["array", "null"], "items": _STR},
    },
}
_CONDITIONS = {
    "type": ["array", "null"],
    "items": {
        "type": "object",
        "properties": {"type": _STR, "status": _STR, "reason": _OPT_STR, "message": _OPT_STR},
    },
}
_STATUS = {"type": ["object", "null"], "properties": {"conditions": _CONDITIONS}}
_CONTAINER_STATE = {
    "type": ["object", "null"],
    "properties": {
        "waiting": {"type": ["object", "null"], "properties": {"reason": _OPT_STR, "message": _OPT_STR}},
        "running": {"type": ["object", "null"]},
        "terminated": {
            "type": ["object", "null"],
            "properties": {"exitCode": {"type": ["integer", "null"]}, "reason": _OPT_STR, "message": _OPT_STR},
        },
    },
}
_CONTAINER_STATUSES = {
    "type": ["array", "null"],
    "items": {
        "type": "object",
        "properties": {
            "name": _STR,
            "image": _OPT_STR,
            "ready": {"type": ["boolean", "null"]},
            "restartCount": {"type": ["integer", "null"]},
            "state": _CONTAINER_STATE,
            "lastState": _CONTAINER_STATE,
        },
    },
}
_CONTAINERS = {
    "type": ["array", "null"],
    "items": {
        "type": "object",
        "properties": {
            "name": _STR,
            "image": _OPT_STR,
            "env": {"type": ["array", "null"], "items": {"type": "object"}},
            "resources": {
                "type": ["object", "null"],
                "properties": {"requests": {"type": ["object", "null"]}, "limits": {"type": ["object", "null"]}},
            },
        },
    },
}


def _object(kind: str, *, spec: dict | None = None, status: dict | None = None) -> dict:
    properties: dict[str, Any] = {"kind": {"const": kind}, "metadata": _METADATA}
    if spec is not None:
        properties["spec"] = spec
    properties["status"] = status or _STATUS
    return {"type": "object", "required": ["metadata"], "properties": properties}


_ISVC = _object(
    "InferenceService",
    spec={
        "type": ["object", "null"],
        "properties": {
            "predictor": {
                "type": ["object", "null"],
                "properties": {
                    "model": {
                        "type": ["object", "null"],
                        "properties": {
                            "modelFormat": {"type": ["object", "null"], "properties": {"name": _STR}},
                            "runtime": _OPT_STR,
                            "storageUri": _OPT_STR,
                            "protocolVersion": _OPT_STR,
                        },
                    }
                },
            }
        },
    },
    status={
        "type": ["object", "null"],
        "properties": {
            "conditions": _CONDITIONS,
            "url": _OPT_STR,
            "components": {"type": ["object", "null"], "additionalProperties": {"type": ["object", "null"]}},
            "modelStatus": {
                "type": ["object", "null"],
                "properties": {
                    "transitionStatus": _OPT_STR,
                    "lastFailureInfo": {
                        "type": ["object", "null"],
                        "properties": {
                            "reason": _OPT_STR,
                            "message": _OPT_STR,
                            "exitCode": {"type": ["integer", "null"]},
                        },
                    },
                },
            },
        },
    },
)
_POD = _object(
    "Pod",
    spec={"type": ["object", "null"], "properties": {"containers": _CONTAINERS, "initContainers": _CONTAINERS}},
    status={
        "type": ["object", "null"],
        "properties": {
            "phase": _OPT_STR,
            "conditions": _CONDITIONS,
            "containerStatuses": _CONTAINER_STATUSES,
            "initContainerStatuses": _CONTAINER_STATUSES,
        },
    },
)
_EVENT = {
    "type": "object",
    "properties": {
        "kind": {"const": "Event"},
        "metadata": {"type": ["object", "null"]},
        "involvedObject": {"type": ["object", "null"], "properties": {"kind": _OPT_STR, "name": _OPT_STR}},
        "reason": _OPT_STR,
        "message": _OPT_STR,
        "count": {"type": ["integer", "null"]},
        "lastTimestamp": _OPT_STR,
        "eventTime": _OPT_STR,
        "firstTimestamp": _OPT_STR,
    },
}

#: Per saved file: the API group and kind its objects must be, and the shape of what diagnosis reads.
SHAPES: dict[str, tuple[str, str, dict]] = {
    "inferenceservice.json": ("serving.kserve.io", "InferenceService", _ISVC),
    "ksvc.json": ("serving.knative.dev", "Service", _object("Service")),
    "revisions.json": ("serving.knative.dev", "Revision", _object("Revision")),
    "routes.json": ("serving.knative.dev", "Route", _object("Route")),
    "pods.json": ("", "Pod", _POD),
    "events.json": ("", "Event", _EVENT),
    "namespace.json": ("", "Namespace", _object("Namespace")),
}
_VALIDATORS = {name: jsonschema.Draft202012Validator(schema) for name, (_, _, schema) in SHAPES.items()}
_TYPE_WORDS = {
    "object": "an object",
    "array": "a list",
    "string": "a string",
    "integer": "a whole number",
    "boolean": "true or false",
    "null": "null",
}


def _a(word: str) -> str:
    return ("an " if word[:1].lower() in "aeiou" else "a ") + word


def _where(path) -> str:
    text = ""
    for part in path:
        text += f"[{part}]" if isinstance(part, int) else f".{part}" if text else str(part)
    return text or "the object"


def _clip(value: Any, limit: int = 60) -> str:
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _problem(error: jsonschema.ValidationError) -> str:
    if error.validator == "type":
        wanted = error.validator_value if isinstance(error.validator_value, list) else [error.validator_value]
        words = " or ".join(_TYPE_WORDS.get(t, t) for t in wanted if t != "null")
        return f"must be {words}, not {_clip(error.instance)}"
    if error.validator == "required":
        return f"has no {error.message.split(' ')[0]}"
    return error.message


def check_objects(filename: str, items: list[dict], label: str, *, hint: str) -> None:
    """WorkshopError when an object of ``filename`` is of another kind or has a field of the wrong type."""
    group, kind, _ = SHAPES[filename]
    validator = _VALIDATORS[filename]
    for index, item in enumerate(items):
        where = f"{label}, item {index}"
        found_kind, api_version = item.get("kind"), item.get("apiVersion")
        found_group = api_version.rpartition("/")[0] if isinstance(api_version, str) else None
        if (found_kind is not None and found_kind != kind) or (found_group is not None and found_group != group):
            found = f"{found_kind or 'object'}" + (f" ({api_version})" if api_version else "")
            wanted = f"{kind} objects" + (f" of {group}" if group else "")
            raise WorkshopError(f"{where} is {_a(found)}, but {filename} holds {wanted}", hint=hint)
        error = jsonschema.exceptions.best_match(validator.iter_errors(item))
        if error is not None:
            raise WorkshopError(f"{where}: {_where(error.absolute_path)} {_problem(error)}", hint=hint)


#: snapshot.json, written by `invoke diagnose.snapshot`.
_META = jsonschema.Draft202012Validator(
    {
        "type": "object",
        "properties": {
            "name": _STR,
            "namespace": _STR,
            "origin": _STR,
            "saved_at": _STR,
            "missing": {"type": "array", "items": _STR},
        },
    }
)


def check_meta(meta: Any, label: str, *, hint: str) -> None:
    """WorkshopError when ``snapshot.json`` is not what `invoke diagnose.snapshot` writes."""
    error = jsonschema.exceptions.best_match(_META.iter_errors(meta))
    if error is not None:
        raise WorkshopError(f"{label}: {_where(error.absolute_path)} {_problem(error)}", hint=hint)
