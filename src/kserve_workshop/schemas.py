"""JSON Schemas for the custom kinds the workshop validates offline.

* InferenceService: the ``openAPIV3Schema`` of KServe's own CRD at the pinned release, fetched
  once into the cache (``invoke schemas``; SHA-256 pinned in versions.toml) and turned into JSON
  Schema that rejects unknown fields, as the API server's strict field validation does.
* kind's ``Cluster`` config (kind.x-k8s.io/v1alpha4): written here from kind's config types.

Core Kubernetes kinds are not here: kubernetes-validate ships their schemas (see ``validate``).
"""

from __future__ import annotations

import copy
import hashlib
import json
import os
import shutil
import tempfile
from pathlib import Path
from typing import Any

import yaml

from . import paths
from .console import info
from .errors import WorkshopError
from .versions import pin

ISVC_API_VERSION = "serving.kserve.io/v1beta1"
#: Bump when ``openapi_to_json_schema`` changes, so converted schemas in the cache are rebuilt.
CONVERTER_VERSION = 1
_SAFE_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def isvc_crd_url() -> str:
    return pin("kserve", "isvc_crd_url").format(version=pin("kserve"))


def isvc_crd_path() -> Path:
    """Where the pinned InferenceService CRD lives in the cache."""
    return paths.cache_dir() / "schemas" / f"kserve-{pin('kserve')}" / "serving.kserve.io_inferenceservices.yaml"


def _sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for chunk in iter(lambda: handle.read(1 << 16), b""):
            digest.update(chunk)
    return digest.hexdigest()


def cached_isvc_crd_is_valid() -> bool:
    """True when the cache already holds the pinned CRD with the pinned SHA-256."""
    path = isvc_crd_path()
    return path.is_file() and _sha256(path) == pin("kserve", "isvc_crd_sha256")


def fetch_isvc_crd(from_file: str | Path | None = None, *, timeout: float = 60) -> Path:
    """Put the pinned CRD in the cache, from its upstream URL or from a local copy (``from_file``).

    Either way its SHA-256 must match the pin; otherwise nothing is written to the cache.
    """
    from .tools import download_file  # same streaming download + progress as the tools

    expected = pin("kserve", "isvc_crd_sha256")
    target = isvc_crd_path()
    target.parent.mkdir(parents=True, exist_ok=True)
    handle, name = tempfile.mkstemp(prefix=".crd-", suffix=".download", dir=target.parent)
    os.close(handle)
    staged = Path(name)
    try:
        if from_file is not None:
            source = Path(from_file)
            if not source.is_file():
                raise WorkshopError(f"no such file: {source}")
            shutil.copyfile(source, staged)
            digest, origin = _sha256(staged), str(source)
        else:
            origin = isvc_crd_url()
            digest = download_file(origin, staged, timeout=timeout, label="KServe InferenceService CRD")
        if digest != expected:
            raise WorkshopError(
                f"checksum mismatch for {origin}: expected sha256 {expected}, got {digest}; the cache was not changed",
                hint=f"use the CRD of KServe {pin('kserve')} exactly as published",
            )
        staged.replace(target)
    finally:
        staged.unlink(missing_ok=True)
    _converted_path().unlink(missing_ok=True)
    info(f"✓ InferenceService CRD of KServe {pin('kserve')} cached at {target}")
    return target


def _converted_path() -> Path:
    return isvc_crd_path().with_suffix(".schema.json")


def isvc_schema() -> dict[str, Any] | None:
    """The strict JSON Schema of InferenceService v1beta1, or None when the CRD is not cached.

    Raises WorkshopError when the cached CRD does not match its pinned SHA-256.
    """
    source = isvc_crd_path()
    if not source.is_file():
        return None
    digest = _sha256(source)
    if digest != pin("kserve", "isvc_crd_sha256"):
        raise WorkshopError(
            f"the cached CRD {source} does not match its pinned sha256", hint="run `invoke schemas` to fetch it again"
        )
    converted = _converted_path()
    if converted.is_file():
        try:
            cached = json.loads(converted.read_text())
            if cached.get("x-source-sha256") == digest and cached.get("x-converter") == CONVERTER_VERSION:
                return cached
        except ValueError:
            pass  # rebuilt below
    crd = yaml.load(source.read_text(), Loader=_SAFE_LOADER)
    schema = crd_to_json_schema(crd, "v1beta1")
    schema["x-source-sha256"], schema["x-converter"] = digest, CONVERTER_VERSION
    # Written aside and renamed: another process may be reading the cache at the same time.
    handle, name = tempfile.mkstemp(prefix=".schema-", suffix=".json", dir=converted.parent)
    with os.fdopen(handle, "w") as out:
        json.dump(schema, out)
    Path(name).replace(converted)
    return schema


# ----- CRD openAPIV3Schema -> JSON Schema ----------------------------------------------------------


