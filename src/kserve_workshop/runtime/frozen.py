"""Read-only lists and dicts for the constants the labs hand to learners.

``DOCS_IRIS_INPUT`` and ``DOCS_FLOWERS`` are shared by every cell, every lab and the checks. If
an answer could change them (``v1_payload["instances"].append(row)`` on the shared list), later
cells and the checks would see the changed value. A ``FrozenList`` or ``FrozenDict`` still *is* a
list or dict (JSON, numpy, ``==`` and ``isinstance`` work as before, and it prints the same), but
changing it raises ``TypeError`` with what to do instead. Copies (``list(x)``, ``dict(x)``,
``copy.deepcopy(x)``, slices) are plain, changeable lists and dicts.
"""

from __future__ import annotations

from typing import Any, NoReturn


def _refuse(self: Any, *args: Any, **kwargs: Any) -> NoReturn:
    kind = "list" if isinstance(self, list) else "dict"
    raise TypeError(
        f"this {kind} is a shared constant of the workshop and cannot be changed; "
        f"change a copy instead: copy.deepcopy(...) (or {kind}(...))"
    )


class FrozenList(list):
    """A list that refuses changes; copies of it are plain lists."""

    append = extend = insert = pop = remove = clear = sort = reverse = _refuse
    __setitem__ = __delitem__ = __iadd__ = __imul__ = _refuse

    def __copy__(self) -> list:
        return list(self)

    def __deepcopy__(self, memo: dict) -> list:
        import copy

        return [copy.deepcopy(item, memo) for item in self]

    def __reduce__(self):
        return list, (list(self),)


class FrozenDict(dict):
    """A dict that refuses changes; copies of it are plain dicts."""

    __setitem__ = __delitem__ = __ior__ = _refuse
    pop = popitem = clear = update = setdefault = _refuse

    def __copy__(self) -> dict:
        return dict(self)

    def __deepcopy__(self, memo: dict) -> dict:
        import copy

        return {copy.deepcopy(key, memo): copy.deepcopy(value, memo) for key, value in self.items()}

    def __reduce__(self):
        return dict, (dict(self),)


def freeze(value: Any) -> Any:
    """``value`` with every list and dict inside it (recursively) made read-only; tuples become lists."""
    if isinstance(value, dict):
        return FrozenDict({key: freeze(item) for key, item in value.items()})
    if isinstance(value, (list, tuple)):
        return FrozenList(freeze(item) for item in value)
    return value


def _teach_yaml() -> None:
    """YAML writes them as the plain lists and dicts they are (``yaml.safe_dump`` refuses subclasses)."""
    try:
        import yaml
        from yaml.representer import SafeRepresenter
    except ImportError:  # pragma: no cover - kserve brings PyYAML; without it there is nothing to teach
        return

    for dumper in (yaml.SafeDumper, yaml.Dumper):
        dumper.add_representer(FrozenList, SafeRepresenter.represent_list)
        dumper.add_representer(FrozenDict, SafeRepresenter.represent_dict)


_teach_yaml()
