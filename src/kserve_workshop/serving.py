"""InferenceService helpers: build or load a manifest, apply it, wait for it, read its status and
traffic, and reach the model through the Istio ingress.

Built on the KServe SDK (``KServeClient`` for the cluster connection, ``V1beta1*`` models to build
manifests). Objects go to the API server as plain dicts through the SDK's ``CustomObjectsApi``:
the SDK's own ``create``/``patch``/``replace`` need model objects, and deserialising a learner's
YAML into model objects would silently drop misspelt fields (platform-facts 5 and 9).

Everything that only reads or builds data (``build_isvc``, ``is_ready``, ``traffic_from_status``,
``status_row``, ``host_from_status``, ``promotion_manifest``...) is pure and unit-tested; functions
that talk to a cluster take ``context`` (kube context) and, for tests of their logic, ``api``
(an object with ``CustomObjectsApi``'s methods).
"""

from __future__ import annotations

import atexit
import copy
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import time
from contextlib import closing, contextmanager
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Callable, Iterator, Mapping
from urllib.parse import urlparse

import yaml

from .console import step
from .errors import WorkshopError
from .namespace import manifest_namespace, workshop_namespace
from .paths import REPO_ROOT, cache_dir

GROUP = "serving.kserve.io"
VERSION = "v1beta1"
API_VERSION = f"{GROUP}/{VERSION}"
KIND = "InferenceService"
PLURAL = "inferenceservices"

#: KServe's public iris models (scikit-learn, ``model.joblib``); model-2 is the canary sample's.
PUBLIC_IRIS_MODEL = "gs://kfserving-examples/models/sklearn/1.0/model"
PUBLIC_IRIS_MODEL_2 = "gs://kfserving-examples/models/sklearn/1.0/model-2"

#: Laptop-sized resources (KServe's CI uses the same); the default is 1 CPU / 2Gi per model.
DEFAULT_RESOURCES = {"requests": {"cpu": "50m", "memory": "128Mi"},
                     "limits": {"cpu": "100m", "memory": "256Mi"}}
SCALE_METRICS = ("cpu", "memory", "concurrency", "rps")
PROTOCOL_VERSIONS = ("v1", "v2")
STORAGE_SCHEMES = ("gs", "s3", "pvc", "http", "https", "hf", "oci", "hdfs", "webhdfs")
TAG_ROUTING_ANNOTATION = "serving.kserve.io/enable-tag-routing"

#: On kind the gateway is a NodePort (31080) mapped to this address by the kind config.
KIND_INGRESS_URL = "http://127.0.0.1:8080"
INGRESS_NAMESPACE = "istio-system"
INGRESS_SERVICE = "istio-ingressgateway"

# KServe's webhook accepts DNS-1035 labels as InferenceService names; the length bound is Knative's:
# the revision "<name>-predictor-00001" must still be a 63-character DNS label.
_NAME_RE = re.compile(r"^[a-z]([-a-z0-9]*[a-z0-9])?$")
_NAME_MAX = 63 - len("-predictor-00001")


# --------------------------------------------------------------------------------------------
# Building and loading manifests
# --------------------------------------------------------------------------------------------

