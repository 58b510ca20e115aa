"""Lab 6's model file as the master notebook writes it (its worked solution), and variants of it."""

from __future__ import annotations

from pathlib import Path

from kserve_workshop.custom.model_file import reference_model_source
from support.variants import write_variant


def write_model_file(
    directory: Path,
    replacements: dict[str, str] | None = None,
    *,
    source: str | None = None,
    name: str = "iris_model.py",
) -> Path:
    """The master's model file (or ``source``) with each ``old -> new`` replacement applied (each must match)."""
    return write_variant(directory, name, reference_model_source() if source is None else source, replacements)
