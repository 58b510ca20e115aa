"""What kubectl accepts, without a kubectl: its commands, their flags, and the resource types the labs meet.

The notebooks' cluster cells run ``!kubectl ...``; the static checks (``labkit.shell_lint``) reject a
subcommand, flag or resource type that does not exist, where no cluster and maybe no kubectl binary
are at hand. They read ``kubectl_reference.json`` beside this module, which
``scripts/kubectl_reference.py`` generates:

* commands and flags from a real kubectl binary (``kubectl --help``, ``kubectl options`` and
  ``kubectl <command> --help`` for every command and subcommand; the file records the version);
* resource types (plural, singular, short names, kind, group, categories) from Kubernetes' discovery
  documents for the built-in kinds and from the CustomResourceDefinitions of the platform the labs
  install (KServe, Knative Serving, the Prometheus operator), at the pinned versions.

``collect_commands`` is also what the tests run against a kubectl binary, to compare with the file.
"""

from __future__ import annotations

import json
import re
import subprocess
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Callable, Iterable, Mapping

DATA_FILE = Path(__file__).with_name("kubectl_reference.json")

#: ``    -A, --all-namespaces=false:`` (an option line of kubectl's help).
_OPTION = re.compile(r"^\s{2,}(?:-(?P<short>\w), )?--(?P<long>[\w-]+)=(?P<default>.*):$")
#: ``  get             Display one or many resources`` (a command line of a command listing).
_COMMAND = re.compile(r"^  (?P<name>[a-z][a-z0-9-]*)\s{2,}\S")
_BOOL_DEFAULTS = {"true", "false"}


# ------------------------------------------------------------------------------ help parsing


def parse_options(help_text: str) -> dict[str, dict]:
    """The flags an ``Options:`` section (or ``kubectl options``) lists:
    ``{"all-namespaces": {"short": "A", "value": False}}``. ``value`` is whether the flag takes a
    value (a boolean flag's default is ``true`` or ``false``; any other flag's is quoted, a list, a
    number or a duration)."""
    flags = {}
    for line in help_text.splitlines():
        match = _OPTION.match(line)
        if match:
            flags[match["long"]] = {"short": match["short"], "value": match["default"] not in _BOOL_DEFAULTS}
    return flags


def options_section(help_text: str) -> str:
    """The text of the ``Options:`` section of one command's help (empty when it has none)."""
    lines, inside = [], False
    for line in help_text.splitlines():
        if line.rstrip() == "Options:":
            inside = True
            continue
        if inside and line and not line[0].isspace():
            break  # the next section (Usage:)
        if inside:
            lines.append(line)
    return "\n".join(lines)


def parse_subcommands(help_text: str, *, top_level: bool = False) -> list[str]:
    """The commands a help text lists: under ``Available Commands:``, or, for ``kubectl --help``
    itself (``top_level``), under every command group heading before ``Usage:``."""
    names, inside = [], False
    for line in help_text.splitlines():
        if line.startswith("Usage:"):
            break
        if line.rstrip().endswith(":") and not line.startswith(" "):
            inside = top_level or line.rstrip() == "Available Commands:"
            continue
        match = _COMMAND.match(line) if inside else None
        if match:
            names.append(match["name"])
    return names


def parse_aliases(help_text: str) -> list[str]:
    """The other names a command answers to: its help's ``Aliases:`` line (``pod, pods, po`` for
    ``kubectl top pod``), without the command's own name, which comes first."""
    lines = help_text.splitlines()
    for index, line in enumerate(lines[:-1]):
        if line.rstrip() == "Aliases:":
            names = [name.strip() for name in lines[index + 1].split(",") if name.strip()]
            return names[1:]
    return []


# ------------------------------------------------------------------------- asking a kubectl

Runner = Callable[[list[str]], str]


def run_kubectl(kubectl: str) -> Runner:
    """``argv -> help text`` for a kubectl binary (no cluster needed: only --help and options)."""

    def run(args: list[str]) -> str:
        done = subprocess.run(
            [kubectl, *args],
            capture_output=True,
            text=True,
            timeout=30,
            check=False,
            env={"PATH": "/usr/bin:/bin", "HOME": "/nonexistent", "KUBECONFIG": "/dev/null"},
        )
        if done.returncode != 0:
            raise RuntimeError(f"{kubectl} {' '.join(args)} failed ({done.returncode}): {done.stderr.strip()}")
        return done.stdout

    return run


