"""YAML loading that remembers where each key came from, so errors can name the line."""

from __future__ import annotations

from typing import Any

import yaml

# libyaml when present: the registry may hold tens of thousands of sites.
_Loader: type[yaml.SafeLoader] = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


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
    node = yaml.compose(text, Loader=_Loader)
    lines: dict[str, int] = {}
    if node is None:
        return None, lines
    return _walk(node, "", lines, _Constructor()), lines
