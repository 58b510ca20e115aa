"""A learner's corner of a shared cluster: the Kubernetes objects ``invoke class.create`` applies.

Per learner, in a namespace of their own (``learner-01``, ``learner-02``, ...):

- the Namespace (Pod Security ``baseline`` enforced: no privileged pods, no host paths);
- ServiceAccount ``learner``: the identity in the learner's kubeconfig (its token is requested
  with an expiry, never stored in a Secret);
- Role + RoleBinding ``learner``: manage InferenceServices; read pods, their logs and events;
  port-forward; manage Services; read what Knative and KServe make. No Secrets, no exec, nothing
  cluster-wide: a Role's rules only ever apply inside its namespace;
- ResourceQuota and LimitRange sized from the labs' own manifests (``quota_for``);
- ServiceAccount ``kserve-models`` for InferenceServices that read the workshop's model store (its
  Secret is copied in by the create plan, from the cluster, never written to the repository).
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from pathlib import Path

import yaml

from ..errors import WorkshopError
from ..paths import MANIFESTS_DIR
from ..platform.budget import cpu_millicores, memory_mib

PART_OF = {"app.kubernetes.io/part-of": "kserve-workshop"}
#: Every object of the class carries this label: ``class.delete`` and the checks select on it.
CLASS_LABEL = "workshop.kserve.io/classroom"
LEARNER_LABEL = "workshop.kserve.io/learner"
LEARNER_SA = "learner"
ROLE_NAME = "learner"
MODELS_SA = "kserve-models"
MODELS_SECRET = "kserve-models-s3"
MAX_LEARNERS = 200
_PREFIX = re.compile(r"^[a-z]([-a-z0-9]{0,40}[a-z0-9])?$")

#: Knative's queue-proxy sidecar: it requests 25m CPU by default (config-deployment
#: queue-sidecar-cpu-request) and sets no memory; the LimitRange below fills in the memory.
QUEUE_PROXY_CPU_M = 25
#: Defaults the LimitRange gives a container that sets no requests/limits of its own.
DEFAULT_REQUEST = {"cpu": "25m", "memory": "32Mi"}
DEFAULT_LIMIT = {"cpu": "500m", "memory": "256Mi"}
#: The largest container a learner may run. KServe's storage initializer has limits of 1 CPU / 1Gi
#: (the kserve-resources chart's default), so the cap cannot be lower than that.
MAX_CONTAINER = {"cpu": "1", "memory": "1Gi"}

#: What a learner may do in their own namespace (nothing else, anywhere).
LEARNER_RULES: list[dict] = [
    {"apiGroups": ["serving.kserve.io"], "resources": ["inferenceservices"],
     "verbs": ["get", "list", "watch", "create", "update", "patch", "delete"]},
    {"apiGroups": ["serving.kserve.io"], "resources": ["inferenceservices/status"], "verbs": ["get", "list", "watch"]},
    {"apiGroups": [""], "resources": ["pods", "pods/log", "events", "endpoints", "resourcequotas", "limitranges",
                                      "serviceaccounts"],
     "verbs": ["get", "list", "watch"]},
    # Restart a stuck pod (its controller makes a new one).
    {"apiGroups": [""], "resources": ["pods"], "verbs": ["delete"]},
    # kubectl port-forward: a GET of the pod, then the portforward subresource (create; get for
    # the websocket upgrade of newer clients).
    {"apiGroups": [""], "resources": ["pods/portforward"], "verbs": ["get", "create"]},
    {"apiGroups": [""], "resources": ["services"],
     "verbs": ["get", "list", "watch", "create", "update", "patch", "delete"]},
    {"apiGroups": ["events.k8s.io"], "resources": ["events"], "verbs": ["get", "list", "watch"]},
    {"apiGroups": ["apps"], "resources": ["deployments", "replicasets"], "verbs": ["get", "list", "watch"]},
    {"apiGroups": ["serving.knative.dev"], "resources": ["services", "revisions", "routes", "configurations"],
     "verbs": ["get", "list", "watch"]},
    {"apiGroups": ["autoscaling.internal.knative.dev"], "resources": ["podautoscalers"],
     "verbs": ["get", "list", "watch"]},
]


@dataclass(frozen=True)
class Quota:
    """One learner's share: what the ResourceQuota allows and why."""

    cpu_millicores: int
    memory_mib: int
    pods: int
    inferenceservices: int
    #: How it was computed (the lab whose peak sized it), for the printed plan.
    basis: str

    def hard(self) -> dict[str, str]:
        return {"requests.cpu": f"{self.cpu_millicores}m", "requests.memory": f"{self.memory_mib}Mi",
                "pods": str(self.pods), "count/inferenceservices.serving.kserve.io": str(self.inferenceservices),
                "services": "10", "services.loadbalancers": "0", "services.nodeports": "0",
                "persistentvolumeclaims": "0"}


