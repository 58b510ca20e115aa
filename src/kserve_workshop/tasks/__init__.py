"""The invoke collection behind ``tasks.py``.

Every module in this package whose name ends in ``_tasks`` defines ``register(root)`` and adds its
tasks (or a sub-collection) to the root collection, so adding an area never edits a shared file.
"""

from __future__ import annotations

import importlib
import pkgutil

from invoke import Collection


def build_collection() -> Collection:
    root = Collection()
    for module_info in sorted(pkgutil.iter_modules(__path__), key=lambda m: m.name):
        if module_info.name.endswith("_tasks"):
            module = importlib.import_module(f"{__name__}.{module_info.name}")
            module.register(root)
    root.configure({"run": {"echo": False}})
    return root
