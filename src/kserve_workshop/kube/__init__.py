"""Kubernetes access for the workshop: its own kube context, the guard that keeps every task that
changes a cluster off any other cluster, and command prefixes that name the context explicitly.

The rest of the cluster access lives beside this module, one job each:

- ``kube.client``: loading kube config (context and ``KUBECONFIG`` honoured the same way
  everywhere, the process-wide default never changed) and the API clients built on it;
- ``kube.errors``: one mapping of API failures into ``NotFound``, ``Forbidden``, ``AlreadyExists``,
  ``Conflict``, ``Rejected`` and ``ApiUnavailable``;
- ``kube.conditions``: the status condition of type X of any object;
- ``kube.port_forward``: ``kubectl port-forward`` to a Service as a ``ServerProcess``.

Every ``helm``/``kubectl`` command the workshop runs is built with ``helm_cmd``/``kubectl_cmd``, so
it carries ``--kube-context``/``--context``: what the guard approved is what the commands touch,
whatever ``kubectl config current-context`` says meanwhile.
"""

from __future__ import annotations

import os
import re

from ..console import warn
from ..errors import WorkshopError

WORKSHOP_CLUSTER = "kserve-workshop"
#: The context ``kind create cluster --name kserve-workshop`` writes.
WORKSHOP_CONTEXT = f"kind-{WORKSHOP_CLUSTER}"
#: The context ``gcloud container clusters get-credentials kserve-workshop`` writes:
#: gke_<project>_<zone or region>_kserve-workshop.
_GKE_WORKSHOP_CONTEXT = re.compile(rf"^gke_[^_]+_[^_]+_{re.escape(WORKSHOP_CLUSTER)}$")


def is_workshop_context(name: str | None) -> bool:
    """True for the workshop's own clusters: the kind context or a ``gke_*_kserve-workshop`` one."""
    return bool(name) and (name == WORKSHOP_CONTEXT or bool(_GKE_WORKSHOP_CONTEXT.match(name)))


def kube_contexts() -> tuple[list[str], str | None]:
    """(names of all contexts in the kubeconfig, the current one); ``([], None)`` without a kubeconfig."""
    from kubernetes import config
    from kubernetes.config.config_exception import ConfigException

    try:
        contexts, active = config.list_kube_config_contexts(config_file=kubeconfig_path())
    except (ConfigException, FileNotFoundError, TypeError, KeyError):
        return [], None
    names = [entry.get("name") for entry in contexts or [] if entry.get("name")]
    return names, (active or {}).get("name")


def kubeconfig_path() -> str:
    """``$KUBECONFIG`` (read now: the kubernetes client reads it once, at import) or ~/.kube/config."""
    return os.environ.get("KUBECONFIG") or os.path.expanduser("~/.kube/config")


def current_context() -> str | None:
    """The kubeconfig's current context, None when there is no usable kubeconfig."""
    return kube_contexts()[1]


def guard_context(context: str | None, yes: bool, *, dry_run: bool = False) -> str:
    """The context a cluster-changing task may act on; WorkshopError for any other.

    - No ``--context``: the current context when it is a workshop cluster, else the workshop's kind
      context (never the current context of some other cluster).
    - ``--context`` naming a workshop cluster: accepted.
    - ``--context`` naming any other cluster: refused unless ``yes`` (the user's ``--yes``).

    Outside ``dry_run`` the context must exist in the kubeconfig. Nothing here contacts a cluster.
    """
    names, current = kube_contexts()
    if context is None:
        if is_workshop_context(current):
            return current  # type: ignore[return-value]
        if WORKSHOP_CONTEXT in names or dry_run:
            return WORKSHOP_CONTEXT
        raise WorkshopError(
            "no workshop cluster in your kubeconfig "
            f"(looked for {WORKSHOP_CONTEXT!r} or gke_<project>_<location>_{WORKSHOP_CLUSTER})",
            hint="create one with `invoke up` (kind) or `invoke setup-gke --project ID`; "
            "to use another cluster pass --context NAME --yes",
        )
    if not is_workshop_context(context):
        if not yes:
            raise WorkshopError(
                f"refusing to change kube context {context!r}: it is not the workshop's cluster",
                hint=f"the workshop changes only {WORKSHOP_CONTEXT!r} or gke_*_{WORKSHOP_CLUSTER} "
                "contexts; add --yes if you really mean this cluster",
            )
        warn(f"acting on kube context {context!r}, which is not a workshop cluster (--yes given)")
    if not dry_run and context not in names:
        raise WorkshopError(
            f"kube context {context!r} is not in your kubeconfig", hint="list them with `kubectl config get-contexts`"
        )
    return context


