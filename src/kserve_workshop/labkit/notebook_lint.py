"""Static checks of notebook code, so cells that cannot run here (``%%cluster``) are still checked.

For every code cell: IPython lines (``%magic``, ``!cmd``) and the ``%%cluster`` header are set
aside, the rest must parse. Then, over the notebook's code in order:

* pyflakes finds undefined names (a name used by a local cell but bound only in ``%%cluster``
  cells is reported too: it is undefined when those cells are skipped);
* every ``kserve_workshop.<module>.<attr>`` reached through an import or an alias must exist, and
  calls to library functions must match their signature (keyword names, required arguments);
* every ``check("labN.name")`` must name a check (registered in ``kserve_workshop.labkit.checks`` or
  defined in the notebook with ``@lab_check``) whose answer variables an earlier cell binds;
* every shell line (``!kubectl ...``) names kubectl commands, flags and resource types that exist
  (``labkit.shell_lint``); the Python expressions IPython expands in it (``{NAMESPACE}``) are
  checked for undefined names like the rest of the code.
"""

from __future__ import annotations

import ast
import builtins
import importlib
import inspect
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterable, Iterator

import nbformat

from ..errors import WorkshopError
from .notebook_cells import CodeCell, code_cells
from .shell_lint import cell_problems

LIBRARY = "kserve_workshop"
# Names IPython provides in every notebook.
_IPYTHON_NAMES = {"display", "get_ipython", "In", "Out", "exit", "quit", "_", "__", "___", "_ih", "_oh"}
_PARSE_FLAGS = ast.PyCF_ONLY_AST | ast.PyCF_ALLOW_TOP_LEVEL_AWAIT


@dataclass(frozen=True)
class Problem:
    notebook: str
    cell: int | None
    line: int | None
    message: str

    def __str__(self) -> str:
        where = self.notebook
        if self.cell is not None:
            where += f" cell {self.cell}"
        if self.line is not None:
            where += f", line {self.line}"
        return f"{where}: {self.message}"


@dataclass
class _Context:
    notebook: str
    problems: list[Problem] = field(default_factory=list)

    def add(self, cell: int | None, line: int | None, message: str) -> None:
        problem = Problem(self.notebook, cell, line, message)
        if problem not in self.problems:
            self.problems.append(problem)


# ------------------------------------------------------------------------------------ checking


def check_notebook(path: Path | str, display_name: str | None = None) -> list[Problem]:
    """Every static problem in one notebook (empty when clean)."""
    path = Path(path)
    name = display_name or path.name
    try:
        nb = nbformat.read(path, as_version=4)
    except Exception as exc:  # noqa: BLE001 - an unreadable notebook is one clear problem
        return [Problem(name, None, None, f"not a readable notebook: {exc}")]
    problems = check_cells(name, code_cells(nb))
    for number, cell in enumerate(nb.cells, 1):
        if cell.cell_type == "code":
            problems += [Problem(name, number, line, message) for line, message in cell_problems(cell.source)]
    return problems


def check_cells(name: str, cells: list[CodeCell]) -> list[Problem]:
    context = _Context(name)
    for cell in cells:
        try:
            cell.tree = compile(
                cell.source, f"{name} cell {cell.number}", "exec", flags=_PARSE_FLAGS, dont_inherit=True
            )
        except SyntaxError as exc:
            context.add(cell.number, exc.lineno, f"syntax error: {exc.msg}")
    parsed = [cell for cell in cells if cell.tree is not None]
    notebook_cells = [cell for cell in parsed if not cell.standalone]
    for cell in parsed:
        if cell.standalone:
            _undefined_names(context, [cell], note="")
    _undefined_names(context, notebook_cells, note="")
    _undefined_names(
        context,
        [cell for cell in notebook_cells if not cell.cluster],
        note=" (it is bound only in %%cluster cells, which are skipped without a cluster)",
    )
    _library_references(context, notebook_cells)
    for cell in parsed:
        if cell.standalone:
            _library_references(context, [cell])
    _check_calls(context, notebook_cells)
    return context.problems


def check_notebooks(paths: Iterable[Path]) -> list[Problem]:
    problems: list[Problem] = []
    for path in paths:
        problems += check_notebook(path, _display(path))
    return problems


def raise_for_problems(problems: list[Problem]) -> None:
    if problems:
        raise WorkshopError(
            f"{len(problems)} problem(s) in the notebooks' code:\n  "
            + "\n  ".join(str(problem) for problem in problems),
            hint="fix the master in notebooks/, then run `invoke labs.generate`",
        )


