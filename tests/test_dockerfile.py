"""docker/custom-model/Dockerfile: hadolint-clean, pinned (tag and digest, from versions.toml), a
non-root user, only kserve and scikit-learn installed, and a build context holding only the runtime
package (``kserve_workshop.runtime``).

No image is built here (no Docker engine); the kind workflow builds it. What the image runs is
checked instead: the runtime package imports nothing of the library outside itself, and both
servers run from a copy of what the Dockerfile copies, with only kserve's and scikit-learn's
distributions importable.
"""

from __future__ import annotations

import ast
import json
import re
import shlex
import shutil
import subprocess
import sys
from importlib import metadata
from pathlib import Path

import pytest
from packaging.requirements import Requirement

from kserve_workshop import image, paths
from kserve_workshop.versions import pin

DOCKERFILE = paths.REPO_ROOT / "docker" / "custom-model" / "Dockerfile"
RUNTIME_DIR = paths.REPO_ROOT / "src" / "kserve_workshop" / "runtime"
RUNTIME_PACKAGE = "kserve_workshop.runtime"
DOCKERIGNORE = DOCKERFILE.with_name("Dockerfile.dockerignore")
HADOLINT = Path(sys.executable).with_name("hadolint")


def instructions(text: str) -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) pairs, continuation lines joined, comments dropped."""
    joined = re.sub(r"\\\n", " ", "\n".join(line for line in text.splitlines() if not line.lstrip().startswith("#")))
    return [(line.split(None, 1)[0].upper(), line.split(None, 1)[1] if " " in line.strip() else "")
            for line in (raw.strip() for raw in joined.splitlines()) if line]


def arg_defaults(parsed) -> dict[str, str]:
    return dict(arguments.split("=", 1) for name, arguments in parsed if name == "ARG" and "=" in arguments)


def problems(text: str) -> list[str]:
    """What is wrong with a Dockerfile by this project's rules (empty when nothing is)."""
    parsed = instructions(text)
    found = []
    defaults = arg_defaults(parsed)
    froms = [arguments for name, arguments in parsed if name == "FROM"]
    if len(froms) != 1:
        found.append(f"expected one FROM, found {len(froms)}")
    else:
        base = froms[0].split()[0]
        base = re.sub(r"\$\{?(\w+)\}?", lambda m: defaults.get(m.group(1), m.group(0)), base)
        if not re.fullmatch(r"[\w./-]+:\d+\.\d+\.\d+[\w.-]*@sha256:[0-9a-f]{64}", base):
            found.append(f"base image {base!r} is not pinned by exact version tag and digest")
        elif base != pin("custom_image", "base_image"):
            found.append(f"base image {base!r} is not the one in versions.toml")
    if re.search(r":latest\b", text):
        found.append("uses a :latest tag")
    users = [arguments.split(":")[0] for name, arguments in parsed if name == "USER"]
    if not users or not users[-1].isdigit() or int(users[-1]) == 0:
        found.append(f"the final USER must be a numeric non-root UID, found {users[-1] if users else 'none'}")
    for key, value in image.build_args().items():
        if key != "BASE_IMAGE" and defaults.get(key) != value:
            found.append(f"ARG {key} defaults to {defaults.get(key)!r}, versions.toml says {value!r}")
    installs = [arguments for name, arguments in parsed if name == "RUN" and "pip install" in arguments]
    packages = sorted(word.strip('"') for run in installs for word in shlex.split(run.split("pip install", 1)[1])
                      if not word.startswith("-") and word not in {"&&"})
    if packages != ['kserve==${KSERVE_VERSION}', 'scikit-learn==${SCIKIT_LEARN_VERSION}']:
        found.append(f"installs {packages}, expected only kserve and scikit-learn at the pinned versions")
    copies = [arguments.split() for name, arguments in parsed if name in {"COPY", "ADD"}]
    if copies != [["src/kserve_workshop/runtime", "/app/kserve_workshop/runtime"]]:
        found.append(f"copies {[copy[0] for copy in copies]}, expected only src/kserve_workshop/runtime "
                     "(to /app/kserve_workshop/runtime)")
    entrypoints = [arguments for name, arguments in parsed if name == "ENTRYPOINT"]
    if not entrypoints or json.loads(entrypoints[-1])[:3] != ["python", "-m", f"{RUNTIME_PACKAGE}.transformer_server"]:
        found.append(f"ENTRYPOINT must run {RUNTIME_PACKAGE}.transformer_server (exec form)")
    return found


