"""`invoke schemas` (KServe's pinned CRD, cached) and `invoke validate` (manifests checked offline)."""

from __future__ import annotations

from .. import schemas as schemas_lib, validate as validate_lib
from ..console import console, err_console, plain
from ..errors import WorkshopError
from .common import workshop_task


@workshop_task(
    help={
        "from_file": "seed the cache from a local copy of the CRD (its sha256 is checked)",
        "refresh": "fetch again even when the cache already holds the pinned CRD",
    }
)
def schemas(c, from_file="", refresh=False):
    """Fetch the pinned KServe InferenceService CRD (schema for `validate`) into the cache."""
    if not from_file and not refresh and schemas_lib.cached_isvc_crd_is_valid():
        console.print(f"The pinned CRD is already cached: {schemas_lib.isvc_crd_path()}", markup=False)
        return
    schemas_lib.fetch_isvc_crd(from_file or None)


@workshop_task(
    positional=["path"],
    help={
        "path": "file or directory (comma-separated for several; more after `--`)",
        "fetch": "fetch the KServe CRD schema first if it is not cached",
    },
)
def validate(c, path, fetch=False):
    """Validate manifests offline: `invoke validate manifests` or `invoke validate a.yaml -- b.yaml c.yaml`."""
    targets = [p for p in path.split(",") if p] + (getattr(c, "remainder", "") or "").split()
    if fetch and not schemas_lib.isvc_crd_path().is_file():
        schemas_lib.fetch_isvc_crd()
    issues = validate_lib.validate_paths(targets)
    for issue in issues:
        style = {"error": "bold red", "warning": "yellow", "info": "dim"}[issue.severity]
        err_console.print(f"[{style}]{issue.severity}[/{style}] {plain(issue)}")
    failed = validate_lib.errors(issues)
    files = len(validate_lib.yaml_files(targets))
    if failed:
        raise WorkshopError(
            f"{len(failed)} error(s) in {files} file(s)",
            hint="each line above names the file, the object and the field",
        )
    console.print(f"[green]{files} file(s) valid[/green]" + (f" ({len(issues)} note(s) above)" if issues else "") + ".")
