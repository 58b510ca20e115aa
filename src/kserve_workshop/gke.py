"""Creating and deleting a GKE cluster for the workshop, with a rough cost estimate.

Like ``cluster`` (kind), everything here builds a ``plan.Plan``; the deletion plan ends with checks
that fail when the cluster, its firewall rules, a load balancer or an orphaned disk is left.
"""

from __future__ import annotations

import re
import shlex
from dataclasses import dataclass

from .cluster import KIND_CLUSTER_NAME, check_cluster_name, expect_empty
from .errors import WorkshopError
from .plan import Plan, Runner, Step, output_of
from .versions import pin

#: The workshop's only LoadBalancer Service on GKE (the Istio ingress gateway).
INGRESS_SERVICE = ("istio-system", "istio-ingressgateway")


_PROJECT = re.compile(r"^([a-z0-9.-]+:)?[a-z][a-z0-9-]{4,28}[a-z0-9]$")
_ZONE = re.compile(r"^[a-z]+-[a-z]+[0-9]+-[a-z]$")
_REGION = re.compile(r"^[a-z]+-[a-z]+[0-9]+$")
_MACHINE = re.compile(r"^[a-z][a-z0-9]*-[a-z]+(-[0-9]+)?$")

#: Rough on-demand list prices in us-central1 (USD per hour), for the cost warning only.
#: They change and differ per region: the warning says so and links the pricing pages.
MACHINE_USD_PER_HOUR = {
    "e2-standard-2": 0.067,
    "e2-standard-4": 0.134,
    "e2-standard-8": 0.268,
    "n2-standard-2": 0.097,
    "n2-standard-4": 0.194,
    "n2-standard-8": 0.389,
}
GKE_CLUSTER_FEE_USD_PER_HOUR = 0.10
LOAD_BALANCER_USD_PER_HOUR = 0.025
PD_BALANCED_USD_PER_GB_MONTH = 0.10
PRICING_PAGES = (
    "https://cloud.google.com/kubernetes-engine/pricing",
    "https://cloud.google.com/compute/vm-instance-pricing",
)
#: Zones per region for a regional cluster (--num-nodes is per zone).
ZONES_PER_REGION = 3


#: The zone of a GKE cluster when neither a zone nor a region is given.
DEFAULT_ZONE = "us-central1-a"


@dataclass(frozen=True)
class GkeSpec:
    """A GKE Standard cluster sized for the workshop: three e2-standard-4 nodes in one zone.

    Give ``region`` instead of ``zone`` for a regional cluster (then ``node_count`` is per zone:
    three times the nodes, three times the cost). Giving both is refused: which one was meant is
    a question of three times the cost. With neither, the cluster is zonal in ``DEFAULT_ZONE``.
    """

    project: str
    zone: str | None = None
    region: str | None = None
    machine_type: str = "e2-standard-4"
    node_count: int = 3
    name: str = KIND_CLUSTER_NAME
    disk_size_gb: int = 50

    def __post_init__(self) -> None:
        if not self.project:
            raise WorkshopError(
                "a GCP project is required", hint="pass --project YOUR_PROJECT_ID (see `gcloud projects list`)"
            )
        if not _PROJECT.match(self.project):
            raise WorkshopError(
                f"invalid GCP project id {self.project!r}",
                hint="project ids are 6-30 lowercase letters, digits and '-', "
                "starting with a letter (see `gcloud projects list`)",
            )
        if self.region and self.zone:
            raise WorkshopError(
                f"give a zone or a region, not both (zone {self.zone!r}, region {self.region!r})",
                hint=f"--zone {self.zone} makes a zonal cluster ({self.node_count} nodes); "
                f"--region {self.region} a regional one ({ZONES_PER_REGION}x the nodes "
                "and the cost)",
            )
        if not self.region and not self.zone:
            object.__setattr__(self, "zone", DEFAULT_ZONE)
        if self.region and not _REGION.match(self.region):
            raise WorkshopError(f"invalid GCP region {self.region!r}", hint="e.g. us-central1, europe-west1")
        if not self.region and not (self.zone and _ZONE.match(self.zone)):
            raise WorkshopError(f"invalid GCP zone {self.zone!r}", hint="e.g. us-central1-a, europe-west1-b")
        if not _MACHINE.match(self.machine_type):
            raise WorkshopError(f"invalid machine type {self.machine_type!r}", hint="e.g. e2-standard-4")
        if not isinstance(self.node_count, int) or not 1 <= self.node_count <= 20:
            raise WorkshopError(f"invalid node count {self.node_count!r}", hint="use 1 to 20 (3 is the default)")
        if not isinstance(self.disk_size_gb, int) or not 20 <= self.disk_size_gb <= 500:
            raise WorkshopError(f"invalid disk size {self.disk_size_gb!r} GB", hint="use 20 to 500")
        check_cluster_name(self.name)

    @property
    def location(self) -> str:
        return self.region or self.zone  # type: ignore[return-value]

    @property
    def total_nodes(self) -> int:
        return self.node_count * (ZONES_PER_REGION if self.region else 1)

    @property
    def context(self) -> str:
        """The kube context ``gcloud container clusters get-credentials`` writes."""
        return f"gke_{self.project}_{self.location}_{self.name}"

    def gcloud(self, *args: str) -> list[str]:
        return ["gcloud", *args, "--project", self.project]

    def cluster_command(self, verb: str, *extra: str) -> list[str]:
        return [
            "gcloud",
            "container",
            "clusters",
            verb,
            self.name,
            "--project",
            self.project,
            "--location",
            self.location,
            *extra,
        ]


