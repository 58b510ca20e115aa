"""The custom image's build context: the runtime package and one model file, nothing else.

    python -m kserve_workshop.image_context --into DIR (--model-file FILE | --reference)

Lays out ``DIR/kserve_workshop/runtime/`` (the package the servers import, without caches) and
``DIR/model/model.py`` (Lab 6's model file: the learner's, or with ``--reference`` the master
notebook's worked solution). ``docker/custom-model/Dockerfile`` copies exactly these two, so the
image runs the very file the lab served on 127.0.0.1. Before anything is written the model file is
checked: it compiles, defines a ``kserve.Model`` subclass, and imports nothing of the workshop's
library outside ``kserve_workshop.runtime`` (the image holds nothing else). ``DIR`` is replaced
only when it is empty or an earlier context (it carries a marker file).
"""

from __future__ import annotations

import argparse
import ast
import shutil
import sys
from pathlib import Path

from .errors import WorkshopError
from .paths import REPO_ROOT

RUNTIME_SOURCE = REPO_ROOT / "src" / "kserve_workshop" / "runtime"
RUNTIME_PACKAGE = "kserve_workshop.runtime"
#: Where the model file goes in the context (the Dockerfile copies it to /app/model/model.py).
MODEL_IN_CONTEXT = Path("model") / "model.py"
MARKER = ".workshop-image-context"


def library_imports_outside_runtime(source: str, module: str) -> list[str]:
    """Modules of the workshop's library outside ``kserve_workshop.runtime`` that ``source`` imports.

    ``module`` is the dotted name of the module the source belongs to (relative imports resolve
    against it; a model file is a top-level module, so its relative imports resolve to nothing).
    """
    package = module.rsplit(".", 1)[0] if "." in module else ""
    outside = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.level:
            base = package.split(".") if package else []
            base = base[: len(base) - (node.level - 1)] if node.level > 1 else base
            names = [".".join([*base, node.module] if node.module else base)]
        elif isinstance(node, ast.ImportFrom):
            names = [node.module or ""]
        else:
            continue
        outside += [
            name
            for name in names
            if name.split(".")[0] == "kserve_workshop"
            and name != RUNTIME_PACKAGE
            and not name.startswith(RUNTIME_PACKAGE + ".")
        ]
    return outside


def model_file_problems(source: str, name: str = "the model file") -> list[str]:
    """Why ``source`` cannot be the image's model file (empty when it can)."""
    try:
        tree = ast.parse(source)
    except SyntaxError as exc:
        return [f"{name}, line {exc.lineno}: syntax error: {exc.msg}"]
    problems = []
    bases = {_dotted(base) for node in ast.walk(tree) if isinstance(node, ast.ClassDef) for base in node.bases}
    if not bases & {"kserve.Model", "Model"}:
        problems.append(f"{name} defines no kserve.Model subclass (class X(kserve.Model): ...)")
    outside = library_imports_outside_runtime(source, "model")
    if outside:
        problems.append(
            f"{name} imports {', '.join(outside)}, which the image does not hold "
            f"(only {RUNTIME_PACKAGE} of the workshop's library is copied)"
        )
    return problems


def assemble(into: str | Path, source: str) -> Path:
    """Write the build context for model file text ``source`` into ``into``; returns ``into``."""
    problems = model_file_problems(source)
    if problems:
        raise WorkshopError(
            "cannot package this model file: " + "; ".join(problems),
            hint="fix it in Lab 6's %%writefile cell (run it, and check it serves locally) first",
        )
    target = Path(into).expanduser().resolve()
    if target.exists():
        if not target.is_dir() or (any(target.iterdir()) and not (target / MARKER).is_file()):
            raise WorkshopError(
                f"{target} exists and is not an image build context written here", hint="name an empty or new directory"
            )
        shutil.rmtree(target)
    target.mkdir(parents=True)
    (target / MARKER).write_text("build context of docker/custom-model/Dockerfile (kserve_workshop.image_context)\n")
    shutil.copytree(
        RUNTIME_SOURCE, target / "kserve_workshop" / "runtime", ignore=shutil.ignore_patterns("__pycache__", "*.pyc")
    )
    (target / MODEL_IN_CONTEXT).parent.mkdir()
    (target / MODEL_IN_CONTEXT).write_text(source, encoding="utf-8")
    return target


def _dotted(node: ast.AST) -> str:
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Attribute):
        return f"{_dotted(node.value)}.{node.attr}"
    return ""


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m kserve_workshop.image_context", description="Lay out the custom image's build context."
    )
    parser.add_argument("--into", required=True, help="directory to write the context into")
    which = parser.add_mutually_exclusive_group(required=True)
    which.add_argument("--model-file", help="the model file to package")
    which.add_argument("--reference", action="store_true", help="package Lab 6's worked solution")
    args = parser.parse_args(argv)
    try:
        if args.reference:
            from .custom.model_file import reference_model_source

            source, label = reference_model_source(), "Lab 6's worked solution"
        else:
            from .runtime.model_file import check_model_file

            path = check_model_file(args.model_file)
            source, label = path.read_text(encoding="utf-8"), str(path)
        target = assemble(args.into, source)
    except WorkshopError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    print(f"build context in {target}: {RUNTIME_PACKAGE} and {label} as {MODEL_IN_CONTEXT}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
