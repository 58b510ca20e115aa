"""A learner's corner of a shared cluster: the Kubernetes objects ``invoke class.create`` applies.

Per learner, in a namespace of their own (``learner-01``, ``learner-02``, ...):

- the Namespace (Pod Security ``baseline`` enforced: no privileged pods, no host paths);
- ServiceAccount ``learner``: the identity in the learner's kubeconfig (its token is requested
  with an expiry, never stored in a Secret);
- Role + RoleBinding ``learner``: manage InferenceServices; read pods, their logs and events;
  port-forward; manage Services, and the Deployments and ConfigMaps Lab 7's sink needs; read what
  Knative and KServe make. No Secrets, no exec, nothing cluster-wide: a Role's rules only ever
  apply inside its namespace (docs/instructor-guide.md says why exec stays out);
- ResourceQuota and LimitRange sized from the labs' own manifests and what their notebooks build
  (``quota_for``), KServe's injected agent sidecar included;
- ServiceAccount ``kserve-models`` for InferenceServices that read the workshop's model store (its
  Secret is copied in by the create plan, from the cluster, never written to the repository).
"""

from __future__ import annotations

import copy
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
#: KServe's agent sidecar, injected beside the model server when a predictor has a batcher or a
#: logger (Lab 7): requests 100m CPU / 100Mi, limits 1 CPU / 1Gi (KServe v0.20.0
#: inferenceservice-config ``agent``; the kserve-resources chart has no value that changes them).
AGENT_REQUEST = {"cpu": "100m", "memory": "100Mi"}
#: Defaults the LimitRange gives a container that sets no requests/limits of its own.
DEFAULT_REQUEST = {"cpu": "25m", "memory": "32Mi"}
DEFAULT_LIMIT = {"cpu": "500m", "memory": "256Mi"}
#: The largest container a learner may run. KServe's storage initializer has limits of 1 CPU / 1Gi
#: (the kserve-resources chart's default), so the cap cannot be lower than that.
MAX_CONTAINER = {"cpu": "1", "memory": "1Gi"}

