"""docker/custom-model/Dockerfile: hadolint-clean, pinned (tag and digest, from versions.toml), a
non-root user, only kserve and scikit-learn installed, and a build context holding only the runtime
package (``kserve_workshop.runtime``) and the model file (``model/model.py``), laid out by
``kserve_workshop.image_context``.

No image is built here (no Docker engine); the kind workflow builds it. What the image runs is
checked instead: the runtime package imports nothing of the library outside itself, the context
holds exactly what the Dockerfile copies, and both roles of Lab 6's worked solution run from a copy
of it with only kserve's and scikit-learn's distributions importable.
"""

from __future__ import annotations

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

from kserve_workshop import image, image_context, paths
from kserve_workshop.custom.model_file import reference_model_source
from kserve_workshop.errors import WorkshopError
from kserve_workshop.image_context import library_imports_outside_runtime
from kserve_workshop.versions import pin

DOCKERFILE = paths.REPO_ROOT / "docker" / "custom-model" / "Dockerfile"
RUNTIME_DIR = paths.REPO_ROOT / "src" / "kserve_workshop" / "runtime"
RUNTIME_PACKAGE = "kserve_workshop.runtime"
DOCKERIGNORE = DOCKERFILE.with_name("Dockerfile.dockerignore")
HADOLINT = Path(sys.executable).with_name("hadolint")
EXPECTED_COPIES = [
    ["kserve_workshop/runtime", "/app/kserve_workshop/runtime"],
    ["model/model.py", "/app/model/model.py"],
]


