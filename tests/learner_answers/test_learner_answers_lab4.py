"""Lab 4 answers as learners write them, through the real checks."""

from __future__ import annotations

import copy
import json
import math

import numpy as np
import pytest
import yaml
from scipy.stats import norm

from answer_cases import FAIL, PASS, Case, cases, judge
from kserve_workshop import canary, training
from kserve_workshop.isvc.manifest import PUBLIC_IRIS_MODEL, PUBLIC_IRIS_MODEL_2, load_manifest

LAB = "manifests/labs/04-canary-rollouts"
STABLE = load_manifest(f"{LAB}/iris-v1.yaml")
SPLIT = training.iris_split()
V1, V2 = training.train_iris(SPLIT, kind="svc"), training.train_iris(SPLIT, kind="tree")
CANDIDATES = np.array(canary.candidate_inputs())
DIFFERS = V1.predict(CANDIDATES) != V2.predict(CANDIDATES)


@pytest.mark.parametrize(
    "case",
    cases(
        Case("mask-first-three", {"probe": CANDIDATES[DIFFERS][:3].tolist()}, PASS),
        Case("one-row", {"probe": CANDIDATES[DIFFERS][0].tolist()}, PASS),
        Case("numpy", {"probe": CANDIDATES[DIFFERS][:2]}, PASS),
        Case("loop", {"probe": [list(r) for r in CANDIDATES if V1.predict([r])[0] != V2.predict([r])[0]][:3]}, PASS),
        Case("rows-that-agree", {"probe": training.DOCS_IRIS_INPUT}, FAIL, "differ"),
        Case("mixed", {"probe": [CANDIDATES[DIFFERS][0].tolist(), list(training.DOCS_IRIS_INPUT[0])]}, FAIL, "differ"),
        Case("the-mask", {"probe": DIFFERS.tolist()}, FAIL, "candidates[differs]"),
        Case("three-features", {"probe": [[6.0, 2.7, 5.1]]}, FAIL, "candidates[differs]"),
    ),
)
def test_probe(case):
    judge("lab4.probe", case)


def set_field(node, keys, value):
    """Set (or with ``...`` delete) the field at ``keys`` below ``node``."""
    if len(keys) > 1:
        return set_field(node[keys[0]], keys[1:], value)
    if value is ...:
        del node[keys[0]]
    else:
        node[keys[0]] = value


def canary_from(copy_of=copy.deepcopy, **fields):
    """The right canary made from a copy of the stable manifest, then ``fields`` (a__b=value) changed."""
    manifest = copy_of(STABLE)
    predictor = manifest["spec"]["predictor"]
    predictor["canaryTrafficPercent"], predictor["model"]["storageUri"] = 20, PUBLIC_IRIS_MODEL_2
    for dotted, value in fields.items():
        set_field(manifest, dotted.split("__"), value)
    return {"stable_manifest": STABLE, "canary_manifest": manifest}


def canary_by_shallow_copy():
    stable = copy.deepcopy(STABLE)  # the notebook's own stable_manifest, which a shallow copy shares
    manifest = copy.copy(stable)
    manifest["spec"]["predictor"]["canaryTrafficPercent"] = 20
    manifest["spec"]["predictor"]["model"]["storageUri"] = PUBLIC_IRIS_MODEL_2
    return {"stable_manifest": stable, "canary_manifest": manifest}


def canary_with(**extra):
    return canary_from(**extra)