def _display(path: Path) -> str:
    from ..paths import REPO_ROOT

    try:
        return str(Path(path).resolve().relative_to(REPO_ROOT))
    except ValueError:
        return str(path)


# ------------------------------------------------------------------------------ undefined names


def _joined(cells: list[CodeCell]) -> tuple[ast.Module, list[tuple[int, int, CodeCell]]]:
    """The cells as one module, plus (first line, last line, cell) spans to map lines back."""
    source_lines: list[str] = []
    spans = []
    for cell in cells:
        start = len(source_lines) + 1
        source_lines += cell.source.split("\n")
        spans.append((start, len(source_lines), cell))
    tree = compile("\n".join(source_lines), "<notebook>", "exec", flags=_PARSE_FLAGS, dont_inherit=True)
    return _AwaitUnwrapper().visit(tree), spans


class _AwaitUnwrapper(ast.NodeTransformer):
    """``await x`` -> ``x``: pyflakes stops at a top-level await (IPython allows one) and would
    miss the names inside it."""

    def visit_Await(self, node: ast.Await) -> ast.AST:
        return self.visit(node.value)


def _locate(spans: list[tuple[int, int, CodeCell]], line: int) -> tuple[CodeCell, int]:
    for start, end, cell in spans:
        if start <= line <= end:
            return cell, line - start + 1
    raise ValueError(line)  # pragma: no cover - every line belongs to a cell


def _undefined_names(context: _Context, cells: list[CodeCell], note: str) -> None:
    # pyflakes is a dev tool: imported here so `invoke grade` (which reads cells) runs without it.
    from pyflakes import checker as flakes
    from pyflakes import messages as flake_messages

    reported = (flake_messages.UndefinedName, flake_messages.UndefinedLocal, flake_messages.UndefinedExport)
    if not cells:
        return
    try:
        tree, spans = _joined(cells)
    except SyntaxError:  # cells that parse alone can clash when joined (e.g. a dangling decorator)
        return
    known = set(dir(builtins)) | _IPYTHON_NAMES
    result = flakes.Checker(tree, filename="<notebook>", builtins=known)
    for message in sorted(result.messages, key=lambda m: m.lineno):
        if not isinstance(message, reported):
            continue
        cell, line = _locate(spans, message.lineno)
        text = message.message % message.message_args
        if note and any(p.cell == cell.number and p.line == line and p.message == text for p in context.problems):
            continue  # already reported by the full pass
        if note and cell.cluster:
            continue
        context.add(cell.number, line, text + note)


# --------------------------------------------------------------------------- library references


def _resolve(dotted: str) -> Any:
    """Import ``kserve_workshop.a.b`` and get attributes after the longest importable module.

    Raises AttributeError/ImportError naming the first part that does not exist.
    """
    parts = dotted.split(".")
    obj = importlib.import_module(parts[0])
    for index in range(1, len(parts)):
        name = parts[index]
        if hasattr(obj, name):
            obj = getattr(obj, name)
            continue
        if inspect.ismodule(obj):
            try:
                obj = importlib.import_module(".".join(parts[: index + 1]))
                continue
            except ModuleNotFoundError as exc:
                if exc.name != ".".join(parts[: index + 1]):
                    raise
        elif inspect.isclass(obj) and _class_declares(obj, name):
            return None  # an instance attribute declared on the class: exists, value unknown
        raise AttributeError(f"{'.'.join(parts[:index])} has no attribute {name!r}")
    return obj


def _class_declares(cls: type, name: str) -> bool:
    for klass in cls.__mro__:
        if name in getattr(klass, "__annotations__", {}) or name in getattr(klass, "__slots__", ()):
            return True
    return False


def _aliases(tree: ast.AST) -> dict[str, str]:
    """Names bound to library objects by imports: ``{"local": "kserve_workshop.local", ...}``."""
    aliases: dict[str, str] = {}
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name.split(".")[0] != LIBRARY:
                    continue
                if alias.asname:
                    aliases[alias.asname] = alias.name
                else:
                    aliases[LIBRARY] = LIBRARY
        elif (
            isinstance(node, ast.ImportFrom)
            and node.level == 0
            and node.module
            and node.module.split(".")[0] == LIBRARY
        ):
            for alias in node.names:
                if alias.name != "*":
                    aliases[alias.asname or alias.name] = f"{node.module}.{alias.name}"
    return aliases


