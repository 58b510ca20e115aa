"""What the InferenceService checks of Labs 2 and 4 share: schema validation and the laptop rules.

Each rule raises ``CheckFailed`` with the field at fault and how to fix it.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import yaml

from ..grading import CheckFailed, quoted
from ...isvc.manifest import API_VERSION, DEFAULT_RESOURCES, KIND

RUNTIME = "kserve-sklearnserver"
#: Upper bounds for "small": a kind node on a laptop runs several models, a canary doubles the pods.
MAX_CPU = 0.25
MAX_MEMORY = 512 * 1024**2
#: Below this a memory value is a unit forgotten (``memory: 128`` is 128 bytes), not a model's need.
MIN_MEMORY = 16 * 1024**2


def as_manifest(value: Any, variable: str) -> dict:
    """The learner's manifest as a dict (YAML text is accepted and parsed)."""
    text = value if isinstance(value, str) else None
    if isinstance(value, str):
        try:
            value = yaml.safe_load(value)
        except yaml.YAMLError as exc:
            raise CheckFailed(
                f"`{variable}` is not valid YAML",
                found=str(exc).splitlines()[0],
                hint="check the indentation: two spaces per level, no tabs",
            ) from None
    if not isinstance(value, dict):
        raise CheckFailed(
            f"`{variable}` must be an InferenceService as a dict (or YAML text)",
            expected="{'apiVersion': 'serving.kserve.io/v1beta1', 'kind': 'InferenceService', ...}",
            found=quoted(value),
            hint=(
                "that is a file name, not its content: isvc.load_manifest(path) reads it"
                if text and text.strip().endswith((".yaml", ".yml"))
                else "a dict with apiVersion, kind, metadata and spec"
            ),
        )
    if value.get("apiVersion") != API_VERSION or value.get("kind") != KIND:
        raise CheckFailed(
            f"`{variable}` is not an InferenceService",
            expected=f"apiVersion {API_VERSION}, kind {KIND}",
            found=f"apiVersion {value.get('apiVersion')!r}, kind {value.get('kind')!r}",
            hint=f"start with apiVersion: {API_VERSION} and kind: {KIND}",
        )
    return value


def plain_values(manifest: Any, variable: str, path: str = "") -> None:
    """Only what the Kubernetes client can send: dicts, lists, str, int, float, bool, None (no numpy)."""
    if isinstance(manifest, dict):
        for key, value in manifest.items():
            plain_values(value, variable, f"{path}.{key}" if path else str(key))
    elif isinstance(manifest, (list, tuple)):
        for index, value in enumerate(manifest):
            plain_values(value, variable, f"{path}[{index}]")
    elif manifest is not None and not isinstance(manifest, (str, int, float, bool)):
        raise CheckFailed(
            f"{path} in `{variable}` is a {type(manifest).__name__}, not a plain number or text",
            expected="plain Python values (int, float, str)",
            found=quoted(manifest),
            hint="the Kubernetes client cannot send numpy numbers: write the value itself "
            "(e.g. 20), or convert it with int(...)",
        )


def schema_valid(manifest: dict, variable: str) -> None:
    """KServe's own schema (strict: misspelt or misplaced fields and wrong types are errors)."""
    from ...validate import errors, validate_object

    problems = errors(validate_object(manifest, file=f"`{variable}`"))
    if not problems:
        return
    if any(issue.message.startswith("cannot validate") for issue in problems):
        raise CheckFailed(
            f"`{variable}` could not be checked against KServe's schema: it is not in the cache",
            hint="run `invoke schemas` once (it downloads the InferenceService CRD of the "
            "pinned KServe), then run this check again",
        )
    listed = [f"{issue.field or '(object)'}: {issue.message}" for issue in problems]
    raise CheckFailed(
        f"`{variable}` does not match KServe's InferenceService schema",
        expected="no schema errors",
        found="; ".join(listed[:4]) + (" ..." if len(listed) > 4 else ""),
        hint=_schema_hint(problems[0].field or "", problems[0].message),
    )


def _schema_hint(field: str, message: str) -> str:
    """A hint for the first schema problem: the slip that usually causes it."""
    last = field.rsplit(".", 1)[-1]
    if "unknown field" in message and last in ("cpu", "memory") and field.endswith(f"resources.{last}"):
        return "cpu and memory go one level down, under resources.requests and resources.limits"
    if "unknown field" in message and "did you mean" in message:
        return f"a misspelt name: {message}"
    if "unknown field" in message:
        return (
            f"{last} is not a field at {field.rpartition('.')[0] or 'the top level'}: a misspelt name, or a "
            "field at the wrong level (compare the indentation with the lesson's structure)"
        )
    if last in ("cpu", "memory") and "does not match" in message:
        return (
            'not a Kubernetes quantity: cpu as 50m or "0.05", memory as 128Mi (Mi, Gi: powers of 1024; '
            "the units are case-sensitive, and MB is not one)"
        )
    if "integer or string, found number" in message:
        return 'a quantity with decimals must be text: write 50m, or "0.05" in quotes'
    if "expected integer, found string" in message or "expected number, found string" in message:
        return "a number written as a string: drop the quotes"
    return "fix the field named first: a misspelt name, a field at the wrong level, or a value of the wrong type"


def model_of(manifest: dict, variable: str) -> dict:
    model = ((manifest.get("spec") or {}).get("predictor") or {}).get("model")
    if not isinstance(model, dict):
        raise CheckFailed(
            f"`{variable}` has no spec.predictor.model",
            expected="spec.predictor.model with modelFormat, runtime, storageUri and resources",
            found=quoted(manifest.get("spec")),
            hint="the model's fields go under spec: predictor: model:",
        )
    return model


