"""Reading a router's config as statements, and what it takes to go from one config to another.

A *statement* is a path: the lines of the blocks it sits in, then its own line
(``("interface wan", "description Cam Khe")``). Three syntaxes cover the five platforms:

- ``tree``: indented blocks (FRR, IOS, VRP). ``!``, ``#``, ``exit``/``quit``/``end`` are layout.
- ``set``: one ``set …`` line per statement (Junos ``show configuration | display set``).
- ``routeros``: ``/path verb args`` lines (``/export terse``); present when a running line has the
  same path, verb and selector and at least the candidate's attributes (export adds defaults).

Two questions are answered: what of a *candidate* is missing from the running config (and which
running lines conflict with it, e.g. another description on the same interface), for push and
plan; and every difference between a *target* (a backup) and the running config, for revert and
rollback.
"""

from __future__ import annotations

import re
import shlex
from dataclasses import dataclass, field

from confprov.routers.platforms import Platform

Path = tuple[str, ...]
_TREE_SKIP = re.compile(r"^(!.*|#.*|end|exit|quit|return|exit-address-family|exit-vrf|exit-vnc)$")
_DESCRIPTION = re.compile(r"^description(?: |$)")


@dataclass
class Change:
    """What a push or a revert does: statements to add and to remove, in order."""

    add: list[Path] = field(default_factory=list)
    remove: list[Path] = field(default_factory=list)

    def __bool__(self) -> bool:
        return bool(self.add or self.remove)

    def lines(self) -> list[str]:
        """Added and removed statements as ``+``/``-`` lines with their blocks as context."""
        out: list[str] = []
        context: Path = ()
        for sign, paths in (("-", self.remove), ("+", self.add)):
            for path in paths:
                parents = path[:-1]
                common = 0
                while common < min(len(parents), len(context)) and (
                    parents[common] == context[common]
                ):
                    common += 1
                out.extend(
                    f"  {' ' * depth}{parents[depth]}" for depth in range(common, len(parents))
                )
                out.append(f"{sign} {' ' * len(parents)}{path[-1]}")
                context = path  # a block just added or removed is its children's context
        return out

    def text(self) -> str:
        return "\n".join(self.lines())


def leaves(paths: list[Path]) -> list[Path]:
    """``paths`` without the block headers whose lines are also listed."""
    heads = {p[:i] for p in paths for i in range(1, len(p))}
    return [p for p in paths if p not in heads]


class Dialect:
    """Parsing, comparing and command making for one platform."""

    def __init__(self, platform: Platform) -> None:
        self.platform = platform

    # -- parsing ---------------------------------------------------------------------------

    def statements(self, text: str) -> list[Path]:
        raise NotImplementedError

    def has(self, running: list[Path], path: Path) -> bool:
        return path in self._index(running)

    def _index(self, running: list[Path]) -> set[Path]:
        return set(running)

    # -- comparing -------------------------------------------------------------------------

    def conflict_key(self, path: Path) -> Path | None:
        """Statements with the same key replace each other (one description per interface)."""
        return None

    def missing(self, candidate: list[Path], running: list[Path]) -> Change:
        """What a push must do so that every candidate statement is in the running config."""
        index = self._index(running)
        add = [p for p in candidate if not self._present(index, running, p)]
        # A running statement that holds the place of a candidate one (another description on
        # the interface, another next hop for the conference network) goes.
        keys = {k for p in candidate if (k := self.conflict_key(p)) is not None}
        wanted = set(candidate)
        remove = [
            p
            for p in running
            if p not in wanted and (k := self.conflict_key(p)) is not None and k in keys
        ]
        return Change(add=add, remove=remove)

    def _present(self, index: set[Path], running: list[Path], path: Path) -> bool:
        return path in index

    def absent(self, candidate: list[Path], running: list[Path]) -> list[Path]:
        """Candidate statements not in ``running`` (a block counts through its lines)."""
        index = self._index(running)
        return leaves([p for p in candidate if not self._present(index, running, p)])

    def between(self, running: list[Path], target: list[Path]) -> Change:
        """Every difference: what turns ``running`` back into ``target`` (revert, rollback)."""
        have, want = set(running), set(target)
        return Change(
            add=[p for p in target if p not in have],
            remove=[p for p in running if p not in want],
        )

    # -- commands --------------------------------------------------------------------------

    def commands(self, change: Change) -> list[str]:
        raise NotImplementedError


