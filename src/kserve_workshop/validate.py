"""Offline manifest validation (``invoke validate PATH``).

* Core Kubernetes kinds: the strict schemas bundled with kubernetes-validate, for the Kubernetes
  version pinned in versions.toml (unknown fields are errors).
* InferenceService: KServe's own CRD schema of the pinned release (see ``schemas``), strict too.
* kind's Cluster config: the schema in ``schemas``.
* Any other custom kind (KnativeServing, PodMonitor, ClusterServingRuntime...): apiVersion, kind
  and metadata are checked, and a warning says the rest was not schema-checked. In KServe's own
  API group a kind or version that does not exist is an error with a suggestion (a typo there
  would otherwise pass as "some other custom kind").
* Everywhere: ``metadata.name`` against Kubernetes' DNS rules (and KServe's length limit); YAML read
  as kubectl reads it (duplicate keys refused, alias expansion bounded: ``manifest_yaml``); an
  input without any object (empty file, only comments or ``---``, a folder without YAML) is an
  error, never "valid".

Every finding is a ``ValidationIssue`` naming the file, the object, the field path and what is
wrong, so a learner sees ``spec.predictor.model.storageUrl: unknown field (did you mean
'storageUri'?)`` rather than a stack trace.
"""

from __future__ import annotations

import difflib
import json
import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any, Iterable

import jsonschema
import yaml
from referencing import Registry, Resource

from . import manifest_yaml, paths, schemas
from .errors import WorkshopError
from .kube.names import name_problem
from .versions import pin

ERROR, WARNING, INFO = "error", "warning", "info"
YAML_SUFFIXES = {".yaml", ".yml"}
_API_VERSION = re.compile(
    r"^(([a-z0-9]([-a-z0-9]*[a-z0-9])?\.)*[a-z0-9]([-a-z0-9]*[a-z0-9])?/)?"
    r"v[0-9]+((alpha|beta)[0-9]+)?$"
)
_KIND = re.compile(r"^[A-Z][A-Za-z0-9]*$")
_OBJECT_META = "io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta"
#: KServe's API group: its versions and the kinds each serves (KServe v0.20: InferenceService is
#: v1beta1; the runtimes, graphs, trained models, storage containers and local model caches are
#: v1alpha1; LLMInferenceService(Config) are v1alpha1 and v1alpha2).
KNOWN_GROUPS: dict[str, dict[str, frozenset[str]]] = {
    "serving.kserve.io": {
        "v1beta1": frozenset({"InferenceService"}),
        "v1alpha1": frozenset(
            {
                "ServingRuntime",
                "ClusterServingRuntime",
                "InferenceGraph",
                "TrainedModel",
                "ClusterStorageContainer",
                "LocalModelCache",
                "LocalModelNode",
                "LocalModelNodeGroup",
                "LLMInferenceService",
                "LLMInferenceServiceConfig",
            }
        ),
        "v1alpha2": frozenset({"LLMInferenceService", "LLMInferenceServiceConfig"}),
    },
}


@dataclass(frozen=True)
class ValidationIssue:
    """One finding: ``file``, the object (``Kind/name``), the field path, and the message."""

    file: str
    object: str
    field: str
    message: str
    severity: str = ERROR

    def __str__(self) -> str:
        where = f"{self.file}: {self.object}"
        return f"{where}: {self.field}: {self.message}" if self.field else f"{where}: {self.message}"


def errors(issues: Iterable[ValidationIssue]) -> list[ValidationIssue]:
    return [issue for issue in issues if issue.severity == ERROR]


# ----- files -------------------------------------------------------------------------------------


def yaml_files(targets: Iterable[str | Path]) -> list[Path]:
    """The files to validate: each file given, and every *.yaml / *.yml under each directory."""
    found: list[Path] = []
    targets = [target for target in targets if str(target).strip()]
    if not targets:
        raise WorkshopError(
            "nothing to validate: no file or directory was given",
            hint="e.g. `invoke validate manifests` or `invoke validate my-isvc.yaml`",
        )
    for target in targets:
        path = Path(target)
        if path.is_dir():
            in_dir = sorted(
                p
                for p in path.rglob("*")
                if p.suffix in YAML_SUFFIXES
                # a broken symlink is listed too: reported as unreadable, not skipped in silence
                and (p.is_file() or (p.is_symlink() and not p.exists()))
                and not any(part.startswith(".") for part in p.relative_to(path).parts)
            )
            if not in_dir:
                raise WorkshopError(
                    f"no YAML files (*.yaml, *.yml) in {path}: nothing to validate",
                    hint="name a folder holding manifests, or the files themselves",
                )
            found.extend(in_dir)
        elif path.is_file():
            found.append(path)
        else:
            raise WorkshopError(f"no such file or directory: {path}")
    return found


