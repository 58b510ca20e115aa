"""Do N learners fit the node pool? Computed from the quota and the nodes' allocatable resources.

Two sources for what the nodes offer:

- **the live cluster** (what ``class.create`` uses when it runs): the sum of ``status.allocatable``
  over schedulable nodes, minus the requests of every pod already running outside the class's
  namespaces (the platform, GKE's system pods);
- **an estimate from the machine type** (what ``--dry-run`` prints before a cluster exists): GKE's
  documented reservations for a Standard node (CPU: 6 % of the first core, 1 % of the second,
  0.5 % of the next two, 0.25 % above four; memory: 25 % of the first 4 GiB, 20 % of the next 4,
  10 % of the next 8, 6 % of the next 112, 2 % above 128, plus a 100 MiB eviction threshold),
  minus the platform's own requests (``platform.budget``) and an ESTIMATE of GKE's system pods.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Iterable, Mapping

from ..errors import WorkshopError
from ..platform.budget import cpu_millicores, memory_mib
from .learners import CLASS_LABEL, Quota

#: vCPUs and memory (GiB) of the machine types the workshop suggests (Compute Engine's tables).
MACHINE_SHAPES: dict[str, tuple[int, float]] = {
    "e2-standard-2": (2, 8),
    "e2-standard-4": (4, 16),
    "e2-standard-8": (8, 32),
    "e2-standard-16": (16, 64),
    "n2-standard-2": (2, 8),
    "n2-standard-4": (4, 16),
    "n2-standard-8": (8, 32),
    "n2-standard-16": (16, 64),
    "e2-highmem-4": (4, 32),
    "n2-highmem-4": (4, 32),
}
#: ESTIMATE of what GKE's own pods request (kube-proxy, fluentbit, metrics agent, CSI node driver,
#: konnectivity per node; kube-dns, metrics-server, default backend per cluster). Not measured
#: here: the live figure replaces it as soon as the cluster exists.
GKE_SYSTEM_PER_NODE = (250.0, 350.0)
GKE_SYSTEM_PER_CLUSTER = (600.0, 500.0)


def gke_allocatable(machine_type: str) -> tuple[float, float]:
    """(CPU millicores, memory MiB) a GKE Standard node of ``machine_type`` offers to pods."""
    if machine_type not in MACHINE_SHAPES:
        raise WorkshopError(
            f"no shape known for machine type {machine_type!r}",
            hint=f"use one of {', '.join(sorted(MACHINE_SHAPES))}, or create the cluster and "
            "run without --dry-run to read the real nodes",
        )
    cores, gib = MACHINE_SHAPES[machine_type]
    cpu_reserved = 0.0
    for share, size in ((0.06, 1), (0.01, 1), (0.005, 2), (0.0025, float("inf"))):
        take = min(cores, size)
        cpu_reserved += share * take * 1000
        cores -= take
        if cores <= 0:
            break
    memory_reserved = 0.0
    remaining = gib
    for share, size in ((0.25, 4), (0.20, 4), (0.10, 8), (0.06, 112), (0.02, float("inf"))):
        take = min(remaining, size)
        memory_reserved += share * take
        remaining -= take
        if remaining <= 0:
            break
    total_cores = MACHINE_SHAPES[machine_type][0]
    return total_cores * 1000 - cpu_reserved, (gib - memory_reserved) * 1024 - 100


@dataclass(frozen=True)
class Capacity:
    """What is left for learners, and where the figure came from."""

    cpu_millicores: float
    memory_mib: float
    source: str

    def learners_that_fit(self, quota: Quota) -> int:
        if self.cpu_millicores <= 0 or self.memory_mib <= 0:
            return 0
        return int(min(self.cpu_millicores // quota.cpu_millicores, self.memory_mib // quota.memory_mib))

    def explain(self, quota: Quota, learners: int) -> str:
        fit = self.learners_that_fit(quota)
        return (
            f"Each learner's quota: {quota.cpu_millicores}m CPU, {quota.memory_mib} MiB, {quota.pods} pods "
            f"(sized by {quota.basis}).\n"
            f"Free for learners: {self.cpu_millicores:.0f}m CPU, {self.memory_mib:.0f} MiB ({self.source}).\n"
            f"{fit} learner(s) fit; {learners} asked for."
        )


def estimated_capacity(machine_type: str, nodes: int, platform_cpu_m: float, platform_memory_mib: float) -> Capacity:
    """Capacity of ``nodes`` GKE nodes of ``machine_type`` once the platform and GKE's pods run."""
    if not isinstance(nodes, int) or nodes < 1:
        raise WorkshopError(f"invalid node count {nodes!r}", hint="use 1 or more")
    cpu, memory = gke_allocatable(machine_type)
    system_cpu = nodes * GKE_SYSTEM_PER_NODE[0] + GKE_SYSTEM_PER_CLUSTER[0]
    system_memory = nodes * GKE_SYSTEM_PER_NODE[1] + GKE_SYSTEM_PER_CLUSTER[1]
    return Capacity(
        nodes * cpu - system_cpu - platform_cpu_m,
        nodes * memory - system_memory - platform_memory_mib,
        f"ESTIMATE for {nodes} x {machine_type}: GKE's documented node reservations, the platform's "
        f"requests ({platform_cpu_m:.0f}m, {platform_memory_mib:.0f} MiB) and an estimate of GKE's "
        "system pods",
    )