def build_isvc(name: str, storage_uri: str, *, namespace: str | None = None,
               model_format: str = "sklearn", runtime: str | None = "kserve-sklearnserver",
               protocol_version: str | None = None, resources: Mapping | None = None,
               min_replicas: int | None = None, max_replicas: int | None = None,
               scale_target: int | None = None, scale_metric: str | None = None,
               canary_traffic_percent: int | None = None, service_account: str | None = None,
               annotations: Mapping[str, str] | None = None,
               env: Mapping[str, str] | None = None) -> dict:
    """An InferenceService manifest (a dict ready for the API or for YAML), built with the SDK's models.

    ``runtime`` defaults to KServe's own sklearn server: with ``protocol_version="v2"`` and no runtime
    KServe would pick MLServer, which has no arm64 image. ``resources`` defaults to
    ``DEFAULT_RESOURCES``. Bad arguments raise ``WorkshopError`` before anything is built.
    """
    _check_name(name)
    _check_storage_uri(storage_uri)
    if protocol_version is not None and protocol_version not in PROTOCOL_VERSIONS:
        raise WorkshopError(f"protocol_version must be one of {PROTOCOL_VERSIONS}, not {protocol_version!r}")
    if scale_metric is not None and scale_metric not in SCALE_METRICS:
        raise WorkshopError(f"scale_metric must be one of {', '.join(SCALE_METRICS)}, not {scale_metric!r}",
                            hint="the docs' 'qps' is not a valid metric; use 'rps'" if scale_metric == "qps" else None)
    _check_int("min_replicas", min_replicas, low=0)
    _check_int("max_replicas", max_replicas, low=1)
    _check_int("scale_target", scale_target, low=1)
    _check_int("canary_traffic_percent", canary_traffic_percent, low=0, high=100)
    if min_replicas is not None and max_replicas is not None and max_replicas < min_replicas:
        raise WorkshopError(f"max_replicas ({max_replicas}) is below min_replicas ({min_replicas})")
    resources = copy.deepcopy(dict(DEFAULT_RESOURCES if resources is None else resources))
    unknown = set(resources) - {"requests", "limits"}
    if unknown:
        raise WorkshopError(f"resources may only have 'requests' and 'limits', not {sorted(unknown)}")

    from kserve import (V1beta1InferenceService, V1beta1InferenceServiceSpec, V1beta1ModelFormat,
                        V1beta1ModelSpec, V1beta1PredictorSpec)
    from kubernetes.client import ApiClient, V1EnvVar, V1ObjectMeta, V1ResourceRequirements

    model = V1beta1ModelSpec(
        model_format=V1beta1ModelFormat(name=model_format), storage_uri=storage_uri, runtime=runtime,
        protocol_version=protocol_version,
        resources=V1ResourceRequirements(requests=resources.get("requests"), limits=resources.get("limits")),
        env=[V1EnvVar(name=key, value=str(value)) for key, value in env.items()] if env else None)
    predictor = V1beta1PredictorSpec(
        model=model, min_replicas=min_replicas, max_replicas=max_replicas, scale_target=scale_target,
        scale_metric=scale_metric, canary_traffic_percent=canary_traffic_percent,
        service_account_name=service_account)
    isvc = V1beta1InferenceService(
        api_version=API_VERSION, kind=KIND,
        metadata=V1ObjectMeta(name=name, namespace=namespace, annotations=dict(annotations) if annotations else None),
        spec=V1beta1InferenceServiceSpec(predictor=predictor))
    manifest = ApiClient().sanitize_for_serialization(isvc)
    # The SDK's ModelSpec serialises its (container) name as "" when unset; the webhook would
    # default it anyway, and an empty string only confuses a reader of the manifest.
    if not manifest["spec"]["predictor"]["model"].get("name"):
        manifest["spec"]["predictor"]["model"].pop("name", None)
    return manifest


def load_manifest(path: str | os.PathLike) -> dict:
    """Read one InferenceService from a YAML file (a relative path may be relative to the repo root)."""
    candidate = Path(path)
    if not candidate.is_absolute() and not candidate.exists() and (REPO_ROOT / candidate).exists():
        candidate = REPO_ROOT / candidate
    try:
        documents = [doc for doc in yaml.safe_load_all(candidate.read_text()) if doc is not None]
    except FileNotFoundError:
        raise WorkshopError(f"manifest not found: {path}") from None
    except yaml.YAMLError as exc:
        raise WorkshopError(f"{path} is not valid YAML: {exc}") from None
    if len(documents) != 1:
        raise WorkshopError(f"{path} must hold exactly one object, found {len(documents)}")
    manifest = documents[0]
    check_isvc_shape(manifest, source=str(path))
    return manifest


def check_isvc_shape(manifest: Any, *, source: str = "the manifest") -> None:
    """Refuse what is plainly not an InferenceService (full schema validation lives in ``validate``)."""
    if not isinstance(manifest, dict):
        raise WorkshopError(f"{source} must be a mapping (an object), not {type(manifest).__name__}")
    if manifest.get("apiVersion") != API_VERSION or manifest.get("kind") != KIND:
        raise WorkshopError(f"{source} is not an InferenceService (apiVersion {manifest.get('apiVersion')!r}, "
                            f"kind {manifest.get('kind')!r})", hint=f"use apiVersion: {API_VERSION} and kind: {KIND}")
    name = (manifest.get("metadata") or {}).get("name")
    if not name:
        raise WorkshopError(f"{source} has no metadata.name")
    _check_name(name)
    if not isinstance(manifest.get("spec"), dict) or not isinstance(manifest["spec"].get("predictor"), dict):
        raise WorkshopError(f"{source} has no spec.predictor")