def _display(path: Path) -> str:
    try:
        return str(path.resolve().relative_to(paths.REPO_ROOT))
    except (ValueError, RuntimeError, OSError):  # outside the repository, or a symlink loop
        return str(path)


def validate_paths(targets: Iterable[str | Path]) -> list[ValidationIssue]:
    """Validate every Kubernetes object in the given files and directories."""
    issues: list[ValidationIssue] = []
    for path in yaml_files(targets):
        issues.extend(validate_file(path))
    return issues


def validate_file(path: Path) -> list[ValidationIssue]:
    name = _display(path)
    try:
        documents = [doc for doc in manifest_yaml.load_all(path.read_text()) if doc is not None]
    except yaml.YAMLError as exc:
        return [ValidationIssue(name, "(file)", "", f"not valid YAML: {exc}")]
    except (OSError, UnicodeDecodeError) as exc:
        return [ValidationIssue(name, "(file)", "", f"cannot read: {exc}")]
    if _is_helm_values(path):
        return [ValidationIssue(name, "(file)", "", "Helm values, not Kubernetes objects: not validated", INFO)]
    if not documents:
        return [
            ValidationIssue(
                name,
                "(file)",
                "",
                "no Kubernetes object in this file (it is empty, or holds "
                "only comments or '---'): nothing was validated",
            )
        ]
    issues: list[ValidationIssue] = []
    for index, document in enumerate(documents, 1):
        issues.extend(validate_object(document, file=name, index=index))
    return issues


def _is_helm_values(path: Path) -> bool:
    """Helm values files are named so (``values.yaml``, ``istiod-values.yaml``...) by convention."""
    return "values" in path.stem.lower()


# ----- one object --------------------------------------------------------------------------------


def validate_object(obj: Any, *, file: str = "<object>", index: int = 1) -> list[ValidationIssue]:
    """Validate one parsed YAML document (a Kubernetes object, a List of them, or a kind config)."""
    if not isinstance(obj, dict):
        return [ValidationIssue(file, f"document {index}", "", f"expected a mapping, found {type(obj).__name__}")]
    api_version, kind = obj.get("apiVersion"), obj.get("kind")
    label = _label(obj, index)
    if not api_version or not kind:
        missing = " and ".join(k for k in ("apiVersion", "kind") if not obj.get(k))
        return [
            ValidationIssue(
                file,
                label,
                missing,
                "missing: every Kubernetes object needs apiVersion and "
                "kind (Helm values files must have 'values' in their name)",
            )
        ]
    if not isinstance(api_version, str) or not _API_VERSION.match(api_version):
        return [ValidationIssue(file, label, "apiVersion", f"{api_version!r} is not of the form group/version")]
    if not isinstance(kind, str) or not _KIND.match(kind):
        return [ValidationIssue(file, label, "kind", f"{kind!r} is not a kind name (CamelCase){_case_hint(kind)}")]
    if kind.endswith("List") and isinstance(obj.get("items"), list):
        issues: list[ValidationIssue] = []
        for item in obj["items"]:
            issues.extend(validate_object(item, file=file, index=index))
        return issues
    if api_version == "kind.x-k8s.io/v1alpha4":
        return _schema_issues(_validator(("kind-config",)), obj, file, label)
    if _is_builtin_group(api_version):
        return _core_issues(obj, file, label, api_version, kind)
    unknown = _unknown_kind_issue(api_version, kind, file, label)
    if unknown is not None:
        return [unknown]
    issues = _metadata_issues(obj, file, label)
    if api_version == schemas.ISVC_API_VERSION and kind == "InferenceService":
        schema = schemas.isvc_schema()
        if schema is None:
            issues.append(
                ValidationIssue(
                    file,
                    label,
                    "",
                    f"cannot validate: the InferenceService schema of KServe {pin('kserve')} "
                    "is not in the cache (run `invoke schemas`, or `invoke schemas --from-file PATH`)",
                )
            )
            return issues
        return issues + _schema_issues(_validator(("isvc", schema["x-source-sha256"])), obj, file, label)
    issues.append(
        ValidationIssue(
            file,
            label,
            "",
            f"not schema-checked: no schema for {kind} ({api_version}) "
            "here; only apiVersion, kind and metadata were checked",
            WARNING,
        )
    )
    return issues


def _case_hint(kind: object) -> str:
    """' (did you mean ...?)' when ``kind`` is a known group's kind written in the wrong case."""
    if isinstance(kind, str):
        for versions in KNOWN_GROUPS.values():
            for known in sorted(set().union(*versions.values())):
                if known.lower() == kind.strip().lower():
                    return f" (did you mean {known!r}?)"
    return ""