def uses_sklearn_runtime(model: dict) -> None:
    if (model.get("modelFormat") or {}).get("name") != "sklearn":
        raise CheckFailed(
            "the model format is not sklearn",
            expected="modelFormat: {name: sklearn}",
            found=quoted(model.get("modelFormat")),
            hint="the iris model is a scikit-learn model.joblib",
        )
    if model.get("runtime") != RUNTIME:
        raise CheckFailed(
            "the runtime is not KServe's sklearn server",
            expected=f"runtime: {RUNTIME}",
            found=quoted(model.get("runtime")),
            hint="without it KServe picks a runtime for you (MLServer for protocol v2, which has no arm64 image)",
        )


def quantity(value: Any, where: str) -> Decimal:
    """A Kubernetes quantity ("50m", "128Mi", 0.05, 128) as a Decimal, or CheckFailed naming the field."""
    from kubernetes.utils.quantity import parse_quantity

    if isinstance(value, bool) or not isinstance(value, (str, int, float)):
        raise CheckFailed(
            f"{where} is not a Kubernetes quantity",
            expected="e.g. cpu: 50m, memory: 128Mi",
            found=quoted(value),
            hint="write a quantity: 50m (cores/1000), 128Mi (MiB)",
        )
    try:
        return parse_quantity(str(value) if isinstance(value, float) else value)
    except ValueError:
        raise CheckFailed(
            f"{where} is not a Kubernetes quantity",
            expected="e.g. cpu: 50m, memory: 128Mi",
            found=quoted(value),
            hint="m is a thousandth of a core; Mi and Gi are 2^20 and 2^30 bytes",
        ) from None


def resources_of(model: dict, example: str) -> dict[tuple[str, str], Decimal]:
    """``(section, cpu|memory) -> quantity`` for requests and limits; CheckFailed on a missing or
    misplaced value, with a hint for the slip that caused it."""
    resources = model.get("resources")
    if not isinstance(resources, dict) or not resources:
        raise CheckFailed(
            "spec.predictor.model.resources is missing",
            expected=example,
            found=quoted(resources),
            hint="without resources each model asks for 1 CPU and 2Gi, more than a laptop cluster has",
        )
    misplaced = sorted(key for key in resources if key in ("cpu", "memory"))
    if misplaced:
        raise CheckFailed(
            f"{' and '.join(misplaced)} sit directly under resources",
            expected=example,
            found=quoted(resources),
            hint="cpu and memory go one level down, under resources.requests and resources.limits",
        )
    parsed = {}
    for section in ("requests", "limits"):
        values = resources.get(section)
        if not isinstance(values, dict) or "cpu" not in values or "memory" not in values:
            raise CheckFailed(
                f"resources.{section} must set cpu and memory",
                expected=example,
                found=quoted(resources),
                hint=f"add {section}: with both cpu: and memory: (requests is what the pod reserves, "
                "limits its ceiling)",
            )
        for key in ("cpu", "memory"):
            parsed[section, key] = quantity(values[key], f"resources.{section}.{key}")
    for section in ("requests", "limits"):
        memory = parsed[section, "memory"]
        if memory < MIN_MEMORY:
            raise CheckFailed(
                f"resources.{section}.memory is {memory} bytes",
                expected=example,
                found=quoted(resources[section]["memory"]),
                hint="a number without a unit counts bytes: write 128Mi (mebibytes), not 128",
            )
    return parsed


def has_small_resources(model: dict) -> None:
    """Requests and limits both set, limits >= requests, nothing above a quarter core / 512Mi."""
    example = f"resources: {_plain(DEFAULT_RESOURCES)}"
    parsed = resources_of(model, example)
    resources = model["resources"]
    if parsed["limits", "cpu"] > MAX_CPU or parsed["limits", "memory"] > MAX_MEMORY:
        raise CheckFailed(
            "the resources are not laptop-sized",
            expected=f"at most 250m CPU and 512Mi ({example})",
            found=quoted(resources),
            hint="m means thousandths of a core: 100m is a tenth of a CPU",
        )
    for key in ("cpu", "memory"):
        if parsed["limits", key] < parsed["requests", key]:
            raise CheckFailed(
                f"the {key} limit is below its request",
                expected=example,
                found=quoted(resources),
                hint="a limit is a ceiling: it must be at least the request",
            )


def has_resources(model: dict, wanted: dict) -> None:
    """Exactly the ``wanted`` requests and limits, compared as quantities (50m == 0.05, 128Mi == 134217728)."""
    example = f"resources: {_plain(wanted)}"
    parsed = resources_of(model, example)
    for section in ("requests", "limits"):
        for key in ("cpu", "memory"):
            want = quantity(wanted[section][key], key)
            if parsed[section, key] != want:
                found = model["resources"][section][key]
                if key == "memory" and str(found).endswith(("M", "G")):
                    hint = "M and G are powers of 1000; Mi and Gi powers of 1024: write Mi"
                elif key == "cpu" and parsed[section, key] == want * 1000:
                    hint = "cpu counts cores: 50m (or 0.05) is 50 thousandths of a core, 50 is fifty cores"
                else:
                    hint = f"the exercise asks for {section}: cpu {wanted[section]['cpu']}, memory {wanted[section]['memory']}"
                raise CheckFailed(
                    f"resources.{section}.{key} is not the one asked for",
                    expected=wanted[section][key],
                    found=quoted(found),
                    hint=hint,
                )


def _plain(value: Any) -> Any:
    """Frozen constants shown as the plain dicts they are."""
    return {key: _plain(item) for key, item in value.items()} if isinstance(value, dict) else value