def storage_uri_of(manifest: Mapping) -> str | None:
    """The predictor's model storageUri (None when the manifest has none)."""
    return ((manifest.get("spec") or {}).get("predictor") or {}).get("model", {}).get("storageUri")


def promotion_manifest(isvc: Mapping) -> dict:
    """The object to PUT to promote a canary: the same spec without ``canaryTrafficPercent``.

    Why a replace and not a patch: ``KServeClient.patch`` sends a JSON merge patch built from SDK
    model objects, whose serialiser drops fields set to None, so it cannot express the ``null`` a
    merge patch needs to delete a field, and a patch that simply omits the field leaves it in place.
    A PUT of the object without the field removes it. (Setting it to 100 also sends all traffic
    to the latest revision, but leaves a field in the spec that no longer means anything.)
    ``metadata.resourceVersion`` is kept so the PUT fails instead of overwriting a concurrent change.
    """
    check_isvc_shape(isvc)
    body = copy.deepcopy(dict(isvc))
    body.pop("status", None)
    body["spec"]["predictor"].pop("canaryTrafficPercent", None)
    return body


def rollback_patch() -> dict:
    """The merge patch that rolls a canary back: 0 % to the latest revision, 100 % to the previous one."""
    return {"spec": {"predictor": {"canaryTrafficPercent": 0}}}


def _check_name(name: Any) -> None:
    if not isinstance(name, str) or not _NAME_RE.match(name) or len(name) > _NAME_MAX:
        raise WorkshopError(f"invalid InferenceService name {name!r}",
                            hint="lowercase letters, digits and '-', starting with a letter, "
                                 f"at most {_NAME_MAX} characters")


def _check_storage_uri(uri: Any) -> None:
    scheme = urlparse(uri).scheme if isinstance(uri, str) else ""
    if scheme not in STORAGE_SCHEMES or not urlparse(uri).netloc:
        raise WorkshopError(f"invalid storage URI {uri!r}",
                            hint="e.g. gs://kfserving-examples/models/sklearn/1.0/model (schemes: "
                                 + ", ".join(STORAGE_SCHEMES) + ")")


def _check_int(label: str, value: Any, *, low: int, high: int | None = None) -> None:
    if value is None:
        return
    if isinstance(value, bool) or not isinstance(value, int) or value < low or (high is not None and value > high):
        bounds = f"between {low} and {high}" if high is not None else f">= {low}"
        raise WorkshopError(f"{label} must be an integer {bounds}, not {value!r}")


# --------------------------------------------------------------------------------------------
# Reading status (pure functions over the object the API returns)
# --------------------------------------------------------------------------------------------

def condition(isvc: Mapping, kind: str = "Ready") -> dict | None:
    """The status condition of the given type, or None."""
    for item in (isvc.get("status") or {}).get("conditions") or []:
        if item.get("type") == kind:
            return item
    return None


def is_ready(isvc: Mapping, expected_generation: int | None = None) -> bool:
    """Ready=True, and (when given) the controller has observed at least ``expected_generation``.

    Right after a change the old Ready=True is still there: only ``status.observedGeneration``
    tells whether the condition is about the new spec.
    """
    ready = condition(isvc, "Ready")
    if not ready or str(ready.get("status", "")).lower() != "true":
        return False
    if expected_generation is None:
        return True
    observed = (isvc.get("status") or {}).get("observedGeneration") or 0
    return observed >= expected_generation


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
        targets.append(TrafficTarget(revision_name=entry.get("revisionName"),
                                     # Knative omits a zero percent from the serialised object.
                                     percent=int(entry.get("percent") or 0),
                                     latest_revision=bool(entry.get("latestRevision")),
                                     tag=entry.get("tag"), url=entry.get("url")))
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
    return {target.tag: urlparse(target.url).netloc for target in traffic_from_status(isvc)
            if target.tag and target.url}


def host_from_status(isvc: Mapping) -> str:
    """The Host header that routes to this InferenceService: the netloc of ``status.url``."""
    url = (isvc.get("status") or {}).get("url")
    if not url:
        name = (isvc.get("metadata") or {}).get("name", "?")
        raise WorkshopError(f"InferenceService {name} has no status.url yet",
                            hint="wait until it is Ready (serving.wait_ready) before calling it")
    return urlparse(url).netloc


