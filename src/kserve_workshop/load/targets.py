"""Where the load generator sends traffic: ``check_target`` decides whether a URL may be loaded
(loopback, or a host the caller vouches for); a ``LoadTarget`` is a model's URL behind the workshop's
ingress with its Host header and that allowance (``ingress.IngressTarget.load_target`` makes one).

A load generator pointed at the wrong URL is a denial-of-service tool, so targets are refused
unless they are on this machine (``127.0.0.0/8``, ``::1``, ``localhost``) or explicitly allowed —
the workshop's own ingress, whose address the ingress helpers give (a LoadBalancer IP on GKE).
Names are never resolved through DNS here: only what the URL says is judged.
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Iterable
from urllib.parse import urlsplit

from ..errors import WorkshopError

if TYPE_CHECKING:
    from .results import LoadResult

LOOPBACK_NAMES = frozenset({"localhost"})


def is_loopback(host: str) -> bool:
    """True for ``localhost`` and literal loopback addresses (IPv4 ``127.0.0.0/8``, IPv6 ``::1``)."""
    host = host.strip("[]").lower()
    if host in LOOPBACK_NAMES:
        return True
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        return False
    mapped = getattr(address, "ipv4_mapped", None)  # ::ffff:127.0.0.1 is loopback too
    return address.is_loopback or bool(mapped and mapped.is_loopback)


def check_target(url: str, allow_hosts: Iterable[str] = ()) -> str:
    """Return the URL's host when the load generator may target ``url``; raise WorkshopError if not."""
    try:
        parts = urlsplit(url)
        host = parts.hostname
        parts.port  # noqa: B018 - raises ValueError on a malformed port
    except ValueError as exc:
        raise WorkshopError(f"not a valid URL: {url!r} ({exc})") from None
    if parts.scheme not in {"http", "https"} or not host:
        raise WorkshopError(
            f"not an http(s) URL: {url!r}",
            hint="give a full URL, e.g. http://127.0.0.1:8080/v1/models/sklearn-iris:predict",
        )
    allowed = {h.strip("[]").lower() for h in allow_hosts if h}
    if is_loopback(host) or host.lower() in allowed:
        return host
    raise WorkshopError(
        f"refusing to send load to {host}: the load generator only targets this machine "
        "(127.0.0.1, ::1, localhost) or the workshop's ingress",
        hint="for the workshop's ingress pass its host explicitly: allow_hosts=[host] in Python, "
        "--allow-host HOST on the command line",
    )


@dataclass(frozen=True)
class LoadTarget:
    """Where load for an InferenceService goes: a URL on the ingress, its Host header, the allowance."""

    url: str
    headers: dict[str, str]
    allow_hosts: tuple[str, ...]

    def run(self, payload: Any, **kwargs: Any) -> LoadResult:
        """``run_load`` against this target (the keyword arguments are run_load's)."""
        from .generator import run_load

        return run_load(self.url, payload, headers=self.headers, allow_hosts=self.allow_hosts, **kwargs)


def load_target(base_url: str, host: str, model_name: str, *, protocol: str = "v1") -> LoadTarget:
    """The predict URL of ``model_name`` on the ingress at ``base_url``, routed by the Host header.

    The ingress's own host is allowed for the load generator: it is the workshop's ingress, found
    by the ingress helpers (127.0.0.1 on kind, the gateway's LoadBalancer address on GKE).
    """
    from ..dataplane.client import predict_url

    url = predict_url(base_url, model_name, protocol)
    ingress_host = urlsplit(base_url).hostname
    if not ingress_host or not host:
        raise WorkshopError(f"need an ingress URL and a Host header, got {base_url!r} and {host!r}")
    return LoadTarget(url=url, headers={"Host": host}, allow_hosts=(ingress_host,))
