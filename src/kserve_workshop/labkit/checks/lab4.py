"""Graded checks of Lab 4 (canary rollouts).

The probe is graded by running both models on it; the canary change against the stable manifest
and KServe's schema; the number of requests against the normal approximation to the binomial
(``canary.requests_needed``).
"""

from __future__ import annotations

import copy
import numbers
from typing import Any

import numpy as np

from ...canary import requests_needed
from ..grading import CheckFailed, lab_check
from ...isvc.manifest import PUBLIC_IRIS_MODEL, PUBLIC_IRIS_MODEL_2, TAG_ROUTING_ANNOTATION
from . import isvc_rules

CANARY_PERCENT = 20
SHARE, TOLERANCE, CONFIDENCE = 0.20, 0.05, 0.95


def _rows(probe: Any) -> list[list[float]]:
    value = probe.tolist() if hasattr(probe, "tolist") else probe
    if isinstance(value, (list, tuple)) and value and all(isinstance(v, numbers.Real) for v in value):
        value = [value]  # one flower given as a single row
    if (not isinstance(value, (list, tuple)) or not value
            or not all(isinstance(row, (list, tuple)) and len(row) == 4 for row in value)):
        raise CheckFailed("`probe` must be one iris row or a list of rows of 4 numbers",
                          expected="e.g. [[6.0, 2.7, 5.1, 1.6]]", found=probe)
    return [list(row) for row in value]


@lab_check("lab4", hint="Predict the candidate inputs with both models and keep rows where the answers differ "
                        "(canary.find_probes does exactly that).")
def probe(probe, model_v1, model_v2):
    """Every probe row gets different answers from v1 and v2, so an answer names the version."""
    rows = _rows(probe)
    try:
        answers_v1 = np.asarray(model_v1.predict(rows)).tolist()
        answers_v2 = np.asarray(model_v2.predict(rows)).tolist()
    except Exception as exc:  # noqa: BLE001 - a broken model is a failed answer, not a crash
        raise CheckFailed("the models could not predict the probe", found=f"{type(exc).__name__}: {exc}",
                          hint="model_v1 and model_v2 must be fitted classifiers") from None
    same = [row for row, a, b in zip(rows, answers_v1, answers_v2) if a == b]
    if same:
        raise CheckFailed("v1 and v2 answer some probe rows alike, so those answers name no version",
                          expected="rows where model_v1 and model_v2 predict different classes",
                          found=f"{len(same)} of {len(rows)} rows agree, e.g. {same[0]}")
    return f"{len(rows)} probe row(s); v1 answers {answers_v1}, v2 answers {answers_v2}"


@lab_check("lab4", hint="Copy the stable manifest (copy.deepcopy), then change only spec.predictor: "
                        "canaryTrafficPercent and model.storageUri.")
def canary_manifest(canary_manifest, stable_manifest):
    """The canary change: same object, canaryTrafficPercent 20 and model-2, everything else as stable."""
    if canary_manifest is stable_manifest:
        raise CheckFailed("`canary_manifest` is the very same dict as `stable_manifest`",
                          hint="assignment does not copy: use copy.deepcopy(stable_manifest), then edit the copy")
    canary = isvc_rules.as_manifest(canary_manifest, "canary_manifest")
    stable = isvc_rules.as_manifest(stable_manifest, "stable_manifest")
    if isvc_rules.model_of(stable, "stable_manifest").get("storageUri") != PUBLIC_IRIS_MODEL:
        raise CheckFailed("`stable_manifest` was changed too", expected=f"its storageUri still {PUBLIC_IRIS_MODEL}",
                          found=stable["spec"]["predictor"]["model"].get("storageUri"),
                          hint="re-run the cell that loads it, and edit a deep copy instead")
    isvc_rules.schema_valid(canary, "canary_manifest")
    for field in ("name", "namespace"):
        if (canary.get("metadata") or {}).get(field) != (stable.get("metadata") or {}).get(field):
            raise CheckFailed(f"metadata.{field} differs from the stable manifest",
                              expected=stable["metadata"].get(field), found=canary["metadata"].get(field),
                              hint="a canary is a change to the same InferenceService, not a new one")
    predictor = canary["spec"]["predictor"]
    percent = predictor.get("canaryTrafficPercent")
    if percent != CANARY_PERCENT or isinstance(percent, bool):
        raise CheckFailed("spec.predictor.canaryTrafficPercent is not the lab's", expected=CANARY_PERCENT,
                          found=percent, hint="an integer percent: 20, not 0.2 or '20'")
    model = isvc_rules.model_of(canary, "canary_manifest")
    if model.get("storageUri") != PUBLIC_IRIS_MODEL_2:
        raise CheckFailed("the canary must serve the new model", expected=PUBLIC_IRIS_MODEL_2,
                          found=model.get("storageUri"),
                          hint="without a change to the spec there is no new revision to send 20 % to")
    expected_model = copy.deepcopy(stable["spec"]["predictor"]["model"])
    expected_model["storageUri"] = PUBLIC_IRIS_MODEL_2
    if model != expected_model:
        changed = sorted(k for k in set(model) | set(expected_model) if model.get(k) != expected_model.get(k))
        raise CheckFailed("the canary changes more than the model", expected="only storageUri changed",
                          found=f"also changed: {', '.join(changed)}",
                          hint="change one thing at a time, so the canary tells you what that one change does")
    isvc_rules.has_small_resources(model)
    annotations = (canary.get("metadata") or {}).get("annotations") or {}
    if annotations.get(TAG_ROUTING_ANNOTATION) != "true":
        raise CheckFailed("the tag-routing annotation was lost", expected={TAG_ROUTING_ANNOTATION: "true"},
                          found=annotations, hint="keep the stable manifest's metadata.annotations")
    return "20 % of requests will go to a new revision serving model-2"


@lab_check("lab4", hint="n = z² · p · (1 − p) / E², with z = 1.96, p = 0.2, E = 0.05, rounded up (math.ceil).")
def n_requests(n_requests):
    """Requests needed to see a 20 % split within ±5 points with 95 % confidence."""
    expected = requests_needed(SHARE, TOLERANCE, CONFIDENCE)
    if isinstance(n_requests, bool) or not isinstance(n_requests, numbers.Real):
        raise CheckFailed("`n_requests` must be a number of requests", expected=expected, found=n_requests)
    if n_requests != int(n_requests):
        raise CheckFailed("a number of requests is a whole number", expected=expected, found=n_requests,
                          hint="round up with math.ceil: rounding down gives slightly too few")
    n = int(n_requests)
    if n == expected:
        return f"{n} requests: the observed share will be within ±5 points of 20 % 19 times out of 20"
    if n == expected - 1:
        raise CheckFailed("rounded down", expected=expected, found=n,
                          hint="round up: with one request fewer the margin is just above 5 points")
    if n < 10:
        raise CheckFailed("far too few requests", expected=expected, found=n,
                          hint="use fractions in the formula (p = 0.2, E = 0.05), not percents")
    raise CheckFailed("not the number of requests the formula gives", expected=expected, found=n)
