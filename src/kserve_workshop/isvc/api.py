"""InferenceServices on a cluster: get, apply (create or replace), patch, promote, roll back and delete
them; read their traffic split.

Objects go to the API server as plain dicts through the kubernetes client's ``CustomObjectsApi``
(``kube.client``): the KServe SDK's ``create``/``patch``/``replace`` take its model objects, and
deserialising a learner's YAML into model objects silently drops fields the models do not know
(a misspelt field would vanish instead of being refused by the API server). Every function takes
``context`` (kube context; the current one when None) and, for tests of its logic, ``api`` (an
object with ``CustomObjectsApi``'s methods). API failures are ``kube.errors``' family.
"""

from __future__ import annotations

import copy
import time
from typing import Callable, Mapping

from ..errors import WorkshopError
from ..kube.client import custom_objects_api
from ..kube.errors import AlreadyExists, ApiUnavailable, NotFound, api_errors
from ..namespace import manifest_namespace, workshop_namespace
from .manifest import GROUP, PLURAL, VERSION, check_isvc_shape, promotion_manifest, rollback_patch
from .status import TrafficTarget, traffic_from_status

__all__ = [
    "ApiUnavailable",
    "IsvcExists",
    "IsvcNotFound",
    "apply_isvc",
    "delete_isvc",
    "get_isvc",
    "get_traffic",
    "patch_isvc",
    "promote",
    "replace_isvc",
    "rollback",
]

#: The InferenceService does not exist (``kube.errors.NotFound``).
IsvcNotFound = NotFound
#: Create refused: an object with that name already exists (``kube.errors.AlreadyExists``).
IsvcExists = AlreadyExists

_NOT_FOUND_HINT = "check the name and namespace (`kubectl get isvc -A` lists InferenceServices)"
_REJECTED_HINT = "validate the manifest first: kserve_workshop.validate"


def _api_errors(action: str):
    """``kube.errors.api_errors`` with the hints that fit InferenceServices."""
    return api_errors(action, not_found_hint=_NOT_FOUND_HINT, rejected_hint=_REJECTED_HINT)


def get_isvc(name: str, namespace: str | None = None, *, context: str | None = None, api=None) -> dict:
    """The InferenceService as the API returns it (a dict with ``status``)."""
    namespace = workshop_namespace(namespace)
    api = api or custom_objects_api(context)
    with _api_errors(f"get InferenceService {namespace}/{name}"):
        return api.get_namespaced_custom_object(GROUP, VERSION, namespace, PLURAL, name)


def _namespace_for(manifest: Mapping, namespace: str | None) -> str:
    return manifest_namespace((manifest.get("metadata") or {}).get("namespace"), namespace)


def apply_isvc(manifest: Mapping, namespace: str | None = None, *, context: str | None = None, api=None) -> dict:
    """Create the InferenceService, or replace it when it exists; returns the object the API stored.

    The returned ``metadata.generation`` is what ``wait_ready(expected_generation=...)`` waits for.
    """
    check_isvc_shape(manifest)
    namespace = _namespace_for(manifest, namespace)
    api = api or custom_objects_api(context)
    body = _body(manifest, namespace)
    try:
        with _api_errors(f"create InferenceService {namespace}/{body['metadata']['name']}"):
            return api.create_namespaced_custom_object(GROUP, VERSION, namespace, PLURAL, body)
    except IsvcExists:
        return replace_isvc(manifest, namespace, api=api)


#: Metadata that others put on the live object (KServe its finalizer, tools their labels and
#: annotations) and that a PUT of the manifest alone would remove.
_CARRIED_METADATA = ("finalizers", "ownerReferences")