def namespace_names(learners: int, prefix: str = "learner") -> list[str]:
    """``learner-01`` ... (two digits at least, so names sort in order)."""
    if not isinstance(learners, int) or isinstance(learners, bool) or not 1 <= learners <= MAX_LEARNERS:
        raise WorkshopError(f"invalid number of learners {learners!r}", hint=f"use 1 to {MAX_LEARNERS}")
    if not isinstance(prefix, str) or not _PREFIX.match(prefix):
        raise WorkshopError(f"invalid namespace prefix {prefix!r}",
                            hint="lowercase letters, digits and '-', starting with a letter, at most 42 characters")
    width = max(2, len(str(learners)))
    return [f"{prefix}-{index:0{width}d}" for index in range(1, learners + 1)]


# ----- sizing ------------------------------------------------------------------------------------

def _pod_requests(containers: list[dict]) -> tuple[float, float]:
    cpu = memory = 0.0
    for container in containers:
        requests = ((container or {}).get("resources") or {}).get("requests") or {}
        cpu += cpu_millicores(requests.get("cpu", DEFAULT_REQUEST["cpu"]))
        memory += memory_mib(requests.get("memory", DEFAULT_REQUEST["memory"]))
    # Every Knative revision pod runs a queue-proxy beside the model (memory from the LimitRange).
    return cpu + QUEUE_PROXY_CPU_M, memory + memory_mib(DEFAULT_REQUEST["memory"])


def isvc_peak(isvc: dict) -> tuple[int, float, float]:
    """(pods, CPU millicores, memory MiB) one InferenceService can ask for at its peak.

    A component runs up to ``maxReplicas`` pods (or ``minReplicas``, at least 1); a canary runs a
    second revision beside the first.
    """
    spec = isvc.get("spec") or {}
    pods = cpu = memory = 0.0
    for name in ("predictor", "transformer", "explainer"):
        component = spec.get(name)
        if not component:
            continue
        containers = list(component.get("containers") or [])
        if component.get("model"):
            containers.append(component["model"])
        replicas = max(int(component.get("maxReplicas") or 0), int(component.get("minReplicas") or 0), 1)
        if component.get("canaryTrafficPercent") is not None:
            replicas *= 2
        pod_cpu, pod_memory = _pod_requests(containers)
        pods += replicas
        cpu += replicas * pod_cpu
        memory += replicas * pod_memory
    return int(pods), cpu, memory


def lab_peaks(manifests_dir: Path = MANIFESTS_DIR / "labs") -> dict[str, tuple[int, float, float, int]]:
    """Per lab folder: (pods, CPU m, memory MiB, InferenceServices) if all its objects ran at once.

    Several files of one lab that define the same InferenceService (a manifest and its canary)
    count once, at the larger of their peaks.
    """
    peaks: dict[str, tuple[int, float, float, int]] = {}
    for lab in sorted(p for p in Path(manifests_dir).iterdir() if p.is_dir()):
        per_name: dict[str, tuple[int, float, float]] = {}
        for path in sorted(lab.glob("*.y*ml")):
            for doc in yaml.safe_load_all(path.read_text()):
                if isinstance(doc, dict) and doc.get("kind") == "InferenceService":
                    name = (doc.get("metadata") or {}).get("name", path.stem)
                    per_name[name] = max(per_name.get(name, (0, 0.0, 0.0)), isvc_peak(doc))
        if per_name:
            peaks[lab.name] = (sum(p[0] for p in per_name.values()), sum(p[1] for p in per_name.values()),
                               sum(p[2] for p in per_name.values()), len(per_name))
    if not peaks:
        raise WorkshopError(f"no InferenceService manifests under {manifests_dir}",
                            hint="the quota is sized from the labs' manifests")
    return peaks


