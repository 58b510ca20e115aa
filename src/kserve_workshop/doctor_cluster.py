"""The doctor's checks for the **cluster tier**: kind (Docker, its resources, kind, helm, kubectl,
the ports the kind config maps, CPU architecture, inotify limits) or GKE (gcloud and its auth plugin),
and the kube context. Each takes ``doctor.Probes`` and returns a ``doctor.DoctorResult``."""

from __future__ import annotations

import json
from pathlib import Path

from . import cluster, kube, tools
from .doctor import (
    CPU_GOOD,
    CPU_MIN,
    FAIL,
    GIB,
    INOTIFY_RECOMMENDED,
    MEMORY_GOOD_GIB,
    MEMORY_MIN_GIB,
    PASS,
    WARN,
    DoctorResult,
    Probes,
)
from .errors import WorkshopError
from .versions import pin


# ----- versions ----------------------------------------------------------------------------------


def version_tuple(text: str | None) -> tuple[int, ...] | None:
    """``"v1.34.0-gke.1"`` -> ``(1, 34, 0)``; None when there is no leading version."""
    if not text:
        return None
    core = text.strip().lstrip("v").split("+")[0].split("-")[0]
    parts = []
    for piece in core.split(".")[:3]:
        digits = "".join(ch for ch in piece if ch.isdigit())
        if not digits:
            break
        parts.append(int(digits))
    return tuple(parts) or None


def _tool_version(probes: Probes, tool: str) -> tuple[str | None, str | None, str]:
    """(path, version, error text) of ``tool`` as found on the workshop's PATH."""
    path = probes.which(tool)
    if not path:
        return None, None, ""
    output = probes.run([path, *tools.VERSION_COMMANDS[tool]])
    if output.returncode != 0:
        lines = (output.stderr or output.stdout).strip().splitlines()
        return path, None, lines[0] if lines else f"exit code {output.returncode}"
    return path, tools.parse_version(tool, output.stdout), ""


def _found_tool(probes: Probes, tool: str, min_parts: int = 1) -> tuple[str, str, tuple[int, ...]] | DoctorResult:
    """``(path, version text, parsed version)`` of ``tool``, or the failure saying it is missing or unreadable."""
    path, found, error = _tool_version(probes, tool)
    if not path:
        return DoctorResult(tool, FAIL, "not found", f"run `invoke tools` (installs the pinned {tool} in .bin/)")
    have = version_tuple(found)
    if have is None or len(have) < min_parts:
        return DoctorResult(
            tool, FAIL, f"{path}: cannot tell its version ({error or 'unexpected output'})", "run `invoke tools`"
        )
    return path, found, have


def check_kind(probes: Probes) -> DoctorResult:
    wanted = pin("kind")
    found_tool = _found_tool(probes, "kind")
    if isinstance(found_tool, DoctorResult):
        return found_tool
    path, found, have = found_tool
    want = version_tuple(wanted)
    if have < want:
        return DoctorResult(
            "kind",
            FAIL,
            f"{found} at {path}; the pinned node image needs {wanted}",
            "run `invoke tools` (the project-local kind comes first on the tasks' PATH)",
        )
    if have > want:
        return DoctorResult(
            "kind",
            WARN,
            f"{found} at {path}, newer than the pinned {wanted}",
            f"the node image is built for kind {wanted}; `invoke tools` installs that one",
        )
    return DoctorResult("kind", PASS, f"{found} ({path})")


def check_helm(probes: Probes) -> DoctorResult:
    wanted = pin("helm")
    found_tool = _found_tool(probes, "helm")
    if isinstance(found_tool, DoctorResult):
        return found_tool
    path, found, have = found_tool
    want = version_tuple(wanted)
    if have[0] != want[0]:
        return DoctorResult(
            "helm", FAIL, f"{found} at {path}; the workshop needs helm {want[0]}.x ({wanted})", "run `invoke tools`"
        )
    if have < want:
        return DoctorResult("helm", WARN, f"{found} at {path}, older than the pinned {wanted}", "run `invoke tools`")
    return DoctorResult("helm", PASS, f"{found} ({path})")


def cluster_kubernetes_version(target: str = "kind") -> str:
    """The Kubernetes version the workshop's cluster runs: the kind node image's, or GKE's pin."""
    if target == "gke":
        return pin("gke", "cluster_version")
    return pin("kind", "node_image").split("@")[0].rsplit(":", 1)[1]


