"""Read the platform pins from ``versions.toml``, the single source of versions."""

from __future__ import annotations

import tomllib
from functools import lru_cache
from typing import Any

from .errors import WorkshopError
from .paths import VERSIONS_FILE


@lru_cache(maxsize=1)
def load() -> dict[str, Any]:
    """All pins as a nested dict (cached; the file does not change while a task runs)."""
    try:
        with VERSIONS_FILE.open("rb") as handle:
            return tomllib.load(handle)
    except FileNotFoundError as exc:
        raise WorkshopError(f"versions file not found: {VERSIONS_FILE}") from exc
    except tomllib.TOMLDecodeError as exc:
        raise WorkshopError(f"versions file {VERSIONS_FILE} is not valid TOML: {exc}") from exc


def pin(section: str, key: str = "version") -> Any:
    """One pin, e.g. ``pin("istio")`` or ``pin("knative", "serving_version")``."""
    versions = load()
    try:
        return versions[section][key]
    except KeyError as exc:
        raise WorkshopError(f"{VERSIONS_FILE.name} has no pin [{section}] {key}") from exc
