"""The runtime images the labs pull, with how much Python each downloads, and what Lab 8's pods request.

The image sizes are **estimates**, not measurements (no registry is reachable where this project is
built): the sum of the wheel download sizes that each runtime's ``uv.lock`` at kserve v0.20.0 locks
for CPython 3.11 on Linux, computed with ``scripts/runtime_image_wheels.py``. The base image
(``python:3.11-slim-bookworm``; UBI 9 Python 3.11 for the predictive server) and KServe's own
sources come on top. They show where it matters: on amd64 the XGBoost and predictive images carry
NVIDIA's NCCL library (about 290-300 MB of wheel), because upstream installs ``xgboost``, not
``xgboost-cpu``; on arm64 they do not. Pre-pull them on a good network before a workshop
(``invoke images.preload``, whose list in ``classroom.images`` carries them; ``invoke images.list
--sizes`` measures what the local Docker holds).
"""

from __future__ import annotations

from dataclasses import dataclass
from ..versions import pin
from .runtimes import cluster_runtime


@dataclass(frozen=True)
class RuntimeImage:
    runtime: str  # ClusterServingRuntime
    labs: str  # which labs pull it
    wheels_mb_amd64: int
    wheels_mb_arm64: int
    largest: str  # what dominates it
    base: str

    @property
    def image(self) -> str:
        return cluster_runtime(self.runtime).image


#: From kserve v0.20.0 python/<server>/uv.lock (scripts/runtime_image_wheels.py, --arch x86_64 / aarch64).
RUNTIME_IMAGES: tuple[RuntimeImage, ...] = (
    RuntimeImage("kserve-sklearnserver", "1-7", 134, 128, "scipy 35 MB, numpy 17 MB", "python:3.11-slim-bookworm"),
    RuntimeImage(
        "kserve-lgbserver", "8", 136, 132, "scipy 38 MB, numpy 16 MB, scikit-learn 14 MB", "python:3.11-slim-bookworm"
    ),
    RuntimeImage(
        "kserve-xgbserver", "8", 415, 120, "nvidia-nccl-cu12 292 MB (amd64 only)", "python:3.11-slim-bookworm"
    ),
    RuntimeImage(
        "kserve-predictiveserver",
        "8",
        443,
        135,
        "nvidia-nccl-cu12 300 MB (amd64 only)",
        "ubi9/python-311 (unlocked install)",
    ),
)


def storage_initializer_image() -> str:
    """The init container that downloads every model (``kserve/storage-initializer``, tagged like KServe)."""
    return f"kserve/storage-initializer:{pin('kserve')}"


def lab8_requests() -> tuple[float, float, int]:
    """(CPU millicores, memory MiB, pods) that Lab 8's InferenceServices request for their model containers."""
    import yaml

    from ..platform.budget import cpu_millicores, memory_mib
    from .cluster import LAB_MANIFESTS

    cpu = memory = 0.0
    pods = 0
    for path in sorted(LAB_MANIFESTS.glob("*.yaml")):
        isvc = yaml.safe_load(path.read_text())
        requests = isvc["spec"]["predictor"]["model"]["resources"]["requests"]
        cpu += cpu_millicores(requests["cpu"])
        memory += memory_mib(requests["memory"])
        pods += 1
    return cpu, memory, pods


def images_markdown() -> str:
    """The runtime images as a Markdown table (the docs' reference page)."""
    lines = [
        "| runtime | image | labs | Python wheels amd64 / arm64 (estimate) | mostly | base image |",
        "|---|---|---|---|---|---|",
    ]
    for item in RUNTIME_IMAGES:
        lines.append(
            f"| `{item.runtime}` | `{item.image}` | {item.labs} | {item.wheels_mb_amd64} MB / "
            f"{item.wheels_mb_arm64} MB | {item.largest} | {item.base} |"
        )
    return "\n".join(lines)


def print_runtime_images() -> None:
    """The runtime images (pulled on first use, not part of the platform) and Lab 8's pods, for ``platform.budget``."""
    from rich.table import Table

    from ..console import console
    from ..kube import WORKSHOP_CLUSTER

    table = Table(title="Runtime images the labs pull on first use (Python wheels, estimated from upstream uv.lock)")
    for column in ("image", "labs", "amd64", "arm64", "mostly"):
        table.add_column(column)
    for item in RUNTIME_IMAGES:
        table.add_row(item.image, item.labs, f"{item.wheels_mb_amd64} MB", f"{item.wheels_mb_arm64} MB", item.largest)
    console.print(table)
    cpu, memory, pods = lab8_requests()
    console.print(
        f"Lab 8 adds {pods} model pods requesting {cpu / 1000:.2f} CPU and {memory / 1024:.2f} GiB in all "
        f"(plus each pod's queue-proxy); every model pod also runs {storage_initializer_image()} "
        "once. Pre-pull them on a good network: invoke images.preload (docker pull, then kind load "
        f"docker-image ... --name {WORKSHOP_CLUSTER})."
    )