def kubectl_version(kubectl: str) -> str:
    """``v1.34.0``: the client version of a kubectl binary."""
    out = run_kubectl(kubectl)(["version", "--client", "-o", "json"])
    return json.loads(out)["clientVersion"]["gitVersion"]


def collect_commands(run: Runner) -> dict:
    """``{"global_flags": {...}, "commands": {"get": {...}, "config view": {...}}}`` from a kubectl's help.

    Each command holds its own flags (``Options:``) and its subcommands; commands are keyed by
    their path (``"rollout status"``). The help of ``completion`` and ``help`` adds nothing.
    """
    global_flags = parse_options(run(["options"]))
    commands: dict[str, dict] = {}
    pending = [[name] for name in parse_subcommands(run(["--help"]), top_level=True)]
    while pending:
        path = pending.pop(0)
        text = run([*path, "--help"])
        subcommands = parse_subcommands(text)
        commands[" ".join(path)] = {
            "aliases": parse_aliases(text),
            "flags": parse_options(options_section(text)),
            "subcommands": subcommands,
        }
        pending += [[*path, name] for name in subcommands]
    return {"global_flags": global_flags, "commands": dict(sorted(commands.items()))}


# ---------------------------------------------------------------------------- resource types


def resources_from_api_resources(
    text: str, source: str, *, keep: Callable[[str, str], bool] | None = None
) -> list[dict]:
    """Resource types from ``kubectl api-resources`` output (NAME SHORTNAMES APIVERSION NAMESPACED
    KIND; ``-`` for no short names); ``keep(group, kind)`` filters them (e.g. the kinds of one
    Kubernetes version)."""
    found = []
    for line in text.splitlines():
        parts = line.split()
        if not parts or parts[0] == "NAME" or line.lstrip().startswith("#"):
            continue
        if len(parts) == 4:  # no SHORTNAMES column value
            parts.insert(1, "-")
        name, short, api_version, _namespaced, kind = parts[:5]
        group = api_version.rpartition("/")[0]
        if keep is not None and not keep(group, kind):
            continue
        found.append(
            {
                "name": name,
                "singular": kind.lower(),
                "short": [] if short == "-" else short.split(","),
                "kind": kind,
                "group": group,
                "categories": [],
                "source": source,
            }
        )
    return found


def resources_from_crds(documents: Iterable[Mapping], source: str) -> list[dict]:
    """Resource types of the CustomResourceDefinitions among ``documents`` (parsed YAML)."""
    found = []
    for document in documents:
        if not isinstance(document, Mapping) or document.get("kind") != "CustomResourceDefinition":
            continue
        spec = document.get("spec") or {}
        names = spec.get("names") or {}
        found.append(
            {
                "name": names["plural"],
                "singular": names.get("singular") or names["kind"].lower(),
                "short": list(names.get("shortNames") or []),
                "kind": names["kind"],
                "group": spec["group"],
                "categories": list(names.get("categories") or []),
                "source": source,
            }
        )
    return found


# ------------------------------------------------------------------------------ the reference


@dataclass(frozen=True)
class ResourceType:
    name: str
    singular: str
    short: tuple[str, ...]
    kind: str
    group: str

    def spellings(self) -> set[str]:
        """Every way kubectl accepts to name this type (case-insensitive)."""
        return {self.name, self.singular, self.kind.lower(), *self.short}


