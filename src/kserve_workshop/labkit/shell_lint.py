"""Static checks of a notebook's shell lines (``!kubectl ...``, ``x = !kubectl ...``, ``%%bash`` cells).

A cluster cell cannot run here, so its ``kubectl`` calls are checked against what kubectl accepts
(``labkit.kubectl_reference``): the command and subcommand exist, every flag exists for that command
(or is global) and gets a value when it needs one, and every resource type named (``get pods``,
``logs deploy/x``, ``wait --for=... isvc/x``, ``get podautoscalers.autoscaling.internal.knative.dev``)
is a built-in type or one of the platform's CRDs.

IPython expands ``{expression}`` in a shell line with Python before the shell sees it (``{{`` and
``}}`` are literal braces). An expanded value is unknown here: a token holding one is not judged.
A ``{...}`` that is not a Python expression (``-o jsonpath='{.items[0]}'``) makes IPython give up
expanding the whole line, so every other ``{NAME}`` in it reaches the shell unexpanded: that is
reported too. ``expressions`` returns the line's expressions, so their names can be checked like
any other Python (``notebook_lint``).
"""

from __future__ import annotations

import re
import shlex
import string
from dataclasses import dataclass

from .kubectl_reference import KubectlReference, reference

#: Stands for one ``{expression}`` of a shell line (its value is known only when the line runs).
_PLACEHOLDER = "\x00{}\x00"
_HAS_PLACEHOLDER = re.compile("\x00\\d+\x00")
_SHELL_CELL_MAGICS = {"bash", "sh", "script"}
_SEPARATORS = {"|", "||", "&&", ";", "&"}
#: Commands whose first argument is a resource type (``TYPE``, ``TYPE,TYPE``, ``TYPE/NAME``).
_TYPE_FIRST = {
    "get",
    "describe",
    "delete",
    "edit",
    "label",
    "annotate",
    "patch",
    "scale",
    "autoscale",
    "expose",
    "wait",
    "rollout history",
    "rollout pause",
    "rollout restart",
    "rollout resume",
    "rollout status",
    "rollout undo",
    "set env",
    "set image",
    "set resources",
    "set selector",
    "set serviceaccount",
    "set subject",
    "explain",
}
#: Commands whose arguments name objects as ``TYPE/NAME`` (a plain name is a pod's, or a file).
_TYPE_SLASH = {"logs", "exec", "attach", "port-forward", "top pod", "debug", "events"}
#: Flags whose value names a resource (``TYPE/NAME`` or ``TYPE``).
_TYPE_VALUED_FLAGS = {("events", "for")}


@dataclass(frozen=True)
class ShellLine:
    """One shell line of a cell: its line number in the cell (from 1) and its text, after the ``!``."""

    line: int
    text: str
    #: IPython expands ``{...}`` in ``!`` lines, not in ``%%bash`` cells.
    expands: bool = True


def shell_lines(source: str) -> list[ShellLine]:
    """The shell commands of a cell: ``!cmd`` and ``x = !cmd`` lines, or every line of a ``%%bash`` cell."""
    lines = source.split("\n")
    if lines and lines[0].startswith("%%"):
        magic = lines[0][2:].split(" ", 1)[0]
        if magic in _SHELL_CELL_MAGICS:
            return [ShellLine(number, text, expands=False) for number, text in enumerate(lines[1:], 2) if text.strip()]
    found = []
    for number, text in enumerate(lines, 1):
        stripped = text.lstrip()
        if stripped.startswith("!"):
            found.append(ShellLine(number, stripped.lstrip("!")))
            continue
        match = re.match(r"^\s*[\w.\[\]'\", ]+?=\s*!(.*)$", text)
        if match:
            found.append(ShellLine(number, match.group(1)))
    return found


def expand(text: str) -> tuple[str, list[str], str | None]:
    """``(text with each {expression} as a placeholder, the expressions, problem or None)``.

    Mirrors IPython's expansion of shell lines: ``{{``/``}}`` are literal braces; a field that
    does not parse as Python makes IPython run the whole line as written. That is a problem only
    when the line also holds real ``{expressions}``: they then reach the shell unexpanded.
    """
    try:
        parts = list(string.Formatter().parse(text))
    except ValueError:
        return text, [], None  # IPython runs it as written
    fields = [field for _, field, _, _ in parts if field is not None]
    invalid = [field for field in fields if not _is_expression(field)]
    if invalid:
        meant = [field for field in fields if _is_expression(field) and _uses_names(field)]
        if meant:
            return (
                text,
                [],
                (
                    f"{{{invalid[0]}}} is not a Python expression, so IPython runs this line unexpanded "
                    f"and {{{meant[0]}}} is not replaced either: "
                    "write {{ and }} for the braces the command needs, e.g. -o jsonpath='{{.status.url}}'"
                ),
            )
        return text, [], None
    out, expressions = [], []
    for literal, field, _, _ in parts:
        out.append(literal)
        if field is not None:
            out.append(_PLACEHOLDER.format(len(expressions)))
            expressions.append(field)
    return "".join(out), expressions, None


def _uses_names(field: str) -> bool:
    """``{NAMESPACE}`` is meant for Python; ``{"\\n"}`` (a constant) may be meant for the command."""
    import ast

    return any(isinstance(node, ast.Name) for node in ast.walk(ast.parse(field, mode="eval")))


def _is_expression(field: str) -> bool:
    try:
        compile(field, "<shell line>", "eval")
    except SyntaxError:
        return False
    return bool(field.strip())


def expressions(text: str) -> list[str]:
    """The Python expressions IPython substitutes into a shell line (empty when it would not expand it)."""
    _, found, problem = expand(text)
    return [] if problem else found


