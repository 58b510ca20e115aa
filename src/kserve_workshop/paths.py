"""Where things live in the repository and in the local cache."""

from __future__ import annotations

import os
from pathlib import Path

#: The repository root (the package is installed editable from ``src/``).
REPO_ROOT = Path(__file__).resolve().parents[2]
VERSIONS_FILE = REPO_ROOT / "versions.toml"
MANIFESTS_DIR = REPO_ROOT / "manifests"
NOTEBOOKS_DIR = REPO_ROOT / "notebooks"
LABS_DIR = REPO_ROOT / "labs"
DOCS_DIR = REPO_ROOT / "docs"


def cache_dir() -> Path:
    """The workshop's cache (downloads, schemas, trained models, logs); ``WORKSHOP_CACHE`` overrides."""
    path = Path(os.environ.get("WORKSHOP_CACHE", REPO_ROOT / ".cache"))
    path.mkdir(parents=True, exist_ok=True)
    return path


def bin_dir(*, create: bool = True) -> Path:
    """Project-local directory for downloaded tools (kind, helm, kubectl); ``WORKSHOP_BIN`` overrides."""
    path = Path(os.environ.get("WORKSHOP_BIN", REPO_ROOT / ".bin"))
    if create:
        path.mkdir(parents=True, exist_ok=True)
    return path