class KubectlReference:
    """The data file, asked the questions the shell-cell checks need."""

    def __init__(self, data: Mapping):
        self.data = data
        self.version: str = data["kubectl"]["version"]
        self.global_flags: dict[str, dict] = data["global_flags"]
        self.commands: dict[str, dict] = data["commands"]
        self.types = [
            ResourceType(r["name"], r["singular"], tuple(r["short"]), r["kind"], r["group"])
            for r in data["resources"]["types"]
        ]
        self.categories = {category for r in data["resources"]["types"] for category in r["categories"]}
        self._by_spelling: dict[str, list[ResourceType]] = {}
        for resource in self.types:
            for spelling in resource.spellings():
                self._by_spelling.setdefault(spelling, []).append(resource)

    def top_level(self) -> list[str]:
        return sorted(path for path in self.commands if " " not in path)

    def subcommands(self, path: str) -> list[str]:
        return list(self.commands[path]["subcommands"])

    def command_named(self, path: str, word: str) -> str | None:
        """The command ``word`` names under ``path`` (``""`` for the top level): its own name or one
        of its aliases (``kubectl top pods`` is ``top pod``). None when there is no such command."""
        for name in self.subcommands(path) if path else self.top_level():
            full = f"{path} {name}".strip()
            if word == name or word in self.commands[full].get("aliases", ()):
                return full
        return None

    def flag(self, path: str, name: str) -> dict | None:
        """The flag ``--name`` as ``path`` (a command path such as ``"rollout status"``) accepts it:
        its own, a parent command's, or a global one."""
        return self._find(path, lambda flags: flags.get(name))

    def short_flag(self, path: str, letter: str) -> tuple[str, dict] | None:
        """``(long name, flag)`` of ``-letter`` for ``path``."""

        def lookup(flags: Mapping[str, dict]):
            return next(((long, flag) for long, flag in flags.items() if flag["short"] == letter), None)

        return self._find(path, lookup)

    def _find(self, path: str, lookup):
        words = path.split()
        for end in range(len(words), 0, -1):
            found = lookup(self.commands.get(" ".join(words[:end]), {}).get("flags", {}))
            if found:
                return found
        return lookup(self.global_flags)

    def resource(self, spelled: str) -> list[ResourceType]:
        """The resource types ``spelled`` names: a plural, singular, short name or kind, optionally
        qualified ``NAME.GROUP`` or ``NAME.VERSION.GROUP`` (``deployments.apps``,
        ``podautoscalers.v1alpha1.autoscaling.internal.knative.dev``). Empty when none."""
        spelled = spelled.lower()
        name, _, qualifier = spelled.partition(".")
        matches = self._by_spelling.get(name, [])
        if not qualifier:
            return matches
        return [
            r
            for r in matches
            if qualifier == r.group
            or qualifier.partition(".")[2] == r.group
            or (not r.group and re.fullmatch(r"v\d+\w*", qualifier))
        ]


@lru_cache(maxsize=1)
def reference() -> KubectlReference:
    """The committed reference (``kubectl_reference.json``)."""
    return KubectlReference(json.loads(DATA_FILE.read_text()))


# ------------------------------------------------------------------------------ the data file


def build_reference(
    commands: Mapping, version: str, pinned: str, resources: Iterable[Mapping], sources: Iterable[str]
) -> dict:
    """The data file's content: a kubectl's commands (``collect_commands``), its version, the pinned
    version it stands for, and the resource types with the sources they were read from."""
    types = sorted(resources, key=lambda r: (r["group"], r["name"]))
    return {
        "kubectl": {
            "version": version,
            "pinned": pinned,
            "generated_by": "scripts/kubectl_reference.py (kubectl --help, kubectl options, kubectl <command> --help)",
        },
        "global_flags": dict(commands["global_flags"]),
        "commands": dict(commands["commands"]),
        "resources": {"sources": sorted(set(sources)), "types": types},
    }


def dump_reference(data: Mapping) -> str:
    """The data file's text: stable order, one command or resource type per line (readable diffs)."""

    def one(value) -> str:
        return json.dumps(value, sort_keys=True, ensure_ascii=False)

    lines = [
        "{",
        f' "kubectl": {one(data["kubectl"])},',
        f' "global_flags": {one(data["global_flags"])},',
        ' "commands": {',
    ]
    commands = sorted(data["commands"].items())
    lines += [
        f"  {one(path)}: {one(body)}{',' if i < len(commands) - 1 else ''}" for i, (path, body) in enumerate(commands)
    ]
    lines += [" },", ' "resources": {', f'  "sources": {one(data["resources"]["sources"])},', '  "types": [']
    types = data["resources"]["types"]
    lines += [f"   {one(entry)}{',' if i < len(types) - 1 else ''}" for i, entry in enumerate(types)]
    lines += ["  ]", " }", "}"]
    return "\n".join(lines) + "\n"
