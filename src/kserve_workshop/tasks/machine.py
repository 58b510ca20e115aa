"""`invoke doctor` (is this machine ready for the workshop?) and `invoke tools` (the pinned kind, helm, kubectl)."""

from __future__ import annotations

from pathlib import Path

from .. import cluster, paths
from .. import doctor as doctor_lib, tools as tools_lib
from ..console import console
from .common import workshop_task


@workshop_task(help={
    "gke": "check for a GKE cluster (gcloud) instead of a kind cluster (Docker)",
    "config": "kind config whose host ports must be free",
    "name": "kind cluster name (its own ports count as free)",
})
def doctor(c, gke=False, config=str(cluster.KIND_CONFIG), name=cluster.KIND_CLUSTER_NAME):
    """Check this machine: tools and versions, Docker, CPU/RAM, ports, architecture, inotify, kube context."""
    results = doctor_lib.run_doctor(strict=True, target="gke" if gke else "kind", config_path=Path(config),
                                    cluster_name=name)
    warnings = sum(r.status == doctor_lib.WARN for r in results)
    console.print(f"[green]Ready[/green] ({warnings} warning(s): see the fixes above)." if warnings else
                  "[green]Ready.[/green]")


@workshop_task(help={
    "only": "comma-separated subset of kind,helm,kubectl",
    "base_url": f"download from this mirror instead of upstream (or set {tools_lib.BASE_URL_ENV})",
})
def tools(c, only="", base_url=""):
    """Download the pinned kind, helm and kubectl into .bin/ (SHA-256 verified; skipped when present)."""
    names = [n.strip() for n in only.split(",") if n.strip()] or list(tools_lib.TOOL_NAMES)
    tools_lib.install_tools(names, base_url=base_url or None)
    console.print(f"Tasks use {paths.bin_dir()} first; for your shell: "
                  f'export PATH="{paths.bin_dir()}:$PATH"', markup=False)
