"""Old module paths keep working for one release: as the very modules at their new homes (MOVED), or as
facades of split modules (serving, clients)."""

from __future__ import annotations

import importlib
import subprocess
import sys

import pytest

import kserve_workshop
from kserve_workshop._moved import MovedModuleFinder


@pytest.mark.parametrize("old, new", sorted(kserve_workshop.MOVED.items()))
def test_an_old_path_is_the_module_at_its_new_home(old, new):
    module = importlib.import_module(old)
    assert module is importlib.import_module(new)
    assert module.__name__ == new and module.__spec__.name == new  # the module keeps its own identity
    assert sys.modules[old] is module


def test_modules_under_a_moved_package_are_found_too():
    import kserve_workshop.checks.lab1 as old
    from kserve_workshop.checks import lab2
    from kserve_workshop.labkit.checks import lab1, lab2 as new_lab2

    assert old is lab1 and lab2 is new_lab2


def test_a_name_that_exists_nowhere_is_still_not_found():
    with pytest.raises(ModuleNotFoundError):
        importlib.import_module("kserve_workshop.checks.lab99")
    finder = MovedModuleFinder({"a.old": "a.new"})
    assert finder.new_name("a.old.x") == "a.new.x" and finder.new_name("a.older") is None
    assert finder.find_spec("unrelated.module") is None


@pytest.mark.slow
def test_python_dash_m_on_an_old_path_runs_the_new_module():
    done = subprocess.run(
        [sys.executable, "-m", "kserve_workshop.model_server_main", "--help"],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    assert "python -m kserve_workshop.runtime.sklearn_server" in done.stdout


@pytest.mark.parametrize(
    "facade, homes",
    [
        ("kserve_workshop.serving", ["kserve_workshop.isvc", "kserve_workshop.ingress"]),
        (
            "kserve_workshop.clients",
            ["kserve_workshop.dataplane", "kserve_workshop.metrics.exposition", "kserve_workshop.load.latency"],
        ),
    ],
)
def test_a_split_module_keeps_every_name_as_the_new_homes_object(facade, homes):
    module = importlib.import_module(facade)
    new = [importlib.import_module(home) for home in homes]
    assert module.__all__
    for name in module.__all__:
        value = getattr(module, name)
        owners = [home for home in new if getattr(home, name, None) is value]
        assert owners or name in {"core_api", "custom_objects_api", "current_context"}, name