def check_kubectl(probes: Probes, target: str = "kind") -> DoctorResult:
    cluster_minor = version_tuple(cluster_kubernetes_version(target))[:2]
    found_tool = _found_tool(probes, "kubectl", min_parts=2)
    if isinstance(found_tool, DoctorResult):
        return found_tool
    path, found, have = found_tool
    skew = abs(have[1] - cluster_minor[1]) if have[0] == cluster_minor[0] else 99
    if skew > 1:
        return DoctorResult(
            "kubectl",
            FAIL,
            f"{found} at {path}; the cluster runs Kubernetes "
            f"{'.'.join(map(str, cluster_minor))} and kubectl supports one minor version either side",
            f"run `invoke tools` (installs kubectl {pin('kubectl')})",
        )
    return DoctorResult("kubectl", PASS, f"{found} ({path})")


def check_docker_client(probes: Probes) -> DoctorResult:
    path = probes.which("docker")
    if not path:
        from .kube import DOCKER_INSTALL

        return DoctorResult("docker", FAIL, "not found", DOCKER_INSTALL)
    output = probes.run([path, *tools.VERSION_COMMANDS["docker"]])
    version = output.stdout.strip() or "unknown version"
    return DoctorResult("docker", PASS, f"client {version} ({path})")


def docker_info(probes: Probes) -> tuple[dict | None, str]:
    """``docker info`` as a dict, or None and why the daemon did not answer."""
    if not probes.which("docker"):
        return None, "docker is not installed"
    output = probes.run(["docker", "info", "--format", "{{json .}}"])
    message = (output.stderr or "").strip().splitlines()
    if output.returncode != 0:
        return None, message[0] if message else f"docker info exited with {output.returncode}"
    try:
        info = json.loads(output.stdout)
    except ValueError:
        return None, "docker info printed something that is not JSON"
    if info.get("ServerErrors"):
        return None, "; ".join(map(str, info["ServerErrors"]))
    return info, ""


def check_docker_daemon(info: dict | None, why: str) -> DoctorResult:
    if info is None:
        return DoctorResult(
            "docker daemon",
            FAIL,
            f"not reachable: {why}",
            "start Docker Desktop, or the engine on Linux (`sudo systemctl start docker`); "
            "on Linux also add yourself to the docker group (`sudo usermod -aG docker $USER`, "
            "then log in again)",
        )
    return DoctorResult(
        "docker daemon", PASS, f"running (server {info.get('ServerVersion', '?')}, {info.get('OperatingSystem', '?')})"
    )


def check_docker_resources(info: dict | None) -> DoctorResult:
    if info is None:
        return DoctorResult(
            "docker CPU/memory", WARN, "not checked: the Docker daemon did not answer", "fix the Docker daemon first"
        )
    cpus = int(info.get("NCPU") or 0)
    memory = float(info.get("MemTotal") or 0) / GIB
    found = f"{cpus} CPUs, {memory:.1f} GiB available to Docker"
    fix = (
        f"give Docker at least {CPU_GOOD} CPUs and {MEMORY_GOOD_GIB} GB (Docker Desktop: Settings > "
        "Resources); on Linux Docker uses the whole machine"
    )
    if cpus < CPU_MIN or memory < MEMORY_MIN_GIB:
        return DoctorResult(
            "docker CPU/memory",
            FAIL,
            f"{found}; the platform needs at least {CPU_MIN} CPUs and {MEMORY_MIN_GIB} GiB",
            fix,
        )
    if cpus < CPU_GOOD or memory < MEMORY_GOOD_GIB:
        return DoctorResult(
            "docker CPU/memory",
            WARN,
            f"{found}; {CPU_GOOD} CPUs and {MEMORY_GOOD_GIB} GiB leave room for the labs' models",
            fix,
        )
    return DoctorResult("docker CPU/memory", PASS, found)


def check_ports(probes: Probes, config_path: Path, cluster_name: str) -> list[DoctorResult]:
    """Each host port the kind config maps must be free (or held by the workshop's own cluster)."""
    try:
        mappings = cluster.kind_port_mappings(config_path)
    except WorkshopError as exc:
        return [DoctorResult("host ports", FAIL, exc.message, f"restore {cluster.KIND_CONFIG}")]
    if not mappings:
        return [
            DoctorResult(
                "host ports",
                WARN,
                f"{config_path} maps no host ports: the ingress will not be reachable from this machine",
                f"restore {cluster.KIND_CONFIG}",
            )
        ]
    existing = _kind_clusters(probes)
    results = []
    for host, port in mappings:
        name = f"port {host}:{port}"
        if cluster_name in existing:
            results.append(DoctorResult(name, PASS, f"held by the existing kind cluster {cluster_name}"))
        elif probes.port_free(host, port):
            results.append(DoctorResult(name, PASS, "free"))
        else:
            results.append(
                DoctorResult(
                    name,
                    FAIL,
                    "in use by another program (kind maps the ingress there)",
                    f"stop that program (find it: `lsof -nP -iTCP:{port} -sTCP:LISTEN` or `ss -ltnp 'sport = :{port}'`), "
                    f"or change hostPort in {config_path}",
                )
            )
    return results


