"""A learner's model file: one Python file that defines ``kserve.Model`` subclasses (Lab 6).

The same file runs on a laptop (``model_file_server`` started by ``custom.model_file``), is
imported by the lab's checks, and is what the custom image packages (``/app/model/model.py``).
This module imports it afresh each time (a re-written file is never served from a stale import)
and finds the class a server should run, with one clear message for each way that can fail.

No kserve import at module level: the checks import this in the notebook's kernel, and kserve
parses ``sys.argv`` when it is first imported.
"""

from __future__ import annotations

import hashlib
import importlib.util
import inspect
import sys
import traceback
from pathlib import Path
from types import ModuleType
from typing import Any

from .errors import WorkshopError

#: Attribute set on a module loaded from a file: the sha256 of the text it was loaded from.
DIGEST_ATTRIBUTE = "__workshop_digest__"


def file_digest(path: str | Path) -> str:
    """sha256 of the file's bytes (hex)."""
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


def check_model_file(path: str | Path) -> Path:
    """``path`` resolved, when it is a readable ``.py`` file; WorkshopError otherwise."""
    file = Path(path).expanduser()
    if not file.is_file():
        raise WorkshopError(
            f"no model file at {file}", hint="run the lab's %%writefile cell that writes it, or give the right path"
        )
    if file.suffix != ".py":
        raise WorkshopError(f"{file.name} is not a Python file (.py)", hint="a model file is Python source")
    return file.resolve()


def import_model_file(path: str | Path) -> ModuleType:
    """Import the file as a new module (never a cached one); WorkshopError saying where it failed.

    The module is registered in ``sys.modules`` under a name made of the file's stem and digest, so
    classes defined in it pickle and introspect normally, and two versions never collide.
    """
    file = check_model_file(path)
    source = file.read_bytes()
    digest = hashlib.sha256(source).hexdigest()
    name = f"{_identifier(file.stem)}_{digest[:12]}"
    try:
        code = compile(source, str(file), "exec", dont_inherit=True)
    except SyntaxError as exc:
        raise WorkshopError(
            f"{file.name}, line {exc.lineno}: syntax error: {exc.msg}",
            hint="fix the line in the %%writefile cell and run it again",
        ) from None
    spec = importlib.util.spec_from_file_location(name, file)
    module = importlib.util.module_from_spec(spec)
    setattr(module, DIGEST_ATTRIBUTE, digest)
    sys.modules[name] = module
    try:
        exec(code, module.__dict__)  # noqa: S102 - running the learner's own file is the point
    except Exception as exc:  # noqa: BLE001 - any error at import time is the file's, said in one line
        del sys.modules[name]
        raise WorkshopError(
            f"importing {file.name} failed: {type(exc).__name__}: {exc}{_where(exc, file)}", hint=_import_hint(exc)
        ) from None
    return module


def is_stale(module: Any) -> bool:
    """True when ``module`` was loaded from a file whose text has changed since."""
    digest, path = getattr(module, DIGEST_ATTRIBUTE, None), getattr(module, "__file__", None)
    if not digest or not path or not Path(path).is_file():
        return False
    return file_digest(path) != digest


def model_classes(module: ModuleType) -> dict[str, type]:
    """The ``kserve.Model`` subclasses the file itself defines (not those it imports)."""
    from kserve import Model

    return {
        name: value
        for name, value in vars(module).items()
        if inspect.isclass(value)
        and issubclass(value, Model)
        and value is not Model
        and value.__module__ == module.__name__
    }


def model_class(module: ModuleType, name: str) -> type:
    """The class ``name`` of ``module``, which must be a ``kserve.Model`` subclass it defines."""
    found = model_classes(module)
    if name in found:
        return found[name]
    file = Path(getattr(module, "__file__", "the model file")).name
    defined = ", ".join(sorted(found)) or "none"
    if name in vars(module):
        raise WorkshopError(
            f"{name} in {file} is not a subclass of kserve.Model",
            hint=f"declare it as `class {name}(kserve.Model):`; kserve.Model classes here: {defined}",
        )
    raise WorkshopError(f"{file} defines no class {name}", hint=f"kserve.Model classes in {file}: {defined}")


def _identifier(stem: str) -> str:
    cleaned = "".join(c if c.isalnum() or c == "_" else "_" for c in stem)
    return cleaned if cleaned[:1].isalpha() else f"model_{cleaned}"


def _where(exc: BaseException, file: Path) -> str:
    """`` (line N)`` of the deepest frame in ``file``, when the error came from it."""
    lines = [frame.lineno for frame in traceback.extract_tb(exc.__traceback__) if frame.filename == str(file)]
    return f" (line {lines[-1]})" if lines else ""


def _import_hint(exc: BaseException) -> str:
    if isinstance(exc, ModuleNotFoundError) and exc.name and exc.name.split(".")[0] == "kserve_workshop":
        return (
            "a model file may import only kserve_workshop.runtime of the workshop's library "
            "(the image copies nothing else)"
        )
    if isinstance(exc, ModuleNotFoundError):
        return f"{exc.name} is not installed here; the image has only kserve, scikit-learn and their dependencies"
    return "the line above raised while the file was imported: fix it in the %%writefile cell"
