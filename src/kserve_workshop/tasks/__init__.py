"""The invoke collection behind ``tasks.py``: one module per namespace that ``invoke --list`` shows,
composed here explicitly.

    namespaces      kind, gke, platform, diagnose, docs, image, images, labs   (``namespace`` in the module
                    of that name), class (classroom)
    top level       start, up, down, setup-gke, smoke   (workshop)     local, local-runtimes (local)
                    doctor, tools                       (machine)      schemas, validate (manifests)
                    status (= platform.status)          (platform)     grade            (labs)

A new area adds its module here; ``tests/test_tasks.py`` fails when a module's tasks are not composed.
"""

from __future__ import annotations

from invoke import Collection
from invoke.exceptions import ParseError
from invoke.parser.argument import Argument

from . import classroom, diagnose, docs, gke, image, images, kind, labs, local, machine, manifests, platform, workshop

#: The namespaces, in the order ``invoke --list`` shows them (it sorts them anyway).
NAMESPACES = (
    classroom.namespace,
    diagnose.namespace,
    docs.namespace,
    gke.namespace,
    image.namespace,
    images.namespace,
    kind.namespace,
    labs.namespace,
    platform.namespace,
)
#: Top-level tasks: (task, name when it differs from the task's own).
TOP_LEVEL = (
    (workshop.start, None),
    (workshop.up, None),
    (workshop.down, None),
    (workshop.setup_gke, None),
    (workshop.smoke, None),
    (local.local, None),
    (local.local_runtimes, "local-runtimes"),
    (machine.doctor, None),
    (machine.tools, None),
    (manifests.schemas, None),
    (manifests.validate, None),
    (platform.status, "status"),
    (labs.grade, None),
)


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
    for task, name in TOP_LEVEL:
        root.add_task(task, name=name)
    for namespace in NAMESPACES:
        root.add_collection(namespace)
    root.configure({"run": {"echo": False}})
    return root
