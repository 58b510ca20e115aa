"""Lab 2's graded checks: right answers pass; wrong answers fail with a hint; odd ones never crash."""

from __future__ import annotations

import copy

import numpy as np
import pytest
import yaml

from kserve_workshop import serving

from support.checks import assert_fails, lab_runner

LAB2_MANIFEST = serving.load_manifest("manifests/labs/02-first-inferenceservice/sklearn-iris.yaml")
EXAMPLE_ISVC = {
    "apiVersion": "serving.kserve.io/v1beta1",
    "kind": "InferenceService",
    "metadata": {"name": "sklearn-iris", "namespace": "default"},
    "status": {
        "url": "http://sklearn-iris.default.example.com",
        "address": {"url": "http://sklearn-iris-predictor.default.svc.cluster.local"},
        "conditions": [{"type": "Ready", "status": "True"}],
    },
}
MALFORMED = [None, "text: [", 42, [], {}, object(), True]


run = lab_runner("lab2")


def changed(path: str, value, manifest=LAB2_MANIFEST) -> dict:
    """A copy of ``manifest`` with the field at the dotted ``path`` set (``...`` deletes it)."""
    result = copy.deepcopy(manifest)
    *parents, last = path.split(".")
    node = result
    for part in parents:
        node = node.setdefault(part, {})
    if value is ...:
        node.pop(last, None)
    else:
        node[last] = value
    return result


# -- manifest -----------------------------------------------------------------------------------


def test_the_lab_manifest_passes_as_a_dict_and_as_yaml_text(isvc_schema):
    assert run("manifest", manifest=copy.deepcopy(LAB2_MANIFEST)).passed
    assert run("manifest", manifest=yaml.safe_dump(LAB2_MANIFEST)).passed


def test_build_isvc_gives_a_passing_manifest(isvc_schema):
    assert run("manifest", manifest=serving.build_isvc("sklearn-iris", serving.PUBLIC_IRIS_MODEL)).passed


@pytest.mark.parametrize(
    "path, value, mentions",
    [
        ("spec.predictor.model.storageUrl", serving.PUBLIC_IRIS_MODEL, "did you mean 'storageUri'"),
        ("spec.predictor.minReplicas", "1", "wrong type"),
        ("spec.model", {"modelFormat": {"name": "sklearn"}}, "unknown field"),
        ("metadata.name", "iris", "metadata.name is not the lab's"),
        ("spec.predictor.model.modelFormat.name", "xgboost", "not sklearn"),
        ("spec.predictor.model.runtime", ..., "MLServer"),
        ("spec.predictor.model.runtime", "kserve-mlserver", "not KServe's sklearn server"),
        ("spec.predictor.model.storageUri", serving.PUBLIC_IRIS_MODEL + "/model.joblib", "directory holding"),
        ("spec.predictor.model.resources", ..., "resources is missing"),
        ("spec.predictor.model.resources.limits", ..., "resources.limits must set cpu and memory"),
        ("spec.predictor.model.resources.limits.cpu", "2", "limits.cpu is not the one asked for"),
        ("spec.predictor.model.resources.limits.memory", "2Gi", "limits.memory is not the one asked for"),
        ("spec.predictor.model.resources.requests.cpu", "200m", "requests.cpu is not the one asked for"),
        ("spec.predictor.model.resources.requests.memory", "lots", "resources.requests.memory"),
    ],
)
def test_a_wrong_manifest_fails_with_a_hint(isvc_schema, path, value, mentions):
    if path == "spec.predictor.model.storageUrl":
        manifest = changed("spec.predictor.model.storageUri", ...)
        manifest = changed(path, value, manifest)
    else:
        manifest = changed(path, value)
    assert_fails(run("manifest", manifest=manifest), mentions=mentions)


def test_a_manifest_of_another_kind_fails(isvc_schema):
    assert_fails(
        run("manifest", manifest={"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "x"}}),
        mentions="is not an InferenceService",
    )


def test_without_the_cached_schema_the_check_says_how_to_get_it(tmp_path, monkeypatch):
    monkeypatch.setenv("WORKSHOP_CACHE", str(tmp_path))
    result = run("manifest", manifest=copy.deepcopy(LAB2_MANIFEST))
    assert_fails(result, mentions="invoke schemas")


@pytest.mark.parametrize("answer", MALFORMED)
def test_manifest_survives_malformed_answers(answer):
    assert not run("manifest", manifest=answer).passed


# -- host -----------------------------------------------------------------------------------------


def test_host_passes_for_the_netloc_of_status_url():
    assert run("host", host="sklearn-iris.default.example.com", example_isvc=EXAMPLE_ISVC).passed


@pytest.mark.parametrize(
    "answer, mentions",
    [
        ("http://sklearn-iris.default.example.com", "drop the http://"),
        ("sklearn-iris-predictor.default.svc.cluster.local", "only inside the cluster"),
        ("sklearn-iris", "not the host of status.url"),
        (None, "must be a string"),
    ],
)
def test_host_rejects_urls_internal_addresses_and_names(answer, mentions):
    assert_fails(run("host", host=answer, example_isvc=EXAMPLE_ISVC), mentions=mentions)


# -- local and cluster predictions ------------------------------------------------------------------


def test_local_predictions_pass_for_the_docs_answer():
    assert run("local_predictions", local_predictions=[1, 1]).passed
    assert run("local_predictions", local_predictions=np.array([1, 1])).passed


@pytest.mark.parametrize(
    "answer, mentions",
    [
        (["versicolor", "versicolor"], "class names"),
        ([[0.01, 0.9, 0.09], [0.02, 0.8, 0.18]], "not predict_proba"),
        ([1, 2], "disagrees"),
        ([1], "disagrees"),
        ({"predictions": [1, 1]}, "list of predictions"),
    ],
)
def test_local_predictions_reject_names_probabilities_and_wrong_classes(answer, mentions):
    assert_fails(run("local_predictions", local_predictions=answer), mentions=mentions)


def test_cluster_predictions_must_equal_the_local_ones():
    assert run("cluster_predictions", cluster_predictions=[1, 1], local_predictions=[1, 1]).passed
    assert_fails(
        run("cluster_predictions", cluster_predictions=[1, 2], local_predictions=[1, 1]),
        mentions="differs from the local one",
    )
    assert_fails(run("cluster_predictions", cluster_predictions=[1], local_predictions=[1, 1]))


@pytest.mark.parametrize("answer", MALFORMED)
def test_prediction_checks_survive_malformed_answers(answer):
    assert not run("local_predictions", local_predictions=answer).passed
    assert not run("cluster_predictions", cluster_predictions=answer, local_predictions=[1, 1]).passed
    assert not run("host", host=answer, example_isvc=EXAMPLE_ISVC).passed
