"""Where the load generator may send traffic: loopback, or a host the caller vouches for.

A load generator pointed at the wrong URL is a denial-of-service tool, so targets are refused
unless they are on this machine (``127.0.0.0/8``, ``::1``, ``localhost``) or explicitly allowed —
the workshop's own ingress, whose address the ingress helpers give (a LoadBalancer IP on GKE).
Names are never resolved through DNS here: only what the URL says is judged.
"""

from __future__ import annotations

import ipaddress
from typing import Iterable
from urllib.parse import urlsplit

from ..errors import WorkshopError

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
        raise WorkshopError(f"not an http(s) URL: {url!r}",
                            hint="give a full URL, e.g. http://127.0.0.1:8080/v1/models/sklearn-iris:predict")
    allowed = {h.strip("[]").lower() for h in allow_hosts if h}
    if is_loopback(host) or host.lower() in allowed:
        return host
    raise WorkshopError(
        f"refusing to send load to {host}: the load generator only targets this machine "
        "(127.0.0.1, ::1, localhost) or the workshop's ingress",
        hint="for the workshop's ingress pass its host explicitly: allow_hosts=[host] in Python, "
             "--allow-host HOST on the command line",
    )