def status_row(isvc: Mapping, now: datetime | None = None) -> dict:
    """One ``kubectl get isvc`` row: name, url, ready, prev, latest, revisions, age."""
    metadata = isvc.get("metadata") or {}
    status = isvc.get("status") or {}
    ready = condition(isvc, "Ready")
    roles = traffic_by_role(isvc)
    created = metadata.get("creationTimestamp")
    return {
        "name": metadata.get("name"),
        "url": status.get("url") or "",
        "ready": (ready or {}).get("status") or "",
        "prev": roles["prev"].percent if "prev" in roles else None,
        "latest": roles["latest"].percent if "latest" in roles else None,
        "prev_rolled_out_revision": roles["prev"].revision_name if "prev" in roles else None,
        "latest_ready_revision": roles["latest"].revision_name if "latest" in roles else None,
        "age": human_age(created, now) if created else "",
    }


_COLUMNS = [("NAME", "name"), ("URL", "url"), ("READY", "ready"), ("PREV", "prev"), ("LATEST", "latest"),
            ("PREVROLLEDOUTREVISION", "prev_rolled_out_revision"),
            ("LATESTREADYREVISION", "latest_ready_revision"), ("AGE", "age")]


def format_status_table(rows: list[dict]) -> str:
    """Rows as ``kubectl get isvc`` prints them (same columns, three-space gaps)."""
    cells = [[header for header, _ in _COLUMNS]]
    cells += [["" if row.get(key) is None else str(row[key]) for _, key in _COLUMNS] for row in rows]
    widths = [max(len(line[i]) for line in cells) for i in range(len(_COLUMNS))]
    return "\n".join("   ".join(value.ljust(width) for value, width in zip(line, widths)).rstrip()
                     for line in cells)


def human_age(timestamp: str, now: datetime | None = None) -> str:
    """An RFC 3339 creation time as kubectl's AGE column shows it (``46s``, ``2m39s``, ``3d17h``)."""
    created = datetime.fromisoformat(timestamp.replace("Z", "+00:00"))
    seconds = int(((now or datetime.now(timezone.utc)) - created).total_seconds())
    if seconds < 0:
        return "0s"
    minutes, hours, days = seconds // 60, seconds // 3600, seconds // 86400
    if seconds < 120:
        return f"{seconds}s"
    if minutes < 10:
        return f"{minutes}m" + (f"{seconds % 60}s" if seconds % 60 else "")
    if minutes < 180:
        return f"{minutes}m"
    if hours < 8:
        return f"{hours}h" + (f"{minutes % 60}m" if minutes % 60 else "")
    if hours < 48:
        return f"{hours}h"
    if hours < 24 * 8:
        return f"{days}d" + (f"{hours % 24}h" if hours % 24 else "")
    if days < 365 * 2:
        return f"{days}d"
    years = days // 365
    return f"{years}y" + (f"{days % 365}d" if days % 365 and years < 8 else "")


# --------------------------------------------------------------------------------------------
# Talking to the cluster
# --------------------------------------------------------------------------------------------

class IsvcNotFound(WorkshopError):
    """The InferenceService does not exist."""


class ApiUnavailable(WorkshopError):
    """The API server did not answer, or answered 5xx (worth retrying)."""


class IsvcExists(WorkshopError):
    """Create refused: an object with that name already exists."""


@contextmanager
def _kubeconfig_errors(context: str | None) -> Iterator[None]:
    from kubernetes.config.config_exception import ConfigException

    try:
        yield
    except (ConfigException, FileNotFoundError, TypeError) as exc:
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise WorkshopError(f"no usable kube context{f' {context!r}' if context else ''}: {first}",
                            hint="create the workshop cluster with `invoke up`, or pick a context with "
                                 "`kubectl config use-context`") from None


def custom_objects_api(context: str | None = None):
    """The SDK's ``CustomObjectsApi`` for ``context`` (the current kube context when None)."""
    from kserve import KServeClient

    with _kubeconfig_errors(context):
        return KServeClient(context=context).api_instance


def core_api(context: str | None = None):
    """A ``CoreV1Api`` for ``context`` (for the ingress gateway Service)."""
    from kubernetes import client, config

    with _kubeconfig_errors(context):
        return client.CoreV1Api(config.new_client_from_config(context=context))