def crd_to_json_schema(crd: dict, version: str) -> dict[str, Any]:
    """The JSON Schema of ``version`` in a CustomResourceDefinition, unknown fields disallowed.

    The root ``metadata`` stays open here (the CRD only says "object"); ``validate`` checks it
    against Kubernetes' ObjectMeta instead.
    """
    spec = crd.get("spec") or {}
    for entry in spec.get("versions") or []:
        if entry.get("name") == version:
            root = copy.deepcopy(entry["schema"]["openAPIV3Schema"])
            break
    else:
        raise WorkshopError(f"CRD {crd.get('metadata', {}).get('name')} has no version {version}")
    metadata = root.get("properties", {}).pop("metadata", None)
    schema = openapi_to_json_schema(root)
    if metadata is not None:
        schema["properties"]["metadata"] = {"type": "object"}
    group, kind = spec.get("group"), (spec.get("names") or {}).get("kind")
    schema["properties"]["apiVersion"] = {"const": f"{group}/{version}"}
    schema["properties"]["kind"] = {"const": kind}
    schema["required"] = sorted(set(schema.get("required", [])) | {"apiVersion", "kind", "metadata"})
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    return schema


def openapi_to_json_schema(node: Any) -> Any:
    """Convert one structural-schema node (recursively).

    * an object schema that is not ``x-kubernetes-preserve-unknown-fields`` and does not declare
      ``additionalProperties`` gets ``additionalProperties: false`` (the API server drops or, with
      strict field validation, rejects fields its schema does not list);
    * ``nullable: true`` allows ``null``;
    * ``x-kubernetes-*`` markers and ``format`` are dropped (int-or-string keeps its ``anyOf``).
    """
    if isinstance(node, list):
        return [openapi_to_json_schema(item) for item in node]
    if not isinstance(node, dict):
        return node
    out: dict[str, Any] = {}
    for key, value in node.items():
        if key.startswith("x-kubernetes-") or key in {"format", "nullable"}:
            continue
        if key in {"properties", "patternProperties"}:
            out[key] = {name: openapi_to_json_schema(sub) for name, sub in value.items()}
        elif key in {"items", "additionalProperties", "not", "allOf", "anyOf", "oneOf"}:
            out[key] = openapi_to_json_schema(value)
        else:
            out[key] = value
    preserve = node.get("x-kubernetes-preserve-unknown-fields") is True
    is_object = node.get("type") == "object" or "properties" in node
    if is_object and not preserve and "additionalProperties" not in node:
        out["additionalProperties"] = False
    if node.get("nullable") is True and isinstance(out.get("type"), str):
        out["type"] = [out["type"], "null"]
    return out


# ----- kind's cluster config ---------------------------------------------------------------------


def _strict(properties: dict[str, Any], **extra: Any) -> dict[str, Any]:
    return {"type": "object", "properties": properties, "additionalProperties": False, **extra}


_STRINGS = {"type": "array", "items": {"type": "string"}}
_PATCH_6902 = _strict(
    {
        "group": {"type": "string"},
        "version": {"type": "string"},
        "kind": {"type": "string"},
        "patch": {"type": "string"},
    },
    required=["kind", "patch"],
)
_PORT = {"type": "integer", "minimum": -1, "maximum": 65535}

#: kind.x-k8s.io/v1alpha4 Cluster, from kind's config types (pkg/apis/config/v1alpha4/types.go).
#: kind itself rejects unknown fields in this file, so this schema does too.
KIND_CLUSTER_SCHEMA: dict[str, Any] = _strict(
    {
        "kind": {"const": "Cluster"},
        "apiVersion": {"const": "kind.x-k8s.io/v1alpha4"},
        "name": {"type": "string"},
        "nodes": {
            "type": "array",
            "items": _strict(
                {
                    "role": {"enum": ["control-plane", "worker"]},
                    "image": {"type": "string"},
                    "labels": {"type": "object", "additionalProperties": {"type": "string"}},
                    "extraMounts": {
                        "type": "array",
                        "items": _strict(
                            {
                                "containerPath": {"type": "string"},
                                "hostPath": {"type": "string"},
                                "readOnly": {"type": "boolean"},
                                "selinuxRelabel": {"type": "boolean"},
                                "propagation": {"enum": ["None", "HostToContainer", "Bidirectional"]},
                            }
                        ),
                    },
                    "extraPortMappings": {
                        "type": "array",
                        "items": _strict(
                            {
                                "containerPort": _PORT,
                                "hostPort": _PORT,
                                "listenAddress": {"type": "string"},
                                "protocol": {"enum": ["TCP", "UDP", "SCTP"]},
                            }
                        ),
                    },
                    "gpus": {"type": "string"},
                    "kubeadmConfigPatches": _STRINGS,
                    "kubeadmConfigPatchesJSON6902": {"type": "array", "items": _PATCH_6902},
                }
            ),
        },
        "networking": _strict(
            {
                "ipFamily": {"enum": ["ipv4", "ipv6", "dual"]},
                "apiServerPort": _PORT,
                "apiServerAddress": {"type": "string"},
                "podSubnet": {"type": "string"},
                "serviceSubnet": {"type": "string"},
                "disableDefaultCNI": {"type": "boolean"},
                "kubeProxyMode": {"enum": ["iptables", "ipvs", "nftables", "none"]},
                "dnsSearch": _STRINGS,
            }
        ),
        "featureGates": {"type": "object", "additionalProperties": {"type": "boolean"}},
        "runtimeConfig": {"type": "object", "additionalProperties": {"type": "string"}},
        "kubeadmConfigPatches": _STRINGS,
        "kubeadmConfigPatchesJSON6902": {"type": "array", "items": _PATCH_6902},
        "containerdConfigPatches": _STRINGS,
        "containerdConfigPatchesJSON6902": _STRINGS,
    },
    required=["kind", "apiVersion"],
)