def _kind_clusters(probes: Probes) -> list[str]:
    if not probes.which("kind"):
        return []
    output = probes.run(["kind", "get", "clusters"])
    return output.stdout.split() if output.returncode == 0 else []


def check_architecture(probes: Probes) -> DoctorResult:
    machine = probes.machine().lower()
    if machine in {"x86_64", "amd64"}:
        return DoctorResult("CPU architecture", PASS, f"{machine} (every pinned image has amd64)")
    if machine in {"arm64", "aarch64"}:
        return DoctorResult(
            "CPU architecture",
            WARN,
            f"{machine}: kind, the node image and KServe's images support arm64, but MLServer "
            "(KServe's default for protocolVersion v2) has no arm64 image",
            "keep `runtime: kserve-sklearnserver` in InferenceServices (the labs do)",
        )
    return DoctorResult(
        "CPU architecture",
        FAIL,
        f"{machine}: kind node images exist only for amd64 and arm64",
        "use an amd64 or arm64 machine, or GKE (`invoke gke.create`)",
    )


def check_inotify(probes: Probes) -> DoctorResult:
    if probes.system().lower() != "linux":
        return DoctorResult("inotify limits", PASS, f"not applicable on {probes.system()} (Docker runs in a VM)")
    values, low = {}, []
    for key, wanted in INOTIFY_RECOMMENDED.items():
        raw = probes.read_text(f"/proc/sys/fs/inotify/{key}")
        try:
            values[key] = int((raw or "").strip())
        except ValueError:
            return DoctorResult("inotify limits", WARN, f"cannot read fs.inotify.{key}", _inotify_fix())
        if values[key] < wanted:
            low.append(f"{key}={values[key]} (kind recommends {wanted})")
    if low:
        return DoctorResult(
            "inotify limits",
            WARN,
            "low: " + ", ".join(low) + "; pods may fail with 'too many open files'",
            _inotify_fix(),
        )
    return DoctorResult("inotify limits", PASS, ", ".join(f"{k}={v}" for k, v in values.items()))


def _inotify_fix() -> str:
    settings = " ".join(f"fs.inotify.{k}={v}" for k, v in INOTIFY_RECOMMENDED.items())
    return f"`sudo sysctl {settings}`; to keep it after a reboot put those lines in /etc/sysctl.d/99-kind.conf"


def check_kube_context(probes: Probes, cluster_name: str) -> DoctorResult:
    context = probes.kube_context()
    workshop = cluster.kind_context(cluster_name)
    if context is None:
        return DoctorResult("kube context", PASS, "none set yet (creating the cluster sets it)")
    if context == workshop or kube.is_workshop_context(context):
        return DoctorResult("kube context", PASS, context)
    return DoctorResult(
        "kube context",
        WARN,
        f"current context is {context!r}, not the workshop's {workshop!r}",
        f"workshop tasks act only on {workshop} unless you name another context and pass --yes; "
        f"switch with `kubectl config use-context {workshop}` once the cluster exists",
    )


def check_gcloud(probes: Probes) -> list[DoctorResult]:
    path, found, error = _tool_version(probes, "gcloud")
    results = []
    if not path:
        results.append(
            DoctorResult(
                "gcloud", FAIL, "not found", "install the Google Cloud CLI: https://cloud.google.com/sdk/docs/install"
            )
        )
    else:
        results.append(
            DoctorResult(
                "gcloud",
                PASS if found else WARN,
                f"Google Cloud SDK {found} ({path})"
                if found
                else f"{path}: cannot tell its version ({error or 'unexpected output'})",
            )
        )
    if probes.which("gke-gcloud-auth-plugin"):
        results.append(DoctorResult("gke-gcloud-auth-plugin", PASS, "found"))
    else:
        results.append(
            DoctorResult(
                "gke-gcloud-auth-plugin",
                FAIL,
                "not found (kubectl needs it for GKE)",
                "`gcloud components install gke-gcloud-auth-plugin` (or your package "
                "manager's google-cloud-cli-gke-gcloud-auth-plugin)",
            )
        )
    return results