def _label(obj: dict, index: int) -> str:
    kind = obj.get("kind") or "object"
    meta = obj.get("metadata") if isinstance(obj.get("metadata"), dict) else {}
    name = meta.get("name") or meta.get("generateName")
    return f"{kind}/{name}" if name else f"{kind} (document {index})"


def _unknown_kind_issue(api_version: str, kind: str, file: str, label: str) -> ValidationIssue | None:
    """An error for a version or kind that a known API group (KServe's) does not serve."""
    group, _, version = api_version.rpartition("/")
    versions = KNOWN_GROUPS.get(group)
    if versions is None:
        return None
    if version not in versions:
        close = difflib.get_close_matches(version, list(versions), n=1, cutoff=0.6)
        hint = f" (did you mean {group}/{close[0]}?)" if close else ""
        return ValidationIssue(
            file,
            label,
            "apiVersion",
            f"{group} has no version {version!r}: it serves {', '.join(sorted(versions))}{hint}",
        )
    if kind in versions[version]:
        return None
    elsewhere = sorted(v for v, kinds in versions.items() if kind in kinds)
    if elsewhere:
        return ValidationIssue(
            file, label, "apiVersion", f"{kind} is served as {group}/{elsewhere[-1]}, not {api_version}"
        )
    every_kind = sorted(set().union(*versions.values()))
    close = difflib.get_close_matches(kind, every_kind, n=1, cutoff=0.6)
    hint = f" (did you mean {close[0]!r}?)" if close else f"; its kinds are {', '.join(every_kind)}"
    return ValidationIssue(file, label, "kind", f"{group} has no kind {kind!r}{hint}")


def _name_issues(obj: dict, file: str, label: str) -> list[ValidationIssue]:
    meta = obj.get("metadata")
    name = meta.get("name") if isinstance(meta, dict) else None
    problem = name_problem(str(obj.get("kind")), name) if isinstance(name, str) and name else None
    return [ValidationIssue(file, label, "metadata.name", problem)] if problem else []


def _metadata_issues(obj: dict, file: str, label: str) -> list[ValidationIssue]:
    meta = obj.get("metadata")
    if not isinstance(meta, dict):
        return [ValidationIssue(file, label, "metadata", "missing (every object needs metadata.name)")]
    issues = _schema_issues(_validator(("object-meta",)), meta, file, label, prefix="metadata")
    if not meta.get("name") and not meta.get("generateName"):
        issues.append(ValidationIssue(file, label, "metadata.name", "missing (every object needs a name)"))
    return issues + _name_issues(obj, file, label)


def _core_issues(obj: dict, file: str, label: str, api_version: str, kind: str) -> list[ValidationIssue]:
    validator = _core_validator(api_version, kind)
    if validator is None:
        return [
            ValidationIssue(
                file,
                label,
                "kind",
                f"Kubernetes {_k8s_version()} has no kind {kind} in "
                f"{api_version} (check the spelling and the apiVersion)",
            )
        ]
    issues = _schema_issues(validator, obj, file, label)
    meta = obj.get("metadata")
    if not isinstance(meta, dict) or not (meta.get("name") or meta.get("generateName")):
        issues.append(ValidationIssue(file, label, "metadata.name", "missing (every object needs a name)"))
    return issues + _name_issues(obj, file, label)


# ----- schemas and validators --------------------------------------------------------------------


def _k8s_version() -> str:
    return pin("kubernetes", "validate_version")


def _schema_dir() -> Path:
    import kubernetes_validate

    directory = Path(kubernetes_validate.__file__).parent / "kubernetes-json-schema" / f"v{_k8s_version()}-local-strict"
    if not directory.is_dir():
        raise WorkshopError(
            f"kubernetes-validate has no schemas for Kubernetes {_k8s_version()}",
            hint="reinstall the project (`scripts/bootstrap.sh`) or change "
            "[kubernetes] validate_version in versions.toml",
        )
    return directory


@lru_cache(maxsize=1)
def _registry() -> tuple[Registry, dict]:
    definitions = json.loads((_schema_dir() / "_definitions.json").read_text())
    return Resource.from_contents(definitions) @ Registry(), definitions


@lru_cache(maxsize=1)
def _builtin_api_versions() -> frozenset[str]:
    """``apps-v1``, ``rbac-v1``, ``v1``...: the API groups kubernetes-validate has schemas for."""
    names = set()
    for schema in _schema_dir().glob("*.json"):
        parts = schema.stem.split("-", 1)
        if len(parts) == 2:
            names.add(parts[1])
    return frozenset(names)


def _schema_key(api_version: str) -> str:
    # kubernetes-validate's file naming: rbac.authorization.k8s.io/v1 -> rbac-v1, v1 -> v1
    return re.sub(r"^([^./]*)(?:\.[^/]*)?/", r"\1-", api_version)


