"""`invoke doctor` (is this machine ready for the workshop?) and `invoke tools` (the pinned kind, helm, kubectl)."""

from __future__ import annotations

from pathlib import Path

from .. import cluster, paths
from .. import doctor as doctor_lib, tools as tools_lib
from ..console import console
from .common import workshop_task


@workshop_task(
    help={
        "tier": "what to check: local (no Docker, no cluster), cluster (kind), gke, all, or a comma list "
        "(default: local and cluster)",
        "gke": "the same as --tier gke",
        "config": "kind config whose host ports must be free",
        "name": "kind cluster name (its own ports count as free)",
    }
)
def doctor(c, tier="", gke=False, config=str(cluster.KIND_CONFIG), name=cluster.KIND_CLUSTER_NAME):
    """Check this machine, tier by tier: local (Python, packages, Prometheus, schema) and cluster (Docker, tools, ports...)."""
    tiers = doctor_lib.parse_tiers("gke" if gke and not tier else tier)
    if gke and tier and "gke" not in tiers:
        tiers.append("gke")
    reports = doctor_lib.run_tiers(tiers, strict=True, config_path=Path(config), cluster_name=name)
    warnings = sum(r.status == doctor_lib.WARN for report in reports for r in report.results)
    console.print(
        f"[green]Ready[/green] ({warnings} warning(s): see the fixes above)." if warnings else "[green]Ready.[/green]"
    )


@workshop_task(
    help={
        "only": "comma-separated subset of kind,helm,kubectl",
        "base_url": f"download from this mirror instead of upstream (or set {tools_lib.BASE_URL_ENV})",
    }
)
def tools(c, only="", base_url=""):
    """Download the pinned kind, helm and kubectl into .bin/ (SHA-256 verified; skipped when present)."""
    names = [n.strip() for n in only.split(",") if n.strip()] or list(tools_lib.TOOL_NAMES)
    tools_lib.install_tools(names, base_url=base_url or None)
    console.print(
        f'Tasks use {paths.bin_dir()} first; for your shell: export PATH="{paths.bin_dir()}:$PATH"', markup=False
    )
