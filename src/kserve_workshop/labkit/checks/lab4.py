"""Graded checks of Lab 4 (canary rollouts).

The probe is graded by running both models on it; the canary change against the stable manifest
and KServe's schema; the number of requests against the normal approximation to the binomial
(``canary.requests_needed``).
"""

from __future__ import annotations

import copy
from typing import Any

import numpy as np

from ...canary import requests_needed
from ..check_registry import lab_check
from ..grading import CheckFailed, quoted
from ...isvc.diff import changed_fields, describe
from ...paths import MANIFESTS_DIR
from ...isvc.manifest import PUBLIC_IRIS_MODEL, PUBLIC_IRIS_MODEL_2, load_manifest
from ...training import iris_split, train_iris
from . import isvc_rules
from .answers import is_real, whole_number

CANARY_PERCENT = 20
STABLE_MANIFEST = MANIFESTS_DIR / "labs" / "04-canary-rollouts" / "iris-v1.yaml"
#: The exercise's split, tolerance and confidence: ±4 points, so that rounding to the nearest
#: (384.16 -> 384) and rounding up (385, the right answer) give different numbers.
SHARE, TOLERANCE, CONFIDENCE = 0.20, 0.04, 0.95


def _rows(probe: Any) -> list[list[float]]:
    value = probe.tolist() if hasattr(probe, "tolist") and not isinstance(probe, str) else probe
    if isinstance(value, (list, tuple)) and value and all(is_real(v) for v in value):
        value = [value]  # one flower given as a single row
    if (
        not isinstance(value, (list, tuple))
        or not value
        or not all(isinstance(row, (list, tuple)) and len(row) == 4 and all(is_real(v) for v in row) for row in value)
    ):
        raise CheckFailed(
            "`probe` must be one iris row or a list of rows of 4 numbers",
            expected="e.g. [[6.0, 2.7, 5.1, 1.6]]",
            found=quoted(probe),
            hint="keep rows of candidates where the two models differ: candidates[differs][:3].tolist()",
        )
    return [[float(v) for v in row] for row in value]


def _lab_models() -> tuple[Any, Any]:
    """The lab's two versions, trained as its given cell does (the check's own copies)."""
    split = iris_split()
    return train_iris(split, kind="svc"), train_iris(split, kind="tree")


@lab_check(
    "lab4",
    hint="Predict the candidate inputs with both models and keep rows where the answers differ "
    "(the `differs` mask above).",
)
def probe(probe):
    """Every probe row gets different answers from the lab's v1 and v2, so an answer names the version."""
    rows = _rows(probe)
    model_v1, model_v2 = _lab_models()
    answers_v1 = np.asarray(model_v1.predict(rows)).tolist()
    answers_v2 = np.asarray(model_v2.predict(rows)).tolist()
    same = [row for row, a, b in zip(rows, answers_v1, answers_v2) if a == b]
    if same:
        raise CheckFailed(
            "v1 and v2 answer some probe rows alike, so those answers name no version",
            expected="rows where model_v1 and model_v2 predict different classes",
            found=f"{len(same)} of {len(rows)} rows agree, e.g. {same[0]}",
            hint="keep only rows where the two models differ: candidates[differs]",
        )
    return f"{len(rows)} probe row(s); v1 answers {answers_v1}, v2 answers {answers_v2}"


def _expected_uris(model_versions: Any) -> tuple[str, str]:
    """(stable, canary) storageUris: the learner's own versions when the notebook prepared them
    (``model_versions.prepare_versions``), else KServe's two public iris models."""
    if model_versions is None:
        return PUBLIC_IRIS_MODEL, PUBLIC_IRIS_MODEL_2
    try:
        return model_versions.uri("v1"), model_versions.uri("v2")
    except Exception as exc:  # noqa: BLE001 - a wrong object is a failed answer, not a crash
        raise CheckFailed(
            "`model_versions` is not the lab's two prepared versions",
            expected="model_versions.prepare_versions({'v1': model_v1, 'v2': model_v2}, NAME)",
            found=f"{type(exc).__name__}: {exc}",
            hint="re-run the cell that prepares the versions",
        ) from None