class TreeDialect(Dialect):
    """Indented blocks: IOS, FRR's vtysh, Huawei VRP."""

    def statements(self, text: str) -> list[Path]:
        volatile = self.platform.volatile_re
        out: list[Path] = []
        stack: list[tuple[int, str]] = []  # (indent, line) of the open blocks
        for raw in text.splitlines():
            line = raw.rstrip()
            stripped = line.strip()
            if not stripped or _TREE_SKIP.match(stripped) or volatile.match(stripped):
                continue
            indent = len(line) - len(line.lstrip(" "))
            while stack and stack[-1][0] >= indent:
                stack.pop()
            path = (*(s for _, s in stack), stripped)
            out.append(path)
            stack.append((indent, stripped))
        return out

    def conflict_key(self, path: Path) -> Path | None:
        line = path[-1]
        if _DESCRIPTION.match(line):
            return (*path[:-1], "description")
        tokens = line.split()
        if len(tokens) >= 4 and tokens[0] == "ip" and tokens[1] in ("route", "route-static"):
            dest = tokens[2] if "/" in tokens[2] else f"{tokens[2]} {tokens[3]}"
            return (*path[:-1], "route", dest)
        return None

    def _negate(self, line: str) -> str:
        prefix = self.platform.negate
        if line.startswith(prefix):
            return line[len(prefix) :]
        if _DESCRIPTION.match(line):
            return f"{prefix}description"
        return prefix + line

    def _undeletable(self, line: str) -> bool:
        """Blocks that exist without configuration (a real interface): empty them instead."""
        return line.startswith("interface ")

    def between(self, running: list[Path], target: list[Path]) -> Change:
        have, want = set(running), set(target)
        add = [p for p in target if p not in have]
        remove: list[Path] = []
        gone: set[Path] = set()
        for path in running:
            if path in want or any(path[:i] in gone for i in range(1, len(path))):
                continue
            if any(q[: len(path)] == path and q != path for q in running) and self._undeletable(
                path[-1]
            ):
                continue  # its children are removed one by one; the block empties itself
            remove.append(path)
            gone.add(path)
        return Change(add=add, remove=remove)

    def commands(self, change: Change) -> list[str]:
        out: list[str] = []
        context: list[str] = []

        def enter(parents: Path) -> None:
            while context and tuple(context) != parents[: len(context)]:
                context.pop()
                out.append(self.platform.exit_block)
            for line in parents[len(context) :]:
                out.append(line)
                context.append(line)

        # Deepest removals first, so a block's children go before the block itself.
        for path in sorted(change.remove, key=len, reverse=True):
            enter(path[:-1])
            out.append(self._negate(path[-1]))
        for path in change.add:
            if any(path == q[: len(path)] for q in change.add if len(q) > len(path)):
                continue  # a block opened for its children: entered with them
            enter(path[:-1])
            out.append(path[-1])
        enter(())
        return out


class SetDialect(Dialect):
    """Junos ``set`` lines: one statement per line."""

    _KEYS = (re.compile(r"^(set .* description)(?: |$)"), re.compile(r"^(set .* next-hop)(?: |$)"))

    def statements(self, text: str) -> list[Path]:
        return [(line.strip(),) for line in text.splitlines() if line.strip().startswith("set ")]

    def conflict_key(self, path: Path) -> Path | None:
        for pattern in self._KEYS:
            match = pattern.match(path[0])
            if match:
                return (match.group(1),)
        return None

    def commands(self, change: Change) -> list[str]:
        out = []
        for (line,) in change.remove:
            key = self.conflict_key((line,))
            target = key[0] if key and key[0].endswith("description") else line
            out.append("delete " + target.removeprefix("set "))
        out.extend(line for (line,) in change.add)
        return out


@dataclass(frozen=True)
class _RosLine:
    path: str
    verb: str
    selector: str
    attrs: dict[str, str]


class RouterosDialect(Dialect):
    """RouterOS ``/path verb [selector] key=value`` lines, as ``/export terse`` prints them."""

    _LINE = re.compile(r"^(/[^\s]+(?: [a-z][a-z0-9-]*)*?) (add|set) ?(\[ ?find [^\]]*\])? ?(.*)$")

    def statements(self, text: str) -> list[Path]:
        out: list[Path] = []
        pending = ""
        for raw in text.splitlines():
            line = raw.rstrip()
            if line.endswith("\\"):
                pending += line[:-1].lstrip()
                continue
            line = (pending + line.lstrip()) if pending else line.strip()
            pending = ""
            if line and not line.startswith("#"):
                out.append((line,))
        return out

    def parse(self, line: str) -> _RosLine | None:
        match = self._LINE.match(line)
        if not match:
            return None
        path, verb, selector, rest = match.groups()
        attrs: dict[str, str] = {}
        for token in shlex.split(rest):
            key, _, value = token.partition("=")
            attrs[key] = value
        norm = " ".join((selector or "").replace("[", "").replace("]", "").split())
        return _RosLine(path, verb, norm, attrs)

    def _present(self, index: set[Path], running: list[Path], path: Path) -> bool:
        if path in index:
            return True
        want = self.parse(path[0])
        if want is None:
            return False
        for (line,) in running:
            have = self.parse(line)
            if (
                have is not None
                and (have.path, have.verb, have.selector) == (want.path, want.verb, want.selector)
                and all(have.attrs.get(k) == v for k, v in want.attrs.items())
            ):
                return True
        return False

    def conflict_key(self, path: Path) -> Path | None:
        parsed = self.parse(path[0])
        if parsed is not None and parsed.verb == "set" and parsed.selector:
            return (parsed.path, parsed.selector)
        return None

    def between(self, running: list[Path], target: list[Path]) -> Change:
        have, want = set(running), set(target)
        return Change(
            add=[p for p in target if p not in have],
            # A `set` line is undone by its target's `set` line (added above), not removed.
            remove=[
                p
                for p in running
                if p not in want and (parsed := self.parse(p[0])) and parsed.verb == "add"
            ],
        )

    def missing(self, candidate: list[Path], running: list[Path]) -> Change:
        change = super().missing(candidate, running)
        change.remove = []  # a `set` replaces in place: nothing to remove first
        return change

    def commands(self, change: Change) -> list[str]:
        out = []
        for (line,) in change.remove:
            parsed = self.parse(line)
            if parsed is None:
                continue
            where = " ".join(f"{k}={_ros_quote(v)}" for k, v in parsed.attrs.items())
            out.append(f"{parsed.path} remove [ find {where} ]")
        out.extend(line for (line,) in change.add)
        return out


def _ros_quote(value: str) -> str:
    return value if re.fullmatch(r"[A-Za-z0-9._/:-]+", value) else f'"{value}"'


def dialect(platform: Platform) -> Dialect:
    kinds: dict[str, type[Dialect]] = {
        "tree": TreeDialect,
        "set": SetDialect,
        "routeros": RouterosDialect,
    }
    return kinds[platform.syntax](platform)
