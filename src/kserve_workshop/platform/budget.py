"""What the platform asks the scheduler for: the CPU and memory requests of its pods.

Computed from the same values files and objects the install plans apply, so the figure cannot
drift from what is installed. The laptop budget (1.5 CPU, 3 GiB) leaves room on a 4-CPU/8-GiB
Docker VM for Kubernetes itself and the labs' models.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from ..errors import WorkshopError
from ..kube import WORKSHOP_CONTEXT
from .base import Profile, Workload
from .registry import components

CPU_BUDGET_MILLICORES = 1500
MEMORY_BUDGET_MIB = 3 * 1024

_QUANTITY = re.compile(r"^([0-9]+(?:\.[0-9]+)?)([a-zA-Z]*)$")
_CPU_UNITS = {"": 1000.0, "m": 1.0}
_MEMORY_UNITS = {
    "": 1 / 2**20,
    "Ki": 1 / 1024,
    "Mi": 1.0,
    "Gi": 1024.0,
    "Ti": 1024.0**2,
    "k": 1e3 / 2**20,
    "M": 1e6 / 2**20,
    "G": 1e9 / 2**20,
    "T": 1e12 / 2**20,
}


def _quantity(text: str, units: dict[str, float], what: str) -> float:
    match = _QUANTITY.match(str(text).strip())
    if not match or match.group(2) not in units:
        raise WorkshopError(
            f"not a Kubernetes {what} quantity: {text!r}", hint="e.g. 5m or 0.5 for CPU, 32Mi or 1Gi for memory"
        )
    return float(match.group(1)) * units[match.group(2)]


def cpu_millicores(quantity: str) -> float:
    """``"5m"`` -> 5, ``"0.5"`` -> 500, ``"1"`` -> 1000."""
    return _quantity(quantity, _CPU_UNITS, "CPU")


def memory_mib(quantity: str) -> float:
    """``"32Mi"`` -> 32, ``"1Gi"`` -> 1024, ``"128M"`` -> 122.07."""
    return _quantity(quantity, _MEMORY_UNITS, "memory")


@dataclass(frozen=True)
class Totals:
    cpu_millicores: float
    memory_mib: float
    workloads: tuple[Workload, ...]

    @property
    def within_laptop_budget(self) -> bool:
        return self.cpu_millicores <= CPU_BUDGET_MILLICORES and self.memory_mib <= MEMORY_BUDGET_MIB

    def summary(self) -> str:
        return (
            f"the platform requests {self.cpu_millicores / 1000:.2f} CPU and "
            f"{self.memory_mib / 1024:.2f} GiB over {len(self.workloads)} containers "
            f"(laptop budget {CPU_BUDGET_MILLICORES / 1000:.1f} CPU, {MEMORY_BUDGET_MIB / 1024:.0f} GiB)"
        )


def platform_requests(profile: Profile, names=None) -> list[Workload]:
    """Every platform container's requests for ``profile`` (all components unless ``names``)."""
    out: list[Workload] = []
    for component in components(WORKSHOP_CONTEXT, names):
        out.extend(component.requests(profile))
    return out


def totals(workloads: list[Workload]) -> Totals:
    return Totals(
        cpu_millicores=sum(cpu_millicores(w.cpu) for w in workloads),
        memory_mib=sum(memory_mib(w.memory) for w in workloads),
        workloads=tuple(workloads),
    )


def platform_totals(profile: Profile, names=None) -> Totals:
    return totals(platform_requests(profile, names))