#: What a learner may do in their own namespace (nothing else, anywhere).
LEARNER_RULES: list[dict] = [
    {
        "apiGroups": ["serving.kserve.io"],
        "resources": ["inferenceservices"],
        "verbs": ["get", "list", "watch", "create", "update", "patch", "delete"],
    },
    {"apiGroups": ["serving.kserve.io"], "resources": ["inferenceservices/status"], "verbs": ["get", "list", "watch"]},
    {
        "apiGroups": [""],
        "resources": ["pods", "pods/log", "events", "endpoints", "resourcequotas", "limitranges", "serviceaccounts"],
        "verbs": ["get", "list", "watch"],
    },
    # Restart a stuck pod (its controller makes a new one).
    {"apiGroups": [""], "resources": ["pods"], "verbs": ["delete"]},
    # kubectl port-forward: a GET of the pod, then the portforward subresource (create; get for
    # the websocket upgrade of newer clients).
    {"apiGroups": [""], "resources": ["pods/portforward"], "verbs": ["get", "create"]},
    # Services of their own; ConfigMaps and Deployments for Lab 7's sink (its code is a ConfigMap
    # mounted into a Deployment; `kubectl rollout status` watches the Deployment).
    {
        "apiGroups": [""],
        "resources": ["services", "configmaps"],
        "verbs": ["get", "list", "watch", "create", "update", "patch", "delete"],
    },
    {
        "apiGroups": ["apps"],
        "resources": ["deployments"],
        "verbs": ["get", "list", "watch", "create", "update", "patch", "delete"],
    },
    {"apiGroups": ["events.k8s.io"], "resources": ["events"], "verbs": ["get", "list", "watch"]},
    {"apiGroups": ["apps"], "resources": ["replicasets"], "verbs": ["get", "list", "watch"]},
    {
        "apiGroups": ["serving.knative.dev"],
        "resources": ["services", "revisions", "routes", "configurations"],
        "verbs": ["get", "list", "watch"],
    },
    {
        "apiGroups": ["autoscaling.internal.knative.dev"],
        "resources": ["podautoscalers"],
        "verbs": ["get", "list", "watch"],
    },
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
    #: Kubernetes Services (KServe and Knative make several per InferenceService: ``isvc_services``).
    services: int

    def hard(self) -> dict[str, str]:
        return {
            "requests.cpu": f"{self.cpu_millicores}m",
            "requests.memory": f"{self.memory_mib}Mi",
            "pods": str(self.pods),
            "count/inferenceservices.serving.kserve.io": str(self.inferenceservices),
            "services": str(self.services),
            "services.loadbalancers": "0",
            "services.nodeports": "0",
            "configmaps": "10",
            "persistentvolumeclaims": "0",
        }


def namespace_names(learners: int, prefix: str = "learner") -> list[str]:
    """``learner-01`` ... (two digits at least, so names sort in order)."""
    if not isinstance(learners, int) or isinstance(learners, bool) or not 1 <= learners <= MAX_LEARNERS:
        raise WorkshopError(f"invalid number of learners {learners!r}", hint=f"use 1 to {MAX_LEARNERS}")
    if isinstance(prefix, str) and (prefix == "kube" or prefix.startswith("kube-")):
        raise WorkshopError(
            f"namespace prefix {prefix!r} is reserved", hint="Kubernetes keeps kube-* namespaces for itself"
        )
    if not isinstance(prefix, str) or not _PREFIX.match(prefix):
        raise WorkshopError(
            f"invalid namespace prefix {prefix!r}",
            hint="lowercase letters, digits and '-', starting with a letter, at most 42 characters",
        )
    width = max(2, len(str(learners)))
    return [f"{prefix}-{index:0{width}d}" for index in range(1, learners + 1)]


# ----- sizing ------------------------------------------------------------------------------------

#: InferenceServices a lab's notebook builds from the learner's own YAML (not in manifests/labs/):
#: name, the lab manifest each is shaped like, and the predictor fields the exercise adds (what
#: matters for sizing: a batcher or a logger brings KServe's agent sidecar).
NOTEBOOK_ISVCS: dict[str, tuple[tuple[str, str, dict], ...]] = {
    "07-batching-and-logging": (
        ("iris-batcher", "iris-unbatched.yaml", {"batcher": {"maxBatchSize": 8}}),
        ("iris-logger", "iris-unbatched.yaml", {"logger": {"mode": "all"}}),
    ),
}


def _requests(containers: list[dict]) -> tuple[float, float]:
    """CPU millicores and memory MiB the containers request (the LimitRange's default when unset)."""
    cpu = memory = 0.0
    for container in containers:
        requests = ((container or {}).get("resources") or {}).get("requests") or {}
        cpu += cpu_millicores(requests.get("cpu", DEFAULT_REQUEST["cpu"]))
        memory += memory_mib(requests.get("memory", DEFAULT_REQUEST["memory"]))
    return cpu, memory


def _pod_requests(containers: list[dict]) -> tuple[float, float]:
    """A Knative revision pod: its containers and the queue-proxy beside them (memory from the LimitRange)."""
    cpu, memory = _requests(containers)
    return cpu + QUEUE_PROXY_CPU_M, memory + memory_mib(DEFAULT_REQUEST["memory"])


def isvc_peak(isvc: dict) -> tuple[int, float, float]:
    """(pods, CPU millicores, memory MiB) one InferenceService can ask for at its peak.

    A component runs up to ``maxReplicas`` pods (or ``minReplicas``, at least 1); a canary runs a
    second revision beside the first; a batcher or a logger adds KServe's agent to each pod.
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
        if component.get("batcher") is not None or component.get("logger") is not None:
            containers.append({"resources": {"requests": dict(AGENT_REQUEST)}})
        replicas = max(int(component.get("maxReplicas") or 0), int(component.get("minReplicas") or 0), 1)
        if component.get("canaryTrafficPercent") is not None:
            replicas *= 2
        pod_cpu, pod_memory = _pod_requests(containers)
        pods += replicas
        cpu += replicas * pod_cpu
        memory += replicas * pod_memory
    return int(pods), cpu, memory


def isvc_services(isvc: dict) -> int:
    """Kubernetes Services one InferenceService brings: KServe's ExternalName Service for its host
    (``reconcileExternalService``), and per component Knative's Route Service and two per revision
    (public and private); a canary runs two revisions."""
    spec = isvc.get("spec") or {}
    count = 1
    for name in ("predictor", "transformer", "explainer"):
        component = spec.get(name)
        if component:
            count += 1 + 2 * (2 if component.get("canaryTrafficPercent") is not None else 1)
    return count


def deployment_peak(deployment: dict) -> tuple[int, float, float]:
    """(pods, CPU millicores, memory MiB) of a Deployment's replicas (Lab 7's sink)."""
    spec = deployment.get("spec") or {}
    replicas = int(spec.get("replicas", 1))
    cpu, memory = _requests(((spec.get("template") or {}).get("spec") or {}).get("containers") or [])
    return replicas, replicas * cpu, replicas * memory


def _with_predictor_fields(isvc: dict, name: str, fields: dict) -> dict:
    shaped = copy.deepcopy(isvc)
    shaped.setdefault("metadata", {})["name"] = name
    shaped["spec"]["predictor"].update(copy.deepcopy(fields))
    return shaped


def lab_peaks(
    manifests_dir: Path = MANIFESTS_DIR / "labs",
    notebook_isvcs: dict[str, tuple[tuple[str, str, dict], ...]] | None = None,
) -> dict[str, tuple[int, float, float, int, int]]:
    """Per lab folder: (pods, CPU m, memory MiB, InferenceServices, Services) if all its objects ran at once:
    its InferenceServices and Deployments, and the InferenceServices its notebook builds
    (``NOTEBOOK_ISVCS``).

    Several files of one lab that define the same InferenceService (a manifest and its canary)
    count once, at the larger of their peaks.
    """
    notebook_isvcs = NOTEBOOK_ISVCS if notebook_isvcs is None else notebook_isvcs
    peaks: dict[str, tuple[int, float, float, int, int]] = {}
    for lab in sorted(p for p in Path(manifests_dir).iterdir() if p.is_dir()):
        per_name: dict[str, tuple[int, float, float]] = {}
        workloads: dict[str, tuple[int, float, float]] = {}
        services: dict[str, int] = {}
        by_file: dict[str, dict] = {}
        for path in sorted(lab.glob("*.y*ml")):
            for doc in yaml.safe_load_all(path.read_text()):
                if not isinstance(doc, dict):
                    continue
                name = (doc.get("metadata") or {}).get("name", path.stem)
                if doc.get("kind") == "InferenceService":
                    per_name[name] = max(per_name.get(name, (0, 0.0, 0.0)), isvc_peak(doc))
                    services[f"isvc/{name}"] = max(services.get(f"isvc/{name}", 0), isvc_services(doc))
                    by_file.setdefault(path.name, doc)
                elif doc.get("kind") == "Deployment":
                    workloads[name] = deployment_peak(doc)
                elif doc.get("kind") == "Service":
                    services[f"service/{name}"] = 1
        for name, template, fields in notebook_isvcs.get(lab.name, ()):
            if template not in by_file:
                raise WorkshopError(
                    f"{lab.name}: the notebook's {name} is sized like {template}, which is not there",
                    hint="update learners.NOTEBOOK_ISVCS with the lab's manifests",
                )
            shaped = _with_predictor_fields(by_file[template], name, fields)
            per_name[name] = isvc_peak(shaped)
            services[f"isvc/{name}"] = isvc_services(shaped)
        if per_name:
            every = [*per_name.values(), *workloads.values()]
            peaks[lab.name] = (
                sum(p[0] for p in every),
                sum(p[1] for p in every),
                sum(p[2] for p in every),
                len(per_name),
                sum(services.values()),
            )
    if not peaks:
        raise WorkshopError(
            f"no InferenceService manifests under {manifests_dir}", hint="the quota is sized from the labs' manifests"
        )
    return peaks


#: Knative keeps a revision's two Services after a newer one rolls out (config-gc keeps revisions
#: for a day and more by default): room for five more revisions of one component.
SERVICES_HEADROOM = 10


def quota_for(manifests_dir: Path = MANIFESTS_DIR / "labs") -> Quota:
    """The quota every learner gets: for CPU, memory and pods each, the most demanding lab's peak
    (not always the same lab), plus one more pod of headroom for a revision rolling out (Knative
    starts the new pod before it stops the old one)."""
    peaks = lab_peaks(manifests_dir)
    cpu_lab = max(peaks, key=lambda lab: (peaks[lab][1], peaks[lab][2]))
    memory_lab = max(peaks, key=lambda lab: (peaks[lab][2], peaks[lab][1]))
    pods_lab = max(peaks, key=lambda lab: (peaks[lab][0], peaks[lab][1]))
    largest_pod_cpu = max(p[1] / max(p[0], 1) for p in peaks.values())
    largest_pod_memory = max(p[2] / max(p[0], 1) for p in peaks.values())
    cpu, memory, pods = peaks[cpu_lab][1], peaks[memory_lab][2], peaks[pods_lab][0]
    sized = {cpu_lab: [], memory_lab: [], pods_lab: []}
    sized[cpu_lab].append(f"{cpu:.0f}m CPU")
    sized[memory_lab].append(f"{memory:.0f} MiB")
    sized[pods_lab].append(f"{pods} pods")
    basis = "; ".join(f"{lab}: {', '.join(what)}" for lab, what in sized.items())
    return Quota(
        cpu_millicores=int(math.ceil((cpu + largest_pod_cpu) / 5) * 5),
        memory_mib=int(math.ceil((memory + largest_pod_memory) / 16) * 16),
        pods=pods + 2,
        inferenceservices=max(p[3] for p in peaks.values()) + 2,
        basis=f"{basis} requested at once + one pod of headroom",
        services=max(p[4] for p in peaks.values()) + SERVICES_HEADROOM,
    )


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
    namespace_meta["labels"].update(
        {"pod-security.kubernetes.io/enforce": "baseline", "pod-security.kubernetes.io/warn": "baseline"}
    )
    return [
        {"apiVersion": "v1", "kind": "Namespace", "metadata": namespace_meta},
        {
            "apiVersion": "v1",
            "kind": "ServiceAccount",
            "metadata": meta(LEARNER_SA),
            "automountServiceAccountToken": False,
        },
        {
            "apiVersion": "rbac.authorization.k8s.io/v1",
            "kind": "Role",
            "metadata": meta(ROLE_NAME),
            "rules": [dict(rule) for rule in LEARNER_RULES],
        },
        {
            "apiVersion": "rbac.authorization.k8s.io/v1",
            "kind": "RoleBinding",
            "metadata": meta(ROLE_NAME),
            "subjects": [{"kind": "ServiceAccount", "name": LEARNER_SA, "namespace": namespace}],
            "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "Role", "name": ROLE_NAME},
        },
        {
            "apiVersion": "v1",
            "kind": "ResourceQuota",
            "metadata": meta("learner-quota"),
            "spec": {"hard": quota.hard()},
        },
        {
            "apiVersion": "v1",
            "kind": "LimitRange",
            "metadata": meta("learner-limits"),
            "spec": {
                "limits": [
                    {
                        "type": "Container",
                        "defaultRequest": dict(DEFAULT_REQUEST),
                        "default": dict(DEFAULT_LIMIT),
                        "max": dict(MAX_CONTAINER),
                    }
                ]
            },
        },
        {
            "apiVersion": "v1",
            "kind": "ServiceAccount",
            "metadata": meta(MODELS_SA),
            "secrets": [{"name": MODELS_SECRET}],
        },
    ]


def class_objects(namespaces: list[str], quota: Quota, class_name: str = "workshop") -> list[dict]:
    return [obj for namespace in namespaces for obj in learner_objects(namespace, quota, class_name)]


def foreign_namespaces(items: list[dict], namespaces: list[str], class_name: str) -> list[str]:
    """Those of ``namespaces`` that exist (in ``items``, as ``kubectl get namespaces`` lists them)
    without the class's label: taking them over would put another's workloads in the class."""
    wanted = set(namespaces)
    found = []
    for item in items:
        metadata = item.get("metadata") or {}
        if metadata.get("name") in wanted and (metadata.get("labels") or {}).get(CLASS_LABEL) != class_name:
            found.append(metadata["name"])
    return sorted(found)
