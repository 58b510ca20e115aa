"""What a cluster run was: its date, where it ran and the platform versions the cluster reported.

The kind workflow writes it next to the executed notebooks (``invoke docs.run-info --out
test-artifacts/run.json``), and ``invoke docs.record`` refuses notebooks without it. Every version
is read from the cluster itself (the API server, the images of the KServe controller and istiod,
the KnativeServing's status), not from the pins, so the label says what really ran.
"""

from __future__ import annotations

import json
import os
import subprocess
from datetime import datetime, timezone
from typing import Callable

from ..errors import WorkshopError

#: Fields a run's record must have, and what each one is.
REQUIRED = {
    "date": "when the run finished (UTC)",
    "cluster": "where it ran (kind, GKE)",
    "kubernetes": "the API server's version",
    "kserve": "the KServe controller's image tag",
    "knative_serving": "the KnativeServing's version",
    "istio": "istiod's image tag",
}
RUN_FILE = "run.json"

Run = Callable[[list[str]], str]


def _kubectl(context: str) -> Run:
    def run(args: list[str]) -> str:
        from ..tools import tool_env

        argv = ["kubectl", "--context", context, *args]
        try:
            done = subprocess.run(argv, capture_output=True, text=True, timeout=60, env=tool_env(), check=False)
        except (OSError, subprocess.TimeoutExpired) as exc:
            raise WorkshopError(f"`{' '.join(argv)}` did not run: {exc}") from None
        if done.returncode != 0:
            raise WorkshopError(
                f"`{' '.join(argv)}` failed: {(done.stderr or done.stdout).strip()[:300]}",
                hint="the run's record is read from the cluster: it must be reachable",
            )
        return done.stdout

    return run


def _image_tag(image: str) -> str:
    name = image.split("@", 1)[0]
    return name.rsplit(":", 1)[1] if ":" in name.rsplit("/", 1)[-1] else "latest"


def collect_run_info(
    context: str, *, kubectl: Run | None = None, env: dict | None = None, now: datetime | None = None
) -> dict:
    """The record of a run on the cluster of ``context`` (``kubectl`` replaced in tests)."""
    kubectl = kubectl or _kubectl(context)
    env = os.environ if env is None else env
    version = json.loads(kubectl(["version", "-o", "json"]))
    images = {}
    for namespace, deployment in (("kserve", "kserve-controller-manager"), ("istio-system", "istiod")):
        spec = json.loads(kubectl(["get", "deployment", deployment, "-n", namespace, "-o", "json"]))
        containers = spec["spec"]["template"]["spec"]["containers"]
        chosen = next((c for c in containers if c.get("name") in ("manager", "discovery")), containers[0])
        images[deployment] = _image_tag(chosen["image"])
    serving = kubectl(
        ["get", "knativeserving", "knative-serving", "-n", "knative-serving", "-o", "jsonpath={.status.version}"]
    ).strip()
    record = {
        "date": (now or datetime.now(timezone.utc)).strftime("%Y-%m-%d"),
        "cluster": "GKE" if context.startswith("gke_") else "kind" if context.startswith("kind-") else context,
        "kubernetes": version["serverVersion"]["gitVersion"],
        "kserve": images["kserve-controller-manager"],
        "knative_serving": serving or "unknown",
        "istio": images["istiod"],
    }
    if env.get("GITHUB_RUN_ID"):
        record["run"] = (
            f"{env.get('GITHUB_SERVER_URL', 'https://github.com')}/{env.get('GITHUB_REPOSITORY', '')}"
            f"/actions/runs/{env['GITHUB_RUN_ID']}"
        )
        record["commit"] = env.get("GITHUB_SHA", "")
    return record


def missing_fields(record: dict) -> list[str]:
    return [key for key in REQUIRED if not str(record.get(key) or "").strip() or record.get(key) == "unknown"]


def label(record: dict) -> str:
    """``kind, Kubernetes v1.34.0, KServe v0.20.0, Knative Serving 1.21.1, Istio 1.27.1, 2026-09-01``."""
    return (
        f"{record['cluster']}, Kubernetes {record['kubernetes']}, KServe {record['kserve']}, "
        f"Knative Serving {record['knative_serving']}, Istio {record['istio']}, {record['date']}"
    )