def replace_isvc(manifest: Mapping, namespace: str | None = None, *, context: str | None = None, api=None) -> dict:
    """PUT the manifest's spec over the existing object (spec fields absent from it are removed).

    Metadata is carried over from the live object: its labels and annotations stay unless the
    manifest sets them (to remove one, ``patch_isvc`` it to None), and its finalizers and owner
    references stay as they are. A manifest that already has a ``resourceVersion`` is a live
    object being changed (``promote``): it is sent as it is, so the PUT fails on a concurrent change.
    """
    check_isvc_shape(manifest)
    namespace = _namespace_for(manifest, namespace)
    api = api or custom_objects_api(context)
    body = _body(manifest, namespace)
    name = body["metadata"]["name"]
    if not body["metadata"].get("resourceVersion"):
        live = get_isvc(name, namespace, api=api).get("metadata") or {}
        metadata = body["metadata"]
        for key in ("labels", "annotations"):
            merged = {**(live.get(key) or {}), **(metadata.get(key) or {})}
            if merged:
                metadata[key] = merged
        for key in _CARRIED_METADATA:
            if live.get(key) and key not in metadata:
                metadata[key] = live[key]
        metadata["resourceVersion"] = live["resourceVersion"]
    with _api_errors(f"replace InferenceService {namespace}/{name}"):
        return api.replace_namespaced_custom_object(GROUP, VERSION, namespace, PLURAL, name, body)


def patch_isvc(
    name: str, patch: Mapping, namespace: str | None = None, *, context: str | None = None, api=None
) -> dict:
    """Apply a JSON merge patch (e.g. ``rollback_patch()``); returns the patched object."""
    namespace = workshop_namespace(namespace)
    if not isinstance(patch, Mapping) or not patch:
        raise WorkshopError("a patch must be a non-empty mapping, e.g. {'spec': {'predictor': {...}}}")
    api = api or custom_objects_api(context)
    with _api_errors(f"patch InferenceService {namespace}/{name}"):
        return api.patch_namespaced_custom_object(GROUP, VERSION, namespace, PLURAL, name, dict(patch))


def promote(name: str, namespace: str | None = None, *, context: str | None = None, api=None) -> dict:
    """Send all traffic to the latest revision: replace the object without ``canaryTrafficPercent``.

    See ``promotion_manifest`` for why this is a replace and not a patch.
    """
    namespace = workshop_namespace(namespace)
    api = api or custom_objects_api(context)
    current = get_isvc(name, namespace, api=api)
    return replace_isvc(promotion_manifest(current), namespace, api=api)


def rollback(name: str, namespace: str | None = None, *, context: str | None = None, api=None) -> dict:
    """Send all traffic back to the previous rolled-out revision (``canaryTrafficPercent: 0``)."""
    namespace = workshop_namespace(namespace)
    return patch_isvc(name, rollback_patch(), namespace, context=context, api=api)


def delete_isvc(
    name: str,
    namespace: str | None = None,
    *,
    context: str | None = None,
    api=None,
    missing_ok: bool = True,
    wait: bool = False,
    timeout: float = 120,
    sleep: Callable[[float], None] = time.sleep,
    clock: Callable[[], float] = time.monotonic,
) -> bool:
    """Delete the InferenceService; True when it existed. With ``wait``, until it is gone (bounded)."""
    namespace = workshop_namespace(namespace)
    api = api or custom_objects_api(context)
    try:
        with _api_errors(f"delete InferenceService {namespace}/{name}"):
            api.delete_namespaced_custom_object(GROUP, VERSION, namespace, PLURAL, name)
    except IsvcNotFound:
        if missing_ok:
            return False
        raise
    if wait:
        deadline = clock() + timeout
        while True:
            try:
                get_isvc(name, namespace, api=api)
            except IsvcNotFound:
                break
            if clock() >= deadline:
                raise WorkshopError(
                    f"InferenceService {namespace}/{name} still exists {timeout:.0f}s after delete",
                    hint=f"kubectl get isvc {name} -n {namespace} -o yaml (look at finalizers)",
                )
            sleep(2)
    return True


def _body(manifest: Mapping, namespace: str) -> dict:
    body = copy.deepcopy(dict(manifest))
    body.pop("status", None)
    body.setdefault("metadata", {})["namespace"] = namespace
    return body


def get_traffic(
    name: str, namespace: str | None = None, *, context: str | None = None, api=None
) -> list[TrafficTarget]:
    """The traffic split KServe reports in ``status.components.predictor.traffic``."""
    namespace = workshop_namespace(namespace)
    return traffic_from_status(get_isvc(name, namespace, context=context, api=api))