def quota_for(manifests_dir: Path = MANIFESTS_DIR / "labs") -> Quota:
    """The quota every learner gets: the most demanding lab's peak, plus one more pod of headroom
    for a revision rolling out (Knative starts the new pod before it stops the old one)."""
    peaks = lab_peaks(manifests_dir)
    lab, (pods, cpu, memory, isvcs) = max(peaks.items(), key=lambda item: (item[1][1], item[1][2]))
    largest_pod_cpu = max(p[1] / max(p[0], 1) for p in peaks.values())
    largest_pod_memory = max(p[2] / max(p[0], 1) for p in peaks.values())
    return Quota(cpu_millicores=int(math.ceil((cpu + largest_pod_cpu) / 5) * 5),
                 memory_mib=int(math.ceil((memory + largest_pod_memory) / 16) * 16),
                 pods=pods + 2, inferenceservices=max(p[3] for p in peaks.values()) + 2,
                 basis=f"{lab}: {pods} pods at once ({cpu:.0f}m CPU, {memory:.0f} MiB requested) + one pod of headroom")


# ----- objects -----------------------------------------------------------------------------------

def _meta(name: str, namespace: str | None, class_name: str, learner: str) -> dict:
    meta = {"name": name, "labels": {**PART_OF, CLASS_LABEL: class_name, LEARNER_LABEL: learner}}
    if namespace:
        meta["namespace"] = namespace
    return meta


def learner_objects(namespace: str, quota: Quota, class_name: str = "workshop") -> list[dict]:
    """Every object of one learner, in apply order (the Namespace first)."""
    meta = lambda name, ns=namespace: _meta(name, ns, class_name, namespace)  # noqa: E731
    namespace_meta = meta(namespace, None)
    namespace_meta["labels"].update({"pod-security.kubernetes.io/enforce": "baseline",
                                     "pod-security.kubernetes.io/warn": "baseline"})
    return [
        {"apiVersion": "v1", "kind": "Namespace", "metadata": namespace_meta},
        {"apiVersion": "v1", "kind": "ServiceAccount", "metadata": meta(LEARNER_SA),
         "automountServiceAccountToken": False},
        {"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "Role", "metadata": meta(ROLE_NAME),
         "rules": [dict(rule) for rule in LEARNER_RULES]},
        {"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "RoleBinding", "metadata": meta(ROLE_NAME),
         "subjects": [{"kind": "ServiceAccount", "name": LEARNER_SA, "namespace": namespace}],
         "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "Role", "name": ROLE_NAME}},
        {"apiVersion": "v1", "kind": "ResourceQuota", "metadata": meta("learner-quota"),
         "spec": {"hard": quota.hard()}},
        {"apiVersion": "v1", "kind": "LimitRange", "metadata": meta("learner-limits"),
         "spec": {"limits": [{"type": "Container", "defaultRequest": dict(DEFAULT_REQUEST),
                              "default": dict(DEFAULT_LIMIT), "max": dict(MAX_CONTAINER)}]}},
        {"apiVersion": "v1", "kind": "ServiceAccount", "metadata": meta(MODELS_SA),
         "secrets": [{"name": MODELS_SECRET}]},
    ]


def class_objects(namespaces: list[str], quota: Quota, class_name: str = "workshop") -> list[dict]:
    return [obj for namespace in namespaces for obj in learner_objects(namespace, quota, class_name)]
