"""Lab 2 answers as learners write them, through the real checks (KServe's own CRD schema)."""

from __future__ import annotations

import copy
from urllib.parse import urlparse

import numpy as np
import pytest
import yaml

from answer_cases import FAIL, PASS, Case, cases, judge
from kserve_workshop.isvc.manifest import PUBLIC_IRIS_MODEL, build_isvc

SOLUTION = """
apiVersion: serving.kserve.io/v1beta1
kind: InferenceService
metadata:
  name: sklearn-iris
  namespace: default
spec:
  predictor:
    minReplicas: 1
    model:
      modelFormat:
        name: sklearn
      runtime: kserve-sklearnserver
      storageUri: gs://kfserving-examples/models/sklearn/1.0/model
      resources:
        requests:
          cpu: 50m
          memory: 128Mi
        limits:
          cpu: 100m
          memory: 256Mi
"""
#: The student cell as generated: the solution block blanked to a `...` line.
BLANK = "apiVersion: serving.kserve.io/v1beta1\nkind: InferenceService\n...\n"


#: The resources block of SOLUTION, (indent, text) line by line: moved up a level, it sits under
#: spec.predictor (schema-valid: the pod-level resources of a PodSpec), not under the model.
RESOURCES_BLOCK = [
    (6, "resources:"),
    (8, "requests:"),
    (10, "cpu: 50m"),
    (10, "memory: 128Mi"),
    (8, "limits:"),
    (10, "cpu: 100m"),
    (10, "memory: 256Mi"),
]


def edited(*replacements: tuple[str, str]) -> dict:
    text = SOLUTION
    for old, new in replacements:
        assert old in text, old
        text = text.replace(old, new)
    return {"manifest_yaml": text, "manifest": yaml.safe_load(text)}


def without(*lines: str) -> dict:
    return edited(*((line + "\n", "") for line in lines))


@pytest.mark.parametrize(
    "case",
    cases(
        Case("the-solution", edited(), PASS),
        Case("as-yaml-text-only", {"manifest": SOLUTION}, PASS),
        Case("build-isvc", {"manifest": build_isvc("sklearn-iris", PUBLIC_IRIS_MODEL, min_replicas=1)}, PASS),
        Case(
            "quantities-in-other-units",
            edited(("cpu: 50m", 'cpu: "0.05"'), ("memory: 128Mi", "memory: 134217728"), ("cpu: 100m", "cpu: 100m")),
            PASS,
        ),
        Case("trailing-slash", edited(("sklearn/1.0/model\n", "sklearn/1.0/model/\n")), PASS, "trailing /"),
        Case("no-namespace", without("  namespace: default"), PASS),
        Case("no-min-replicas", without("    minReplicas: 1"), PASS),
        Case("two-replicas", edited(("minReplicas: 1", "minReplicas: 2")), PASS),
        Case("blank-cell", {"manifest_yaml": BLANK, "manifest": yaml.safe_load(BLANK)}, FAIL, "Replace the `...` line"),
        Case(
            "memory-in-bytes",
            edited(("memory: 128Mi", "memory: 128"), ("memory: 256Mi", "memory: 256")),
            FAIL,
            "write 128Mi",
        ),
        Case("megabytes", edited(("memory: 128Mi", "memory: 128M")), FAIL, "Mi"),
        Case("cpu-in-cores", edited(("cpu: 50m", "cpu: 50")), FAIL, "fifty cores"),
        Case("unquoted-decimal-cpu", edited(("cpu: 50m", "cpu: 0.05")), FAIL, "must be text"),
        Case("scale-to-zero", edited(("minReplicas: 1", "minReplicas: 0")), FAIL, "one replica at least"),
        Case(
            "negative-replicas",
            edited(("minReplicas: 1", "minReplicas: -1")),
            FAIL,
            "minReplicas is -1",
            where="message",
        ),
        Case(
            "resources-under-predictor",
            edited(*((f"\n{' ' * n}{key}", f"\n{' ' * (n - 2)}{key}") for n, key in RESOURCES_BLOCK)),
            FAIL,
            "indent `resources:` one level further",
        ),
        Case("lower-case-unit", edited(("memory: 128Mi", "memory: 128mi")), FAIL, "case-sensitive"),
        Case("megabytes-as-mb", edited(("memory: 256Mi", "memory: 256MB")), FAIL, "MB is not one"),
        Case("other-namespace", edited(("namespace: default", "namespace: kserve-test")), FAIL, "namespace default"),
        Case(
            "resources-one-level-up",
            edited(
                (
                    "        requests:\n          cpu: 50m\n          memory: 128Mi\n"
                    "        limits:\n          cpu: 100m\n          memory: 256Mi\n",
                    "        cpu: 100m\n        memory: 256Mi\n",
                )
            ),
            FAIL,
            "one level down",
        ),
        Case(
            "no-limits", edited(("        limits:\n          cpu: 100m\n          memory: 256Mi\n", "")), FAIL, "limits"
        ),
        Case("misspelt-storage-url", edited(("storageUri", "storageUrl")), FAIL, "misspelt"),
        Case(
            "the-file-not-the-directory",
            edited(("sklearn/1.0/model\n", "sklearn/1.0/model/model.joblib\n")),
            FAIL,
            "directory",
        ),
        Case("no-runtime", without("      runtime: kserve-sklearnserver"), FAIL, "MLServer"),
        Case("other-name", edited(("name: sklearn-iris", "name: iris")), FAIL, "/v1/models/sklearn-iris"),
        Case("replicas-as-text", edited(("minReplicas: 1", 'minReplicas: "1"')), FAIL, "string"),
    ),
)
def test_manifest(case, isvc_schema):
    judge("lab2.manifest", case)