def _schedulable(node: Mapping) -> bool:
    spec = node.get("spec") or {}
    if spec.get("unschedulable"):
        return False
    return not any(taint.get("effect") in ("NoSchedule", "NoExecute") for taint in spec.get("taints") or [])


def _pod_request(pod: Mapping) -> tuple[float, float]:
    """A pod's effective requests: max(any init container, sum of the app containers)."""
    spec = pod.get("spec") or {}

    def requests(container: Mapping) -> tuple[float, float]:
        found = (container.get("resources") or {}).get("requests") or {}
        return (
            cpu_millicores(found["cpu"]) if "cpu" in found else 0.0,
            memory_mib(found["memory"]) if "memory" in found else 0.0,
        )

    app = [requests(c) for c in spec.get("containers") or []]
    init = [requests(c) for c in spec.get("initContainers") or []]
    cpu = max([sum(c for c, _ in app), *(c for c, _ in init)] or [0.0])
    memory = max([sum(m for _, m in app), *(m for _, m in init)] or [0.0])
    return cpu, memory


def live_capacity(nodes: Iterable[Mapping], pods: Iterable[Mapping], class_namespaces: Iterable[str] = ()) -> Capacity:
    """Capacity from ``kubectl get nodes -o json`` and ``kubectl get pods -A -o json`` items.

    Pods in the class's own namespaces do not count as used: the class is what is being sized.
    """
    usable = [node for node in nodes if _schedulable(node)]
    if not usable:
        raise WorkshopError("the cluster has no schedulable node", hint="`kubectl get nodes` shows why")
    cpu = sum(cpu_millicores((n.get("status") or {}).get("allocatable", {}).get("cpu", "0")) for n in usable)
    memory = sum(memory_mib((n.get("status") or {}).get("allocatable", {}).get("memory", "0")) for n in usable)
    skip = set(class_namespaces)
    used_cpu = used_memory = 0.0
    for pod in pods:
        meta, status = pod.get("metadata") or {}, pod.get("status") or {}
        if meta.get("namespace") in skip or CLASS_LABEL in (meta.get("labels") or {}):
            continue
        if status.get("phase") in ("Succeeded", "Failed"):
            continue
        pod_cpu, pod_memory = _pod_request(pod)
        used_cpu += pod_cpu
        used_memory += pod_memory
    return Capacity(
        cpu - used_cpu,
        memory - used_memory,
        f"live: {len(usable)} schedulable node(s) with {cpu:.0f}m CPU and {memory:.0f} MiB allocatable, "
        f"{used_cpu:.0f}m and {used_memory:.0f} MiB already requested by running pods",
    )


def require_fit(capacity: Capacity, quota: Quota, learners: int) -> str:
    """The explanation when ``learners`` fit; WorkshopError (with the figures) when they do not."""
    text = capacity.explain(quota, learners)
    fit = capacity.learners_that_fit(quota)
    if learners > fit:
        raise WorkshopError(
            f"{learners} learners do not fit this node pool.\n{text}",
            hint="add nodes (gke.create --nodes N) or pick a bigger --machine-type, "
            f"or create the class for at most {fit} learner(s)",
        )
    return text
