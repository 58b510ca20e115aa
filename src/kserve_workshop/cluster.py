"""Creating and deleting the workshop's Kubernetes cluster: kind on a laptop, or GKE (``gke``).

Everything here builds a ``plan.Plan`` (exact commands, in order, with pins from versions.toml);
the tasks run it with ``plan.Runner`` or print it with ``--dry-run``. Deletion plans end with
checks that fail when something is left (a kind node container, a GKE cluster, firewall rules,
a load balancer, an orphaned disk), so "deleted" always means verified gone.
"""

from __future__ import annotations

import re
import shlex
from pathlib import Path

import yaml

from . import manifest_yaml, paths
from .errors import WorkshopError
from .kube import WORKSHOP_CLUSTER
from .plan import Plan, Runner, Step, output_of
from .versions import pin

KIND_CLUSTER_NAME = WORKSHOP_CLUSTER
KIND_CONFIG = paths.MANIFESTS_DIR / "cluster" / "kind-config.yaml"
#: kind labels every node container with the cluster's name.
KIND_NODE_LABEL = "io.x-k8s.kind.cluster"

_DNS_LABEL = re.compile(r"^[a-z]([-a-z0-9]*[a-z0-9])?$")


def kind_context(name: str = KIND_CLUSTER_NAME) -> str:
    """The kube context kind writes for cluster ``name``."""
    return f"kind-{name}"


def check_cluster_name(name: str, limit: int = 40) -> None:
    if not name or len(name) > limit or not _DNS_LABEL.match(name):
        raise WorkshopError(
            f"invalid cluster name {name!r}",
            hint=f"use lowercase letters, digits and '-', starting with a letter, at most {limit} characters",
        )


def expect_empty(argv: list[str]) -> list[str]:
    """A command that succeeds only when ``argv`` succeeds AND prints nothing (a "nothing left" check)."""
    return ["sh", "-c", f'out=$({" ".join(_double_quoted(arg) for arg in argv)}) && test -z "$out"']


def _double_quoted(arg: str) -> str:
    # Double quotes inside the single-quoted sh -c script keep the printed plan readable.
    if shlex.quote(arg) == arg:
        return arg
    if any(ch in arg for ch in '"$`\\'):
        raise ValueError(f"cannot double-quote {arg!r}")
    return f'"{arg}"'


# ----- kind --------------------------------------------------------------------------------------


def kind_port_mappings(config_path: Path = KIND_CONFIG) -> list[tuple[str, int]]:
    """``(listenAddress, hostPort)`` of every extraPortMapping in the kind config (doctor checks them)."""
    hint = f"the workshop's config is {KIND_CONFIG}; kind's format: https://kind.sigs.k8s.io/docs/user/configuration/"
    try:
        config = manifest_yaml.load(Path(config_path).read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise WorkshopError(f"kind config not found: {config_path}", hint=hint) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise WorkshopError(f"cannot read the kind config {config_path}: {exc}", hint=hint) from None
    except yaml.YAMLError as exc:
        raise WorkshopError(f"kind config {config_path} is not valid YAML: {exc}", hint=hint) from None
    if config is not None and not isinstance(config, dict):
        raise WorkshopError(
            f"kind config {config_path} is a YAML {type(config).__name__}, not a kind Cluster "
            "(a mapping with kind: Cluster and nodes)",
            hint=hint,
        )
    nodes = (config or {}).get("nodes") or []
    if not isinstance(nodes, list) or not all(isinstance(node, dict) for node in nodes):
        raise WorkshopError(f"kind config {config_path}: nodes must be a list of mappings", hint=hint)
    mappings = []
    for index, node in enumerate(nodes):
        port_mappings = node.get("extraPortMappings") or []
        if not isinstance(port_mappings, list) or not all(isinstance(m, dict) for m in port_mappings):
            raise WorkshopError(
                f"kind config {config_path}: nodes[{index}].extraPortMappings must be a list of mappings", hint=hint
            )
        for mapping in port_mappings:
            host_port = mapping.get("hostPort")
            if host_port is None or (type(host_port) is int and host_port == 0):  # 0: kind picks a port
                continue
            if isinstance(host_port, bool) or not isinstance(host_port, int) or not 0 < host_port < 65536:
                raise WorkshopError(
                    f"kind config {config_path}: hostPort {host_port!r} is not a port (1 to 65535)", hint=hint
                )
            mappings.append((str(mapping.get("listenAddress") or "0.0.0.0"), host_port))
    return mappings


def kind_clusters(runner: Runner) -> list[str]:
    """Names of the kind clusters on this machine; WorkshopError when kind cannot tell (no Docker...)."""
    result = runner.run(["kind", "get", "clusters"], check=False)
    if result is None or result.exited != 0:
        said = "" if result is None else (result.stderr or result.stdout or "").strip()
        raise WorkshopError(
            "cannot list kind clusters" + (f": {said.splitlines()[-1]}" if said else ""),
            hint="is Docker running? `invoke doctor` checks everything kind needs",
        )
    return [line.strip() for line in (result.stdout or "").splitlines() if line.strip()]


def kind_create_plan(name: str = KIND_CLUSTER_NAME, config_path: Path = KIND_CONFIG) -> Plan:
    """Create the kind cluster ``name`` from ``config_path`` with the pinned node image."""
    check_cluster_name(name)
    config_path = Path(config_path)
    if not config_path.is_file():
        raise WorkshopError(f"kind config not found: {config_path}", hint=f"the workshop's config is {KIND_CONFIG}")
    context = kind_context(name)
    return Plan(
        f"kind cluster {name}",
        [
            Step(
                title=f"create kind cluster {name} ({pin('kind', 'node_image').split('@')[0]})",
                command=[
                    "kind",
                    "create",
                    "cluster",
                    "--name",
                    name,
                    "--config",
                    str(config_path),
                    "--image",
                    pin("kind", "node_image"),
                    "--wait",
                    "120s",
                ],
                is_done=lambda runner: name in kind_clusters(runner),
            ),
            Step(
                title="wait until the node is Ready",
                waits=[
                    [
                        "kubectl",
                        "--context",
                        context,
                        "wait",
                        "--for=condition=Ready",
                        "nodes",
                        "--all",
                        "--timeout=180s",
                    ]
                ],
                diagnose=lambda runner: output_of(runner, ["kubectl", "--context", context, "describe", "nodes"]),
            ),
        ],
    )


def kind_delete_plan(name: str = KIND_CLUSTER_NAME) -> Plan:
    """Delete the kind cluster ``name`` and verify no node container of it is left."""
    check_cluster_name(name)
    leftovers = ["docker", "ps", "--all", "--filter", f"label={KIND_NODE_LABEL}={name}", "--format", "{{.Names}}"]
    return Plan(
        f"delete kind cluster {name}",
        [
            Step(
                title=f"delete kind cluster {name}",
                command=["kind", "delete", "cluster", "--name", name],
                is_done=lambda runner: name not in kind_clusters(runner),
            ),
            Step(
                title=f"verify no container of kind cluster {name} is left",
                waits=[expect_empty(leftovers)],
                diagnose=lambda runner: (
                    "containers still there (remove with `docker rm -f NAME`):\n" + output_of(runner, leftovers)
                ),
            ),
        ],
    )