@lab_check(
    "lab4",
    hint="Copy the stable manifest (copy.deepcopy), then change only spec.predictor: "
    "canaryTrafficPercent and model.storageUri.",
)
def canary_manifest(canary_manifest, stable_manifest, model_versions=None):
    """The canary change: the stable manifest with canaryTrafficPercent 20 and the new version's
    storageUri (the learner's v2 when ``model_versions`` is defined, else model-2), nothing else."""
    stable_uri, canary_uri = _expected_uris(model_versions)
    if canary_manifest is stable_manifest:
        raise CheckFailed(
            "`canary_manifest` is the very same dict as `stable_manifest`",
            hint="assignment does not copy: use copy.deepcopy(stable_manifest), then edit the copy",
        )
    canary = isvc_rules.as_manifest(canary_manifest, "canary_manifest")
    stable = load_manifest(STABLE_MANIFEST)  # the lab's, whatever the notebook's copy now holds
    stable["spec"]["predictor"]["model"]["storageUri"] = stable_uri
    edits = changed_fields(stable, stable_manifest) if isinstance(stable_manifest, dict) else []
    if edits:
        raise CheckFailed(
            "`stable_manifest` was changed too",
            expected="stable_manifest as the lab gives it",
            found=f"changed: {describe(edits)}",
            hint="copy.copy and dict(...) copy only the top level, so editing the copy's nested "
            "fields edits the stable manifest: re-run the cell that loads stable_manifest, "
            "and edit a copy.deepcopy of it instead",
        )
    isvc_rules.plain_values(canary, "canary_manifest")
    isvc_rules.schema_valid(canary, "canary_manifest")
    predictor = (canary.get("spec") or {}).get("predictor") or {}
    percent = predictor.get("canaryTrafficPercent")
    if percent != CANARY_PERCENT or isinstance(percent, bool):
        if percent is None:
            hint = "canaryTrafficPercent belongs under spec.predictor, next to model"
        elif isinstance(percent, int) and not isinstance(percent, bool) and percent == 100 - CANARY_PERCENT:
            hint = "canaryTrafficPercent is the share of the new revision (the canary): 20; the stable keeps 80"
        elif isinstance(percent, int) and not isinstance(percent, bool):
            hint = f"the exercise sends {CANARY_PERCENT} % to the canary: canaryTrafficPercent: {CANARY_PERCENT}"
        else:
            hint = "an integer percent: 20, not 0.2 or '20'"
        raise CheckFailed(
            "spec.predictor.canaryTrafficPercent is not the lab's",
            expected=CANARY_PERCENT,
            found=quoted(percent),
            hint=hint,
        )
    model = isvc_rules.model_of(canary, "canary_manifest")
    uri = model.get("storageUri")
    if isinstance(uri, str) and uri.rstrip("/") == canary_uri.rstrip("/"):
        canary_uri = uri  # a trailing / names the same directory, as in Lab 2's manifest check
    if uri != canary_uri:
        where = "model_versions.uri('v2')" if model_versions is not None else "isvc.PUBLIC_IRIS_MODEL_2"
        raise CheckFailed(
            "the canary must serve the new model",
            expected=canary_uri,
            found=quoted(model.get("storageUri")),
            hint=f"set spec.predictor.model.storageUri to {where}: without a change to the spec "
            "there is no new revision to send 20 % to",
        )
    expected = copy.deepcopy(stable)
    expected["spec"]["predictor"]["canaryTrafficPercent"] = CANARY_PERCENT
    expected["spec"]["predictor"]["model"]["storageUri"] = canary_uri
    changes = [change for change in changed_fields(expected, canary) if not _same_quantity(*change)]
    if changes:
        raise CheckFailed(
            "the canary changes more than the percentage and the model",
            expected="only spec.predictor.canaryTrafficPercent and spec.predictor.model.storageUri changed",
            found=f"also changed: {describe(changes)}",
            hint="change one thing at a time, so the canary tells you what that one change does: "
            "put the other fields back as in stable_manifest",
        )
    serves = "your model v2" if model_versions is not None else "model-2"
    return f"20 % of requests will go to a new revision serving {serves}; nothing else changed"


def _same_quantity(path: str, before: Any, after: Any) -> bool:
    """A resource written in other units (cpu 0.05 for 50m, memory 131072Ki for 128Mi): the same
    quantity, so not a change (Kubernetes stores both alike)."""
    if ".resources." not in path:
        return False
    try:
        return isvc_rules.quantity(before, path) == isvc_rules.quantity(after, path)
    except CheckFailed:
        return False


@lab_check("lab4", hint="n = z² · p · (1 − p) / E², with z = 1.96, p = 0.2, E = 0.04, rounded up (math.ceil).")
def n_requests(n_requests):
    """Requests needed to see a 20 % split within ±4 points with 95 % confidence."""
    expected = requests_needed(SHARE, TOLERANCE, CONFIDENCE)
    n = whole_number(
        n_requests,
        "n_requests",
        expected=expected,
        hint="a number of requests is a whole number: round up with math.ceil",
    )
    if n == expected:
        return f"{n} requests: the observed share will be within ±4 points of 20 % 19 times out of 20"
    if n == expected - 1:
        raise CheckFailed(
            "rounded down",
            expected=expected,
            found=quoted(n_requests),
            hint="round up (math.ceil): round() and int() give one request too few, and with one "
            "request fewer the margin is just above 4 points",
        )
    if n < 10:
        raise CheckFailed(
            "far too few requests",
            expected=expected,
            found=quoted(n_requests),
            hint="use fractions in the formula (p = 0.2, E = 0.04), or percents for both (20, 4)",
        )
    if n == requests_needed(SHARE, 0.05, CONFIDENCE):
        hint = "that is for ±5 points: the exercise asks for ±4 (E = 0.04)"
    elif n == round(2**2 * SHARE * (1 - SHARE) / TOLERANCE**2):
        hint = "z for 95 % confidence is 1.96, not 2"
    else:
        hint = "n = z² · p · (1 − p) / E² with z = 1.96, p = 0.2, E = 0.04"
    raise CheckFailed(
        "not the number of requests the formula gives", expected=expected, found=quoted(n_requests), hint=hint
    )