def test_hadolint_passes():
    done = subprocess.run([str(HADOLINT), "--no-color", str(DOCKERFILE)], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stdout + done.stderr


def test_hadolint_is_really_linting(tmp_path):
    bad = tmp_path / "Dockerfile"
    bad.write_text("FROM python:latest\nRUN pip install kserve\nCMD python -m server\n")
    done = subprocess.run([str(HADOLINT), "--no-color", str(bad)], capture_output=True, text=True, timeout=60)
    assert done.returncode != 0
    assert "DL3007" in done.stdout and "DL3013" in done.stdout  # latest tag; unpinned pip install


def test_the_dockerfile_follows_the_rules():
    assert problems(DOCKERFILE.read_text()) == []


@pytest.mark.parametrize("old, new, complaint", [
    ("@sha256:", "@sha512:", "not pinned by exact version tag and digest"),
    ("python:3.11.13-slim-bookworm@", "python:3.11-slim@", "not pinned by exact version tag and digest"),
    ("USER 1000:1000", "USER root", "numeric non-root UID"),
    ("USER 1000:1000", "USER 0", "numeric non-root UID"),
    ("ARG KSERVE_VERSION=0.20.0", "ARG KSERVE_VERSION=0.19.0", "ARG KSERVE_VERSION defaults to '0.19.0'"),
    ('"scikit-learn==${SCIKIT_LEARN_VERSION}"', '"scikit-learn==${SCIKIT_LEARN_VERSION}" pandas', "installs"),
    ("COPY src/kserve_workshop/runtime", "COPY . /app\nCOPY src/kserve_workshop/runtime",
     "copies ['.', 'src/kserve_workshop/runtime']"),
    ("COPY src/kserve_workshop/runtime /app/kserve_workshop/runtime", "COPY src/kserve_workshop /app/kserve_workshop",
     "copies ['src/kserve_workshop'], expected only src/kserve_workshop/runtime"),
    ('"kserve_workshop.runtime.transformer_server"', '"server"', "ENTRYPOINT must run"),
])
def test_the_rules_catch_a_broken_dockerfile(old, new, complaint):
    text = DOCKERFILE.read_text()
    assert old in text
    assert any(complaint in problem for problem in problems(text.replace(old, new, 1)))
    assert any("latest" in p for p in problems(text + "\nFROM python:latest\n"))


def test_build_args_are_all_declared_by_the_dockerfile():
    declared = {arguments.split("=")[0] for name, arguments in instructions(DOCKERFILE.read_text()) if name == "ARG"}
    assert set(image.build_args()) == declared


def test_the_build_context_sends_only_the_runtime_package():
    rules = [line for line in DOCKERIGNORE.read_text().splitlines() if line and not line.startswith("#")]
    assert rules[0] == "*", "an allow-list: exclude everything first"
    assert [rule for rule in rules if rule.startswith("!")] == ["!src/kserve_workshop/runtime/"]


def imports_outside_the_runtime(source: str, module: str) -> list[str]:
    """Modules of the workshop's library outside the runtime package that ``source`` imports.

    ``module`` is the dotted name of the module the source belongs to (relative imports resolve
    against it). Imports of other distributions are the business of the isolated run below.
    """
    package = module.rsplit(".", 1)[0]
    outside = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.level:
            base = package.split(".")
            base = base[: len(base) - (node.level - 1)] if node.level > 1 else base
            names = [".".join([*base, node.module] if node.module else base)]
        elif isinstance(node, ast.ImportFrom):
            names = [node.module or ""]
        else:
            continue
        outside += [name for name in names if name.split(".")[0] == "kserve_workshop"
                    and name != RUNTIME_PACKAGE and not name.startswith(RUNTIME_PACKAGE + ".")]
    return outside


def test_the_runtime_package_imports_nothing_of_the_library_outside_itself():
    modules = sorted(RUNTIME_DIR.glob("*.py"))
    assert {"sklearn_server.py", "transformer_server.py", "transformer.py"} <= {path.name for path in modules}
    found = {path.name: imports_outside_the_runtime(path.read_text(), f"{RUNTIME_PACKAGE}.{path.stem}")
             for path in modules}
    assert {name: imports for name, imports in found.items() if imports} == {}


@pytest.mark.parametrize("line, outside", [
    ("from ..paths import cache_dir", ["kserve_workshop.paths"]),
    ("from .. import console", ["kserve_workshop"]),
    ("import kserve_workshop.training", ["kserve_workshop.training"]),
    ("from kserve_workshop.errors import WorkshopError", ["kserve_workshop.errors"]),
    ("from .errors import WorkshopError", []),
    ("from kserve_workshop.runtime.iris import IRIS_CLASSES", []),
    ("import numpy, json", []),
])
def test_imports_from_outside_the_runtime_are_found(line, outside):
    assert imports_outside_the_runtime(f"{line}\n", f"{RUNTIME_PACKAGE}.server") == outside


def _allowed_distributions() -> set[str]:
    """kserve and scikit-learn with their dependencies, without extras (what `pip install` puts in the image)."""
    environment = {"extra": ""}
    todo, seen = ["kserve", "scikit-learn"], set()
    while todo:
        name = todo.pop()
        key = re.sub(r"[-_.]+", "-", name).lower()
        if key in seen:
            continue
        seen.add(key)
        for text in metadata.requires(name) or []:
            requirement = Requirement(text)
            if requirement.marker is None or requirement.marker.evaluate(environment):
                todo.append(requirement.name)
                for extra in requirement.extras:  # e.g. uvicorn[standard]
                    for sub in metadata.requires(requirement.name) or []:
                        dependency = Requirement(sub)
                        if dependency.marker is not None and dependency.marker.evaluate({"extra": extra}):
                            todo.append(dependency.name)
    return seen


# Runs the image's two roles in a fresh interpreter that sees the workshop only as the image does
# (the app directory holding what the Dockerfile copies, no editable install of the whole library)
# and where every distribution the image lacks is unimportable (optional imports, e.g. httpx's CLI
# extras, then fall back as they would there).
RUN_AS_IN_THE_IMAGE = """
import asyncio, importlib.abc, json, pathlib, sys, tempfile
app, blocked = sys.argv[1], set(json.loads(sys.argv[2]))
sys.path[:] = [app] + [entry for entry in sys.path
                       if not (pathlib.Path(entry or ".") / "kserve_workshop" / "__init__.py").exists()]

class NotInTheImage(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path=None, target=None):
        if name.split(".")[0] in blocked:
            raise ModuleNotFoundError(f"No module named {name!r} (not installed in the image)", name=name)

sys.meta_path.insert(0, NotInTheImage())
import joblib
from sklearn.datasets import load_iris
from sklearn.tree import DecisionTreeClassifier
import kserve_workshop.runtime.transformer_server, kserve_workshop.runtime.sklearn_server
from kserve_workshop.runtime.features import DOCS_FLOWERS
from kserve_workshop.runtime.transformer import IrisTransformer
from kserve_workshop.runtime.sklearn_model import make_model
assert not hasattr(kserve_workshop, "__file__") or kserve_workshop.__file__ is None, "the library leaked in"

transformer = IrisTransformer("iris", predictor_protocol="v1")
transformer.load()
request = asyncio.run(transformer.preprocess({"instances": DOCS_FLOWERS}))
model_dir = pathlib.Path(tempfile.mkdtemp())
joblib.dump(DecisionTreeClassifier(random_state=0).fit(*load_iris(return_X_y=True)), model_dir / "model.joblib")
predictor = make_model("iris", model_dir)
predictor.load()
answer = predictor.predict(request)
print(json.dumps(asyncio.run(transformer.postprocess(answer))))
"""


def copy_what_the_dockerfile_copies(app: Path) -> None:
    """Lay out ``app`` as the image's /app: each COPY source (from the repository root) at its destination."""
    for name, arguments in instructions(DOCKERFILE.read_text()):
        if name == "COPY":
            source, destination = arguments.split()
            shutil.copytree(paths.REPO_ROOT / source, app / Path(destination).relative_to("/app"),
                            ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))