def _is_builtin_group(api_version: str) -> bool:
    """Kubernetes' own API groups: the core group, the dotless ones (apps, batch...: a CRD's group
    always has a dot) and the *.k8s.io ones kubernetes-validate has schemas for (so
    gateway.networking.k8s.io or snapshot.storage.k8s.io, which are CRDs, are not)."""
    group = api_version.rsplit("/", 1)[0] if "/" in api_version else ""
    if "." not in group:
        return True
    return group.endswith(".k8s.io") and _schema_key(api_version) in _builtin_api_versions()


@lru_cache(maxsize=None)
def _core_validator(api_version: str, kind: str) -> jsonschema.protocols.Validator | None:
    path = _schema_dir() / f"{kind.lower()}-{_schema_key(api_version)}.json"
    if not path.is_file():
        return None
    schema = json.loads(path.read_text())
    registry, _ = _registry()
    validator_class = jsonschema.validators.validator_for(schema, default=jsonschema.Draft202012Validator)
    return validator_class(schema, registry=registry)


@lru_cache(maxsize=None)
def _validator(key: tuple) -> jsonschema.protocols.Validator:
    if key[0] == "kind-config":
        return jsonschema.Draft202012Validator(schemas.KIND_CLUSTER_SCHEMA)
    if key[0] == "object-meta":
        registry, definitions = _registry()
        schema = {"$ref": f"{definitions['$id']}#/$defs/{_OBJECT_META}"}
        return jsonschema.Draft202012Validator(schema, registry=registry)
    if key[0] == "isvc":
        return jsonschema.Draft202012Validator(schemas.isvc_schema())
    raise KeyError(key)


# ----- jsonschema errors -> issues ---------------------------------------------------------------


def _schema_issues(
    validator: jsonschema.protocols.Validator, instance: Any, file: str, label: str, prefix: str = ""
) -> list[ValidationIssue]:
    issues = []
    for error in sorted(validator.iter_errors(instance), key=lambda e: [str(p) for p in e.absolute_path]):
        issues.extend(_explain(error, file, label, prefix))
    return issues


def field_path(parts: Iterable[Any], prefix: str = "") -> str:
    """``["spec", "containers", 0, "image"]`` -> ``spec.containers[0].image``."""
    text = prefix
    for part in parts:
        if isinstance(part, int):
            text += f"[{part}]"
        else:
            text = f"{text}.{part}" if text else str(part)
    return text


def _explain(error: jsonschema.ValidationError, file: str, label: str, prefix: str) -> list[ValidationIssue]:
    path = list(error.absolute_path)
    if error.validator == "additionalProperties" and isinstance(error.instance, dict):
        allowed = list((error.schema.get("properties") or {}).keys())
        patterns = list((error.schema.get("patternProperties") or {}).keys())
        issues = []
        for key in error.instance:
            if key in allowed or any(re.search(p, key) for p in patterns):
                continue
            close = difflib.get_close_matches(str(key), allowed, n=1)
            hint = f" (did you mean {close[0]!r}?)" if close else ""
            issues.append(ValidationIssue(file, label, field_path([*path, key], prefix), f"unknown field{hint}"))
        if issues:
            return issues
    if error.validator == "required":
        missing = re.match(r"'([^']+)' is a required property", error.message)
        if missing:
            return [
                ValidationIssue(file, label, field_path([*path, missing.group(1)], prefix), "required field missing")
            ]
    if error.validator in {"anyOf", "oneOf"} and error.context:
        types = [sub.validator_value for sub in error.context if sub.validator == "type"]
        if len(types) == len(error.context):
            wanted = " or ".join(t if isinstance(t, str) else "/".join(t) for t in types)
            return [
                ValidationIssue(
                    file,
                    label,
                    field_path(path, prefix),
                    f"wrong type: expected {wanted}, found {_json_type(error.instance)} {_short(error.instance)}",
                )
            ]
    if error.validator == "type":
        wanted = (
            error.validator_value
            if isinstance(error.validator_value, str)
            else " or ".join(t for t in error.validator_value if t != "null")
        )
        return [
            ValidationIssue(
                file,
                label,
                field_path(path, prefix),
                f"wrong type: expected {wanted}, found {_json_type(error.instance)} {_short(error.instance)}",
            )
        ]
    return [ValidationIssue(file, label, field_path(path, prefix), error.message)]


def _json_type(value: Any) -> str:
    return {
        dict: "object",
        list: "array",
        str: "string",
        bool: "boolean",
        int: "integer",
        float: "number",
        type(None): "null",
    }.get(type(value), type(value).__name__)


def _short(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 40 else text[:37] + "..."
