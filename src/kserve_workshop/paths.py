"""Where things live in the repository and in the local cache."""

from __future__ import annotations

import os
from pathlib import Path

from .errors import WorkshopError

#: The repository root (the package is installed editable from ``src/``).
REPO_ROOT = Path(__file__).resolve().parents[2]
VERSIONS_FILE = REPO_ROOT / "versions.toml"
MANIFESTS_DIR = REPO_ROOT / "manifests"
NOTEBOOKS_DIR = REPO_ROOT / "notebooks"
LABS_DIR = REPO_ROOT / "labs"
DOCS_DIR = REPO_ROOT / "docs"


def cache_dir() -> Path:
    """The workshop's cache (downloads, schemas, trained models, logs); ``WORKSHOP_CACHE`` overrides."""
    return _usable_dir("WORKSHOP_CACHE", REPO_ROOT / ".cache")


def bin_dir(*, create: bool = True) -> Path:
    """Project-local directory for downloaded tools (kind, helm, kubectl); ``WORKSHOP_BIN`` overrides."""
    if not create:
        configured = os.environ.get("WORKSHOP_BIN")
        return Path(configured).expanduser() if configured else REPO_ROOT / ".bin"
    return _usable_dir("WORKSHOP_BIN", REPO_ROOT / ".bin")


def _usable_dir(variable: str, default: Path) -> Path:
    """``$variable`` (else ``default``) as an existing, writable directory; one clear error otherwise."""
    configured = os.environ.get(variable)
    path = Path(configured).expanduser() if configured else default
    return writable_dir(
        path,
        f"{variable}={configured}" if configured else str(path),
        hint=f"point {variable} at a writable directory, or unset it to use {default}",
    )


def writable_dir(path: str | Path, label: str | None = None, *, hint: str | None = None) -> Path:
    """``path`` as an existing, writable directory (created if need be); one clear error otherwise.

    ``label`` names it in the message (e.g. ``--out /some/file``); ``hint`` says how to fix it.
    """
    path = Path(path).expanduser()
    label = label or str(path)
    hint = hint or "give a directory you can write to (it is created if missing)"
    if path.exists() and not path.is_dir():
        raise WorkshopError(f"{label} is a file, not a directory", hint=hint)
    try:
        path.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise WorkshopError(f"{label} cannot be used as a directory: {exc.strerror or exc}", hint=hint) from None
    if not os.access(path, os.W_OK | os.X_OK):
        raise WorkshopError(f"{label} is not writable", hint=hint)
    return path