@contextmanager
def _api_errors(action: str) -> Iterator[None]:
    """Turn client exceptions into one clear ``WorkshopError`` (with the API server's own message)."""
    from kubernetes.client.exceptions import ApiException
    from urllib3.exceptions import HTTPError as Urllib3Error

    try:
        yield
    except ApiException as exc:
        message = _api_message(exc)
        if exc.status == 404:
            raise IsvcNotFound(f"{action}: not found ({message})",
                               hint="check the name and namespace "
                                    "(`kubectl get isvc -A` lists InferenceServices)") from None
        if exc.status in (401, 403):
            raise WorkshopError(f"{action}: access denied ({message})",
                                hint="check your kube context and its permissions") from None
        if exc.status == 409 and _api_reason(exc) == "AlreadyExists":
            raise IsvcExists(f"{action}: {message}") from None
        if exc.status == 409:
            raise WorkshopError(f"{action}: conflict ({message})",
                                hint="the object changed in the meantime: read it again and retry") from None
        if exc.status in (400, 422):
            raise WorkshopError(f"{action}: rejected by the API server ({message})",
                                hint="validate the manifest first: kserve_workshop.validate") from None
        raise ApiUnavailable(f"{action}: the API server answered {exc.status} ({message})") from None
    except (Urllib3Error, OSError) as exc:
        raise ApiUnavailable(f"{action}: cannot reach the cluster ({type(exc).__name__}: {exc})",
                             hint="is the cluster running? `kubectl cluster-info`; "
                                  "create it with `invoke up`") from None


def _api_status(exc) -> dict:
    """The ``Status`` object the API server sends with an error ({} when the body is not one)."""
    import json

    try:
        body = json.loads(exc.body)
    except (TypeError, ValueError):
        return {}
    return body if isinstance(body, dict) else {}


def _api_message(exc) -> str:
    return _api_status(exc).get("message") or str(exc.reason or exc.status)


def _api_reason(exc) -> str | None:
    return _api_status(exc).get("reason")


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


def replace_isvc(manifest: Mapping, namespace: str | None = None, *, context: str | None = None, api=None) -> dict:
    """PUT the manifest over the existing object (fields absent from it are removed)."""
    check_isvc_shape(manifest)
    namespace = _namespace_for(manifest, namespace)
    api = api or custom_objects_api(context)
    body = _body(manifest, namespace)
    name = body["metadata"]["name"]
    if not body["metadata"].get("resourceVersion"):
        current = get_isvc(name, namespace, api=api)
        body["metadata"]["resourceVersion"] = current["metadata"]["resourceVersion"]
    with _api_errors(f"replace InferenceService {namespace}/{name}"):
        return api.replace_namespaced_custom_object(GROUP, VERSION, namespace, PLURAL, name, body)


def patch_isvc(name: str, patch: Mapping, namespace: str | None = None, *, context: str | None = None, api=None) -> dict:
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


def delete_isvc(name: str, namespace: str | None = None, *, context: str | None = None, api=None,
                missing_ok: bool = True, wait: bool = False, timeout: float = 120,
                sleep: Callable[[float], None] = time.sleep, clock: Callable[[], float] = time.monotonic) -> bool:
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
                raise WorkshopError(f"InferenceService {namespace}/{name} still exists {timeout:.0f}s after delete",
                                    hint=f"kubectl get isvc {name} -n {namespace} -o yaml (look at finalizers)")
            sleep(2)
    return True


def _body(manifest: Mapping, namespace: str) -> dict:
    body = copy.deepcopy(dict(manifest))
    body.pop("status", None)
    body.setdefault("metadata", {})["namespace"] = namespace
    return body


def wait_ready(name: str, namespace: str | None = None, *, expected_generation: int | None = None,
               timeout: float = 300, context: str | None = None, api=None,
               get: Callable[[str, str], Mapping] | None = None,
               explain: Callable[[str, str], str] | None = None,
               sleep: Callable[[float], None] = time.sleep, clock: Callable[[], float] = time.monotonic,
               max_interval: float = 10.0) -> dict:
    """Poll until Ready (for ``expected_generation`` when given), with backoff and a bound.

    Polls start 1 s apart and back off to ``max_interval``. API hiccups (5xx, connection resets) are
    retried; a missing object or a denied request fails at once. On timeout the ``WorkshopError``
    carries ``diagnose.explain_not_ready`` (conditions, events, pod states), or the raw conditions
    when that is unavailable. ``get``/``explain``/``sleep``/``clock`` are injectable for tests.
    """
    namespace = workshop_namespace(namespace)
    from tenacity import RetryError, Retrying, retry_if_result, wait_exponential

    fetch = get or (lambda n, ns: get_isvc(n, ns, context=context, api=api))
    seen: dict[str, Any] = {}

    def attempt() -> Mapping | None:
        try:
            isvc = fetch(name, namespace)
        except ApiUnavailable as exc:
            seen["error"] = exc
            return None
        seen["isvc"] = isvc
        return isvc if is_ready(isvc, expected_generation) else None

    start = clock()
    backoff = wait_exponential(multiplier=1, min=1, max=max_interval)
    retrying = Retrying(stop=lambda _state: clock() - start >= timeout,
                        # never sleep past the deadline: the last poll happens at the bound
                        wait=lambda state: min(backoff(state), max(0.0, timeout - (clock() - start))),
                        retry=retry_if_result(lambda result: result is None), sleep=sleep)
    target = f" (generation {expected_generation})" if expected_generation is not None else ""
    try:
        with step(f"waiting for InferenceService {namespace}/{name} to be Ready{target}, up to {timeout:.0f}s"):
            return dict(retrying(attempt))
    except RetryError:
        pass
    raise WorkshopError(_not_ready_message(name, namespace, timeout, expected_generation, seen, explain, context),
                        hint=f"kubectl describe isvc {name} -n {namespace}; fix the cause, then wait again")