def _imported(node: ast.Import | ast.ImportFrom) -> list[str]:
    """The library names an import statement needs (``import kserve_workshop.x`` needs ``x``)."""
    if isinstance(node, ast.Import):
        return [alias.name for alias in node.names if alias.name.split(".")[0] == LIBRARY]
    if node.level or not node.module or node.module.split(".")[0] != LIBRARY:
        return []
    return [f"{node.module}.{alias.name}" if alias.name != "*" else node.module for alias in node.names]


def _dotted(node: ast.AST) -> list[str] | None:
    """``a.b.c`` as ``["a", "b", "c"]``; None when the chain does not start at a plain name."""
    parts = []
    while isinstance(node, ast.Attribute):
        parts.append(node.attr)
        node = node.value
    if isinstance(node, ast.Name):
        return [node.id, *reversed(parts)]
    return None


def _is_grading(target: str, name: str) -> bool:
    """Whether the dotted ``target`` is the lab kit's ``check`` or ``lab_check`` (``name``), through
    whichever module re-exports it (resolved, so a moved or re-exported name is still recognised)."""
    from . import check_registry, grading

    if not target:
        return False
    wanted = grading.check if name == "check" else check_registry.lab_check
    try:
        return _resolve(target) is wanted
    except (ImportError, AttributeError):
        return False


def _library_target(node: ast.AST, aliases: dict[str, str]) -> str | None:
    parts = _dotted(node)
    if not parts or parts[0] not in aliases:
        return None
    return ".".join([aliases[parts[0]], *parts[1:]])


def _library_references(context: _Context, cells: list[CodeCell]) -> None:
    aliases: dict[str, str] = {}
    for cell in cells:
        for node in ast.walk(cell.tree):
            if isinstance(node, (ast.Import, ast.ImportFrom)):
                for target in _imported(node):
                    _report_missing(context, cell, node.lineno, target)
                aliases.update(_aliases(node))
        for node in _outermost_attributes(cell.tree):
            target = _library_target(node, aliases)
            if target is not None:
                _report_missing(context, cell, node.lineno, target)


def _outermost_attributes(tree: ast.AST) -> Iterator[ast.Attribute]:
    inner = {id(node.value) for node in ast.walk(tree) if isinstance(node, ast.Attribute)}
    for node in ast.walk(tree):
        if isinstance(node, ast.Attribute) and id(node) not in inner:
            yield node


def _report_missing(context: _Context, cell: CodeCell, line: int, target: str) -> None:
    try:
        _resolve(target)
    except (AttributeError, ImportError) as exc:
        context.add(cell.number, line, f"{target} does not exist ({exc})")
    except Exception as exc:  # noqa: BLE001 - a library module that fails to import is a problem too
        context.add(cell.number, line, f"importing for {target} failed: {type(exc).__name__}: {exc}")


# ------------------------------------------------------------------------------------- calls


def _check_calls(context: _Context, cells: list[CodeCell]) -> None:
    aliases: dict[str, str] = {}
    bound_all: set[str] = set()
    bound_local: set[str] = set()
    #: Checks the notebook defines itself with @lab_check: {"lab90.total": ("total",)}.
    own_checks: dict[str, tuple[str, ...]] = {}
    for cell in cells:
        # Imports first: a cell may import a helper and call it on the next line.
        for node in ast.walk(cell.tree):
            if isinstance(node, (ast.Import, ast.ImportFrom)):
                aliases.update(_aliases(node))
        for statement in cell.tree.body:  # statement by statement: `x = ...` then check() in one cell
            own_checks.update(_defined_checks(statement, aliases))
            for node in ast.walk(statement):
                if not isinstance(node, ast.Call):
                    continue
                target = _library_target(node.func, aliases)
                if target is None:
                    continue
                _check_signature(context, cell, node, target)
                if _is_grading(target, "check"):
                    _check_check_call(context, cell, node, bound_all if cell.cluster else bound_local, own_checks)
            names = bound_names(statement)
            bound_all |= names
            if not cell.cluster:
                bound_local |= names