@dataclass(frozen=True)
class CostEstimate:
    usd_per_hour: float | None
    breakdown: str

    def warning(self, spec: GkeSpec) -> str:
        if self.usd_per_hour is None:
            head = f"GKE costs money while it runs. No estimate for machine type {spec.machine_type}: {self.breakdown}."
        else:
            head = (
                f"GKE costs money while it runs: roughly ${self.usd_per_hour:.2f}/hour "
                f"(~${self.usd_per_hour * 24:.0f}/day) — {self.breakdown}. This is an ESTIMATE "
                "from us-central1 on-demand list prices; your region, discounts and free tier differ."
            )
        return (
            f"{head}\nCheck {PRICING_PAGES[0]} and {PRICING_PAGES[1]}.\n"
            f"Delete it when you are done: invoke gke.delete --project {spec.project} "
            f"--{'region' if spec.region else 'zone'} {spec.location}"
            + (f" --name {spec.name}" if spec.name != KIND_CLUSTER_NAME else "")
        )


def gke_cost_estimate(spec: GkeSpec) -> CostEstimate:
    """A rough hourly figure for the cluster ``spec`` describes (nodes, disks, fee, one load balancer)."""
    per_node = MACHINE_USD_PER_HOUR.get(spec.machine_type)
    if per_node is None:
        return CostEstimate(None, f"see the pricing pages for {spec.total_nodes} x {spec.machine_type}")
    disks = spec.total_nodes * spec.disk_size_gb * PD_BALANCED_USD_PER_GB_MONTH / 730
    total = spec.total_nodes * per_node + disks + GKE_CLUSTER_FEE_USD_PER_HOUR + LOAD_BALANCER_USD_PER_HOUR
    return CostEstimate(
        total,
        f"{spec.total_nodes} x {spec.machine_type} at ~${per_node:.3f} + "
        f"{spec.total_nodes} x {spec.disk_size_gb} GB disk ~${disks:.2f} + "
        f"cluster fee ${GKE_CLUSTER_FEE_USD_PER_HOUR:.2f} + "
        f"1 load balancer ~${LOAD_BALANCER_USD_PER_HOUR:.3f}",
    )


def gke_cluster_exists(runner: Runner, spec: GkeSpec) -> bool:
    return runner.succeeds(spec.cluster_command("describe", "--format", "value(name)"))


def gke_create_plan(spec: GkeSpec) -> Plan:
    """Create the GKE cluster (skipped when it exists), fetch its credentials, wait for nodes."""
    create = spec.cluster_command(
        "create",
        "--release-channel",
        pin("gke", "release_channel"),
        "--cluster-version",
        pin("gke", "cluster_version"),
        "--machine-type",
        spec.machine_type,
        "--num-nodes",
        str(spec.node_count),
        "--disk-size",
        str(spec.disk_size_gb),
        "--labels",
        f"workshop={KIND_CLUSTER_NAME}",
    )
    return Plan(
        f"GKE cluster {spec.name} in {spec.project}/{spec.location}",
        [
            Step(
                title="enable the Kubernetes Engine API",
                command=spec.gcloud("services", "enable", "container.googleapis.com"),
            ),
            Step(
                title=f"create GKE cluster {spec.name} ({spec.total_nodes} x {spec.machine_type})",
                command=create,
                is_done=lambda runner: gke_cluster_exists(runner, spec),
            ),
            Step(
                title=f"fetch credentials (kube context {spec.context})",
                command=spec.cluster_command("get-credentials"),
            ),
            Step(
                title="wait until the nodes are Ready",
                waits=[
                    [
                        "kubectl",
                        "--context",
                        spec.context,
                        "wait",
                        "--for=condition=Ready",
                        "nodes",
                        "--all",
                        "--timeout=300s",
                    ]
                ],
                diagnose=lambda runner: output_of(
                    runner, ["kubectl", "--context", spec.context, "get", "nodes", "-o", "wide"]
                ),
            ),
        ],
    )


