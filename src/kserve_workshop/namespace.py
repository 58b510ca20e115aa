"""The namespace the labs work in: ``$WORKSHOP_NAMESPACE``, else ``default``.

On a shared classroom cluster (``invoke class.create``) every learner has a namespace of their
own and a kubeconfig whose context points at it; ``WORKSHOP_NAMESPACE`` tells the notebooks and
the library's helpers to use it. An explicit ``namespace=`` argument always wins.
"""

from __future__ import annotations

import os

from .errors import WorkshopError
from .kube.names import DNS1123_LABEL

NAMESPACE_ENV = "WORKSHOP_NAMESPACE"
DEFAULT_NAMESPACE = "default"
#: A Kubernetes namespace name is a DNS label (RFC 1123): at most 63 lowercase letters, digits, '-'.
_DNS_LABEL = DNS1123_LABEL


def check_namespace(name: object, *, source: str = "namespace") -> str:
    """``name`` when it is a valid namespace name; WorkshopError saying what is wrong otherwise."""
    if not isinstance(name, str) or not name or len(name) > 63 or not _DNS_LABEL.match(name):
        raise WorkshopError(
            f"invalid {source} {name!r}: a namespace name is at most 63 lowercase letters, "
            "digits and '-', starting and ending with a letter or digit",
            hint="e.g. learner-07",
        )
    return name


def workshop_namespace(explicit: str | None = None) -> str:
    """The namespace to use: ``explicit`` if given, else ``$WORKSHOP_NAMESPACE``, else ``default``."""
    if explicit:
        return check_namespace(explicit)
    from_env = os.environ.get(NAMESPACE_ENV, "").strip()
    if from_env:
        return check_namespace(from_env, source=f"${NAMESPACE_ENV}")
    return DEFAULT_NAMESPACE


def manifest_namespace(declared: str | None, explicit: str | None = None) -> str:
    """The namespace a manifest's object goes to.

    The workshop's manifests say ``namespace: default`` meaning "the labs' namespace": when
    ``$WORKSHOP_NAMESPACE`` is set, that placeholder follows it. Any other declared namespace
    stands, and an ``explicit`` one that contradicts it is an error.
    """
    if declared == DEFAULT_NAMESPACE and os.environ.get(NAMESPACE_ENV, "").strip():
        declared = None
    if explicit and declared and explicit != declared:
        raise WorkshopError(
            f"the manifest says namespace {declared!r} but {explicit!r} was asked for",
            hint="drop one of the two, or make them agree",
        )
    return workshop_namespace(explicit or declared)