def _check_signature(context: _Context, cell: CodeCell, call: ast.Call, target: str) -> None:
    try:
        func = _resolve(target)
        signature = inspect.signature(func)
    except Exception:  # noqa: BLE001 - missing names are reported elsewhere; builtins have no signature
        return
    splat_args = any(isinstance(arg, ast.Starred) for arg in call.args)
    splat_kwargs = any(keyword.arg is None for keyword in call.keywords)
    keywords = {keyword.arg: None for keyword in call.keywords if keyword.arg is not None}
    if splat_args or splat_kwargs:
        accepts_any = any(p.kind is inspect.Parameter.VAR_KEYWORD for p in signature.parameters.values())
        for keyword in keywords:
            parameter = signature.parameters.get(keyword)
            if not accepts_any and (parameter is None or parameter.kind is inspect.Parameter.POSITIONAL_ONLY):
                context.add(
                    cell.number, call.lineno, f"{target}() has no keyword argument {keyword!r} (signature: {signature})"
                )
        return
    try:
        signature.bind(*([None] * len(call.args)), **keywords)
    except TypeError as exc:
        context.add(cell.number, call.lineno, f"{target}() called wrongly: {exc} (signature: {signature})")


def _defined_checks(statement: ast.stmt, aliases: dict[str, str]) -> dict[str, tuple[str, ...]]:
    """A ``@lab_check("labN")`` function defined in the notebook: its name and required answers."""
    from .check_registry import canonical_lab

    if not isinstance(statement, ast.FunctionDef):
        return {}
    for decorator in statement.decorator_list:
        if not isinstance(decorator, ast.Call) or not _is_grading(
            _library_target(decorator.func, aliases) or "", "lab_check"
        ):
            continue
        if not decorator.args or not isinstance(decorator.args[0], ast.Constant):
            return {}
        name = next(
            (k.value.value for k in decorator.keywords if k.arg == "name" and isinstance(k.value, ast.Constant)),
            statement.name,
        )
        arguments = statement.args
        positional = [*arguments.posonlyargs, *arguments.args]
        required = positional[: len(positional) - len(arguments.defaults)]
        required += [arg for arg, default in zip(arguments.kwonlyargs, arguments.kw_defaults) if default is None]
        return {f"{canonical_lab(str(decorator.args[0].value))}.{name}": tuple(arg.arg for arg in required)}
    return {}


def _check_check_call(
    context: _Context, cell: CodeCell, call: ast.Call, bound: set[str], own_checks: dict[str, tuple[str, ...]]
) -> None:
    from .check_registry import canonical_lab, find_check

    if not call.args or not isinstance(call.args[0], ast.Constant) or not isinstance(call.args[0].value, str):
        context.add(cell.number, call.lineno, "check() needs the check's name as a string literal")
        return
    name = call.args[0].value
    lab, _, check_name = name.partition(".")
    required = own_checks.get(f"{canonical_lab(lab)}.{check_name}")
    if required is None:
        try:
            spec = find_check(name)
        except Exception as exc:  # noqa: BLE001 - LookupError, or a checks module that fails to import
            context.add(cell.number, call.lineno, f"check({name!r}): {exc}")
            return
        required = tuple(
            variable
            for variable, parameter in inspect.signature(spec.func).parameters.items()
            if parameter.default is inspect.Parameter.empty
        )
    given = {keyword.arg for keyword in call.keywords}
    for variable in required:
        if variable in given:
            continue
        if variable not in bound:
            where = "earlier cell" if cell.cluster else "earlier local (non-%%cluster) cell"
            context.add(cell.number, call.lineno, f"check({name!r}) grades `{variable}`, which no {where} defines")


def bound_names(tree: ast.AST) -> set[str]:
    """Names a cell binds at notebook level (assignments, imports, defs, loop and with targets)."""
    names: set[str] = set()

    def visit(node: ast.AST) -> None:
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            names.add(node.name)
            return  # their bodies have their own scope
        if isinstance(node, ast.Lambda):
            return
        if isinstance(node, (ast.ListComp, ast.SetComp, ast.DictComp, ast.GeneratorExp)):
            return
        if isinstance(node, ast.Name) and isinstance(node.ctx, ast.Store):
            names.add(node.id)
        elif isinstance(node, (ast.Import, ast.ImportFrom)):
            for alias in node.names:
                if alias.name != "*":
                    names.add(alias.asname or alias.name.split(".")[0])
        elif isinstance(node, ast.ExceptHandler) and node.name:
            names.add(node.name)
        for child in ast.iter_child_nodes(node):
            visit(child)

    visit(tree)
    return names
