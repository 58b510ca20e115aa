"""One mapping of Kubernetes API failures into a small error family, so callers catch "not found"
(or "forbidden", "unreachable"...) the same way whichever API they called.

    with api_errors(f"get InferenceService {namespace}/{name}"):
        api.get_namespaced_custom_object(...)

raises ``NotFound``, ``Forbidden``, ``AlreadyExists``, ``Conflict``, ``Rejected`` or
``ApiUnavailable`` (all ``KubeApiError``, a ``WorkshopError``) with the API server's own message.
"""

from __future__ import annotations

import json
from contextlib import contextmanager
from typing import Iterator

from ..errors import WorkshopError


class KubeApiError(WorkshopError):
    """A Kubernetes API call that failed; ``status`` is the HTTP status (None when nothing answered)."""

    def __init__(self, message: str, hint: str | None = None, *, status: int | None = None, reason: str | None = None):
        super().__init__(message, hint=hint)
        self.status = status
        self.reason = reason


class NotFound(KubeApiError):
    """The object (or its API) does not exist (404)."""


class Forbidden(KubeApiError):
    """Authentication failed or the user may not do this (401, 403)."""


class AlreadyExists(KubeApiError):
    """Create refused: an object with that name already exists (409 AlreadyExists)."""


class Conflict(KubeApiError):
    """The object changed in the meantime (409)."""


class Rejected(KubeApiError):
    """The API server (or an admission webhook) refused the object (400, 422)."""


class ApiUnavailable(KubeApiError):
    """The API server did not answer, or answered 5xx or something unexpected (worth retrying)."""


def api_status(exc: BaseException) -> dict:
    """The ``Status`` object the API server sends with an error ({} when the body is not one)."""
    try:
        body = json.loads(getattr(exc, "body", None))
    except (TypeError, ValueError):
        return {}
    return body if isinstance(body, dict) else {}


def status_code(exc: BaseException) -> int | None:
    """The HTTP status of a failed API call (None when it is not an ``ApiException``)."""
    from kubernetes.client.exceptions import ApiException

    return exc.status if isinstance(exc, ApiException) else None


def api_message(exc: BaseException) -> str:
    """The API server's own message for a failed call (its Status message, else the HTTP reason)."""
    return api_status(exc).get("message") or str(getattr(exc, "reason", None) or getattr(exc, "status", None) or exc)


def as_kube_error(
    exc: BaseException, action: str, *, not_found_hint: str | None = None, rejected_hint: str | None = None
) -> KubeApiError | None:
    """``exc`` as a member of the family (None when it is neither an API nor a connection error)."""
    from kubernetes.client.exceptions import ApiException
    from urllib3.exceptions import HTTPError as Urllib3Error

    if isinstance(exc, ApiException):
        message, reason, status = api_message(exc), api_status(exc).get("reason"), exc.status
        known = {"status": status, "reason": reason}
        if status == 404:
            return NotFound(
                f"{action}: not found ({message})", not_found_hint or "check the name and namespace", **known
            )
        if status in (401, 403):
            return Forbidden(
                f"{action}: access denied ({message})", "check your kube context and its permissions", **known
            )
        if status == 409 and reason == "AlreadyExists":
            return AlreadyExists(f"{action}: {message}", **known)
        if status == 409:
            return Conflict(
                f"{action}: conflict ({message})",
                "the object changed in the meantime: read it again and retry",
                **known,
            )
        if status in (400, 422):
            return Rejected(f"{action}: rejected by the API server ({message})", rejected_hint, **known)
        return ApiUnavailable(f"{action}: the API server answered {status} ({message})", **known)
    if isinstance(exc, (Urllib3Error, OSError)):
        return ApiUnavailable(
            f"{action}: cannot reach the cluster ({type(exc).__name__}: {exc})",
            "is the cluster running? `kubectl cluster-info`; create it with `invoke up`",
        )
    return None


@contextmanager
def api_errors(action: str, *, not_found_hint: str | None = None, rejected_hint: str | None = None) -> Iterator[None]:
    """Turn the client's exceptions raised inside the block into the family (``action`` starts the message)."""
    try:
        yield
    except Exception as exc:  # noqa: BLE001 - only API and connection errors are mapped; the rest re-raised
        mapped = as_kube_error(exc, action, not_found_hint=not_found_hint, rejected_hint=rejected_hint)
        if mapped is None:
            raise
        raise mapped from None
