"""KServe workshop library.

Module map (one job per module; a subpackage groups one concern):

    errors, console, paths, versions   expected failures, terminal output, repo paths, platform pins
    runtime/                           what runs in a pod (the custom image copies only this)

Deprecated module paths, kept importable for one release (``MOVED``: old path -> new home; the old
path gives the very same module object, see ``_moved``):

    predictor            -> runtime.sklearn_model
    model_server_main    -> runtime.sklearn_server
    custom.features      -> runtime.features
    custom.transformer   -> runtime.transformer
    custom.server_main   -> runtime.transformer_server
"""

from ._moved import install as _install_moved_modules

MOVED = {
    f"{__name__}.{old}": f"{__name__}.{new}" for old, new in {
        "predictor": "runtime.sklearn_model",
        "model_server_main": "runtime.sklearn_server",
        "custom.features": "runtime.features",
        "custom.transformer": "runtime.transformer",
        "custom.server_main": "runtime.transformer_server",
        "grading": "labkit.grading",
        "labgen": "labkit.labgen",
        "scorecard": "labkit.scorecard",
        "notebook": "labkit.cluster_magic",
        "notebook_static": "labkit.notebook_lint",
        "checks": "labkit.checks",
        "grafana": "metrics.grafana",
        "local": "processes",
        "tasks.lab_tasks": "tasks.labs",
        "tasks.local_tasks": "tasks.local",
        "tasks.diagnose_tasks": "tasks.diagnose",
        "tasks.docs_tasks": "tasks.docs",
        "tasks.image_tasks": "tasks.image",
        "tasks.start_tasks": "tasks.workshop",
    }.items()
}

_install_moved_modules(MOVED)
