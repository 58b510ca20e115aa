"""The code passes ``ruff check`` and ``ruff format --check`` with the project's configuration
(``[tool.ruff]`` in pyproject.toml)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from kserve_workshop.paths import REPO_ROOT

RUFF = Path(sys.executable).with_name("ruff")
CHECKED = ["src", "tests", "scripts", "tasks.py"]


def ruff_check(*paths: str | Path, cwd: Path = REPO_ROOT) -> subprocess.CompletedProcess:
    return subprocess.run(
        [str(RUFF), "check", "--no-cache", "--output-format", "concise", *map(str, paths)],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=120,
    )


def ruff_format_check(*paths: str | Path, cwd: Path = REPO_ROOT) -> subprocess.CompletedProcess:
    return subprocess.run(
        [str(RUFF), "format", "--check", "--no-cache", *map(str, paths)],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_ruff_check_passes():
    done = ruff_check(*CHECKED)
    assert done.returncode == 0, done.stdout + done.stderr


def test_the_code_is_formatted():
    done = ruff_format_check(*CHECKED)
    assert done.returncode == 0, "run `.venv/bin/ruff format src tests scripts tasks.py`\n" + done.stdout + done.stderr


def test_ruff_format_check_reports_unformatted_code(tmp_path):
    (tmp_path / "pyproject.toml").write_text((REPO_ROOT / "pyproject.toml").read_text())
    (tmp_path / "messy.py").write_text("x = {  'a':1 }\n")
    done = ruff_format_check("messy.py", cwd=tmp_path)
    assert done.returncode == 1 and "messy.py" in done.stdout


def test_ruff_check_reports_what_the_configuration_forbids(tmp_path):
    # The project's configuration, applied to a file with an unused import and a bare `except Exception`.
    (tmp_path / "pyproject.toml").write_text((REPO_ROOT / "pyproject.toml").read_text())
    (tmp_path / "bad.py").write_text(
        "import os\n\n\ndef f():\n    try:\n        return 1\n    except Exception:\n        return 2\n"
    )
    done = ruff_check("bad.py", cwd=tmp_path)
    assert done.returncode == 1
    assert "F401" in done.stdout and "BLE001" in done.stdout