def _not_ready_message(name, namespace, timeout, expected_generation, seen, explain, context) -> str:
    lines = [f"InferenceService {namespace}/{name} is not Ready after {timeout:.0f}s."]
    isvc = seen.get("isvc")
    if isvc is not None and expected_generation is not None:
        observed = (isvc.get("status") or {}).get("observedGeneration")
        lines.append(f"Waiting for generation {expected_generation}; the controller has observed {observed}.")
    if isvc is None and "error" in seen:
        lines.append(f"The API server never answered: {seen['error'].message}")
    lines.append("")
    lines.append(_explanation(name, namespace, isvc, explain, context))
    return "\n".join(lines)


def _explanation(name, namespace, isvc, explain, context) -> str:
    try:
        if explain is None:
            from .diagnose import explain_not_ready

            return explain_not_ready(name, namespace, context=context)
        return explain(name, namespace)
    except Exception:  # noqa: BLE001 - the explanation is best effort; the raw conditions are the fallback
        conditions = describe_conditions(isvc) if isvc is not None else "  (no object was read)"
        return "Status conditions:\n" + conditions


def get_traffic(name: str, namespace: str | None = None, *, context: str | None = None, api=None) -> list[TrafficTarget]:
    """The traffic split KServe reports in ``status.components.predictor.traffic``."""
    namespace = workshop_namespace(namespace)
    return traffic_from_status(get_isvc(name, namespace, context=context, api=api))


def get_status_table(namespace: str | None = None, *, name: str | None = None, context: str | None = None,
                     api=None, now: datetime | None = None) -> list[dict]:
    """``kubectl get isvc`` as rows (see ``status_row``); ``format_status_table`` prints them."""
    namespace = workshop_namespace(namespace)
    api = api or custom_objects_api(context)
    if name:
        items = [get_isvc(name, namespace, api=api)]
    else:
        with _api_errors(f"list InferenceServices in {namespace}"):
            items = api.list_namespaced_custom_object(GROUP, VERSION, namespace, PLURAL).get("items", [])
    return [status_row(item, now) for item in items]


# --------------------------------------------------------------------------------------------
# Reaching models through the Istio ingress
# --------------------------------------------------------------------------------------------

def current_context() -> str | None:
    """The active kube context (via ``kube.current_context`` when the platform module provides it)."""
    try:
        from .kube import current_context as kube_current_context
    except ImportError:
        kube_current_context = None
    if kube_current_context is not None:
        return kube_current_context()
    from kubernetes import config
    from kubernetes.config.config_exception import ConfigException

    try:
        _, active = config.list_kube_config_contexts()
    except (ConfigException, FileNotFoundError, TypeError):
        return None
    return (active or {}).get("name")


def port_open(host: str, port: int, timeout: float = 1.0) -> bool:
    """Does something accept TCP connections on host:port?"""
    try:
        with closing(socket.create_connection((host, port), timeout=timeout)):
            return True
    except OSError:
        return False


