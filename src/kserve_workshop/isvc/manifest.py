"""InferenceService manifests: build one (``build_isvc``), load and check one from YAML, and the
objects that promote or roll back a canary. Pure: nothing here talks to a cluster.

``build_isvc`` is built with the KServe SDK's ``V1beta1*`` models and serialised to a plain dict;
full validation against KServe's own schema lives in ``validate``.
"""

from __future__ import annotations

import copy
import os
from pathlib import Path
from typing import Any, Mapping
from urllib.parse import urlparse

import yaml

from ..errors import WorkshopError
from ..kube.names import DNS1035_LABEL, ISVC_NAME_MAX
from ..paths import REPO_ROOT
from ..runtime.frozen import freeze

GROUP = "serving.kserve.io"
VERSION = "v1beta1"
API_VERSION = f"{GROUP}/{VERSION}"
KIND = "InferenceService"
PLURAL = "inferenceservices"

#: KServe's public iris models (scikit-learn, ``model.joblib``); model-2 is the canary sample's.
PUBLIC_IRIS_MODEL = "gs://kfserving-examples/models/sklearn/1.0/model"
PUBLIC_IRIS_MODEL_2 = "gs://kfserving-examples/models/sklearn/1.0/model-2"

#: Laptop-sized resources (KServe's CI uses the same); the default is 1 CPU / 2Gi per model.
DEFAULT_RESOURCES = freeze(
    {"requests": {"cpu": "50m", "memory": "128Mi"}, "limits": {"cpu": "100m", "memory": "256Mi"}}
)
SCALE_METRICS = ("cpu", "memory", "concurrency", "rps")
PROTOCOL_VERSIONS = ("v1", "v2")
STORAGE_SCHEMES = ("gs", "s3", "pvc", "http", "https", "hf", "oci", "hdfs", "webhdfs")
TAG_ROUTING_ANNOTATION = "serving.kserve.io/enable-tag-routing"

# KServe's webhook accepts DNS-1035 labels as InferenceService names; the length bound is Knative's
# (kube.names): the revision "<name>-predictor-00001" must still be a 63-character DNS label.
_NAME_RE = DNS1035_LABEL
_NAME_MAX = ISVC_NAME_MAX


def build_isvc(
    name: str,
    storage_uri: str,
    *,
    namespace: str | None = None,
    model_format: str = "sklearn",
    runtime: str | None = "kserve-sklearnserver",
    protocol_version: str | None = None,
    resources: Mapping | None = None,
    min_replicas: int | None = None,
    max_replicas: int | None = None,
    scale_target: int | None = None,
    scale_metric: str | None = None,
    canary_traffic_percent: int | None = None,
    service_account: str | None = None,
    annotations: Mapping[str, str] | None = None,
    env: Mapping[str, str] | None = None,
) -> dict:
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
        raise WorkshopError(
            f"scale_metric must be one of {', '.join(SCALE_METRICS)}, not {scale_metric!r}",
            hint="the docs' 'qps' is not a valid metric; use 'rps'" if scale_metric == "qps" else None,
        )
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

    from kserve import (
        V1beta1InferenceService,
        V1beta1InferenceServiceSpec,
        V1beta1ModelFormat,
        V1beta1ModelSpec,
        V1beta1PredictorSpec,
    )
    from kubernetes.client import ApiClient, V1EnvVar, V1ObjectMeta, V1ResourceRequirements

    model = V1beta1ModelSpec(
        model_format=V1beta1ModelFormat(name=model_format),
        storage_uri=storage_uri,
        runtime=runtime,
        protocol_version=protocol_version,
        resources=V1ResourceRequirements(requests=resources.get("requests"), limits=resources.get("limits")),
        env=[V1EnvVar(name=key, value=str(value)) for key, value in env.items()] if env else None,
    )
    predictor = V1beta1PredictorSpec(
        model=model,
        min_replicas=min_replicas,
        max_replicas=max_replicas,
        scale_target=scale_target,
        scale_metric=scale_metric,
        canary_traffic_percent=canary_traffic_percent,
        service_account_name=service_account,
    )
    isvc = V1beta1InferenceService(
        api_version=API_VERSION,
        kind=KIND,
        metadata=V1ObjectMeta(name=name, namespace=namespace, annotations=dict(annotations) if annotations else None),
        spec=V1beta1InferenceServiceSpec(predictor=predictor),
    )
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
        raise WorkshopError(
            f"{source} is not an InferenceService (apiVersion {manifest.get('apiVersion')!r}, "
            f"kind {manifest.get('kind')!r})",
            hint=f"use apiVersion: {API_VERSION} and kind: {KIND}",
        )
    name = (manifest.get("metadata") or {}).get("name")
    if not name:
        raise WorkshopError(f"{source} has no metadata.name")
    _check_name(name)
    if not isinstance(manifest.get("spec"), dict) or not isinstance(manifest["spec"].get("predictor"), dict):
        raise WorkshopError(f"{source} has no spec.predictor")


def storage_uri_of(manifest: Mapping) -> str | None:
    """The predictor's model storageUri (None when the manifest has none)."""
    return ((manifest.get("spec") or {}).get("predictor") or {}).get("model", {}).get("storageUri")


def use_model(manifest: Mapping, storage_uri: str) -> dict:
    """A copy of ``manifest`` whose predictor serves the model at ``storage_uri``.

    For a model spec that is ``spec.predictor.model.storageUri``; for a custom predictor container
    (Lab 6) the ``STORAGE_URI`` variable of its ``kserve-container``, which KServe's storage
    initializer reads. Use it with the URI ``storage.upload_model`` returns: a new model version is
    then a new spec, and KServe rolls it out as a new revision.
    """
    check_isvc_shape(manifest)
    _check_storage_uri(storage_uri)
    body = copy.deepcopy(dict(manifest))
    predictor = body["spec"]["predictor"]
    if isinstance(predictor.get("model"), dict):
        predictor["model"]["storageUri"] = storage_uri
        return body
    containers = [c for c in predictor.get("containers") or [] if isinstance(c, dict)]
    container = next((c for c in containers if c.get("name") == "kserve-container"), None)
    if container is None:
        raise WorkshopError(
            "the manifest's predictor has neither a model spec nor a kserve-container",
            hint="set spec.predictor.model.storageUri, or the STORAGE_URI env of the predictor's kserve-container",
        )
    env = [item for item in container.get("env") or [] if item.get("name") != "STORAGE_URI"]
    container["env"] = [{"name": "STORAGE_URI", "value": storage_uri}, *env]
    return body


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
        raise WorkshopError(
            f"invalid InferenceService name {name!r}",
            hint=f"lowercase letters, digits and '-', starting with a letter, at most {_NAME_MAX} characters",
        )


def _check_storage_uri(uri: Any) -> None:
    scheme = urlparse(uri).scheme if isinstance(uri, str) else ""
    if scheme not in STORAGE_SCHEMES or not urlparse(uri).netloc:
        raise WorkshopError(
            f"invalid storage URI {uri!r}",
            hint="e.g. gs://kfserving-examples/models/sklearn/1.0/model (schemes: " + ", ".join(STORAGE_SCHEMES) + ")",
        )


def _check_int(label: str, value: Any, *, low: int, high: int | None = None) -> None:
    if value is None:
        return
    if isinstance(value, bool) or not isinstance(value, int) or value < low or (high is not None and value > high):
        bounds = f"between {low} and {high}" if high is not None else f">= {low}"
        raise WorkshopError(f"{label} must be an integer {bounds}, not {value!r}")
