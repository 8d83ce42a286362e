"""YAML loading that remembers where each key came from, so errors can name the line, and that is
bounded: every YAML confprov reads (confprov.yml, sites.yml, the decrypted vault, profiles) goes
through here.

Bounded means: a document whose aliases would expand past a limit ("billion laughs") or refer to
themselves is refused before anything is built, in time linear in the document's size; a key
must be a scalar; a tag must be one of YAML's plain types (an ``!!python/…``, ``!!set`` or
``!vault`` tag is refused, never interpreted). The refusals are ``yaml.YAMLError`` subclasses with
a mark, so every caller's "not valid YAML" handling names the line.
"""

from __future__ import annotations

from typing import Any

import yaml

from confprov.exceptions import Problem

# libyaml when present: the registry may hold tens of thousands of sites.
_Loader: type[yaml.SafeLoader] = getattr(yaml, "CSafeLoader", yaml.SafeLoader)

# The plain types YAML's core schema resolves by itself; anything else is an explicit tag.
_TAG = "tag:yaml.org,2002:"
ALLOWED_TAGS = frozenset(
    _TAG + name for name in ("str", "int", "float", "bool", "null", "timestamp", "map", "seq")
)
# A document may expand (aliases followed) to at most this many nodes beyond ten times its own
# size: a 20,000-site registry has under a million nodes and no aliases; a billion laughs has
# a few dozen nodes and expands to billions.
EXPANSION_FLOOR = 100_000
EXPANSION_FACTOR = 10
MAX_DEPTH = 100


class YAMLBoundsError(yaml.MarkedYAMLError):
    """A document refused for its shape (aliases, keys, tags, depth), not its syntax."""

    def __init__(self, message: str, node: yaml.Node) -> None:
        super().__init__(problem=message, problem_mark=node.start_mark)

    def __str__(self) -> str:
        mark = self.problem_mark
        where = f" (line {mark.line + 1}, column {mark.column + 1})" if mark is not None else ""
        return f"{self.problem}{where}"


def _children(node: yaml.Node) -> list[yaml.Node]:
    if isinstance(node, yaml.MappingNode):
        return [n for pair in node.value for n in pair]
    if isinstance(node, yaml.SequenceNode):
        return list(node.value)
    return []


def _check_node(node: yaml.Node, depth: int) -> None:
    """The checks of one node on its own: depth, tag, plain keys."""
    if depth > MAX_DEPTH:
        raise YAMLBoundsError(f"nested deeper than {MAX_DEPTH} levels", node)
    if node.tag == _TAG + "merge":
        raise YAMLBoundsError("merge keys (<<) are not supported: write the keys out", node)
    if node.tag not in ALLOWED_TAGS:
        raise YAMLBoundsError(
            f"tag {node.tag!r} is not allowed (plain strings, numbers, lists and mappings)",
            node,
        )
    if isinstance(node, yaml.MappingNode):
        for key_node, _ in node.value:
            if not isinstance(key_node, yaml.ScalarNode):
                raise YAMLBoundsError(
                    "a key must be a plain value, not a list or mapping", key_node
                )


def check_bounds(root: yaml.Node) -> None:
    """Refuse recursive aliases, too large an expansion, non-scalar keys and unknown tags.

    One pass over the distinct nodes (an alias is the same node object reached twice): the
    expanded size of each node is computed once and memoised, so a billion laughs is measured,
    not expanded. Iterative, so a deeply nested document cannot exhaust Python's stack.
    """
    size: dict[int, int] = {}
    on_path: set[int] = set()
    stack: list[tuple[yaml.Node, int, bool]] = [(root, 0, False)]
    distinct = 0
    while stack:
        node, depth, done = stack.pop()
        key = id(node)
        if done:
            on_path.discard(key)
            size[key] = 1 + sum(size[id(child)] for child in _children(node))
            continue
        if key in size:
            continue
        if key in on_path:
            raise YAMLBoundsError("recursive alias: an anchor used inside itself", node)
        _check_node(node, depth)
        distinct += 1
        on_path.add(key)
        stack.append((node, depth, True))
        for child in _children(node):
            if id(child) in on_path:
                raise YAMLBoundsError("recursive alias: an anchor used inside itself", child)
            if id(child) not in size:
                stack.append((child, depth + 1, False))
    limit = EXPANSION_FLOOR + EXPANSION_FACTOR * distinct
    if size[id(root)] > limit:
        raise YAMLBoundsError(
            f"aliases expand to {size[id(root)]:,} values (limit {limit:,}): "
            "write the values out instead of repeating an anchor",
            root,
        )


def compose(text: str) -> yaml.Node | None:
    """The node graph of one document, checked by :func:`check_bounds`."""
    try:
        node = yaml.compose(text, Loader=_Loader)
    except RecursionError:
        raise YAMLBoundsError(
            f"nested deeper than {MAX_DEPTH} levels", yaml.ScalarNode(_TAG + "str", "")
        ) from None
    if node is not None:
        check_bounds(node)
    return node


class _Constructor(yaml.constructor.SafeConstructor):
    """Builds scalars only; mappings and sequences are walked by hand to keep their lines."""


def _walk(node: yaml.Node, prefix: str, lines: dict[str, int], ctor: _Constructor) -> Any:
    if isinstance(node, yaml.MappingNode):
        out: dict[Any, Any] = {}
        for key_node, value_node in node.value:
            key = ctor.construct_object(key_node)
            name = f"{prefix}.{key}" if prefix else str(key)
            lines[name] = key_node.start_mark.line + 1
            out[key] = _walk(value_node, name, lines, ctor)
        return out
    if isinstance(node, yaml.SequenceNode):
        items = []
        for index, item in enumerate(node.value):
            name = f"{prefix}[{index}]"
            lines[name] = item.start_mark.line + 1
            items.append(_walk(item, name, lines, ctor))
        return items
    return ctor.construct_object(node)


def load_with_lines(text: str) -> tuple[Any, dict[str, int]]:
    """Load one YAML document; also return ``{dotted.key: line}`` (1-based) for every key.

    Sequence items are keyed ``name[index]``, so ``sites[3].level`` is the line of the fourth
    site's ``level`` key.
    """
    node = compose(text)
    lines: dict[str, int] = {}
    if node is None:
        return None, lines
    return _walk(node, "", lines, _Constructor()), lines


def invalid(exc: yaml.YAMLError, path: str) -> Problem:
    """The one "not valid YAML" problem of ``path``, at the line YAML's mark names."""
    mark = getattr(exc, "problem_mark", None)
    line = mark.line + 1 if mark is not None else None
    return Problem(path, line, None, f"not valid YAML: {exc}")


def safe_load(text: str) -> Any:
    """``yaml.safe_load`` with the same bounds (for YAML whose lines nobody needs)."""
    data, _ = load_with_lines(text)
    return data
