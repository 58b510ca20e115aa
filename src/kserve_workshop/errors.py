"""The one exception type for expected failures: a message for the user and a hint to fix it.

``WorkshopError`` is defined in ``runtime.errors`` (the servers in the custom image raise it too)
and imported from here everywhere else.
"""

from __future__ import annotations

from .runtime.errors import WorkshopError

__all__ = ["WorkshopError"]
