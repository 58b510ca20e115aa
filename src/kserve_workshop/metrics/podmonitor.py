"""The PodMonitor that makes the cluster's Prometheus scrape KServe model servers: read and check it.

What it must do (KServe's model server serves its histograms on port 8080 ``/metrics``; the
queue-proxy's port 9091 does not carry them): select every InferenceService pod (label
``serving.kserve.io/inferenceservice``) in any namespace and scrape the model server's own port
(8080, which Knative names ``user-port`` on the user container) at ``/metrics``, often enough for
the lab's rate window.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import yaml

from ..errors import WorkshopError
from ..paths import MANIFESTS_DIR
from ..versions import pin

PODMONITOR_FILE = MANIFESTS_DIR / "platform" / "monitoring" / "podmonitor-kserve.yaml"
ISVC_LABEL = "serving.kserve.io/inferenceservice"
#: knative.dev/serving's UserPortName: the name Knative gives the user container's port.
KNATIVE_USER_PORT = "user-port"
MAX_INTERVAL_SECONDS = 15
#: Fields of a PodMonitor endpoint (monitoring.coreos.com/v1 PodMetricsEndpoint) this file may use.
ENDPOINT_FIELDS = {
    "port",
    "portNumber",
    "targetPort",
    "path",
    "scheme",
    "params",
    "interval",
    "scrapeTimeout",
    "honorLabels",
    "honorTimestamps",
    "relabelings",
    "metricRelabelings",
    "enableHttp2",
    "followRedirects",
    "filterRunning",
    "bearerTokenSecret",
    "basicAuth",
    "authorization",
    "oauth2",
    "tlsConfig",
    "proxyUrl",
    "trackTimestampsStaleness",
}
RELABEL_FIELDS = {"sourceLabels", "separator", "targetLabel", "regex", "modulus", "replacement", "action"}
_DURATION = re.compile(r"^(?:(\d+)m)?(?:(\d+)s)?$")


def load_podmonitor(path: str | Path = PODMONITOR_FILE) -> dict[str, Any]:
    try:
        documents = [d for d in yaml.safe_load_all(Path(path).read_text()) if d]
    except OSError as exc:
        raise WorkshopError(f"cannot read {path}: {exc.strerror}") from exc
    except yaml.YAMLError as exc:
        raise WorkshopError(f"{path} is not valid YAML: {exc}") from exc
    if len(documents) != 1:
        raise WorkshopError(f"{path} should hold exactly one object, found {len(documents)}")
    return documents[0]


def meta_label(pod_label: str) -> str:
    """The Prometheus service-discovery label for a pod label (non-alphanumerics become ``_``)."""
    return "__meta_kubernetes_pod_label_" + re.sub(r"[^a-zA-Z0-9_]", "_", pod_label)


def _seconds(duration: str) -> int | None:
    match = _DURATION.match(duration or "")
    if not duration or not match:
        return None
    minutes, seconds = (int(g) if g else 0 for g in match.groups())
    return minutes * 60 + seconds


def _selects_isvc_pods(selector: dict[str, Any]) -> bool:
    if ISVC_LABEL in (selector.get("matchLabels") or {}):
        return False  # pinned to one InferenceService: the lab's others would not be scraped
    return any(
        e.get("key") == ISVC_LABEL and e.get("operator") == "Exists" for e in selector.get("matchExpressions") or []
    )


def podmonitor_problems(doc: Any) -> list[str]:
    """What is wrong with the PodMonitor (an empty list when nothing)."""
    if not isinstance(doc, dict):
        return ["not a Kubernetes object"]
    problems = []
    if doc.get("apiVersion") != "monitoring.coreos.com/v1" or doc.get("kind") != "PodMonitor":
        problems.append("must be apiVersion monitoring.coreos.com/v1, kind PodMonitor")
    metadata = doc.get("metadata") or {}
    if not metadata.get("name"):
        problems.append("metadata.name is missing")
    if metadata.get("namespace") != pin("monitoring", "namespace"):
        problems.append(f"metadata.namespace must be the monitoring namespace {pin('monitoring', 'namespace')!r}")
    spec = doc.get("spec") or {}
    if (spec.get("namespaceSelector") or {}).get("any") is not True:
        problems.append("spec.namespaceSelector.any must be true (InferenceServices live in the labs' namespaces)")
    if not _selects_isvc_pods(spec.get("selector") or {}):
        problems.append(f"spec.selector must select pods that have the label {ISVC_LABEL} (operator Exists)")
    endpoints = spec.get("podMetricsEndpoints") or []
    if len(endpoints) != 1:
        problems.append(f"expected one podMetricsEndpoint, found {len(endpoints)}")
    for endpoint in endpoints:
        unknown = sorted(set(endpoint) - ENDPOINT_FIELDS)
        if unknown:
            problems.append(f"unknown podMetricsEndpoint field(s): {', '.join(unknown)}")
        if endpoint.get("port") != KNATIVE_USER_PORT:
            problems.append(
                f"podMetricsEndpoint.port must be {KNATIVE_USER_PORT!r} (the model server's port "
                f"in Knative mode), found {endpoint.get('port')!r}"
            )
        if endpoint.get("path") != "/metrics":
            problems.append(f"podMetricsEndpoint.path must be /metrics, found {endpoint.get('path')!r}")
        seconds = _seconds(endpoint.get("interval", ""))
        if seconds is None or not 0 < seconds <= MAX_INTERVAL_SECONDS:
            problems.append(
                f"podMetricsEndpoint.interval must be a duration up to {MAX_INTERVAL_SECONDS}s, "
                f"found {endpoint.get('interval')!r}"
            )
        for rule in endpoint.get("relabelings") or []:
            unknown = sorted(set(rule) - RELABEL_FIELDS)
            if unknown:
                problems.append(f"unknown relabeling field(s): {', '.join(unknown)}")
            for source in rule.get("sourceLabels") or []:
                if source.startswith("__meta_kubernetes_pod_label_") and source not in {
                    meta_label(ISVC_LABEL),
                    meta_label("component"),
                }:
                    problems.append(f"relabeling reads {source}, a pod label the model pods do not carry")
    return problems
