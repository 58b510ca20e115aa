"""What each lab page says before it starts, and where its steps link to Troubleshooting.

Kept here, not in the notebooks: the time a lab takes, what it needs beyond the workshop's Python
environment, the lab it builds on, and for each step (a ``## N. ...`` section, named by its title
without the number) the troubleshooting entries for what goes wrong there. The troubleshooting
anchors are the explicit ids of ``docs/troubleshooting.md`` (a test checks every one resolves,
and that every section named here exists in its notebook).
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class LabFacts:
    #: Minutes for the local part and for the cluster part (reading, running, the exercises).
    minutes_local: int
    minutes_cluster: int
    #: The lab it builds on (None: only the setup).
    builds_on: int | None
    #: What the lab needs beyond the workshop's Python environment (and, for its cluster part, the cluster).
    needs_local: tuple[str, ...] = ()
    needs_cluster: tuple[str, ...] = ()
    #: Section title (without its number) -> troubleshooting anchors for that step.
    troubleshooting: dict[str, tuple[str, ...]] = field(default_factory=dict)


_CLUSTER_CALLS = ("ingress-not-configured", "gateway-404", "pods-pending")

LAB_FACTS: dict[int, LabFacts] = {
    1: LabFacts(
        40,
        15,
        None,
        troubleshooting={
            "Serve it with KServe's model server": ("port-in-use",),
            "The same model on a cluster": _CLUSTER_CALLS,
        },
    ),
    2: LabFacts(
        30,
        20,
        1,
        needs_local=("KServe's schema in the cache (`invoke schemas`) for the graded manifest",),
        troubleshooting={
            "Anatomy of an InferenceService": ("schema-not-cached",),
            "On the cluster": (*_CLUSTER_CALLS, "models-missing"),
        },
    ),
    3: LabFacts(
        45,
        25,
        2,
        troubleshooting={
            "A model server to measure": ("port-in-use",),
            "On the cluster: watch Knative scale": ("autoscaling-does-nothing", "pods-pending"),
            "Scale to zero, and the cold start": ("autoscaling-does-nothing",),
        },
    ),
    4: LabFacts(
        45,
        30,
        2,
        needs_local=("KServe's schema in the cache (`invoke schemas`) for the graded canary",),
        troubleshooting={
            "The canary change": ("schema-not-cached",),
            "On the cluster": ("gateway-404", "pods-pending"),
        },
    ),
    5: LabFacts(
        40,
        20,
        3,
        needs_local=(
            "the `prometheus` server binary (`sudo apt-get install prometheus` or `brew install prometheus`)",
        ),
        needs_cluster=("the platform's monitoring component (installed by `invoke up`)",),
        troubleshooting={
            "A Prometheus of your own": ("prometheus-missing", "port-in-use"),
            "On the cluster: the same queries, on the cluster's Prometheus": ("gateway-404",),
        },
    ),
    6: LabFacts(
        45,
        30,
        1,
        needs_cluster=("Docker, to build the lab's image (`invoke image.build`)",),
        troubleshooting={
            "Two KServe servers on this machine": ("port-in-use",),
            "Packaging: an image": ("image-digest", "exec-format-error"),
            "On the cluster": ("image-digest", "gateway-404", "pods-pending"),
        },
    ),
    7: LabFacts(
        60,
        30,
        3,
        needs_local=("KServe's schema in the cache (`invoke schemas`) for the graded manifests",),
        needs_cluster=("Docker, to build the sink's image",),
        troubleshooting={
            "What batching buys, measured": ("port-in-use",),
            "On the cluster: batching for real": ("batching-waits", "pods-pending"),
            "On the cluster: your sink receives the logger's events": ("logger-silent",),
            "On the cluster: logging to the S3 store": ("logger-silent",),
        },
    ),
    8: LabFacts(
        45,
        25,
        2,
        needs_local=(
            "LightGBM and XGBoost (installed by `scripts/bootstrap.sh`; on macOS also `brew install libomp`)",
        ),
        needs_cluster=("the runtime images, pulled on first use (pre-pull them with `invoke images.preload`)",),
        troubleshooting={"On the cluster": ("exec-format-error", "pods-pending", "gateway-404")},
    ),
}


def facts_for(number: int) -> LabFacts | None:
    return LAB_FACTS.get(number)
