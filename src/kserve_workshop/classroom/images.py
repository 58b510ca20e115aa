"""Every image the workshop pulls, at the pinned versions, and ``invoke images.preload``.

Each entry says where its name and tag come from. Three kinds of reference:

- **tag**: the pin fixes the tag (KServe's images follow ``kserve.version``; Istio's, cert-manager's
  and SeaweedFS's follow theirs). These are pulled once on the host and copied into the kind node
  with ``kind load docker-image``.
- **digest**: the reference carries a digest (the kind node image, the custom image's base). Pulled
  on the host; ``kind load`` is not used for them (it does not reliably make a digest reference
  pullable: kind#2394).
- **chosen at install**: the tag or digest is picked by a chart or operator at install time
  (Knative's operator pins every Serving image by digest; kube-prometheus-stack's chart picks the
  Prometheus versions). Listed by name; the registry mirrors (``kind.create --registry-mirror``)
  cache them on first pull, and ``images.list --from-cluster`` prints the exact references a
  running cluster uses.

Sizes are never guessed: ``images.list --sizes`` measures the images present in the local Docker.
"""

from __future__ import annotations

from dataclasses import dataclass

from ..boosting.runtimes import cluster_runtime
from ..cluster import check_cluster_name
from ..errors import WorkshopError
from ..plan import Plan, Step
from ..versions import pin

TAG, DIGEST, AT_INSTALL = "tag", "digest", "chosen at install"


@dataclass(frozen=True)
class Image:
    reference: str
    component: str
    kind: str
    source: str

    @property
    def registry(self) -> str:
        """The registry host (``docker.io`` for Docker Hub's short names)."""
        first = self.reference.split("/", 1)[0]
        if "/" in self.reference and ("." in first or ":" in first or first == "localhost"):
            return first
        return "docker.io"

    @property
    def loadable(self) -> bool:
        return self.kind == TAG


def workshop_images() -> list[Image]:
    kserve, istio, cert_manager = pin("kserve"), pin("istio"), pin("cert_manager")
    knative = pin("knative", "operator_version")
    images = [
        Image(pin("kind", "node_image"), "kind node (Kubernetes)", DIGEST, "versions.toml [kind] node_image"),
        *(
            Image(
                f"quay.io/jetstack/cert-manager-{part}:{cert_manager}",
                "cert-manager",
                TAG,
                f"jetstack/cert-manager chart {cert_manager}",
            )
            for part in ("controller", "webhook", "cainjector", "startupapicheck")
        ),
        Image(f"docker.io/istio/pilot:{istio}", "Istio istiod", TAG, f"istio/istiod chart {istio}"),
        Image(f"docker.io/istio/proxyv2:{istio}", "Istio ingress gateway", TAG, f"istio/gateway chart {istio}"),
        *(
            Image(
                f"gcr.io/knative-releases/knative.dev/{path}",
                "Knative",
                AT_INSTALL,
                f"Knative operator {knative} (images pinned by digest in its bundled manifests)",
            )
            for path in (
                "operator/cmd/operator",
                "operator/cmd/webhook",
                "serving/cmd/activator",
                "serving/cmd/autoscaler",
                "serving/cmd/controller",
                "serving/cmd/webhook",
                "serving/cmd/queue",
                "net-istio/cmd/controller",
                "net-istio/cmd/webhook",
            )
        ),
        Image(
            f"docker.io/kserve/kserve-controller:{kserve}",
            "KServe controller",
            TAG,
            f"kserve-resources chart {kserve} (tag = kserve.version)",
        ),
        Image(
            "quay.io/brancz/kube-rbac-proxy:v0.18.0",
            "KServe controller (rbac proxy)",
            TAG,
            f"kserve-resources chart {kserve} values rbacProxyImage",
        ),
        Image(
            f"docker.io/kserve/storage-initializer:{kserve}",
            "KServe storage initializer (every model pod)",
            TAG,
            f"kserve-resources chart {kserve}",
        ),
        Image(
            f"docker.io/kserve/agent:{kserve}",
            "KServe agent (batcher and payload logger, Lab 7)",
            TAG,
            f"kserve-resources chart {kserve} values kserve.agent (tag = kserve.version)",
        ),
        Image(
            f"docker.io/kserve/sklearnserver:{kserve}",
            "sklearn runtime (smoke test, Labs 1-6)",
            TAG,
            f"kserve-runtime-configs chart {kserve}",
        ),
        *(
            Image(
                f"docker.io/{cluster_runtime(name).image}",
                f"{name} runtime (Lab 8)",
                TAG,
                f"kserve-runtime-configs chart {kserve}",
            )
            for name in ("kserve-lgbserver", "kserve-xgbserver", "kserve-predictiveserver")
        ),
        *(
            Image(
                name,
                "monitoring (kube-prometheus-stack)",
                AT_INSTALL,
                f"kube-prometheus-stack chart {pin('monitoring', 'kube_prometheus_stack_version')}",
            )
            for name in (
                "quay.io/prometheus-operator/prometheus-operator",
                "quay.io/prometheus/prometheus",
                "quay.io/prometheus-operator/prometheus-config-reloader",
                "registry.k8s.io/ingress-nginx/kube-webhook-certgen",
                "docker.io/grafana/grafana",
            )
        ),
        Image(
            f"docker.io/{pin('seaweedfs', 'image')}:{pin('seaweedfs')}",
            "model store (SeaweedFS)",
            TAG,
            "versions.toml [seaweedfs]",
        ),
        Image(
            pin("custom_image", "base_image"),
            "Lab 6 custom image base (docker build)",
            DIGEST,
            "versions.toml [custom_image] base_image",
        ),
        Image(
            f"docker.io/library/{pin('registry_mirror', 'image')}",
            "registry mirrors (kind.create --registry-mirror)",
            TAG,
            "versions.toml [registry_mirror]",
        ),
    ]
    return images


def node_images(images: list[Image] | None = None) -> list[Image]:
    """Images that run on the cluster and can be copied into kind's node (tag-pinned, not the node)."""
    return [
        image
        for image in images or workshop_images()
        if image.loadable and not image.component.startswith("registry mirrors")
    ]


def preload_plan(cluster: str) -> Plan:
    """Pull every pinned image once on the host, then copy those the cluster runs into its node."""
    check_cluster_name(cluster)  # as kind.create does; `kind load --name ''` would pick the cluster "kind"
    images = workshop_images()
    pulled = [image for image in images if image.kind in (TAG, DIGEST)]
    loaded = node_images(images)
    if not loaded:
        raise WorkshopError("no image to load")  # pragma: no cover - the list is static
    plan = Plan(
        f"preload {len(pulled)} images, {len(loaded)} into kind cluster {cluster}",
        [
            Step(
                title="check that Docker's engine answers", command=["docker", "info", "--format", "{{.ServerVersion}}"]
            )
        ],
    )
    for image in pulled:
        plan.add(Step(title=f"pull {image.reference} ({image.component})", command=["docker", "pull", image.reference]))
    plan.add(
        Step(
            title=f"copy {len(loaded)} images into the node of kind cluster {cluster}",
            command=["kind", "load", "docker-image", *(image.reference for image in loaded), "--name", cluster],
        )
    )
    return plan


def human_size(size: int | None) -> str:
    if size is None:
        return "unknown (not in the local Docker)"
    return f"{size / 1e6:.0f} MB (measured, uncompressed)"