def instructions(text: str) -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) pairs, continuation lines joined, comments dropped."""
    joined = re.sub(r"\\\n", " ", "\n".join(line for line in text.splitlines() if not line.lstrip().startswith("#")))
    return [
        (line.split(None, 1)[0].upper(), line.split(None, 1)[1] if " " in line.strip() else "")
        for line in (raw.strip() for raw in joined.splitlines())
        if line
    ]


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
    packages = sorted(
        word.strip('"')
        for run in installs
        for word in shlex.split(run.split("pip install", 1)[1])
        if not word.startswith("-") and word not in {"&&"}
    )
    if packages != ["kserve==${KSERVE_VERSION}", "scikit-learn==${SCIKIT_LEARN_VERSION}"]:
        found.append(f"installs {packages}, expected only kserve and scikit-learn at the pinned versions")
    copies = [arguments.split() for name, arguments in parsed if name in {"COPY", "ADD"}]
    if copies != EXPECTED_COPIES:
        found.append(
            f"copies {[copy[0] for copy in copies]}, expected only kserve_workshop/runtime (to "
            f"/app/kserve_workshop/runtime) and model/model.py (to {image.MODEL_FILE_IN_IMAGE})"
        )
    entrypoints = [arguments for name, arguments in parsed if name == "ENTRYPOINT"]
    entrypoint = json.loads(entrypoints[-1]) if entrypoints else []
    if (
        entrypoint[:3] != ["python", "-m", f"{RUNTIME_PACKAGE}.model_file_server"]
        or image.MODEL_FILE_IN_IMAGE not in entrypoint
    ):
        found.append(
            f"ENTRYPOINT must run {RUNTIME_PACKAGE}.model_file_server on {image.MODEL_FILE_IN_IMAGE} (exec form)"
        )
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


@pytest.mark.parametrize(
    "old, new, complaint",
    [
        ("@sha256:", "@sha512:", "not pinned by exact version tag and digest"),
        ("python:3.11.13-slim-bookworm@", "python:3.11-slim@", "not pinned by exact version tag and digest"),
        ("USER 1000:1000", "USER root", "numeric non-root UID"),
        ("USER 1000:1000", "USER 0", "numeric non-root UID"),
        ("ARG KSERVE_VERSION=0.20.0", "ARG KSERVE_VERSION=0.19.0", "ARG KSERVE_VERSION defaults to '0.19.0'"),
        ('"scikit-learn==${SCIKIT_LEARN_VERSION}"', '"scikit-learn==${SCIKIT_LEARN_VERSION}" pandas', "installs"),
        (
            "COPY kserve_workshop/runtime",
            "COPY . /app\nCOPY kserve_workshop/runtime",
            "copies ['.', 'kserve_workshop/runtime', 'model/model.py']",
        ),
        (
            "COPY kserve_workshop/runtime /app/kserve_workshop/runtime",
            "COPY kserve_workshop /app/kserve_workshop",
            "copies ['kserve_workshop', 'model/model.py'], expected only kserve_workshop/runtime",
        ),
        (
            "COPY model/model.py /app/model/model.py",
            "COPY model /app/model",
            "copies ['kserve_workshop/runtime', 'model']",
        ),
        (
            '"kserve_workshop.runtime.model_file_server"',
            '"kserve_workshop.runtime.transformer_server"',
            "ENTRYPOINT must run",
        ),
        ('"--model_file", "/app/model/model.py"', '"--model_file", "/app/model.py"', "ENTRYPOINT must run"),
    ],
)
def test_the_rules_catch_a_broken_dockerfile(old, new, complaint):
    text = DOCKERFILE.read_text()
    assert old in text
    assert any(complaint in problem for problem in problems(text.replace(old, new, 1)))
    assert any("latest" in p for p in problems(text + "\nFROM python:latest\n"))


def test_build_args_are_all_declared_by_the_dockerfile():
    declared = {arguments.split("=")[0] for name, arguments in instructions(DOCKERFILE.read_text()) if name == "ARG"}
    assert set(image.build_args()) == declared


def test_the_build_context_sends_only_the_runtime_package_and_the_model_file():
    rules = [line for line in DOCKERIGNORE.read_text().splitlines() if line and not line.startswith("#")]
    assert rules[0] == "*", "an allow-list: exclude everything first"
    assert [rule for rule in rules if rule.startswith("!")] == ["!kserve_workshop/runtime/", "!model/model.py"]


def test_the_assembled_context_holds_exactly_what_the_dockerfile_copies(tmp_path):
    context = image_context.assemble(tmp_path / "context", reference_model_source())
    files = {str(path.relative_to(context)) for path in context.rglob("*") if path.is_file()}
    copied = {copy[0] for copy in EXPECTED_COPIES}
    assert files - {image_context.MARKER} == {"model/model.py"} | {
        f"kserve_workshop/runtime/{path.name}" for path in RUNTIME_DIR.glob("*.py")
    }
    assert all(
        any(name == source or name.startswith(source + "/") for source in copied)
        for name in files - {image_context.MARKER}
    )
    assert not list(context.rglob("__pycache__"))


def imports_outside_the_runtime(source: str, module: str) -> list[str]:
    return library_imports_outside_runtime(source, module)


def test_the_runtime_package_imports_nothing_of_the_library_outside_itself():
    modules = sorted(RUNTIME_DIR.glob("*.py"))
    assert {"sklearn_server.py", "model_file_server.py", "model_file.py", "transformer.py"} <= {
        path.name for path in modules
    }
    found = {
        path.name: imports_outside_the_runtime(path.read_text(), f"{RUNTIME_PACKAGE}.{path.stem}") for path in modules
    }
    assert {name: imports for name, imports in found.items() if imports} == {}


def test_lab6s_worked_solution_imports_nothing_of_the_library_outside_the_runtime():
    assert imports_outside_the_runtime(reference_model_source(), "model") == []


@pytest.mark.parametrize(
    "line, outside",
    [
        ("from ..paths import cache_dir", ["kserve_workshop.paths"]),
        ("from .. import console", ["kserve_workshop"]),
        ("import kserve_workshop.training", ["kserve_workshop.training"]),
        ("from kserve_workshop.errors import WorkshopError", ["kserve_workshop.errors"]),
        ("from .errors import WorkshopError", []),
        ("from kserve_workshop.runtime.iris import IRIS_CLASSES", []),
        ("import numpy, json", []),
    ],
)
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
# extras, then fall back as they would there). The roles are the classes of the model file at
# /app/model/model.py, built as the image's entry point builds them.
RUN_AS_IN_THE_IMAGE = """
import importlib.abc, json, pathlib, sys, tempfile
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
import kserve_workshop.runtime.model_file_server, kserve_workshop.runtime.sklearn_server
from kserve_workshop.runtime.errors import WorkshopError
from kserve_workshop.runtime.features import DOCS_FLOWERS
from kserve_workshop.runtime.model_file import import_model_file, model_class
assert not hasattr(kserve_workshop, "__file__") or kserve_workshop.__file__ is None, "the library leaked in"

try:
    module = import_model_file(pathlib.Path(app) / "model" / "model.py")
except WorkshopError as error:
    sys.exit(f"{error.message} | {error.hint}")
