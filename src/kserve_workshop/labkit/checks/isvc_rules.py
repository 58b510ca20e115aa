"""What the InferenceService checks of Labs 2 and 4 share: schema validation and the laptop rules.

Each rule raises ``CheckFailed`` with the field at fault and how to fix it.
"""

from __future__ import annotations

from typing import Any

import yaml

from ..grading import CheckFailed
from ...isvc.manifest import API_VERSION, DEFAULT_RESOURCES, KIND

RUNTIME = "kserve-sklearnserver"
#: Upper bounds for "small": a kind node on a laptop runs several models, a canary doubles the pods.
MAX_CPU = 0.25
MAX_MEMORY = 512 * 1024 ** 2


def as_manifest(value: Any, variable: str) -> dict:
    """The learner's manifest as a dict (YAML text is accepted and parsed)."""
    if isinstance(value, str):
        try:
            value = yaml.safe_load(value)
        except yaml.YAMLError as exc:
            raise CheckFailed(f"`{variable}` is not valid YAML", found=str(exc).splitlines()[0],
                              hint="check the indentation: two spaces per level, no tabs") from None
    if not isinstance(value, dict):
        raise CheckFailed(f"`{variable}` must be an InferenceService as a dict (or YAML text)",
                          expected="{'apiVersion': 'serving.kserve.io/v1beta1', 'kind': 'InferenceService', ...}",
                          found=value)
    if value.get("apiVersion") != API_VERSION or value.get("kind") != KIND:
        raise CheckFailed(f"`{variable}` is not an InferenceService", expected=f"apiVersion {API_VERSION}, kind {KIND}",
                          found=f"apiVersion {value.get('apiVersion')!r}, kind {value.get('kind')!r}")
    return value


def schema_valid(manifest: dict, variable: str) -> None:
    """KServe's own schema (strict: misspelt or misplaced fields and wrong types are errors)."""
    from ...validate import errors, validate_object

    problems = errors(validate_object(manifest, file=f"`{variable}`"))
    if not problems:
        return
    if any(issue.message.startswith("cannot validate") for issue in problems):
        raise CheckFailed(f"`{variable}` could not be checked against KServe's schema: it is not in the cache",
                          hint="run `invoke schemas` once (it downloads the InferenceService CRD of the "
                               "pinned KServe), then run this check again")
    listed = [f"{issue.field or '(object)'}: {issue.message}" for issue in problems]
    raise CheckFailed(f"`{variable}` does not match KServe's InferenceService schema",
                      expected="no schema errors", found="; ".join(listed[:4]) + (" ..." if len(listed) > 4 else ""),
                      hint="fix the field named first: a misspelt name, a field at the wrong level, "
                           "or a number written as a string")


def model_of(manifest: dict, variable: str) -> dict:
    model = ((manifest.get("spec") or {}).get("predictor") or {}).get("model")
    if not isinstance(model, dict):
        raise CheckFailed(f"`{variable}` has no spec.predictor.model", expected="spec.predictor.model with "
                          "modelFormat, runtime, storageUri and resources", found=manifest.get("spec"))
    return model


def uses_sklearn_runtime(model: dict) -> None:
    if (model.get("modelFormat") or {}).get("name") != "sklearn":
        raise CheckFailed("the model format is not sklearn", expected="modelFormat: {name: sklearn}",
                          found=model.get("modelFormat"), hint="the iris model is a scikit-learn model.joblib")
    if model.get("runtime") != RUNTIME:
        raise CheckFailed("the runtime is not KServe's sklearn server", expected=f"runtime: {RUNTIME}",
                          found=model.get("runtime"),
                          hint="without it KServe picks a runtime for you (MLServer for protocol v2, "
                               "which has no arm64 image)")


def has_small_resources(model: dict) -> None:
    """Requests and limits both set, limits >= requests, nothing above a quarter core / 512Mi."""
    from kubernetes.utils.quantity import parse_quantity

    resources = model.get("resources") or {}
    example = f"resources: {DEFAULT_RESOURCES}"
    for section in ("requests", "limits"):
        values = resources.get(section) or {}
        if "cpu" not in values or "memory" not in values:
            raise CheckFailed(f"resources.{section} must set cpu and memory", expected=example, found=resources,
                              hint="without them each model asks for 1 CPU and 2Gi, more than a laptop cluster has")
    parsed = {}
    for section in ("requests", "limits"):
        for key in ("cpu", "memory"):
            try:
                parsed[section, key] = parse_quantity(resources[section][key])
            except ValueError:
                raise CheckFailed(f"resources.{section}.{key} is not a Kubernetes quantity",
                                  expected="e.g. cpu: 50m, memory: 128Mi", found=resources[section][key]) from None
    if parsed["limits", "cpu"] > MAX_CPU or parsed["limits", "memory"] > MAX_MEMORY:
        raise CheckFailed("the resources are not laptop-sized", expected=f"at most 250m CPU and 512Mi ({example})",
                          found=resources, hint="m means thousandths of a core: 100m is a tenth of a CPU")
    for key in ("cpu", "memory"):
        if parsed["limits", key] < parsed["requests", key]:
            raise CheckFailed(f"the {key} limit is below its request", expected=example, found=resources,
                              hint="a limit is a ceiling: it must be at least the request")
