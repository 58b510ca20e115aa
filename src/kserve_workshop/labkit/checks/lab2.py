"""Graded checks of Lab 2 (your first InferenceService).

The manifest is graded offline: KServe's own schema (``validate``), then the laptop rules
(``isvc_rules``) and the lab's choices (name, public model). The other checks grade reading an
InferenceService's status and comparing the cluster's answers with local ones.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlparse

from ..check_registry import lab_check
from ..grading import CheckFailed, quoted
from ...namespace import workshop_namespace
from ...isvc.manifest import DEFAULT_RESOURCES, PUBLIC_IRIS_MODEL
from ...isvc.status import host_from_status
from . import isvc_rules
from .answers import class_indices

NAME = "sklearn-iris"
NAMESPACE = "default"
#: The docs' answer for ``training.DOCS_IRIS_INPUT``: both flowers are versicolor (class 1).
DOCS_ANSWER = [1, 1]


def _blank_left_in(manifest_yaml: Any) -> bool:
    """A YAML text still holding the exercise's ``...`` line (YAML reads it as "end of document")."""
    return isinstance(manifest_yaml, str) and any(line.strip() == "..." for line in manifest_yaml.splitlines())


@lab_check(
    "lab2",
    hint="Start from the structure in the lesson: metadata.name, then spec.predictor.model "
    "with modelFormat, runtime, storageUri and resources.",
)
def manifest(manifest, manifest_yaml=None):
    """The learner's InferenceService: schema-valid, in the asked namespace, at least one replica,
    the sklearn runtime and the public model, and exactly the asked resources.

    Decided: a trailing ``/`` on storageUri passes (KServe's storage initializer lists the same
    directory either way); leaving out metadata.namespace passes (the namespace is then the one it
    is applied to), and so does the learner's own ``$WORKSHOP_NAMESPACE`` on a classroom cluster
    (``default`` in the workshop's manifests stands for it); ``minReplicas`` may be left out
    (KServe's default is 1).
    """
    if _blank_left_in(manifest_yaml):
        raise CheckFailed(
            "`manifest_yaml` still contains `...`",
            expected="your metadata and spec in place of the `...` line",
            found="a `...` line (YAML reads it as the end of the document)",
            hint="Replace the `...` line of the YAML cell with the manifest's metadata and spec, "
            "then run the cell again.",
        )
    manifest = isvc_rules.as_manifest(manifest, "manifest")
    isvc_rules.schema_valid(manifest, "manifest")
    metadata = manifest.get("metadata") or {}
    if metadata.get("name") != NAME:
        raise CheckFailed(
            "metadata.name is not the lab's",
            expected=NAME,
            found=quoted(metadata.get("name")),
            hint="the name is also the model name in the URL: /v1/models/sklearn-iris:predict",
        )
    allowed = {NAMESPACE, workshop_namespace()}  # `default` stands for the lab's namespace (``namespace``)
    if metadata.get("namespace", NAMESPACE) not in allowed:
        raise CheckFailed(
            "metadata.namespace is not the one asked for",
            expected=" or ".join(sorted(allowed)),
            found=quoted(metadata.get("namespace")),
            hint="the exercise deploys to namespace default, the labs' namespace (or leave "
            "namespace out: the manifest then goes to the namespace it is applied to)",
        )
    predictor = manifest["spec"]["predictor"]
    replicas = predictor.get("minReplicas", 1)
    if replicas < 1:
        raise CheckFailed(
            f"minReplicas is {replicas}",
            expected="minReplicas: 1 (or leave it out: KServe's default is 1)",
            found=quoted(replicas),
            hint="the exercise asks for one replica at least: 0 lets Knative remove the last pod "
            "when no request comes (scale to zero, Lab 3)",
        )
    model = isvc_rules.model_of(manifest, "manifest")
    if "resources" in predictor and "resources" not in model:
        raise CheckFailed(
            "resources sit under spec.predictor, not under spec.predictor.model",
            expected="spec.predictor.model.resources",
            found=quoted({"resources": predictor["resources"]}),
            hint="indent `resources:` one level further, next to storageUri: the model server's container "
            "gets its requests and limits from spec.predictor.model.resources",
        )
    isvc_rules.uses_sklearn_runtime(model)
    uri = model.get("storageUri")
    if uri not in (PUBLIC_IRIS_MODEL, PUBLIC_IRIS_MODEL + "/"):
        hint = (
            "the URI names the directory holding model.joblib, not the file itself"
            if isinstance(uri, str) and uri.rstrip("/").endswith(".joblib")
            else "isvc.PUBLIC_IRIS_MODEL, the directory holding model.joblib"
        )
        raise CheckFailed(
            "storageUri is not KServe's public iris model", expected=PUBLIC_IRIS_MODEL, found=quoted(uri), hint=hint
        )
    isvc_rules.has_resources(model, DEFAULT_RESOURCES)
    if uri.endswith("/"):
        return (
            "a valid, laptop-sized InferenceService (the trailing / of storageUri is fine: the storage "
            "initializer downloads the same directory either way)"
        )
    return "a valid, laptop-sized InferenceService"


