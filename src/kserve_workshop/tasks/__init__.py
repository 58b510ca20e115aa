"""The invoke collection behind ``tasks.py``.

Every module in this package whose name ends in ``_tasks`` defines ``register(root)`` and adds its
tasks (or a sub-collection) to the root collection, so adding an area never edits a shared file.
"""

from __future__ import annotations

import importlib
import pkgutil

from invoke import Collection
from invoke.exceptions import ParseError
from invoke.parser.argument import Argument


def _report_bad_flag_values_cleanly() -> None:
    """Make ``--replicas abc`` for an int flag a one-line usage error instead of a traceback.

    invoke casts flag values with the flag's type and lets the ValueError escape; a ParseError
    is what it prints as a plain message with exit code 1. The collection is loaded before task
    flags are parsed, so patching here covers every task.
    """
    if getattr(Argument.set_value, "_workshop_wrapped", False):
        return
    original = Argument.set_value

    def set_value(self, value, cast=True):
        try:
            return original(self, value, cast=cast)
        except (TypeError, ValueError):
            kind = getattr(self.kind, "__name__", str(self.kind))
            raise ParseError(f"--{self.name.replace('_', '-')} expects a value of type {kind}, got {value!r}") from None

    set_value._workshop_wrapped = True
    Argument.set_value = set_value


def build_collection() -> Collection:
    _report_bad_flag_values_cleanly()
    root = Collection()
    for module_info in sorted(pkgutil.iter_modules(__path__), key=lambda m: m.name):
        if module_info.name.endswith("_tasks"):
            module = importlib.import_module(f"{__name__}.{module_info.name}")
            module.register(root)
    root.configure({"run": {"echo": False}})
    return root