def free_port() -> int:
    with closing(socket.socket(socket.AF_INET, socket.SOCK_STREAM)) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class IngressPortForward:
    """``kubectl port-forward`` to the Istio ingress gateway on 127.0.0.1 (a context manager).

    Used when the kind port mapping (127.0.0.1:8080) does not answer, or on clusters whose gateway
    has neither a mapped NodePort nor a LoadBalancer address. The kubectl process is stopped on
    ``stop()``, at interpreter exit, and (on Linux) when its parent process dies.
    """

    def __init__(self, context: str | None = None, *, local_port: int | None = None,
                 namespace: str = INGRESS_NAMESPACE, service: str = INGRESS_SERVICE,
                 startup_timeout: float = 20, kubectl: str = "kubectl"):
        self.context = context
        self.local_port = local_port or free_port()
        self.namespace = namespace
        self.service = service
        self.startup_timeout = startup_timeout
        self.kubectl = kubectl
        self.process: subprocess.Popen | None = None
        self.log_path = cache_dir() / "logs" / f"port-forward-{self.local_port}.log"

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.local_port}"

    def argv(self) -> list[str]:
        context = ["--context", self.context] if self.context else []
        return [self.kubectl, *context, "port-forward", "--address", "127.0.0.1", "-n", self.namespace,
                f"svc/{self.service}", f"{self.local_port}:80"]

    def start(self) -> str:
        executable = shutil.which(self.kubectl)
        if executable is None:
            raise WorkshopError(f"{self.kubectl} is not installed, so the ingress cannot be port-forwarded",
                                hint="install kubectl (scripts/bootstrap.sh or `invoke up` fetch it)")
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        with self.log_path.open("wb") as log:
            self.process = subprocess.Popen([executable, *self.argv()[1:]], stdout=log, stderr=subprocess.STDOUT,
                                            stdin=subprocess.DEVNULL, preexec_fn=_die_with_parent)
        atexit.register(self.stop)
        deadline = time.monotonic() + self.startup_timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                break
            if port_open("127.0.0.1", self.local_port, timeout=0.2):
                return self.url
            time.sleep(0.1)
        self.stop()
        tail = self.log_path.read_text(errors="replace").strip()[-1500:]
        raise WorkshopError(f"port-forward to svc/{self.service} in {self.namespace} did not come up"
                            + (f":\n{tail}" if tail else f" within {self.startup_timeout:.0f}s"),
                            hint=f"kubectl get svc {self.service} -n {self.namespace}; is the cluster up?")

    def stop(self) -> None:
        process, self.process = self.process, None
        if process is None or process.poll() is not None:
            return
        process.terminate()
        try:
            process.wait(timeout=5)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=5)

    def __enter__(self) -> "IngressPortForward":
        self.start()
        return self

    def __exit__(self, *exc_info) -> None:
        self.stop()


def _die_with_parent() -> None:  # pragma: no cover - runs in the child between fork and exec
    """Ask Linux to SIGTERM the child when the parent dies (atexit alone misses a killed parent)."""
    if sys.platform.startswith("linux"):
        import ctypes

        libc = ctypes.CDLL("libc.so.6", use_errno=True)
        libc.prctl(1, signal.SIGTERM)  # 1 = PR_SET_PDEATHSIG


_shared_port_forwards: dict[str | None, IngressPortForward] = {}


def ingress_endpoint(context: str | None = None, *, allow_port_forward: bool = True, api=None) -> str:
    """Base URL of the Istio ingress gateway for ``context`` (the current one when None).

    - kind (``kind-*`` contexts): ``http://127.0.0.1:8080``, the kind config's mapping of the
      gateway's NodePort; when nothing answers there, a shared port-forward (one per context).
    - otherwise (GKE...): the gateway Service's LoadBalancer address; a port-forward when the
      Service has no load balancer.
    """
    context = context or current_context()
    if context is None:
        raise WorkshopError("no kube context is set", hint="create the workshop cluster with `invoke up`")
    if context.startswith("kind-"):
        parsed = urlparse(KIND_INGRESS_URL)
        if port_open(parsed.hostname, parsed.port):
            return KIND_INGRESS_URL
        if not allow_port_forward:
            raise WorkshopError(f"nothing answers on {KIND_INGRESS_URL} (the kind port mapping)",
                                hint="was the cluster created with manifests/cluster/kind-config.yaml?")
        return _shared_port_forward(context)
    address = load_balancer_address(_read_gateway_service(context, api))
    if address:
        return f"http://{address}"
    if not allow_port_forward:
        raise WorkshopError(f"svc/{INGRESS_SERVICE} in {INGRESS_NAMESPACE} has no load-balancer address yet",
                            hint=f"kubectl get svc {INGRESS_SERVICE} -n {INGRESS_NAMESPACE} -w")
    return _shared_port_forward(context)


