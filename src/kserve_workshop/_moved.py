"""Old module paths that still import, for one release: each is the module at its new home.

``import kserve_workshop.grading`` gives the very module ``kserve_workshop.labkit.grading`` (not a
copy), so ``monkeypatch.setattr`` on either name patches the one module, and a check registered
through either is registered once. ``python -m OLD.PATH`` runs the new module as ``__main__``.
Nothing is left at the old file paths, so edits made there on other branches follow the files to
their new homes when git merges (its rename detection needs the old path to be gone).

The table is ``MOVED`` in the package's ``__init__``; ``install`` puts the finder first on
``sys.meta_path``. Standard library only: this runs on every import of the package.
"""

from __future__ import annotations

import importlib
import importlib.abc
import importlib.util
import sys
from typing import Mapping


class _MovedModuleLoader(importlib.abc.Loader):
    """Loads an old path as the already-imported module at its new path."""

    def __init__(self, new_name: str):
        self.new_name = new_name
        self._own_spec = None

    def create_module(self, spec):
        module = importlib.import_module(self.new_name)
        self._own_spec = module.__spec__
        return module

    def exec_module(self, module) -> None:
        # The import system has just set the old path's spec on the module: give it back its own.
        module.__spec__ = self._own_spec

    def get_code(self, fullname: str):
        """For ``python -m OLD.PATH``: run the module at its new path as ``__main__``."""
        return compile(
            f"import runpy\nrunpy.run_module({self.new_name!r}, run_name='__main__', alter_sys=True)\n",
            f"<{fullname}, moved to {self.new_name}>",
            "exec",
        )


class MovedModuleFinder(importlib.abc.MetaPathFinder):
    """Finds old module paths (and everything under an old package path) at their new homes."""

    def __init__(self, moved: Mapping[str, str]):
        self.moved = dict(moved)

    def new_name(self, fullname: str) -> str | None:
        if fullname in self.moved:
            return self.moved[fullname]
        for old, new in self.moved.items():
            if fullname.startswith(old + "."):
                return new + fullname[len(old) :]
        return None

    def find_spec(self, fullname, path=None, target=None):
        new_name = self.new_name(fullname)
        if new_name is None:
            return None
        if importlib.util.find_spec(new_name) is None:
            return None  # no such module at the new home either: a plain ModuleNotFoundError
        return importlib.util.spec_from_loader(fullname, _MovedModuleLoader(new_name))


def install(moved: Mapping[str, str]) -> MovedModuleFinder:
    """Put a finder for ``moved`` (old module path -> new module path) first on ``sys.meta_path``."""
    for finder in sys.meta_path:
        if isinstance(finder, MovedModuleFinder):
            finder.moved.update(moved)
            return finder
    finder = MovedModuleFinder(moved)
    sys.meta_path.insert(0, finder)
    return finder