@pytest.mark.parametrize(
    "case",
    cases(
        Case("deepcopy", canary_from(), PASS),
        Case("json-round-trip", canary_from(lambda m: json.loads(json.dumps(m))), PASS),
        Case("yaml-round-trip", canary_from(lambda m: yaml.safe_load(yaml.safe_dump(m))), PASS),
        Case(
            "the-lab-file", {"stable_manifest": STABLE, "canary_manifest": load_manifest(f"{LAB}/canary-v2.yaml")}, PASS
        ),
        Case("trailing-slash", canary_with(spec__predictor__model__storageUri=PUBLIC_IRIS_MODEL_2 + "/"), PASS),
        Case("the-stable-share", canary_with(spec__predictor__canaryTrafficPercent=80), FAIL, "the stable keeps 80"),
        Case("another-share", canary_with(spec__predictor__canaryTrafficPercent=50), FAIL, "sends 20 % to the canary"),
        Case("also-min-replicas", canary_with(spec__predictor__minReplicas=2), FAIL, "put the other fields back"),
        Case("also-max-replicas", canary_with(spec__predictor__maxReplicas=3), FAIL, "one thing at a time"),
        Case("annotations-dropped", canary_with(metadata__annotations=...), FAIL, "one thing at a time"),
        Case("other-name", canary_with(metadata__name="iris-canary"), FAIL, "one thing at a time"),
        Case("shallow-copy", canary_by_shallow_copy(), FAIL, "copy.deepcopy"),
        Case("same-object", {"stable_manifest": STABLE, "canary_manifest": STABLE}, FAIL, "assignment does not copy"),
        Case("a-fraction", canary_with(spec__predictor__canaryTrafficPercent=0.2), FAIL, None),
        Case("text-percent", canary_with(spec__predictor__canaryTrafficPercent="20"), FAIL, "drop the quotes"),
        Case("numpy-percent", canary_with(spec__predictor__canaryTrafficPercent=np.int64(20)), FAIL, "numpy"),
        Case(
            "percent-at-spec-level",
            canary_with(spec__canaryTrafficPercent=20, spec__predictor__canaryTrafficPercent=...),
            FAIL,
            "canaryTrafficPercent",
        ),
        Case(
            "same-model", canary_with(spec__predictor__model__storageUri=PUBLIC_IRIS_MODEL), FAIL, "PUBLIC_IRIS_MODEL_2"
        ),
        Case("not-a-manifest", {"stable_manifest": STABLE, "canary_manifest": "canary-v2.yaml"}, FAIL, "load_manifest"),
    ),
)
def test_canary_manifest(case, isvc_schema):
    judge("lab4.canary_manifest", case)


Z = norm.ppf(0.975)


@pytest.mark.parametrize(
    "case",
    cases(
        Case("formula", {"n_requests": math.ceil(1.96**2 * 0.2 * (1 - 0.2) / 0.04**2)}, PASS),
        Case("exact-z", {"n_requests": math.ceil(Z**2 * 0.2 * 0.8 / 0.04**2)}, PASS),
        Case("library", {"n_requests": canary.requests_needed(0.2, 0.04)}, PASS),
        Case("numpy-ceil", {"n_requests": np.ceil(1.96**2 * 0.2 * 0.8 / 0.04**2)}, PASS),
        Case("in-percents", {"n_requests": math.ceil(1.96**2 * 20 * 80 / 4**2)}, PASS),
        Case("round", {"n_requests": round(1.96**2 * 0.2 * 0.8 / 0.04**2)}, FAIL, "round up"),
        Case("int", {"n_requests": int(1.96**2 * 0.2 * 0.8 / 0.04**2)}, FAIL, "round up"),
        Case("five-points", {"n_requests": math.ceil(1.96**2 * 0.2 * 0.8 / 0.05**2)}, FAIL, "±4"),
        Case("z-two", {"n_requests": math.ceil(2**2 * 0.2 * 0.8 / 0.04**2)}, FAIL, "1.96"),
        Case("mixed-units", {"n_requests": math.ceil(1.96**2 * 0.2 * 0.8 / 4**2)}, FAIL, "fractions"),
        Case("not-rounded", {"n_requests": 1.96**2 * 0.2 * 0.8 / 0.04**2}, FAIL, "math.ceil"),
        Case("text", {"n_requests": "385"}, FAIL, "is text"),
    ),
)
def test_n_requests(case):
    judge("lab4.n_requests", case)
