"""Graded checks of Lab 2 (your first InferenceService).

The manifest is graded offline: KServe's own schema (``validate``), then the laptop rules
(``isvc_rules``) and the lab's choices (name, public model). The other checks grade reading an
InferenceService's status and comparing the cluster's answers with local ones.
"""

from __future__ import annotations

import numbers
from typing import Any
from urllib.parse import urlparse

import numpy as np

from ..grading import CheckFailed, lab_check
from ...isvc.manifest import PUBLIC_IRIS_MODEL
from ...isvc.status import host_from_status
from . import isvc_rules

NAME = "sklearn-iris"
#: The docs' answer for ``training.DOCS_IRIS_INPUT``: both flowers are versicolor (class 1).
DOCS_ANSWER = [1, 1]


@lab_check("lab2", hint="Start from the structure in the lesson: metadata.name, then spec.predictor.model "
                        "with modelFormat, runtime, storageUri and resources.")
def manifest(manifest):
    """The learner's InferenceService: schema-valid, sklearn runtime, the public model, small resources."""
    manifest = isvc_rules.as_manifest(manifest, "manifest")
    isvc_rules.schema_valid(manifest, "manifest")
    name = (manifest.get("metadata") or {}).get("name")
    if name != NAME:
        raise CheckFailed("metadata.name is not the lab's", expected=NAME, found=name,
                          hint="the name is also the model name in the URL: /v1/models/sklearn-iris:predict")
    model = isvc_rules.model_of(manifest, "manifest")
    isvc_rules.uses_sklearn_runtime(model)
    if model.get("storageUri") != PUBLIC_IRIS_MODEL:
        raise CheckFailed("storageUri is not KServe's public iris model", expected=PUBLIC_IRIS_MODEL,
                          found=model.get("storageUri"), hint="the URI names the directory holding model.joblib")
    isvc_rules.has_small_resources(model)
    return "a valid, laptop-sized InferenceService"


@lab_check("lab2", hint="Parse example_isvc['status']['url'] with urllib.parse.urlparse and keep .netloc.")
def host(host, example_isvc):
    """The Host header for the ingress: the netloc of status.url (not the URL, not the in-cluster address)."""
    expected = host_from_status(example_isvc)
    if not isinstance(host, str):
        raise CheckFailed("`host` must be a string", expected=expected, found=host)
    if host == expected:
        return f"requests go to the ingress with Host: {host}"
    if "://" in host:
        raise CheckFailed("`host` still has the scheme", expected=expected, found=host,
                          hint="a Host header is only the host name: drop the http://")
    address = ((example_isvc.get("status") or {}).get("address") or {}).get("url")
    if address and host == urlparse(address).netloc:
        raise CheckFailed("that is the in-cluster address", expected=expected, found=host,
                          hint="…svc.cluster.local resolves only inside the cluster; the ingress routes on the "
                               "external host from status.url")
    raise CheckFailed("`host` is not the host of status.url", expected=expected, found=host)


def _as_list(value: Any, variable: str) -> list:
    if hasattr(value, "tolist"):
        value = value.tolist()
    if not isinstance(value, (list, tuple)):
        raise CheckFailed(f"`{variable}` must be a list of predictions", expected=DOCS_ANSWER, found=value)
    return list(value)


@lab_check("lab2", hint="Predict training.DOCS_IRIS_INPUT with your local model: model.predict(DOCS_IRIS_INPUT).")
def local_predictions(local_predictions):
    """The local model's classes for the docs' two flowers: what the cluster must answer too."""
    values = _as_list(local_predictions, "local_predictions")
    if values and all(isinstance(v, str) for v in values):
        raise CheckFailed("these are class names", expected=DOCS_ANSWER, found=values,
                          hint="the server answers class indices (0, 1, 2); compare indices with indices")
    if not all(isinstance(v, numbers.Integral) and not isinstance(v, bool) for v in values):
        raise CheckFailed("predictions must be class indices", expected=DOCS_ANSWER, found=values,
                          hint="use model.predict (classes), not predict_proba (probabilities)")
    if values != DOCS_ANSWER:
        raise CheckFailed("the local model disagrees with KServe's documented answer", expected=DOCS_ANSWER,
                          found=values, hint="predict exactly the two rows of DOCS_IRIS_INPUT, in order")
    return "both flowers are versicolor (class 1), as in KServe's docs"


@lab_check("lab2", hint="Call predict_via_ingress with the docs' input and compare the list with local_predictions.")
def cluster_predictions(cluster_predictions, local_predictions):
    """The InferenceService's V1 answer through the ingress equals the local model's answer."""
    remote = _as_list(cluster_predictions, "cluster_predictions")
    local = _as_list(local_predictions, "local_predictions")
    if np.asarray(remote).shape != np.asarray(local).shape or remote != local:
        raise CheckFailed("the cluster's answer differs from the local one", expected=local, found=remote,
                          hint="send DOCS_IRIS_INPUT, the same rows the local model predicted")
    return "the cluster answers like the local model"
