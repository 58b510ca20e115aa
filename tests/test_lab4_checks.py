"""Lab 4's graded checks: right answers pass; wrong answers fail with a hint; odd ones never crash."""

from __future__ import annotations

import copy
import math

import numpy as np
import pytest

from kserve_workshop import canary, serving, training

from support.checks import assert_fails, lab_runner

STABLE = serving.load_manifest("manifests/labs/04-canary-rollouts/iris-v1.yaml")
CANARY = serving.load_manifest("manifests/labs/04-canary-rollouts/canary-v2.yaml")
MALFORMED = [None, "text: [", 42, [], {}, object(), True]


@pytest.fixture(scope="module")
def models():
    split = training.iris_split()
    return training.train_iris(split, kind="svc"), training.train_iris(split, kind="tree")


run = lab_runner("lab4")


# -- probe ----------------------------------------------------------------------------------------

def test_probe_passes_for_rows_where_the_models_differ(models):
    v1, v2 = models
    candidates = canary.candidate_inputs()
    differ = [row for row, a, b in zip(candidates, v1.predict(candidates), v2.predict(candidates)) if a != b]
    assert differ, "the two lab models must disagree somewhere for this lab to work"
    assert run("probe", probe=differ[:2], model_v1=v1, model_v2=v2).passed
    assert run("probe", probe=differ[0], model_v1=v1, model_v2=v2).passed  # one row on its own
    assert run("probe", probe=np.array(differ[:3]), model_v1=v1, model_v2=v2).passed


def test_probe_rejects_rows_where_the_models_agree(models):
    v1, v2 = models
    agreed = training.DOCS_IRIS_INPUT[:1]
    assert v1.predict(agreed)[0] == v2.predict(agreed)[0]
    assert_fails(run("probe", probe=agreed, model_v1=v1, model_v2=v2), mentions="answer some probe rows alike")


@pytest.mark.parametrize("answer", [[[1.0, 2.0]], [[]], "6.0,2.7,5.1,1.6", None, []])
def test_probe_rejects_rows_that_are_not_iris_rows(models, answer):
    v1, v2 = models
    assert_fails(run("probe", probe=answer, model_v1=v1, model_v2=v2), mentions="rows of 4 numbers")


def test_probe_with_unfitted_models_fails_without_crashing():
    from sklearn.svm import SVC

    result = run("probe", probe=[[6.0, 2.7, 5.1, 1.6]], model_v1=SVC(), model_v2=SVC())
    assert_fails(result, mentions="could not predict")


# -- canary manifest --------------------------------------------------------------------------------

def canary_from_stable(**changes) -> dict:
    manifest = copy.deepcopy(STABLE)
    manifest["spec"]["predictor"]["canaryTrafficPercent"] = 20
    manifest["spec"]["predictor"]["model"]["storageUri"] = serving.PUBLIC_IRIS_MODEL_2
    for path, value in changes.items():
        *parents, last = path.split("__")
        node = manifest
        for part in parents:
            node = node[part]
        if value is ...:
            node.pop(last)
        else:
            node[last] = value
    return manifest


def test_the_lab_canary_passes(isvc_schema):
    assert run("canary_manifest", canary_manifest=copy.deepcopy(CANARY), stable_manifest=STABLE).passed
    assert run("canary_manifest", canary_manifest=canary_from_stable(), stable_manifest=STABLE).passed


@pytest.mark.parametrize("changes, mentions", [
    ({"spec__predictor__canaryTrafficPercent": 0.2}, "wrong type"),
    ({"spec__predictor__canaryTrafficPercent": 80}, "canaryTrafficPercent is not the lab's"),
    ({"spec__predictor__canaryTrafficPercent": ...}, "canaryTrafficPercent is not the lab's"),
    ({"spec__canaryTrafficPercent": 20}, "spec.canaryTrafficPercent: unknown field"),
    ({"spec__predictor__model__storageUri": serving.PUBLIC_IRIS_MODEL}, "must serve the new model"),
    ({"metadata__name": "iris-rollout-canary"}, "metadata.name differs"),
    ({"spec__predictor__model__runtime": "kserve-mlserver"}, "changes more than the model"),
    ({"spec__predictor__model__resources": {"requests": {"cpu": "1", "memory": "2Gi"},
                                            "limits": {"cpu": "1", "memory": "2Gi"}}}, "changes more than the model"),
    ({"metadata__annotations": {}}, "tag-routing annotation was lost"),
])
def test_a_wrong_canary_fails_with_a_hint(isvc_schema, changes, mentions):
    assert_fails(run("canary_manifest", canary_manifest=canary_from_stable(**changes), stable_manifest=STABLE),
                 mentions=mentions)


def test_editing_the_stable_manifest_in_place_is_caught(isvc_schema):
    stable = copy.deepcopy(STABLE)
    same = stable
    same["spec"]["predictor"]["canaryTrafficPercent"] = 20
    same["spec"]["predictor"]["model"]["storageUri"] = serving.PUBLIC_IRIS_MODEL_2
    assert_fails(run("canary_manifest", canary_manifest=same, stable_manifest=stable), mentions="deepcopy")
    shallow = copy.copy(stable)  # a shallow copy shares spec with the stable manifest
    assert_fails(run("canary_manifest", canary_manifest=shallow, stable_manifest=stable),
                 mentions="`stable_manifest` was changed too")


@pytest.mark.parametrize("answer", MALFORMED)
def test_canary_manifest_survives_malformed_answers(answer):
    assert not run("canary_manifest", canary_manifest=answer, stable_manifest=STABLE).passed


# -- number of requests -------------------------------------------------------------------------------

def test_n_requests_passes_for_the_formula():
    assert run("n_requests", n_requests=246).passed  # ceil(1.96² · 0.2 · 0.8 / 0.05²) = ceil(245.9)
    assert run("n_requests", n_requests=246.0).passed
    assert run("n_requests", n_requests=np.int64(246)).passed
    assert math.ceil(1.96 ** 2 * 0.2 * 0.8 / 0.05 ** 2) == 246  # the learner's likely z = 1.96 agrees


@pytest.mark.parametrize("answer, mentions", [
    (245, "round up"),
    (245.86, "whole number"),
    (-59, "use fractions"),           # p = 20, E = 5 in percent
    (1, "use fractions"),             # p = 0.2, E = 5
    (257, "not the number"),          # z = 2 and rounded up
    ("246", "must be a number"),
    (True, "must be a number"),
])
def test_n_requests_rejects_wrong_numbers_with_a_hint(answer, mentions):
    assert_fails(run("n_requests", n_requests=answer), mentions=mentions)
