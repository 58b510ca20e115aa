"""Notebook support: the ``%%cluster`` cell magic that marks cells needing a Kubernetes cluster.

Every lab starts with ``%load_ext kserve_workshop.notebook`` (the name notebooks load this module by),
which also puts the project's ``.bin/`` first on the kernel's ``PATH``: ``!kubectl`` in a cell then runs
the pinned kubectl that ``invoke tools`` installs there (any kubectl on ``PATH`` otherwise).
A cell whose first line is
``%%cluster`` runs only when a cluster with KServe is reachable. Without one it shows, visibly and
in plain words, that it was skipped and why (one output, styled like the check results); with ``WORKSHOP_REQUIRE_CLUSTER=1`` (the kind CI job) a missing
cluster is an error instead, so cluster cells can never pass silently.
"""

from __future__ import annotations

import os
from contextlib import contextmanager
from dataclasses import dataclass
from functools import lru_cache
from typing import Iterator

REQUIRE_ENV = "WORKSHOP_REQUIRE_CLUSTER"
KSERVE_API = "/apis/serving.kserve.io/v1beta1"


class ClusterRequired(RuntimeError):
    """Raised by a cluster cell when ``WORKSHOP_REQUIRE_CLUSTER=1`` and no cluster is reachable."""


@dataclass(frozen=True)
class ClusterStatus:
    available: bool
    reason: str
    context: str | None = None


def cluster_required() -> bool:
    return os.environ.get(REQUIRE_ENV, "").strip().lower() in {"1", "true", "yes"}


@lru_cache(maxsize=1)
def cluster_status() -> ClusterStatus:
    """Is a cluster with KServe's API reachable through the labs' kube context? (checked once)

    The context is ``kube.lab_context()``, the one the cells' helpers (model upload, serving,
    port-forwards) use, so a cell runs only when the cluster it will act on answers.
    """
    from ..errors import WorkshopError
    from ..kube import LAB_CONTEXT_ENV, lab_context
    from ..kube.client import api_client

    try:
        context = lab_context()
    except WorkshopError as exc:
        other = (
            "" if LAB_CONTEXT_ENV in exc.message else f" (to use another cluster, export {LAB_CONTEXT_ENV}=ITS_CONTEXT)"
        )
        return ClusterStatus(False, exc.message + other)
    try:
        api = api_client(context)
    except WorkshopError as exc:
        detail = exc.message.split(": ", 1)[-1]
        return ClusterStatus(False, f"no usable kubeconfig ({detail})", context)
    try:
        api.call_api(KSERVE_API, "GET", auth_settings=["BearerToken"], _request_timeout=5, _preload_content=False)
    except Exception as exc:  # noqa: BLE001 - any failure means "not reachable", with the reason shown
        first_line = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        return ClusterStatus(False, f"context {context!r} does not answer with KServe's API ({first_line})", context)
    return ClusterStatus(True, "reachable", context)


#: Output metadata of a skip notice (the scorecard, the docs site and ``docs.record`` look for it).
SKIPPED = "cluster-skipped"
#: The words older notices started with (notebooks executed before the notice was reworded).
_LEGACY_SKIP_TEXT = "Cluster cell skipped"


def plain_reason(status: ClusterStatus) -> str:
    """Why the cell did not run, in plain words (the client library's own error stays out of it)."""
    from ..kube import LAB_CONTEXT_ENV

    if status.reason.startswith(LAB_CONTEXT_ENV):
        return f"{LAB_CONTEXT_ENV} names a kube context that is not in your kubeconfig"
    if status.context and not status.reason.startswith("no usable kubeconfig"):
        return f"the cluster of kube context '{status.context}' did not answer, or has no KServe"
    return "no Kubernetes cluster is configured on this machine"


def skip_message(status: ClusterStatus) -> str:
    """The notice as plain text: no markup, no emoji (it shows in terminals and CI logs too)."""
    return (
        f"Skipped: this cell needs a Kubernetes cluster with KServe, and {plain_reason(status)}. "
        "To run it, create the workshop's cluster (invoke up, or invoke setup-gke on GKE) or name "
        "another cluster's context in WORKSHOP_KUBE_CONTEXT, then run the cell again."
    )


def skip_html(status: ClusterStatus) -> str:
    from html import escape

    from .boxes import box

    return box(
        "cluster",
        f"<strong>Skipped:</strong> this cell needs a Kubernetes cluster with KServe, and "
        f"{escape(plain_reason(status))}. To run it, create the workshop's cluster "
        "(<code>invoke up</code>, or <code>invoke setup-gke</code> on GKE) or name another "
        "cluster's context in <code>WORKSHOP_KUBE_CONTEXT</code>, then run the cell again.",
    )


def is_skip_output(output: dict) -> bool:
    """True for the notice a skipped cluster cell leaves in a notebook (new or old wording)."""
    if (output.get("metadata") or {}).get("workshop") == SKIPPED:
        return True
    text = output.get("text") or (output.get("data") or {}).get("text/plain") or ""
    return _LEGACY_SKIP_TEXT in ("".join(text) if isinstance(text, list) else str(text))


_status_override: ClusterStatus | None = None


@contextmanager
def assume_cluster_status(status: ClusterStatus) -> Iterator[None]:
    """Use ``status`` instead of probing the kube context (tests; no API server is faked)."""
    global _status_override
    previous, _status_override = _status_override, status
    try:
        yield
    finally:
        _status_override = previous


def current_status() -> ClusterStatus:
    return _status_override if _status_override is not None else cluster_status()


def run_cluster_cell(shell, cell: str) -> None:
    status = current_status()
    if not status.available:
        if cluster_required():
            raise ClusterRequired(f"{REQUIRE_ENV}=1 but no cluster is reachable: {status.reason}")
        _show_skip(status)
        return
    result = shell.run_cell(cell)
    result.raise_error()


def _show_skip(status: ClusterStatus) -> None:
    """One output: HTML where it renders (Jupyter, the docs), the plain text elsewhere. The
    technical reason stays in the output's metadata, for whoever diagnoses the run."""
    try:
        from IPython.display import display
    except ImportError:  # pragma: no cover - the magic only loads inside IPython
        print(skip_message(status))
        return
    display(
        {"text/plain": skip_message(status), "text/html": skip_html(status)},
        raw=True,
        metadata={"workshop": SKIPPED, "reason": status.reason},
    )


def use_pinned_tools() -> str:
    """Put ``.bin/`` (``invoke tools``: the pinned kind, helm, kubectl) first on this process's ``PATH``,
    whether or not it exists yet; returns it."""
    from .. import paths, tools

    local = paths.bin_dir(create=False)
    tools.use_local_tools(local)
    return str(local)


def show_workshop_error(shell, etype, value, tb, tb_offset=None) -> list[str]:  # noqa: ARG001 - IPython's signature
    """IPython's handler for ``WorkshopError``: an expected failure shows as its message and hint,
    the way the tasks print it, not as a traceback through the library. The cell still fails."""
    lines = [f"{etype.__name__}: {getattr(value, 'message', value)}"]
    if getattr(value, "hint", None):
        lines.append(f"hint: {value.hint}")
    shell._showtraceback(etype, value, lines)  # the kernel sends these lines as the cell's error output
    return lines


def load_ipython_extension(ipython) -> None:
    from IPython.core.magic import register_cell_magic

    from ..errors import WorkshopError

    use_pinned_tools()
    ipython.set_custom_exc((WorkshopError,), show_workshop_error)

    @register_cell_magic
    def cluster(line, cell):  # noqa: ARG001 - the magic takes no arguments
        run_cluster_cell(ipython, cell)
