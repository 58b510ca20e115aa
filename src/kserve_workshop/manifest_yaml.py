"""Reading Kubernetes YAML as strictly as the API server's clients do.

PyYAML's ``safe_load`` differs from kubectl in two ways that hide mistakes or hang a tool:

* a key written twice in one mapping is merged silently (the last one wins), so a second
  ``predictor:`` drops the model written under the first; kubectl refuses it ("mapping key
  already defined"). Here it is a ``ManifestYAMLError`` naming the key and both lines.
* aliases are expanded without limit by whatever walks the result: a few hundred bytes of nested
  aliases ("billion laughs") become billions of nodes. go-yaml, which kubectl uses, refuses
  excessive aliasing; here a document whose expanded size exceeds ``MAX_EXPANDED_NODES`` is
  refused before anything walks it (the check is linear in the document's size).
"""

from __future__ import annotations

from typing import Any

import yaml

#: Nodes a document may hold once its aliases are expanded (the pinned KServe CRD has ~30,000).
MAX_EXPANDED_NODES = 1_000_000
#: Characters of YAML read at most (a manifest is kilobytes; KServe's whole CRD is ~1.5 MB).
MAX_CHARACTERS = 20_000_000


class ManifestYAMLError(yaml.YAMLError):
    """YAML that parses but that kubectl would refuse (or that would expand without bound)."""


class _StrictLoader(yaml.SafeLoader):
    """SafeLoader that refuses duplicate keys and excessive alias expansion, per document."""

    def compose_document(self):
        node = super().compose_document()
        _check_node(node)
        return node


def _check_node(root: yaml.Node) -> None:
    """Duplicate keys anywhere in the document; expanded size, counted once per distinct node."""
    sizes: dict[int, int] = {}
    open_nodes: set[int] = set()  # entered, children not summed yet: meeting one again is a cycle
    stack: list[tuple[yaml.Node, bool]] = [(root, False)]
    while stack:
        node, children_done = stack.pop()
        if id(node) in sizes:
            continue
        if isinstance(node, yaml.ScalarNode):
            sizes[id(node)] = 1
            continue
        children = _children(node)
        if not children_done:
            if id(node) in open_nodes:
                raise ManifestYAMLError(
                    f"line {node.start_mark.line + 1}: an alias refers to a node that "
                    "contains it (a recursive structure): refused"
                )
            open_nodes.add(id(node))
            if isinstance(node, yaml.MappingNode):
                _check_duplicate_keys(node)
            stack.append((node, True))
            stack.extend((child, False) for child in children if id(child) not in sizes)
            continue
        size = 1 + sum(sizes.get(id(child), 1) for child in children)
        if size > MAX_EXPANDED_NODES:
            mark = node.start_mark
            raise ManifestYAMLError(
                f"line {mark.line + 1}: the aliases (*name) in this document expand to more than "
                f"{MAX_EXPANDED_NODES:,} values: refused (kubectl refuses excessive aliasing too)"
            )
        sizes[id(node)] = size
        open_nodes.discard(id(node))


def _children(node: yaml.Node) -> list[yaml.Node]:
    if isinstance(node, yaml.MappingNode):
        return [part for pair in node.value for part in pair]
    if isinstance(node, yaml.SequenceNode):
        return list(node.value)
    return []


def _check_duplicate_keys(node: yaml.MappingNode) -> None:
    seen: dict[tuple[str, str], yaml.Node] = {}
    for key, _value in node.value:
        if not isinstance(key, yaml.ScalarNode) or key.tag == "tag:yaml.org,2002:merge":
            continue
        first = seen.setdefault((key.tag, key.value), key)
        if first is not key:
            raise ManifestYAMLError(
                f"line {key.start_mark.line + 1}: mapping key {key.value!r} is already defined at line "
                f"{first.start_mark.line + 1} (kubectl refuses duplicate keys; the second would replace the first)"
            )


def load_all(text: str) -> list[Any]:
    """Every document of ``text`` (``None`` for empty ones), strictly; ``yaml.YAMLError`` when refused."""
    _check_size(text)
    try:
        return list(yaml.load_all(text, Loader=_StrictLoader))
    except RecursionError:
        raise _too_deep() from None


def load(text: str) -> Any:
    """The one document of ``text``, strictly (see ``load_all``)."""
    _check_size(text)
    try:
        return yaml.load(text, Loader=_StrictLoader)
    except RecursionError:
        raise _too_deep() from None


def _check_size(text: str) -> None:
    if len(text) > MAX_CHARACTERS:
        raise ManifestYAMLError(
            f"{len(text):,} characters of YAML: too large for a manifest (the limit is {MAX_CHARACTERS:,})"
        )


def _too_deep() -> ManifestYAMLError:
    # PyYAML composes nested collections recursively: a few thousand levels ('[[[[...') exhaust
    # Python's stack. Real manifests nest a few dozen levels.
    return ManifestYAMLError("collections nested too deeply (hundreds of levels): refused, this is not a manifest")
