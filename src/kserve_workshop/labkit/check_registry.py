"""The registry of graded checks: ``@lab_check`` registers a check, ``find_check("lab1.name")`` finds it
(importing ``kserve_workshop.labkit.checks.<lab>`` on first use); ``grading.check()`` runs it."""

from __future__ import annotations

import importlib
import inspect
import re
from dataclasses import dataclass
from typing import Any, Callable

CHECKS_PACKAGE = "kserve_workshop.labkit.checks"


@dataclass(frozen=True)
class CheckSpec:
    """A registered check: ``lab`` (canonical id like ``lab1``), ``name``, the function, its hint."""

    lab: str
    name: str
    func: Callable[..., Any]
    hint: str | None
    variables: tuple[str, ...]

    @property
    def qualified_name(self) -> str:
        return f"{self.lab}.{self.name}"


_REGISTRY: dict[tuple[str, str], CheckSpec] = {}


def canonical_lab(lab: str) -> str:
    """``lab01``, ``Lab1`` and ``lab1`` are the same lab: ``lab1``."""
    match = re.fullmatch(r"(?i)lab0*(\d+)", lab.strip())
    return f"lab{int(match.group(1))}" if match else lab.strip().lower()


def lab_check(lab: str, hint: str | None = None, *, name: str | None = None) -> Callable:
    """Register the decorated function as check ``<lab>.<function name>`` (or ``name``).

    The function's parameter names are the notebook variables it grades; parameters with a
    default are optional answers. It raises :class:`CheckFailed` when an answer is wrong.
    """

    def register(func: Callable) -> Callable:
        spec = CheckSpec(
            lab=canonical_lab(lab),
            name=name or func.__name__,
            func=func,
            hint=hint,
            variables=tuple(inspect.signature(func).parameters),
        )
        _REGISTRY[(spec.lab, spec.name)] = spec
        return func

    return register


def _lab_modules(lab: str) -> list[str]:
    """Module names that may hold a lab's checks (``lab1`` and ``lab01`` are both accepted)."""
    canonical = canonical_lab(lab)
    names = [lab, canonical]
    match = re.fullmatch(r"lab(\d+)", canonical)
    if match:
        names.append(f"lab{int(match.group(1)):02d}")
    return list(dict.fromkeys(names))


def checks_for(lab: str) -> list[CheckSpec]:
    """Every check registered for ``lab`` (importing its module first)."""
    _import_lab(lab)
    canonical = canonical_lab(lab)
    return [spec for (spec_lab, _), spec in sorted(_REGISTRY.items()) if spec_lab == canonical]


def _import_lab(lab: str) -> bool:
    found = False
    for module in _lab_modules(lab):
        try:
            importlib.import_module(f"{CHECKS_PACKAGE}.{module}")
            found = True
        except ModuleNotFoundError as exc:
            if exc.name != f"{CHECKS_PACKAGE}.{module}":
                raise  # the lab's module exists but imports something missing: an authoring bug
    return found


def find_check(qualified_name: str) -> CheckSpec:
    """The check called ``"<lab>.<name>"``; LookupError with the known names when there is none."""
    lab, dot, name = qualified_name.partition(".")
    if not dot or not lab or not name:
        raise LookupError(f"check names look like 'lab1.accuracy', not {qualified_name!r}")
    spec = _REGISTRY.get((canonical_lab(lab), name))
    if spec is None:
        _import_lab(lab)
        spec = _REGISTRY.get((canonical_lab(lab), name))
    if spec is None:
        known = ", ".join(s.qualified_name for s in checks_for(lab)) or "none"
        raise LookupError(f"there is no check {qualified_name!r} (checks of {canonical_lab(lab)}: {known})")
    return spec