#: Names the kube context the labs use when it is not the workshop's own cluster (the notebook's
#: equivalent of ``--context NAME --yes``).
LAB_CONTEXT_ENV = "WORKSHOP_KUBE_CONTEXT"


def lab_context(context: str | None = None) -> str:
    """The kube context the labs' cluster cells work on; WorkshopError when there is none.

    Everything a notebook does on a cluster (uploading a model, applying and calling
    InferenceServices, port-forwards, the ``%%cluster`` check) resolves its context here, so the
    model lands in the store of the cluster that serves it. In order: ``context`` when given;
    ``$WORKSHOP_KUBE_CONTEXT`` (which must be in the kubeconfig); else the workshop's cluster as
    ``guard_context`` picks it (the current context when it is a workshop one, else
    ``kind-kserve-workshop``). Another cluster is used only when named: resolve it once with
    ``CONTEXT = lab_context()`` and pass ``context=CONTEXT`` everywhere.
    """
    if context:
        return context
    named = os.environ.get(LAB_CONTEXT_ENV, "").strip()
    if named:
        if named not in kube_contexts()[0]:
            raise WorkshopError(
                f"{LAB_CONTEXT_ENV}={named!r} is not a context of your kubeconfig",
                hint="list them with `kubectl config get-contexts`",
            )
        return named
    try:
        return guard_context(None, False)
    except WorkshopError as exc:
        raise WorkshopError(
            exc.message,
            hint=f"create it with `invoke up` (kind) or `invoke setup-gke`; to use "
            f"another cluster, export {LAB_CONTEXT_ENV}=ITS_CONTEXT",
        ) from None


def is_lab_context_named(context: str) -> bool:
    """True when ``context`` is the one ``$WORKSHOP_KUBE_CONTEXT`` names (the user chose it)."""
    return bool(context) and os.environ.get(LAB_CONTEXT_ENV, "").strip() == context


def read_context(context: str | None) -> str:
    """The context a read-only task (status) looks at: the one given, else as ``guard_context``."""
    if context is not None:
        if context not in kube_contexts()[0]:
            raise WorkshopError(
                f"kube context {context!r} is not in your kubeconfig",
                hint="list them with `kubectl config get-contexts`",
            )
        return context
    return guard_context(None, False)


def kubectl_cmd(context: str, *args: str) -> list[str]:
    """``kubectl --context CONTEXT ARGS...``"""
    return ["kubectl", "--context", context, *args]


def cluster_silence(runner, context: str, timeout: int = 5) -> str | None:
    """None when the cluster of ``context`` answers ``kubectl get --raw /version`` within ``timeout``
    seconds; else what kubectl said (its last line). ``runner`` is a ``plan.Runner``."""
    result = runner.run(kubectl_cmd(context, "get", "--raw", "/version", f"--request-timeout={timeout}s"), check=False)
    if result is not None and result.exited == 0:
        return None
    said = "" if result is None else (result.stderr or result.stdout or "").strip()
    return said.splitlines()[-1] if said else "no answer"


def helm_cmd(context: str, *args: str) -> list[str]:
    """``helm --kube-context CONTEXT ARGS...``"""
    return ["helm", "--kube-context", context, *args]


DOCKER_INSTALL = "install Docker Desktop (macOS, Windows) or Docker Engine (Linux): https://docs.docker.com/get-docker/"
#: Where to get a tool that ``invoke tools`` does not install.
INSTALL_HINTS = {
    "docker": f"{DOCKER_INSTALL} (`invoke tools` does not install it)",
    "gcloud": "install the Google Cloud CLI: https://cloud.google.com/sdk/docs/install",
}


def require_tools(*names: str) -> None:
    """Put ``.bin`` (``invoke tools``) first on PATH; WorkshopError naming every missing tool and where to get it."""
    from .. import tools

    tools.use_local_tools()
    missing = [name for name in names if tools.which(name) is None]
    if missing:
        hints = [INSTALL_HINTS[name] for name in missing if name in INSTALL_HINTS]
        if any(name not in INSTALL_HINTS for name in missing):
            hints.append("`invoke tools` downloads the pinned kind, helm and kubectl into .bin/")
        raise WorkshopError(
            f"missing tool(s): {', '.join(missing)}",
            hint="; ".join(hints) + "; `invoke doctor` checks everything the workshop needs",
        )


def __getattr__(name: str):
    """``api_client`` moved to ``kube.client`` (with the other loaders); still importable from here."""
    if name == "api_client":
        from .client import api_client

        return api_client
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
