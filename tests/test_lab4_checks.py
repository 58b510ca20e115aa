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


def test_probe_is_graded_on_the_labs_own_models(models):
    # The learner's model_v1/model_v2 are ignored: an edited model cannot make a bad probe pass.
    from sklearn.svm import SVC

    v1, v2 = models
    agreed = training.DOCS_IRIS_INPUT[:1]
    assert_fails(run("probe", probe=agreed, model_v1=SVC(), model_v2=SVC()), mentions="alike")


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


@pytest.mark.parametrize(
    "changes, mentions",
    [
        ({"spec__predictor__canaryTrafficPercent": 0.2}, "wrong type"),
        ({"spec__predictor__canaryTrafficPercent": 80}, "canaryTrafficPercent is not the lab's"),
        ({"spec__predictor__canaryTrafficPercent": ...}, "canaryTrafficPercent is not the lab's"),
        ({"spec__canaryTrafficPercent": 20}, "spec.canaryTrafficPercent: unknown field"),
        ({"spec__predictor__model__storageUri": serving.PUBLIC_IRIS_MODEL}, "must serve the new model"),
        ({"metadata__name": "iris-rollout-canary"}, "metadata.name: 'iris-rollout' -> 'iris-rollout-canary'"),
        ({"spec__predictor__model__runtime": "kserve-mlserver"}, "also changed: spec.predictor.model.runtime"),
        (
            {
                "spec__predictor__model__resources": {
                    "requests": {"cpu": "1", "memory": "2Gi"},
                    "limits": {"cpu": "1", "memory": "2Gi"},
                }
            },
            "spec.predictor.model.resources.requests.cpu: '50m' -> '1'",
        ),
        (
            {"metadata__annotations": {}},
            "metadata.annotations.serving.kserve.io/enable-tag-routing: 'true' -> '(absent)'",
        ),
        ({"spec__predictor__minReplicas": 2}, "spec.predictor.minReplicas: 1 -> 2"),
        ({"spec__predictor__maxReplicas": 4}, "spec.predictor.maxReplicas: '(absent)' -> 4"),
    ],
)
def test_a_wrong_canary_fails_with_a_hint(isvc_schema, changes, mentions):
    assert_fails(
        run("canary_manifest", canary_manifest=canary_from_stable(**changes), stable_manifest=STABLE), mentions=mentions
    )


def test_editing_the_stable_manifest_in_place_is_caught(isvc_schema):
    stable = copy.deepcopy(STABLE)
    same = stable
    same["spec"]["predictor"]["canaryTrafficPercent"] = 20
    same["spec"]["predictor"]["model"]["storageUri"] = serving.PUBLIC_IRIS_MODEL_2
    assert_fails(run("canary_manifest", canary_manifest=same, stable_manifest=stable), mentions="deepcopy")
    shallow = copy.copy(stable)  # a shallow copy shares spec with the stable manifest
    assert_fails(
        run("canary_manifest", canary_manifest=shallow, stable_manifest=stable),
        mentions="`stable_manifest` was changed too",
    )


# With the learner's own versions (model_versions.prepare_versions), the check expects their URIs.


@pytest.fixture(scope="module")
def own_versions(models, tmp_path_factory):
    from kserve_workshop.model_versions import prepare_versions

    v1, v2 = models
    return prepare_versions({"v1": v1, "v2": v2}, "iris-rollout", directory=tmp_path_factory.mktemp("versions"))


def test_a_canary_of_the_learners_own_versions_passes(isvc_schema, own_versions):
    stable = serving.use_model(STABLE, own_versions.uri("v1"))
    canary_ = copy.deepcopy(stable)
    canary_["spec"]["predictor"]["canaryTrafficPercent"] = 20
    canary_["spec"]["predictor"]["model"]["storageUri"] = own_versions.uri("v2")
    result = run("canary_manifest", canary_manifest=canary_, stable_manifest=stable, model_versions=own_versions)
    assert result.passed, result.text()
    assert "your model v2" in result.message


def test_with_own_versions_the_public_model_2_is_not_the_new_version(isvc_schema, own_versions):
    stable = serving.use_model(STABLE, own_versions.uri("v1"))
    public = copy.deepcopy(stable)
    public["spec"]["predictor"]["canaryTrafficPercent"] = 20
    public["spec"]["predictor"]["model"]["storageUri"] = serving.PUBLIC_IRIS_MODEL_2
    assert_fails(
        run("canary_manifest", canary_manifest=public, stable_manifest=stable, model_versions=own_versions),
        mentions=own_versions.uri("v2"),
    )
    swapped = copy.deepcopy(public)
    swapped["spec"]["predictor"]["model"]["storageUri"] = own_versions.uri("v1")
    assert_fails(
        run("canary_manifest", canary_manifest=swapped, stable_manifest=stable, model_versions=own_versions),
        mentions="must serve the new model",
    )
    assert_fails(
        run("canary_manifest", canary_manifest=public, stable_manifest=stable, model_versions="v2"),
        mentions="not the lab's two prepared versions",
    )


@pytest.mark.parametrize("answer", MALFORMED)
def test_canary_manifest_survives_malformed_answers(answer):
    assert not run("canary_manifest", canary_manifest=answer, stable_manifest=STABLE).passed


# -- number of requests -------------------------------------------------------------------------------


def test_n_requests_passes_for_the_formula():
    assert run("n_requests", n_requests=385).passed  # ceil(1.96² · 0.2 · 0.8 / 0.04²) = ceil(384.16)
    assert run("n_requests", n_requests=385.0).passed
    assert run("n_requests", n_requests=np.int64(385)).passed
    assert math.ceil(1.96**2 * 0.2 * 0.8 / 0.04**2) == 385  # the learner's likely z = 1.96 agrees
    # The exercise's ±4 points make rounding to the nearest differ from rounding up (at ±5 they agree).
    assert round(1.96**2 * 0.2 * 0.8 / 0.04**2) == 384
    assert round(1.96**2 * 0.2 * 0.8 / 0.05**2) == math.ceil(1.96**2 * 0.2 * 0.8 / 0.05**2)


@pytest.mark.parametrize(
    "answer, mentions",
    [
        (384, "round up"),
        (384.16, "whole number"),
        (-59, "use fractions"),  # p = 20, E = 4 in percent, with (1 - p)
        (1, "use fractions"),  # p = 0.2, E = 4
        (400, "1.96"),  # z = 2
        (246, "±5"),  # the tolerance of an earlier version of the exercise
        ("385", "must be a number"),
        (True, "must be a number"),
    ],
)
def test_n_requests_rejects_wrong_numbers_with_a_hint(answer, mentions):
    assert_fails(run("n_requests", n_requests=answer), mentions=mentions)
