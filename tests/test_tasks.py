"""The invoke collection is composed explicitly (tasks/__init__.py): every task a module of the tasks
package defines is in it, and each namespace comes from one module."""

from __future__ import annotations

import importlib
import pkgutil
from types import ModuleType

from invoke import Collection, Task, task

import kserve_workshop.tasks as tasks_package
from kserve_workshop.tasks import build_collection


def all_tasks(collection: Collection) -> list[Task]:
    found = list(collection.tasks.values())
    for child in collection.collections.values():
        found += all_tasks(child)
    return found


def task_modules() -> list[ModuleType]:
    return [
        importlib.import_module(f"{tasks_package.__name__}.{info.name}")
        for info in pkgutil.iter_modules(tasks_package.__path__)
    ]


def uncomposed(modules: list[ModuleType], collection: Collection) -> list[str]:
    """Tasks defined in ``modules`` that ``collection`` does not hold."""
    composed = {id(item) for item in all_tasks(collection)}
    return [
        f"{module.__name__}.{name}"
        for module in modules
        for name, value in vars(module).items()
        if isinstance(value, Task) and value.body.__module__ == module.__name__ and id(value) not in composed
    ]


def test_every_task_of_every_module_is_composed():
    modules = task_modules()
    assert {"kind", "gke", "platform", "labs", "workshop"} <= {module.__name__.rsplit(".", 1)[1] for module in modules}
    assert uncomposed(modules, build_collection()) == []


def test_a_task_left_out_is_found():
    module = ModuleType("kserve_workshop.tasks.forgotten")

    def body(c):
        """A task nobody composed."""

    body.__module__ = module.__name__
    module.report = task(body)
    assert uncomposed([module], build_collection()) == ["kserve_workshop.tasks.forgotten.report"]


def test_each_namespace_comes_from_one_module():
    root = build_collection()
    for name, namespace in root.collections.items():
        modules = {item.body.__module__ for item in namespace.tasks.values()}
        assert len(modules) == 1, (name, modules)
    assert {item.body.__module__ for item in root.collections["kind"].tasks.values()} == {"kserve_workshop.tasks.kind"}