def run_as_in_the_image(app: Path) -> subprocess.CompletedProcess:
    allowed = _allowed_distributions()
    blocked = sorted(module for module, owners in metadata.packages_distributions().items()
                     if module != "kserve_workshop"
                     and not any(re.sub(r"[-_.]+", "-", owner).lower() in allowed for owner in owners))
    assert {"rich", "matplotlib", "invoke", "jsonschema", "nbformat"} <= set(blocked)  # the library's other deps
    assert not {"kserve", "sklearn", "numpy", "httpx"} & set(blocked)
    return subprocess.run([sys.executable, "-c", RUN_AS_IN_THE_IMAGE, str(app), json.dumps(blocked)],
                          capture_output=True, text=True, timeout=120, cwd="/")


@pytest.mark.slow
def test_both_roles_run_with_only_what_the_image_holds(tmp_path):
    copy_what_the_dockerfile_copies(tmp_path)
    assert sorted(path.name for path in tmp_path.iterdir()) == ["kserve_workshop"]
    assert sorted(path.name for path in (tmp_path / "kserve_workshop").iterdir()) == ["runtime"]
    done = run_as_in_the_image(tmp_path)
    assert done.returncode == 0, done.stderr[-3000:]
    assert json.loads(done.stdout.splitlines()[-1]) == {"predictions": ["versicolor", "versicolor"]}


@pytest.mark.slow
def test_a_runtime_module_importing_the_library_fails_in_the_image(tmp_path):
    copy_what_the_dockerfile_copies(tmp_path)
    features = tmp_path / "kserve_workshop" / "runtime" / "features.py"
    features.write_text(features.read_text().replace("from .iris import", "from ..training import", 1))
    done = run_as_in_the_image(tmp_path)
    assert done.returncode != 0
    assert "No module named 'kserve_workshop.training'" in done.stderr
