"""A file a lab's learner writes (a %%writefile cell), as the master has it or changed for a test case."""

from __future__ import annotations

from pathlib import Path


def write_variant(directory: Path, name: str, text: str, replacements: dict[str, str] | None = None) -> Path:
    """``text`` with each ``old -> new`` replacement applied (each must match), written as ``directory/name``."""
    for old, new in (replacements or {}).items():
        assert old in text, f"{name} no longer contains {old!r}: update the test's variant"
        text = text.replace(old, new)
    path = Path(directory) / name
    path.write_text(text)
    return path
