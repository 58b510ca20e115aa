"""The one exception type for expected failures: a message for the user and a hint to fix it.

Defined here, in the code the custom image ships, so the servers in a pod raise the same type as
the library on a laptop; the rest of the library imports it from ``kserve_workshop.errors``.
"""

from __future__ import annotations


class WorkshopError(Exception):
    """An expected failure (bad input, missing tool, wrong context, timeout).

    Tasks print it as one clear message (plus the hint) and exit non-zero, never as a traceback.
    """

    def __init__(self, message: str, hint: str | None = None, exit_code: int = 1):
        super().__init__(message)
        self.message = message
        self.hint = hint
        self.exit_code = exit_code

    def __str__(self) -> str:
        return self.message if not self.hint else f"{self.message}\nhint: {self.hint}"