def _commands(text: str) -> list[list[str]]:
    """The line split into simple commands at ``|``, ``&&``, ``;``..., each as its words."""
    lexer = shlex.shlex(text, posix=True, punctuation_chars=True)
    lexer.whitespace_split = True
    lexer.commenters = ""
    commands, current = [], []
    for token in lexer:
        if token in _SEPARATORS:
            commands.append(current)
            current = []
        else:
            current.append(token)
    commands.append(current)
    return [command for command in commands if command]


def check_line(text: str, ref: KubectlReference | None = None, *, expands: bool = True) -> list[str]:
    """Problems of one shell line (its kubectl commands); empty when it is fine."""
    ref = ref or reference()
    expanded, _, problem = expand(text) if expands else (text, [], None)
    if problem:
        return [problem]
    try:
        commands = _commands(expanded)
    except ValueError as exc:  # unbalanced quotes
        return [f"the shell cannot parse this line ({exc})"]
    problems = []
    for words in commands:
        program = words[0].rsplit("/", 1)[-1]
        if program == "kubectl":
            problems += check_kubectl(words[1:], ref)
    return problems


def cell_problems(source: str, ref: KubectlReference | None = None) -> list[tuple[int, str]]:
    """``(line in the cell, problem)`` for every shell line of a cell's source."""
    return [
        (shell.line, problem)
        for shell in shell_lines(source)
        for problem in check_line(shell.text, ref, expands=shell.expands)
    ]


def _unknown(token: str) -> bool:
    """A token whose value comes from a {Python expression} or a shell variable: not judged."""
    return bool(_HAS_PLACEHOLDER.search(token)) or "$" in token


def check_kubectl(args: list[str], ref: KubectlReference) -> list[str]:
    """Problems of one ``kubectl ARGS`` command line (the words after ``kubectl``)."""
    problems: list[str] = []
    path = ""  # the command path resolved so far ("", "get", "rollout status")
    positionals: list[str] = []
    index = 0
    while index < len(args):
        token = args[index]
        index += 1
        if token == "--":
            break  # what follows goes to the container (exec) or the plugin
        if token.startswith("--"):
            name, has_value, value = token[2:].partition("=")
            if _unknown(name):
                continue
            flag = ref.flag(path, name)
            if flag is None:
                problems.append(
                    f"kubectl {path or '(global)'}: no flag --{name}" + _suggest(name, _flag_names(ref, path))
                )
                continue
            if flag["value"] and not has_value:
                if index >= len(args):
                    problems.append(f"kubectl {path}: --{name} needs a value")
                    continue
                value, index = args[index], index + 1
            if (path, name) in _TYPE_VALUED_FLAGS and value:
                problems += _check_type_argument(value.split("/", 1)[0], ref, path)
            continue
        if token.startswith("-") and len(token) > 1:
            index = _short_flags(token, args, index, path, ref, problems)
            continue
        if not path or ref.subcommands(path) and not positionals:
            if _unknown(token):
                positionals.append(token)
                continue
            candidates = ref.subcommands(path) if path else ref.top_level()
            named = ref.command_named(path, token)
            if named is not None:
                path = named
                continue
            where = f"kubectl {path}" if path else "kubectl"
            problems.append(f"{where}: no command {token!r}" + _suggest(token, candidates))
            return problems
        positionals.append(token)
    if path:
        problems += _check_types(path, positionals, ref)
    return problems


def _short_flags(token: str, args: list[str], index: int, path: str, ref: KubectlReference, problems: list[str]) -> int:
    """Read ``-n ns``, ``-ojson``, ``-n=ns`` or ``-it``; returns the index of the next token."""
    letters = token[1:]
    for position, letter in enumerate(letters):
        if _unknown(letter):
            return index
        found = ref.short_flag(path, letter)
        if found is None:
            problems.append(f"kubectl {path or '(global)'}: no flag -{letter}")
            return index
        if found[1]["value"]:
            if letters[position + 1 :].removeprefix("="):
                return index  # the value is attached: -ojson, -n=ns
            if index >= len(args):
                problems.append(f"kubectl {path}: -{letter} needs a value")
            return index + 1
    return index


def _check_types(path: str, positionals: list[str], ref: KubectlReference) -> list[str]:
    problems = []
    if path in _TYPE_FIRST and positionals:
        first, rest = positionals[0], positionals[1:]
        if path == "explain":
            problems += _check_type_argument(first.split(".", 1)[0], ref, path)
        else:
            for item in first.split(","):
                problems += _check_type_argument(item.split("/", 1)[0], ref, path)
        positionals = [item for item in rest if "/" in item and "=" not in item]
    elif path in _TYPE_SLASH:
        positionals = [item for item in positionals if "/" in item and not item.startswith((".", "/"))]
    else:
        return problems
    for item in positionals:
        problems += _check_type_argument(item.split("/", 1)[0], ref, path)
    return problems


def _check_type_argument(spelled: str, ref: KubectlReference, path: str) -> list[str]:
    if not spelled or _unknown(spelled) or spelled.lower() in ref.categories:
        return []
    if ref.resource(spelled):
        return []
    known = sorted({s for r in ref.types for s in r.spellings()})
    return [f"kubectl {path}: no resource type {spelled!r}" + _suggest(spelled.split(".", 1)[0].lower(), known)]


def _flag_names(ref: KubectlReference, path: str) -> list[str]:
    names = set(ref.global_flags)
    words = path.split()
    for end in range(1, len(words) + 1):
        names |= set(ref.commands.get(" ".join(words[:end]), {}).get("flags", {}))
    return sorted(names)


def _suggest(word: str, candidates: list[str]) -> str:
    import difflib

    close = difflib.get_close_matches(word, candidates, n=1)
    return f" (did you mean {close[0]!r}?)" if close else ""