def load_balancer_address(service: Mapping) -> str | None:
    """The external IP (or hostname) of a LoadBalancer Service, None when not assigned (or not a LB)."""
    spec, status = service.get("spec") or {}, service.get("status") or {}
    if spec.get("type") != "LoadBalancer":
        return None
    for entry in (status.get("loadBalancer") or {}).get("ingress") or []:
        if entry.get("ip") or entry.get("hostname"):
            return entry.get("ip") or entry.get("hostname")
    return None


def _read_gateway_service(context: str, api=None) -> dict:
    from kubernetes.client import ApiClient

    api = api or core_api(context)
    with _api_errors(f"read svc/{INGRESS_SERVICE} in {INGRESS_NAMESPACE}"):
        service = api.read_namespaced_service(INGRESS_SERVICE, INGRESS_NAMESPACE)
    return service if isinstance(service, dict) else ApiClient().sanitize_for_serialization(service)


def _shared_port_forward(context: str) -> str:
    forward = _shared_port_forwards.get(context)
    if forward is None or forward.process is None or forward.process.poll() is not None:
        forward = IngressPortForward(context)
        with step(f"no direct route to the ingress of {context}: port-forwarding it to {forward.url}"):
            forward.start()
        _shared_port_forwards[context] = forward
    return forward.url


@dataclass(frozen=True)
class IngressTarget:
    """Where to send requests for one InferenceService: the ingress base URL and the Host header."""

    base_url: str
    host: str
    model_name: str

    def predict(self, instances: list, protocol: str = "v1", *, timeout: float = 10) -> list:
        """Predictions for ``instances`` over V1 (``predictions``) or V2 (the first output's data)."""
        from . import clients

        headers = {"Host": self.host}
        if protocol not in ("v1", "v2"):
            raise WorkshopError(f"protocol must be 'v1' or 'v2', not {protocol!r}")
        try:
            if protocol == "v1":
                return clients.predict_v1(self.base_url, self.model_name, instances, headers=headers,
                                          timeout=timeout)
            response = clients.infer_v2(self.base_url, self.model_name, instances, headers=headers, timeout=timeout)
            return clients.v2_outputs(response)
        except clients.CallFailed as exc:
            raise self._explained(exc, protocol) from exc

    def _explained(self, exc: "clients.CallFailed", protocol: str) -> WorkshopError:
        """The failed call's error, followed by diagnose's explanation of it (Host, path, ingress)."""
        from .diagnose import explain_call_failure

        path = (f"/v1/models/{self.model_name}:predict" if protocol == "v1"
                else f"/v2/models/{self.model_name}/infer")
        explanation = explain_call_failure(exc.status_code, exc.body, host=self.host,
                                           status_url=f"http://{self.host}", path=path,
                                           model_name=self.model_name, error=exc.error)
        return WorkshopError(f"{exc.message}\n\n{explanation.rstrip()}", hint=exc.hint)


def ingress_target(name: str, namespace: str | None = None, *, tag: str | None = None,
                   context: str | None = None, base_url: str | None = None, api=None) -> IngressTarget:
    """Resolve once where requests for ``name`` go (``tag="latest"``/``"prev"`` for a tagged route)."""
    namespace = workshop_namespace(namespace)
    isvc = get_isvc(name, namespace, context=context, api=api)
    if tag is None:
        host = host_from_status(isvc)
    else:
        hosts = tagged_hosts(isvc)
        if tag not in hosts:
            raise WorkshopError(f"InferenceService {namespace}/{name} has no {tag!r} route "
                                f"(tagged routes: {sorted(hosts) or 'none'})",
                                hint=f"set the annotation {TAG_ROUTING_ANNOTATION}: \"true\"; a 'prev' route exists "
                                     "only while a canary is split")
        host = hosts[tag]
    return IngressTarget(base_url=base_url or ingress_endpoint(context), host=host, model_name=name)


def predict_via_ingress(name: str, namespace: str | None = None, instances: list | None = None, *,
                        protocol: str = "v1", context: str | None = None, base_url: str | None = None,
                        timeout: float = 10) -> list:
    """Call the InferenceService through the ingress with the Host header from ``status.url``.

    The model name in the path is the InferenceService name (the runtime passes ``--model_name``).
    """
    namespace = workshop_namespace(namespace)
    if not instances:
        raise WorkshopError("instances must be a non-empty list of feature rows, e.g. [[6.8, 2.8, 4.8, 1.4]]")
    target = ingress_target(name, namespace, context=context, base_url=base_url)
    return target.predict(instances, protocol, timeout=timeout)