transformer = model_class(module, "IrisTransformer")("iris")
transformer.load()
request = transformer.preprocess({"instances": [dict(flower) for flower in DOCS_FLOWERS]})
model_dir = pathlib.Path(tempfile.mkdtemp())
joblib.dump(DecisionTreeClassifier(random_state=0).fit(*load_iris(return_X_y=True)), model_dir / "model.joblib")
predictor = model_class(module, "IrisPredictor")("iris", str(model_dir))
predictor.load()
assert predictor.ready
print(json.dumps(transformer.postprocess(predictor.predict(request))))
"""


def copy_what_the_dockerfile_copies(app: Path, model_source: str) -> None:
    """Lay out ``app`` as the image's /app: the build context ``image_context`` writes, then each COPY
    source (from the context) at its destination."""
    context = image_context.assemble(app.parent / "context", model_source)
    for name, arguments in instructions(DOCKERFILE.read_text()):
        if name == "COPY":
            source, destination = arguments.split()
            target = app / Path(destination).relative_to("/app")
            if (context / source).is_dir():
                shutil.copytree(context / source, target)
            else:
                target.parent.mkdir(parents=True, exist_ok=True)
                shutil.copyfile(context / source, target)


def run_as_in_the_image(app: Path) -> subprocess.CompletedProcess:
    allowed = _allowed_distributions()
    blocked = sorted(
        module
        for module, owners in metadata.packages_distributions().items()
        if module != "kserve_workshop" and not any(re.sub(r"[-_.]+", "-", owner).lower() in allowed for owner in owners)
    )
    assert {"rich", "matplotlib", "invoke", "jsonschema", "nbformat"} <= set(blocked)  # the library's other deps
    assert not {"kserve", "sklearn", "numpy", "httpx", "joblib"} & set(blocked)
    return subprocess.run(
        [sys.executable, "-c", RUN_AS_IN_THE_IMAGE, str(app), json.dumps(blocked)],
        capture_output=True,
        text=True,
        timeout=120,
        cwd="/",
    )


@pytest.mark.slow
def test_both_roles_of_the_worked_solution_run_with_only_what_the_image_holds(tmp_path):
    app = tmp_path / "app"
    copy_what_the_dockerfile_copies(app, reference_model_source())
    assert sorted(path.name for path in app.iterdir()) == ["kserve_workshop", "model"]
    assert sorted(path.name for path in (app / "kserve_workshop").iterdir()) == ["runtime"]
    assert [path.name for path in (app / "model").iterdir()] == ["model.py"]
    done = run_as_in_the_image(app)
    assert done.returncode == 0, done.stderr[-3000:]
    assert json.loads(done.stdout.splitlines()[-1]) == {"predictions": ["versicolor", "versicolor"]}


@pytest.mark.slow
def test_a_runtime_module_importing_the_library_fails_in_the_image(tmp_path):
    app = tmp_path / "app"
    copy_what_the_dockerfile_copies(app, reference_model_source())
    features = app / "kserve_workshop" / "runtime" / "features.py"
    features.write_text(features.read_text().replace("from .iris import", "from ..training import", 1))
    done = run_as_in_the_image(app)
    assert done.returncode != 0
    assert "No module named 'kserve_workshop.training'" in done.stderr


@pytest.mark.slow
def test_a_model_file_importing_what_the_image_lacks_fails_there(tmp_path):
    app = tmp_path / "app"
    copy_what_the_dockerfile_copies(app, reference_model_source())
    model = app / "model" / "model.py"
    model.write_text(
        model.read_text().replace("import joblib\n", "import joblib\nimport pandas.plotting._matplotlib\n", 1)
    )
    done = run_as_in_the_image(app)
    assert done.returncode != 0
    assert "importing model.py failed: ModuleNotFoundError" in done.stderr and "matplotlib" in done.stderr


@pytest.mark.parametrize(
    "change, problem",
    [
        (
            ("import kserve\n", "import kserve\nfrom kserve_workshop.training import train_iris\n"),
            "imports kserve_workshop.training, which the image does not hold",
        ),
        (("class IrisTransformer(kserve.Model):", "class IrisTransformer(object):"), None),
        (("def to_labels(predictions):", "def to_labels(predictions)"), "syntax error"),
    ],
)
def test_the_build_context_refuses_a_model_file_the_image_could_not_serve(tmp_path, change, problem):
    source = reference_model_source().replace(*change)
    assert source != reference_model_source()
    if problem is None:  # one kserve.Model subclass left (IrisPredictor): still servable
        assert image_context.assemble(tmp_path / "ok", source).is_dir()
        source = source.replace("class IrisPredictor(kserve.Model):", "class IrisPredictor:")
        problem = "defines no kserve.Model subclass"
    with pytest.raises(WorkshopError, match=problem):
        image_context.assemble(tmp_path / "context", source)
    assert not (tmp_path / "context").exists(), "nothing is written for a file that is refused"


def test_the_build_context_replaces_only_a_context_of_its_own(tmp_path):
    precious = tmp_path / "mine"
    precious.mkdir()
    (precious / "notes.txt").write_text("keep me")
    with pytest.raises(WorkshopError, match="is not an image build context written here"):
        image_context.assemble(precious, reference_model_source())
    assert (precious / "notes.txt").read_text() == "keep me"
    context = image_context.assemble(tmp_path / "context", reference_model_source())
    (context / "model" / "stale.py").write_text("")
    image_context.assemble(context, reference_model_source())  # an earlier context is replaced
    assert not (context / "model" / "stale.py").exists()


@pytest.mark.parametrize(
    "args, message",
    [
        (["--into", "X", "--model-file", "no-such-file.py"], "no model file at"),
        (["--into", "X", "--model-file", "README.md"], "is not a Python file"),
    ],
)
def test_the_build_context_cli_says_what_is_wrong(tmp_path, capsys, args, message):
    args = [str(tmp_path / "ctx") if arg == "X" else arg for arg in args]
    assert image_context.main(args) == 1
    assert message in capsys.readouterr().err