@lab_check("lab2", hint="Parse example_isvc['status']['url'] with urllib.parse.urlparse and keep .netloc.")
def host(host, example_isvc):
    """The Host header for the ingress: the netloc of status.url (not the URL, not the in-cluster address).

    Decided: upper-case letters pass. Host names are case-insensitive (RFC 9110), and the gateway
    routes ``SKLEARN-IRIS.DEFAULT.EXAMPLE.COM`` like the lower-case name; status.url spells it in
    lower case, which is what to copy.
    """
    expected = host_from_status(example_isvc)
    if not isinstance(host, str):
        raise CheckFailed(
            "`host` must be a string",
            expected=expected,
            found=quoted(host),
            hint="a Host header is text: the host name of status.url",
        )
    if host == expected:
        return f"requests go to the ingress with Host: {host}"
    if host.lower() == expected.lower():
        return (
            f"requests go to the ingress with Host: {host} (host names are case-insensitive, so this works; "
            f"status.url spells it {expected})"
        )
    if "://" in host:
        raise CheckFailed(
            "`host` still has the scheme",
            expected=expected,
            found=quoted(host),
            hint="a Host header is only the host name: drop the http://",
        )
    if host.lower().startswith("host:"):
        raise CheckFailed(
            "`host` holds the header's name too",
            expected=expected,
            found=quoted(host),
            hint='only the value: curl -H "Host: ..." and requests add the "Host:" themselves',
        )
    name, colon, port = host.partition(":")
    if colon and port.isdigit() and name.lower() == expected.lower():
        raise CheckFailed(
            "`host` has a port that status.url does not",
            expected=expected,
            found=quoted(host),
            hint=f"drop the :{port}: the ingress routes on the host name as status.url spells it",
        )
    if host.strip() != host:
        raise CheckFailed(
            "`host` has spaces around it",
            expected=expected,
            found=quoted(host),
            hint="a Host header must be the bare name: .strip() it",
        )
    if host.split("/", 1)[0].lower() == expected.lower():
        raise CheckFailed(
            "`host` still has a path",
            expected=expected,
            found=quoted(host),
            hint="the Host header holds only the name; the path goes in the URL",
        )
    address = ((example_isvc.get("status") or {}).get("address") or {}).get("url")
    if address and host.lower() in (urlparse(address).netloc.lower(), address.lower()):
        raise CheckFailed(
            "that is the in-cluster address",
            expected=expected,
            found=quoted(host),
            hint="…svc.cluster.local resolves only inside the cluster; the ingress routes on the "
            "external host from status.url",
        )
    raise CheckFailed(
        "`host` is not the host of status.url",
        expected=expected,
        found=quoted(host),
        hint="urlparse(example_isvc['status']['url']).netloc",
    )


@lab_check("lab2", hint="Predict training.DOCS_IRIS_INPUT with your local model: model.predict(DOCS_IRIS_INPUT).")
def local_predictions(local_predictions):
    """The local model's classes for the docs' two flowers: what the cluster must answer too.

    Decided: a numpy array and class indices written as floats (``[1.0, 1.0]``) pass: they name the
    same classes, and ``[1.0, 1.0] == [1, 1]`` when the cluster's answer is compared with them.
    """
    values = class_indices(local_predictions, "local_predictions", expected=DOCS_ANSWER)
    if values != DOCS_ANSWER:
        hint = (
            "predict both rows of DOCS_IRIS_INPUT, in order"
            if len(values) != len(DOCS_ANSWER)
            else "predict exactly the rows of DOCS_IRIS_INPUT with the model trained in this lab (train_iris)"
        )
        raise CheckFailed(
            "the local model disagrees with KServe's documented answer",
            expected=DOCS_ANSWER,
            found=quoted(values),
            hint=hint,
        )
    return "both flowers are versicolor (class 1), as in KServe's docs"


@lab_check("lab2", hint="Call predict_via_ingress with the docs' input and compare the list with local_predictions.")
def cluster_predictions(cluster_predictions, local_predictions):
    """The InferenceService's V1 answer through the ingress equals the local model's answer."""
    local = class_indices(local_predictions, "local_predictions", expected=DOCS_ANSWER)
    remote = class_indices(cluster_predictions, "cluster_predictions", expected=local)
    if remote != local:
        raise CheckFailed(
            "the cluster's answer differs from the local one",
            expected=local,
            found=quoted(remote),
            hint="send DOCS_IRIS_INPUT, the same rows the local model predicted",
        )
    return "the cluster answers like the local model"
