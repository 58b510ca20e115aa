"""Pull-through registry caches for kind (``invoke kind.create --registry-mirror``).

One container of the ``registry`` image (CNCF Distribution) per upstream registry, in proxy mode
(``REGISTRY_PROXY_REMOTEURL``: a proxying registry mirrors exactly one upstream), its port bound to
127.0.0.1 only and its cache in a named Docker volume, so it outlives clusters. kind's node reaches
each cache by container name on Docker's ``kind`` network; containerd is told to use it through a
``hosts.toml`` per registry under ``/etc/containerd/certs.d`` (``config_path``, the way kind
documents local registries). The second cluster of a classroom, and every re-create, pulls from the
caches instead of the internet; when a cache cannot answer, containerd falls back to the upstream.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass
from pathlib import Path

import yaml

from ..cluster import KIND_CONFIG, kind_create_plan
from ..errors import WorkshopError
from ..paths import cache_dir
from ..plan import Plan, Step
from ..versions import pin

CERTS_DIR_IN_NODE = "/etc/containerd/certs.d"
#: As kind's local-registry guide sets it (kind's node images since v0.27 already default to it).
CONTAINERD_PATCH = f'[plugins."io.containerd.grpc.v1.cri".registry]\n  config_path = "{CERTS_DIR_IN_NODE}"'
CONTAINER_PREFIX = "kserve-workshop-mirror-"
FIRST_PORT = 5101  # not 5000 (macOS AirPlay) nor 5001 (kind's local-registry example)


@dataclass(frozen=True)
class Mirror:
    registry: str
    upstream: str
    port: int

    @property
    def container(self) -> str:
        return CONTAINER_PREFIX + self.registry.replace(".", "-")

    def hosts_toml(self) -> str:
        return (
            f"# Written by kserve_workshop: pull {self.registry} through the local cache first.\n"
            f'server = "{self.upstream}"\n\n'
            f'[host."http://{self.container}:5000"]\n'
            f'  capabilities = ["pull", "resolve"]\n'
        )

    def run_command(self) -> list[str]:
        return [
            "docker",
            "run",
            "--detach",
            "--restart=always",
            "--name",
            self.container,
            "--publish",
            f"127.0.0.1:{self.port}:5000",
            "--volume",
            f"{self.container}:/var/lib/registry",
            "--env",
            f"REGISTRY_PROXY_REMOTEURL={self.upstream}",
            pin("registry_mirror", "image"),
        ]


#: The registries the workshop's images come from (``images.list``), each with its API endpoint.
MIRRORS: tuple[Mirror, ...] = tuple(
    Mirror(registry, upstream, FIRST_PORT + index)
    for index, (registry, upstream) in enumerate(
        (
            ("docker.io", "https://registry-1.docker.io"),
            ("quay.io", "https://quay.io"),
            ("gcr.io", "https://gcr.io"),
            ("ghcr.io", "https://ghcr.io"),
            ("registry.k8s.io", "https://registry.k8s.io"),
        )
    )
)


def mirrors_dir() -> Path:
    return cache_dir() / "registry-mirrors"


def write_hosts_files(root: Path, mirrors: tuple[Mirror, ...] = MIRRORS) -> Path:
    """``ROOT/certs.d/<registry>/hosts.toml`` for every mirror; returns the certs.d folder."""
    certs = Path(root) / "certs.d"
    for mirror in mirrors:
        folder = certs / mirror.registry
        folder.mkdir(parents=True, exist_ok=True)
        (folder / "hosts.toml").write_text(mirror.hosts_toml())
    return certs


def mirrored_kind_config(base: Path, certs_dir: Path) -> dict:
    """The workshop's kind config plus the containerd patch and a read-only mount of ``certs_dir``."""
    try:
        config = copy.deepcopy(yaml.safe_load(Path(base).read_text()))
    except (OSError, yaml.YAMLError) as exc:
        raise WorkshopError(f"cannot read the kind config {base}: {exc}") from None
    if not isinstance(config, dict) or not config.get("nodes"):
        raise WorkshopError(f"the kind config {base} has no nodes")
    config.setdefault("containerdConfigPatches", []).append(CONTAINERD_PATCH)
    for node in config["nodes"]:
        node.setdefault("extraMounts", []).append(
            {"hostPath": str(Path(certs_dir).resolve()), "containerPath": CERTS_DIR_IN_NODE, "readOnly": True}
        )
    return config


def _running(container: str):
    return lambda runner: runner.succeeds(
        ["sh", "-c", f'test "$(docker inspect --format {{{{.State.Running}}}} {container} 2>/dev/null)" = true']
    )


def mirror_steps(mirrors: tuple[Mirror, ...] = MIRRORS) -> list[Step]:
    return [
        Step(
            title=f"pull-through cache for {m.registry} on 127.0.0.1:{m.port} (container {m.container})",
            command=m.run_command(),
            is_done=_running(m.container),
        )
        for m in mirrors
    ]


def kind_create_with_mirrors_plan(
    name: str, base_config: Path = KIND_CONFIG, mirrors: tuple[Mirror, ...] = MIRRORS
) -> Plan:
    """Start the caches, create kind with containerd pointed at them, join them to kind's network."""
    root = mirrors_dir()
    certs = write_hosts_files(root, mirrors)
    config_path = root / f"kind-config-{name}.yaml"
    config_path.write_text(
        "# Generated by kserve_workshop (kind.create --registry-mirror); do not edit.\n"
        + yaml.safe_dump(mirrored_kind_config(base_config, certs), sort_keys=False)
    )
    plan = Plan(
        f"kind cluster {name} with registry mirrors",
        [
            Step(
                title="check that Docker's engine answers", command=["docker", "info", "--format", "{{.ServerVersion}}"]
            ),
            *mirror_steps(mirrors),
        ],
    )
    plan.extend(kind_create_plan(name, config_path))
    for mirror in mirrors:
        plan.add(
            Step(
                title=f"connect {mirror.container} to the kind network",
                command=["docker", "network", "connect", "kind", mirror.container],
                is_done=lambda runner, c=mirror.container: runner.succeeds(
                    [
                        "sh",
                        "-c",
                        f"docker inspect --format '{{{{json .NetworkSettings.Networks.kind}}}}' {c} "
                        "| grep -qv '^null$'",
                    ]
                ),
            )
        )
    return plan


def stop_plan(purge: bool = False, mirrors: tuple[Mirror, ...] = MIRRORS) -> Plan:
    """Remove the cache containers (and, with ``purge``, their volumes: the cached images)."""
    plan = Plan(
        "stop the registry mirrors",
        [
            Step(
                title=f"remove container {m.container}",
                command=["docker", "rm", "--force", m.container],
                is_done=lambda runner, c=m.container: not runner.succeeds(["docker", "inspect", c]),
            )
            for m in mirrors
        ],
    )
    if purge:
        plan.add(
            *(
                Step(
                    title=f"delete the cache volume {m.container}",
                    command=["docker", "volume", "rm", m.container],
                    is_done=lambda runner, c=m.container: not runner.succeeds(["docker", "volume", "inspect", c]),
                )
                for m in mirrors
            )
        )
    return plan


__all__ = [
    "MIRRORS",
    "Mirror",
    "kind_create_with_mirrors_plan",
    "mirrored_kind_config",
    "stop_plan",
    "write_hosts_files",
]