def gke_leftover_queries(spec: GkeSpec) -> dict[str, list[str]]:
    """gcloud list commands that print what is left of the cluster (nothing, once deleted)."""
    namespace, service = INGRESS_SERVICE
    return {
        "GKE cluster": [
            "gcloud",
            "container",
            "clusters",
            "list",
            "--project",
            spec.project,
            "--filter",
            f"name={spec.name}",
            "--format",
            "value(name,location)",
        ],
        # Created with the cluster (gke-NAME-<hash>-all/-ssh/-vms...).
        "cluster firewall rules": [
            "gcloud",
            "compute",
            "firewall-rules",
            "list",
            "--project",
            spec.project,
            "--filter",
            f"name~^gke-{spec.name}-",
            "--format",
            "value(name)",
        ],
        # Made for the ingress gateway's LoadBalancer Service: Kubernetes' GCE load balancer code
        # writes {"kubernetes.io/service-name":"<namespace>/<name>"} into their descriptions.
        "load balancer forwarding rules": [
            "gcloud",
            "compute",
            "forwarding-rules",
            "list",
            "--project",
            spec.project,
            "--filter",
            f"description~{namespace}/{service}",
            "--format",
            "value(name,region)",
        ],
        "load balancer firewall rules": [
            "gcloud",
            "compute",
            "firewall-rules",
            "list",
            "--project",
            spec.project,
            "--filter",
            f"description~{namespace}/{service}",
            "--format",
            "value(name)",
        ],
        # Disks provisioned for PersistentVolumeClaims (e.g. the model store) that nothing uses.
        "unattached volume disks": [
            "gcloud",
            "compute",
            "disks",
            "list",
            "--project",
            spec.project,
            "--filter",
            "description~kubernetes.io/created-for/pvc AND -users:*",
            "--format",
            "value(name,zone)",
        ],
    }


def gke_delete_plan(spec: GkeSpec) -> Plan:
    """Delete the GKE cluster and verify that it and what it created are gone.

    The ingress gateway's LoadBalancer Service is deleted first: Google recommends it, since
    deleting a cluster does not always delete the load balancers its Services created.
    """
    namespace, service = INGRESS_SERVICE
    gone = lambda runner: not gke_cluster_exists(runner, spec)  # noqa: E731 - a tiny shared predicate
    plan = Plan(
        f"delete GKE cluster {spec.name} in {spec.project}/{spec.location}",
        [
            Step(title="fetch credentials", command=spec.cluster_command("get-credentials"), is_done=gone),
            Step(
                title=f"delete the LoadBalancer Service {namespace}/{service} (releases its load balancer)",
                command=[
                    "kubectl",
                    "--context",
                    spec.context,
                    "delete",
                    "service",
                    service,
                    "-n",
                    namespace,
                    "--ignore-not-found",
                    "--wait=true",
                    "--timeout=300s",
                ],
                is_done=gone,
            ),
            Step(
                title=f"delete GKE cluster {spec.name}", command=spec.cluster_command("delete", "--quiet"), is_done=gone
            ),
        ],
    )
    for what, query in gke_leftover_queries(spec).items():
        plan.add(
            Step(
                title=f"verify no {what} left",
                waits=[expect_empty(query)],
                diagnose=lambda runner, what=what, query=query: _leftover_report(runner, what, query),
            )
        )
    return plan


def _leftover_report(runner: Runner, what: str, query: list[str]) -> str:
    found = output_of(runner, query)
    return (
        f"{what} still exist(s) (they keep costing money):\n{found}\n"
        f"Listed by: {shlex.join(query)}\nDelete them in the Cloud Console or with gcloud, "
        "then run the same delete task again to re-verify. (A filter can also match resources "
        "of another cluster in the same project: check the names before deleting.)"
    )
