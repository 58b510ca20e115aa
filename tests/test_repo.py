"""Repository-level promises: the README's commands, CI running them, pins kept in one place."""

from __future__ import annotations

import re
import subprocess
import sys
import tomllib
from pathlib import Path

from kserve_workshop import versions
from kserve_workshop.paths import REPO_ROOT


def readme_commands() -> list[str]:
    text = (REPO_ROOT / "README.md").read_text()
    quickstart = text.split("## Quickstart", 1)[1].split("\n## ", 1)[0]
    return re.findall(r"```bash\n(.+?)\n```", quickstart)


def test_readme_has_the_two_commands():
    commands = readme_commands()
    assert len(commands) == 2, commands
    setup, test = commands
    assert "invoke start" in setup
    assert "pytest" in test


def test_ci_runs_the_readme_test_command_verbatim():
    test_command = readme_commands()[1]
    ci_lines = [line.strip() for line in (REPO_ROOT / ".ci/run").read_text().splitlines()]
    assert test_command in ci_lines


def test_python_pins_match_versions_file():
    pyproject = tomllib.loads((REPO_ROOT / "pyproject.toml").read_text())
    deps = pyproject["project"]["dependencies"]
    python_pins = versions.load()["python"]
    assert f"kserve=={python_pins['kserve_sdk']}" in deps
    assert f"scikit-learn=={python_pins['scikit_learn']}" in deps
    assert f"kubernetes<{python_pins['kubernetes_client_below']}" in deps


def test_installed_packages_match_the_pins():
    import kserve  # noqa: F401 - the import proves the SDK is there
    import kubernetes
    import sklearn
    from importlib.metadata import version

    python_pins = versions.load()["python"]
    assert version("kserve") == python_pins["kserve_sdk"]
    assert sklearn.__version__ == python_pins["scikit_learn"]
    assert int(kubernetes.__version__.split(".")[0]) < int(python_pins["kubernetes_client_below"])


def test_no_version_of_a_platform_component_is_typed_outside_the_versions_file():
    """Pins live in versions.toml: the library must not repeat them."""
    pins = versions.load()
    literal_pins = {
        pins["kserve"]["version"],
        pins["istio"]["version"],
        pins["cert_manager"]["version"],
        pins["knative"]["operator_version"],
        pins["monitoring"]["kube_prometheus_stack_version"],
        pins["kind"]["version"],
        pins["helm"]["version"],
    }
    offenders = []
    for path in (REPO_ROOT / "src").rglob("*.py"):
        text = path.read_text()
        offenders += [
            f"{path.relative_to(REPO_ROOT)}: {pin}"
            for pin in literal_pins
            if re.search(rf"['\"]{re.escape(pin)}['\"]", text)
        ]
    assert not offenders, offenders


def test_invoke_lists_the_main_tasks():
    out = subprocess.run(
        [sys.executable, "-m", "invoke", "--list"], cwd=REPO_ROOT, capture_output=True, text=True, check=True
    ).stdout
    for name in ("start", "local", "up", "down", "doctor", "status", "validate", "grade", "diagnose"):
        assert re.search(rf"^\s+{re.escape(name)}\b", out, re.M), f"task {name!r} missing from:\n{out}"


def test_project_code_never_reads_the_shared_folder():
    offenders = [
        str(p.relative_to(REPO_ROOT))
        for folder in ("src", "notebooks", "labs", "scripts")
        for p in (REPO_ROOT / folder).rglob("*")
        if p.is_file() and p.suffix in {".py", ".ipynb", ".sh"} and "../shared" in p.read_text(errors="ignore")
    ]
    assert not offenders, offenders


def test_a_non_number_for_a_number_flag_is_one_clear_message():
    """invoke alone would print a ValueError traceback for `--requests abc`."""
    done = subprocess.run(
        [sys.executable, "-m", "invoke", "local", "--requests", "abc"],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 1
    assert "--requests expects a value of type int, got 'abc'" in done.stderr
    assert "Traceback" not in done.stderr + done.stdout


def contributing_layout() -> str:
    text = (REPO_ROOT / "CONTRIBUTING.md").read_text()
    return text.split("## Layout", 1)[1].split("\n## ", 1)[0]


def undocumented_modules(layout: str, package_dir: Path, skip: set[str] = frozenset()) -> list[str]:
    """Modules and subpackages of ``package_dir`` that ``layout`` does not name (as `name` or `name/`)."""
    names = sorted(
        {path.stem for path in package_dir.glob("*.py")}
        | {path.name for path in package_dir.iterdir() if (path / "__init__.py").is_file()}
    )
    return [
        name
        for name in names
        if name not in skip and not name.startswith("_") and f"`{name}`" not in layout and f"`{name}/`" not in layout
    ]


DEPRECATED_FACADES = {"serving", "clients"}  # split modules kept for one release (see the package map)


def test_contributing_layout_names_every_module_and_every_path_it_names_exists():
    layout = contributing_layout()
    package = REPO_ROOT / "src" / "kserve_workshop"
    assert undocumented_modules(layout, package, DEPRECATED_FACADES) == []
    assert undocumented_modules(layout, package / "tasks", {"common"}) == []
    for path in re.findall(r"`((?:src|tests|docker|manifests|docs|notebooks|labs|scripts)/[\w./-]*)`", layout):
        if "NN" not in path:
            assert (REPO_ROOT / path).exists(), path


def test_the_layout_check_finds_a_module_left_out(tmp_path):
    (tmp_path / "named.py").write_text("")
    (tmp_path / "forgotten.py").write_text("")
    (tmp_path / "pkg").mkdir()
    (tmp_path / "pkg" / "__init__.py").write_text("")
    assert undocumented_modules("`named` and `pkg/`", tmp_path) == ["forgotten"]


MODULE_LINE_LIMIT = 500  # CONTRIBUTING: small modules, one job each


def oversized_modules(root: Path, limit: int = MODULE_LINE_LIMIT) -> list[str]:
    """``path: N lines`` for every Python module under ``root`` longer than ``limit`` lines."""
    found = []
    for path in sorted(root.rglob("*.py")):
        lines = len(path.read_text(encoding="utf-8").splitlines())
        if lines > limit:
            found.append(f"{path.relative_to(root)}: {lines} lines")
    return found


def test_no_module_under_src_is_over_500_lines():
    offenders = oversized_modules(REPO_ROOT / "src")
    assert offenders == [], f"split these at a natural seam (at most {MODULE_LINE_LIMIT} lines):\n" + "\n".join(
        offenders
    )


def test_the_size_check_names_a_module_over_the_limit(tmp_path):
    (tmp_path / "pkg").mkdir()
    (tmp_path / "pkg" / "small.py").write_text("x = 1\n" * 500)
    (tmp_path / "pkg" / "big.py").write_text("x = 1\n" * 501)
    assert oversized_modules(tmp_path) == ["pkg/big.py: 501 lines"]