def test_a_classroom_learner_may_name_their_own_namespace(isvc_schema, monkeypatch):
    # On a classroom cluster `default` in the workshop's manifests stands for the learner's namespace.
    monkeypatch.setenv("WORKSHOP_NAMESPACE", "learner-07")
    judge("lab2.manifest", Case("own-namespace", edited(("namespace: default", "namespace: learner-07")), PASS))
    judge("lab2.manifest", Case("placeholder", edited(), PASS))
    judge(
        "lab2.manifest",
        Case("a-neighbour", edited(("namespace: default", "namespace: learner-08")), FAIL, "namespace default"),
    )


EXAMPLE = {
    "metadata": {"name": "sklearn-iris", "namespace": "default"},
    "status": {
        "url": "http://sklearn-iris.default.example.com",
        "address": {"url": "http://sklearn-iris-predictor.default.svc.cluster.local"},
    },
}
URL = EXAMPLE["status"]["url"]


def host(value):
    return {"host": value, "example_isvc": copy.deepcopy(EXAMPLE)}


@pytest.mark.parametrize(
    "case",
    cases(
        Case("netloc", host(urlparse(URL).netloc), PASS),
        Case("split", host(URL.split("//")[1]), PASS),
        Case("removeprefix", host(URL.removeprefix("http://")), PASS),
        Case("upper-case", host(urlparse(URL).netloc.upper()), PASS, "case-insensitive"),
        Case("the-whole-url", host(URL), FAIL, "drop the http://"),
        Case("with-a-slash", host(urlparse(URL).netloc + "/"), FAIL, "path"),
        Case("in-cluster-host", host("sklearn-iris-predictor.default.svc.cluster.local"), FAIL, "inside the cluster"),
        Case("spaces", host(" " + urlparse(URL).netloc), FAIL, "strip"),
        Case("the-name-only", host("sklearn-iris"), FAIL, "netloc"),
        Case("with-the-port", host(urlparse(URL).netloc + ":80"), FAIL, "drop the :80"),
        Case("the-header-line", host("Host: " + urlparse(URL).netloc), FAIL, "only the value"),
        Case("not-text", host(None), FAIL, "status.url"),
    ),
)
def test_host(case):
    judge("lab2.host", case)


@pytest.mark.parametrize(
    "case",
    cases(
        Case("tolist", {"local_predictions": [1, 1]}, PASS),
        Case("numpy", {"local_predictions": np.array([1, 1])}, PASS),
        Case("floats", {"local_predictions": [1.0, 1.0]}, PASS),
        Case("numpy-ints", {"local_predictions": [np.int64(1), np.int64(1)]}, PASS),
        Case("names", {"local_predictions": ["versicolor", "versicolor"]}, FAIL, "indices"),
        Case("probabilities", {"local_predictions": [[0.01, 0.97, 0.02], [0.02, 0.9, 0.08]]}, FAIL, "predict_proba"),
        Case("one-flower", {"local_predictions": [1]}, FAIL, "both rows"),
        Case("booleans", {"local_predictions": [True, True]}, FAIL, "model.predict"),
    ),
)
def test_local_predictions(case):
    judge("lab2.local_predictions", case)


@pytest.mark.parametrize(
    "case",
    cases(
        Case("same", {"cluster_predictions": [1, 1], "local_predictions": [1, 1]}, PASS),
        Case("numpy-and-floats", {"cluster_predictions": [1.0, 1.0], "local_predictions": np.array([1, 1])}, PASS),
        Case("differ", {"cluster_predictions": [1, 2], "local_predictions": [1, 1]}, FAIL, "DOCS_IRIS_INPUT"),
        Case("names", {"cluster_predictions": ["versicolor"] * 2, "local_predictions": [1, 1]}, FAIL, "indices"),
        Case("a-dict", {"cluster_predictions": {"predictions": [1, 1]}, "local_predictions": [1, 1]}, FAIL, "list"),
    ),
)
def test_cluster_predictions(case):
    judge("lab2.cluster_predictions", case)
