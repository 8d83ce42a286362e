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
from collections.abc import Callable
from dataclasses import dataclass, field

from confprov.routers.platforms import Platform

LinePath = tuple[str, ...]  # a config line with the block lines above it, outermost first
_TREE_SKIP = re.compile(r"^(!.*|#.*|end|exit|quit|return|exit-address-family|exit-vrf|exit-vnc)$")
_DESCRIPTION = re.compile(r"^description(?: |$)")


@dataclass
class Change:
    """What a push or a revert does: statements to add and to remove, in order.

    ``notes`` are what a plan must say it leaves alone (another team's filter on the interface,
    a floating static route); ``skip`` are candidate statements not pushed because of them (a
    check does not require them either).
    """

    add: list[LinePath] = field(default_factory=list)
    remove: list[LinePath] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    skip: list[LinePath] = field(default_factory=list)

    def __bool__(self) -> bool:
        return bool(self.add or self.remove)

    def lines(self) -> list[str]:
        """Added and removed statements as ``+``/``-`` lines with their blocks as context."""
        out: list[str] = []
        context: LinePath = ()
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
        out.extend(f"= not touched: {note}" for note in self.notes)
        return out

    def text(self) -> str:
        return "\n".join(self.lines())


def leaves(paths: list[LinePath]) -> list[LinePath]:
    """``paths`` without the block headers whose lines are also listed."""
    heads = {p[:i] for p in paths for i in range(1, len(p))}
    return [p for p in paths if p not in heads]


OWN = "CONFPROV-"  # the prefix of every object confprov names (ACLs, classes, policies, filters)
_IPV4 = re.compile(r"^\d{1,3}(?:\.\d{1,3}){3}$")
_ROUTE_STATIC = ["ip", "route-static"]
_ZERO = "0.0.0.0"  # noqa: S104 - a wildcard of a single host, not a bind address
_ALL = "255.255.255.255"
# Port names IOS and VRP print instead of a number (the ones a conference port could hit).
_PORT_NAMES = {
    "bootpc": "68",
    "bootps": "67",
    "domain": "53",
    "isakmp": "500",
    "ntp": "123",
    "snmp": "161",
    "syslog": "514",
    "tftp": "69",
    "www": "80",
}


def _ports(tokens: list[str]) -> list[str]:
    """Port names as numbers: ``eq www`` and ``eq 80`` are one statement."""
    out = list(tokens)
    for i, tok in enumerate(tokens):
        if tok in ("eq", "neq", "lt", "gt", "range"):
            for j in (i + 1, i + 2) if tok == "range" else (i + 1,):
                if j < len(out):
                    out[j] = _PORT_NAMES.get(out[j], out[j])
    return out


class Dialect:
    """Parsing, comparing and command making for one platform.

    The same statement is printed differently by different versions of one platform (IOS-XE
    numbers ACL entries, VRP prints a host's wildcard as ``0``, Junos has a hierarchical and a
    ``set`` display): :meth:`statements` returns each in one canonical form, so a candidate and
    a running config compare equal whatever the version, and keeps the device's own text of each
    (``raw``) for the commands that remove or re-enter it.
    """

    def __init__(self, platform: Platform) -> None:
        self.platform = platform
        self.raw: dict[LinePath, str] = {}  # canonical statement → the line as last parsed

    # -- parsing ---------------------------------------------------------------------------

    def statements(self, text: str) -> list[LinePath]:
        raise NotImplementedError

    def has(self, running: list[LinePath], path: LinePath) -> bool:
        return self._present(self._index(running), running, path)

    def _index(self, running: list[LinePath]) -> set[LinePath]:
        return set(running)

    def show(self, path: LinePath) -> str:
        return " / ".join(self.raw.get(path[: i + 1], path[i]) for i in range(len(path)))

    # -- ownership ---------------------------------------------------------------------------

    def owned(self, path: LinePath) -> bool:
        """Is this statement inside (or naming) one of confprov's own objects?"""
        return any(OWN in line for line in path)

    def conflict_key(self, path: LinePath) -> LinePath | None:
        """Statements with the same key replace each other (one description per interface)."""
        return None

    def slot_key(self, path: LinePath) -> LinePath | None:
        """A place that holds one statement, where another team's holder must be left alone
        (the interface's one output policy): confprov's statement is then not pushed."""
        return None

    def stale(self, candidate: list[LinePath], running: list[LinePath]) -> list[LinePath]:
        """Running statements inside confprov's own objects that the candidate no longer has."""
        return []

    def keep_notes(self, candidate: list[LinePath], running: list[LinePath]) -> list[str]:
        """What the plan should say it leaves alone though it looks related (floating routes)."""
        return []

    # -- comparing -------------------------------------------------------------------------

    def missing(self, candidate: list[LinePath], running: list[LinePath]) -> Change:
        """What a push must do so that every candidate statement is in the running config."""
        change = Change()
        held: dict[LinePath, LinePath] = {}
        for p in running:
            slot = self.slot_key(p)
            if slot is not None and not self.owned(p):
                held[slot] = p
        wanted: list[LinePath] = []
        for p in candidate:
            slot = self.slot_key(p)
            if slot is not None and slot in held and held[slot] != p:
                change.skip.append(p)
                change.notes.append(
                    f"{self.show(held[slot])} is not confprov's and holds the place of "
                    f"{p[-1]!r}: not pushed (attach it by hand if the site agrees)"
                )
            else:
                wanted.append(p)
        index = self._index(running)
        change.add = self.order_add([p for p in wanted if not self._present(index, running, p)])
        # A running statement that holds the place of a candidate one (another description on
        # the interface, another next hop for the conference network) goes.
        keys = {k for p in wanted if (k := self.conflict_key(p)) is not None}
        want = set(wanted)
        remove = [
            p
            for p in running
            if p not in want and (k := self.conflict_key(p)) is not None and k in keys
        ]
        remove += [p for p in self.stale(wanted, running) if p not in remove]
        change.remove = self.order_remove(remove)
        change.notes += self.keep_notes(wanted, running)
        return change

    def _present(self, index: set[LinePath], running: list[LinePath], path: LinePath) -> bool:
        return path in index

    def absent(self, candidate: list[LinePath], running: list[LinePath]) -> list[LinePath]:
        """Candidate statements not in ``running`` (a block counts through its lines), and
        stale statements still inside confprov's own objects (marked ``stale``)."""
        plan = self.missing(candidate, running)
        skip = set(plan.skip)
        index = self._index(running)
        gone = leaves(
            [p for p in candidate if p not in skip and not self._present(index, running, p)]
        )
        return gone + [(*p[:-1], f"stale: {p[-1]}") for p in self.stale(candidate, running)]

    def between(self, running: list[LinePath], target: list[LinePath]) -> Change:
        """Every difference: what turns ``running`` back into ``target`` (revert, rollback)."""
        have, want = set(running), set(target)
        return Change(
            add=self.order_add([p for p in target if p not in have]),
            remove=self.order_remove([p for p in running if p not in want]),
        )

    def order_add(self, paths: list[LinePath]) -> list[LinePath]:
        return paths

    def ordered(self, path: LinePath) -> bool:
        """Does this statement act by its place among its kind (a firewall rule, an ACL entry
        without a sequence number)? Call right after parsing its text (``raw`` tells)."""
        return False

    def touches(self, done: LinePath, other: LinePath) -> bool:
        """Does ``other`` (a line a revert would add or remove) concern ``done`` (a line a push
        added or removed): the same statement, one of its blocks or one of its children."""
        return other[: len(done)] == done or done[: len(other)] == other

    def order_remove(self, paths: list[LinePath]) -> list[LinePath]:
        return paths

    # -- commands --------------------------------------------------------------------------

    def commands(self, change: Change) -> list[str]:
        raise NotImplementedError


class TreeDialect(Dialect):
    """Indented blocks: IOS, FRR's vtysh, Huawei VRP."""

    # Dependency classes of top-level blocks: a policy uses classes, a class uses ACLs. Added in
    # that order bottom-up, removed top-down (IOS and VRP refuse to delete what is in use).
    _POLICY: re.Pattern[str] | None = None
    _CLASS: re.Pattern[str] | None = None
    _ACL: re.Pattern[str] | None = None

    def statements(self, text: str) -> list[LinePath]:
        volatile = self.platform.volatile_re
        out: list[LinePath] = []
        stack: list[tuple[int, str]] = []  # (indent, canonical line) of the open blocks
        for raw in text.splitlines():
            line = raw.rstrip()
            stripped = line.strip()
            if stripped in ("!", "#") and line == stripped:
                stack = []  # a separator in column 0 ends every block (VRP then prints some
                continue  # global commands indented: `#` / ` sysname R1`)
            if not stripped or _TREE_SKIP.match(stripped) or volatile.match(stripped):
                continue
            indent = len(line) - len(line.lstrip(" "))
            while stack and stack[-1][0] >= indent:
                stack.pop()
            parents = tuple(s for _, s in stack)
            canon = self.canonical(parents, stripped)
            path = (*parents, canon)
            self.raw[path] = stripped
            out.append(path)
            stack.append((indent, canon))
        return out

    def canonical(self, parents: LinePath, line: str) -> str:
        """One form for a statement whatever version printed it (see the subclasses)."""
        return line

    def conflict_key(self, path: LinePath) -> LinePath | None:
        line = path[-1]
        if _DESCRIPTION.match(line):
            return (*path[:-1], "description")
        route = self.route_key(path)
        if route is not None:
            return route
        return self.slot_key(path)

    def route_key(self, path: LinePath) -> LinePath | None:
        """A static route's destination and administrative distance: one per key."""
        tokens = path[-1].split()
        if len(path) == 1 and len(tokens) >= 4 and tokens[:2] in (["ip", "route"], _ROUTE_STATIC):
            slash = "/" in tokens[2]
            dest = tokens[2] if slash else f"{tokens[2]} {tokens[3]}"
            rest = tokens[3:] if slash else tokens[4:]
            return ("route", dest, self.distance(rest))
        return None

    def distance(self, rest: list[str]) -> str:
        """The administrative distance in what follows a route's destination (default 1)."""
        words = iter(rest[1:])
        for tok in words:
            if tok in ("name", "tag", "track", "label", "nexthop-vrf", "table", "vrf"):
                next(words, None)  # its value is not a distance (FRR prints `tag 10 250`)
            elif tok.isdigit():
                return tok
        return "1"

    def keep_notes(self, candidate: list[LinePath], running: list[LinePath]) -> list[str]:
        ours = {k[1] for p in candidate if (k := self.route_key(p)) is not None}
        keys = {self.route_key(p) for p in candidate}
        return [
            f"{self.show(p)} (a route to the same network with another distance: a backup "
            "path of the site, not confprov's)"
            for p in running
            if (k := self.route_key(p)) is not None and k[1] in ours and k not in keys
        ]

    def stale(self, candidate: list[LinePath], running: list[LinePath]) -> list[LinePath]:
        blocks = {p[0] for p in candidate if OWN in p[0]}
        want = set(candidate)
        out: list[LinePath] = []
        for p in running:
            if len(p) < 2 or p[0] not in blocks or p in want:
                continue
            if any(p[:i] in out for i in range(2, len(p))):
                continue  # inside a stale block: it goes with the block
            out.append(p)
        return out

    def _rank(self, top: str) -> int:
        for rank, pattern in enumerate((self._POLICY, self._CLASS, self._ACL), start=1):
            if pattern is not None and pattern.match(top):
                return rank
        return 0

    def order_add(self, paths: list[LinePath]) -> list[LinePath]:
        # ACLs (3) before classes (2) before policies (1) before the rest (0, the interfaces
        # that use them); a stable sort keeps the candidate's order within each.
        order = {3: 0, 2: 1, 1: 2, 0: 3}
        return sorted(paths, key=lambda p: order[self._rank(p[0])])

    def removal_order(self, paths: list[LinePath]) -> list[LinePath]:
        # What uses comes out first: interface lines, then policies, classes, ACLs; within each,
        # a block's children before the block.
        return sorted(paths, key=lambda p: (self._rank(p[0]), -len(p)))

    def _negate(self, path: LinePath) -> str:
        line = path[-1]
        prefix = self.platform.negate
        if line.startswith(prefix):
            return line[len(prefix) :]
        if _DESCRIPTION.match(line):
            return f"{prefix}description"
        return prefix + self.raw.get(path, line)

    def _undeletable(self, line: str) -> bool:
        """Blocks that exist without configuration (a real interface): empty them instead."""
        return line.startswith("interface ")

    def between(self, running: list[LinePath], target: list[LinePath]) -> Change:
        have, want = set(running), set(target)
        add = [p for p in target if p not in have]
        remove: list[LinePath] = []
        gone: set[LinePath] = set()
        for path in running:
            if path in want or any(path[:i] in gone for i in range(1, len(path))):
                continue
            if any(q[: len(path)] == path and q != path for q in running) and self._undeletable(
                path[-1]
            ):
                continue  # its children are removed one by one; the block empties itself
            remove.append(path)
            gone.add(path)
        return Change(add=self.order_add(add), remove=remove)

    def commands(self, change: Change) -> list[str]:
        out: list[str] = []
        context: list[LinePath] = []

        def enter(parents: LinePath) -> None:
            while context and context[-1] != parents[: len(context)]:
                context.pop()
                out.append(self.platform.exit_block)
            for depth in range(len(context), len(parents)):
                block = parents[: depth + 1]
                out.append(self.raw.get(block, block[-1]))
                context.append(block)

        for path in self.removal_order(change.remove):
            enter(path[:-1])
            out.append(self._negate(path))
        for path in change.add:
            if any(path == q[: len(path)] for q in change.add if len(q) > len(path)):
                continue  # a block opened for its children: entered with them
            enter(path[:-1])
            out.append(self.raw.get(path, path[-1]))
        enter(())
        return out


class IosDialect(TreeDialect):
    """Cisco IOS 15 and IOS-XE 16/17.

    IOS-XE numbers the entries of a named ACL (`` 10 permit …``), IOS 15 does not; both print a
    single host as ``host X`` and every address as ``any``: entries compare without their number
    and with addresses in that form. An entry is removed by its number when the device printed
    one (``no 10``), re-added with it on a rollback (``10 permit …`` keeps its place).
    """

    _POLICY = re.compile(r"^policy-map ")
    _CLASS = re.compile(r"^class-map ")
    _ACL = re.compile(r"^ip access-list ")
    _ACE = re.compile(r"^(?:\d+ )?(?:permit|deny|remark)\b")

    def canonical(self, parents: LinePath, line: str) -> str:
        if parents and parents[0].startswith("ip access-list ") and self._ACE.match(line):
            tokens = line.split()
            if tokens[0].isdigit():
                tokens = tokens[1:]
            out: list[str] = []
            i = 0
            while i < len(tokens):
                a = tokens[i]
                b = tokens[i + 1] if i + 1 < len(tokens) else ""
                if _IPV4.match(a) and _IPV4.match(b):
                    if b == _ZERO:
                        out += ["host", a]
                    elif a == _ZERO and b == _ALL:
                        out.append("any")
                    else:
                        out += [a, b]
                    i += 2
                    continue
                out.append(a)
                i += 1
            return " ".join(_ports(out))
        return line

    def ordered(self, path: LinePath) -> bool:
        # IOS 15 prints no sequence numbers: its entries act in the printed order. IOS-XE
        # prints them in number order, which a re-added numbered entry keeps.
        return (
            len(path) == 2
            and path[0].startswith("ip access-list ")
            and not self.raw.get(path, path[1]).split()[0].isdigit()
        )

    def between(self, running: list[LinePath], target: list[LinePath]) -> Change:
        change = super().between(running, target)
        # IOS 15 appends a re-added entry at the ACL's end: from the first entry out of the
        # target's order on, the running entries are removed and re-added in that order.
        for acl in dict.fromkeys(p[0] for p in target if p[0].startswith("ip access-list ")):
            want: list[LinePath] = [
                p for p in target if len(p) == 2 and p[0] == acl and self.ordered(p)
            ]
            wanted = set(want)
            kept: list[LinePath] = [
                p for p in running if len(p) == 2 and p[0] == acl and p in wanted
            ]
            if not kept or not all(self.ordered(p) for p in kept):
                continue
            pairs = enumerate(zip(kept, want, strict=False))  # kept is never the longer
            first = next((i for i, (a, b) in pairs if a != b), len(kept))
            if first == len(kept):
                continue  # the missing entries all go after the kept ones: appended in order
            change.remove += [p for p in kept[first:] if p not in change.remove]
            tail = set(want[first:])
            change.add = [p for p in change.add if p not in tail] + want[first:]
        return change

    def slot_key(self, path: LinePath) -> LinePath | None:
        # IOS takes one service-policy per interface and direction.
        if len(path) == 2 and path[0].startswith("interface "):
            match = re.match(r"^service-policy (input|output) ", path[1])
            if match:
                return (path[0], "service-policy", match.group(1))
        return None

    def conflict_key(self, path: LinePath) -> LinePath | None:
        if len(path) == 3 and path[0].startswith("policy-map ") and path[2].startswith("set dscp"):
            return (*path[:2], "set dscp")
        return super().conflict_key(path)

    def _negate(self, path: LinePath) -> str:
        raw = self.raw.get(path, path[-1])
        first = raw.split()[0]
        if path[0].startswith("ip access-list ") and first.isdigit():
            return f"no {first}"
        return super()._negate(path)


class VrpDialect(TreeDialect):
    """Huawei VRP V5 and V8 (``huawei`` driver: each line takes effect at once).

    VRP prints a host's wildcard as ``0`` (``destination 198.18.32.10 0``), V5 a classifier as
    ``operator or`` and V8 as ``type or``: both compare equal. ``undo`` takes each object's own
    short form (``undo acl name N``, ``undo rule 5``, ``undo traffic classifier N``,
    ``undo classifier N``, ``undo remark dscp``), never the whole line.
    """

    _POLICY = re.compile(r"^traffic policy ")
    _CLASS = re.compile(r"^traffic (?:classifier|behavior) ")
    _ACL = re.compile(r"^acl ")

    def canonical(self, parents: LinePath, line: str) -> str:
        tokens = line.split()
        if parents and parents[0].startswith("acl ") and tokens[:1] == ["rule"]:
            for i, tok in enumerate(tokens[:-2]):
                if tok in ("source", "destination") and tokens[i + 2] == _ZERO:
                    tokens[i + 2] = "0"
            return " ".join(_ports(tokens))
        if (
            parents
            and parents[0].startswith("traffic policy ")
            and tokens[:1] == ["classifier"]
            and tokens[-2:-1] == ["precedence"]
        ):
            return " ".join(tokens[:-2])  # V8 prints the precedence it assigned
        if not parents and tokens[:2] == ["traffic", "classifier"] and len(tokens) == 5:
            if tokens[3] == "type":
                tokens[3] = "operator"
            return " ".join(tokens)
        if not parents and tokens[:2] == ["acl", "name"] and len(tokens) == 5:
            if tokens[3] == "number":
                del tokens[3]
            return " ".join(tokens)
        return line

    def conflict_key(self, path: LinePath) -> LinePath | None:
        tokens = path[-1].split()
        if len(path) == 2 and path[0].startswith("acl ") and tokens[:1] == ["rule"]:
            return (path[0], "rule", tokens[1])  # one rule per number
        if (
            len(path) == 2
            and path[0].startswith("traffic policy ")
            and tokens[:1] == ["classifier"]
        ):
            return (path[0], "classifier", tokens[1])
        if (
            len(path) == 2
            and path[0].startswith("traffic behavior ")
            and tokens[:2]
            == [
                "remark",
                "dscp",
            ]
        ):
            return (path[0], "remark dscp")
        return super().conflict_key(path)

    def stale(self, candidate: list[LinePath], running: list[LinePath]) -> list[LinePath]:
        # NE/ME print a policy's own settings (`share-mode`, `step 5`) that nobody typed.
        return [
            p
            for p in super().stale(candidate, running)
            if not (
                len(p) == 2
                and p[0].startswith("traffic policy ")
                and p[1].split()[0] in ("share-mode", "step")
            )
        ]

    def distance(self, rest: list[str]) -> str:
        for i, tok in enumerate(rest[:-1]):
            if tok == "preference":
                return rest[i + 1]
        return "60"

    def slot_key(self, path: LinePath) -> LinePath | None:
        if len(path) == 2 and path[0].startswith("interface "):
            tokens = path[1].split()
            if tokens[:1] == ["traffic-policy"] and tokens[-1] in ("inbound", "outbound"):
                return (path[0], "traffic-policy", tokens[-1])
        return None

    def _negate(self, path: LinePath) -> str:
        line = path[-1]
        tokens = line.split()
        forms: dict[tuple[str, ...], Callable[[list[str]], str]] = {
            ("acl", "name"): lambda t: f"undo acl name {t[2]}",
            ("acl", "number"): lambda t: f"undo acl number {t[2]}",
            ("traffic", "classifier"): lambda t: f"undo traffic classifier {t[2]}",
            ("traffic", "behavior"): lambda t: f"undo traffic behavior {t[2]}",
            ("traffic", "policy"): lambda t: f"undo traffic policy {t[2]}",
            ("rule",): lambda t: f"undo rule {t[1]}",
            ("classifier",): lambda t: f"undo classifier {t[1]}",
            ("remark", "dscp"): lambda _t: "undo remark dscp",
            ("traffic-policy",): lambda t: f"undo traffic-policy {t[-1]}",
        }
        for head in ((*tokens[:2],), (*tokens[:1],)):
            if head in forms and len(tokens) >= 2:
                return forms[head](tokens)
        return super()._negate(path)


def junos_tokens(line: str) -> list[str]:
    """A Junos statement's words, a quoted value as one word (``"confprov description x"``)."""
    lexer = shlex.shlex(line, posix=True)
    lexer.whitespace_split = True
    lexer.commenters = ""
    return list(lexer)


def junos_quote(word: str) -> str:
    """A word as Junos prints it: quoted when it holds a space or a character Junos splits on,
    or a ``$`` (``display set`` quotes an ``encrypted-password "$6$…"``)."""
    if word == "" or re.search(r"[\s;{}\[\]\"#'&|<>()$]", word):
        return '"' + word.replace("\\", "\\\\").replace('"', '\\"') + '"'
    return word


def junos_set_lines(text: str) -> list[str]:  # noqa: PLR0912 - one tokenizer, one loop
    """``show configuration`` (hierarchical, braces) as the ``| display set`` lines it means."""
    out: list[str] = []
    stack: list[str] = []
    words: list[str] = []
    text = re.sub(r"/\*.*?\*/", " ", text, flags=re.S)
    token = re.compile(r'"(?:\\.|[^"\\])*"|[{};\[\]]|[^\s{};\[\]"]+')
    in_list: list[str] | None = None
    for raw in text.splitlines():
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        for tok in token.findall(line):
            if tok.startswith("#"):
                break  # `## SECRET-DATA`, `## Last changed`: a comment to the end of the line
            word = tok[1:-1].replace('\\"', '"') if tok.startswith('"') else tok
            if tok == "{":
                stack.append(" ".join(junos_quote(w) for w in words))
                words = []
            elif tok == "}":
                if stack:
                    stack.pop()
                words = []
            elif tok == "[":
                in_list = []
            elif tok == "]":
                head = " ".join(junos_quote(w) for w in words)
                for item in in_list or []:
                    out.append(" ".join(["set", *stack, head, junos_quote(item)]))
                in_list, words = None, ["\0listed"]
            elif tok == ";":
                if words and words != ["\0listed"]:
                    out.append(" ".join(["set", *stack, *(junos_quote(w) for w in words)]))
                words = []
            elif in_list is not None:
                in_list.append(word)
            elif word.startswith(("inactive:", "protect:")) and not words:
                continue  # the statement is there all the same; its state is not ours
            else:
                words.append(word)
    return [re.sub(r"\s+", " ", line) for line in out]


class SetDialect(Dialect):
    """Junos: one statement per ``set`` line (``| display set``, or braces converted).

    Words are compared unquoted (a site name holding the word "description" stays one value).
    Single-valued settings (a description) are replaced; list-valued ones (``next-hop`` of the
    conference route, every value inside confprov's own filters) lose the values the candidate
    does not have; another team's filter on the interface holds its place and is left alone.
    """

    def statements(self, text: str) -> list[LinePath]:
        lines = [ln.strip() for ln in text.splitlines()]
        if any(ln.endswith(("{", "}")) for ln in lines):
            lines = junos_set_lines(text)
        out: list[LinePath] = []
        for line in lines:
            if not line.startswith("set "):
                continue
            try:
                words = junos_tokens(line)
            except ValueError:  # an unbalanced quote: compare it as printed
                words = line.split()
            canon = " ".join(junos_quote(w) for w in words)
            self.raw[(canon,)] = canon
            out.append((canon,))
        return out

    @staticmethod
    def words(path: LinePath) -> list[str]:
        try:
            return junos_tokens(path[0])
        except ValueError:
            return path[0].split()

    def conflict_key(self, path: LinePath) -> LinePath | None:
        words = self.words(path)
        if len(words) >= 3 and words[-2] in ("description", "next-hop"):
            return tuple(words[:-1])
        return self.slot_key(path)

    def slot_key(self, path: LinePath) -> LinePath | None:
        words = self.words(path)
        if words[:2] == ["set", "interfaces"] and words[-3:-1] == ["filter", "output"]:
            return tuple(words[:-1])
        return None

    def owned(self, path: LinePath) -> bool:
        return OWN in path[0]

    def _filter(self, path: LinePath) -> str:
        words = self.words(path)
        if words[:5] == ["set", "firewall", "family", "inet", "filter"] and len(words) > 5:
            return words[5]
        return ""

    def _term(self, path: LinePath) -> LinePath | None:
        """``set firewall family inet filter F term X`` of a statement inside a term."""
        words = self.words(path)
        if self._filter(path) and len(words) > 8 and words[6] == "term":
            return (" ".join(junos_quote(w) for w in words[:8]),)
        return None

    def _whole_terms(self, remove: list[LinePath], keep: list[LinePath]) -> list[LinePath]:
        """Statements of a term ``keep`` has none of go as the term: deleting them one by one
        leaves an empty ``term X;`` (no match, no action: it accepts everything)."""
        kept = {self._term(p) for p in keep}
        out: list[LinePath] = []
        for p in remove:
            term = self._term(p)
            whole = term if term is not None and term not in kept else p
            if whole not in out:
                out.append(whole)
        return out

    def stale(self, candidate: list[LinePath], running: list[LinePath]) -> list[LinePath]:
        filters = {f for p in candidate if OWN in (f := self._filter(p))}
        want = set(candidate)
        return self._whole_terms(
            [p for p in running if p not in want and self._filter(p) in filters], candidate
        )

    def touches(self, done: LinePath, other: LinePath) -> bool:
        a, b = self.words(done), self.words(other)
        n = min(len(a), len(b))
        return a[:n] == b[:n] and (len(a) != len(b) or a == b)

    def keep_notes(self, candidate: list[LinePath], running: list[LinePath]) -> list[str]:
        routes = {
            tuple(w[:5])
            for p in candidate
            if (w := self.words(p))[:4] == ["set", "routing-options", "static", "route"]
        }
        return [
            f"{p[0]} (another next hop with its own preference: a backup path of the site, "
            "not confprov's)"
            for p in running
            if tuple((w := self.words(p))[:5]) in routes and "qualified-next-hop" in w
        ]

    def between(self, running: list[LinePath], target: list[LinePath]) -> Change:
        change = super().between(running, target)
        # A filter of confprov's that the target does not have goes whole: deleting its lines
        # one by one would leave its empty terms behind.
        kept = {self._filter(p) for p in target}
        whole = {f for p in change.remove if OWN in (f := self._filter(p)) and f and f not in kept}
        change.remove = self._whole_terms(
            [p for p in change.remove if self._filter(p) not in whole], target
        ) + [(f"set firewall family inet filter {f}",) for f in sorted(whole)]
        return change

    def commands(self, change: Change) -> list[str]:
        out = []
        for path in change.remove:
            words = self.words(path)
            if len(words) >= 3 and words[-2] == "description":
                words = words[:-1]  # `delete … description`: the value is not needed
            out.append(" ".join(["delete", *(junos_quote(w) for w in words[1:])]))
        out.extend(line for (line,) in change.add)
        return out


@dataclass(frozen=True)
class _RosLine:
    path: str
    verb: str
    selector: str
    attrs: dict[str, str]


# Values RouterOS does not print in an export without `verbose`: when a rollback finds a `set`
# that the backup does not have, these put the setting back (the backup shows nothing for it).
ROS_DEFAULTS: dict[str, dict[str, str]] = {
    "/interface ethernet": {"comment": '""'},
    "/system ntp client": {"enabled": "no"},
}
# Menus whose items act in the order they are listed (the first matching rule wins).
ROS_ORDERED = ("/ip firewall filter", "/ip firewall mangle", "/ip firewall nat", "/ip firewall raw")
_ROS_IGNORED = ("place-before",)  # an `add` argument, never printed by an export


class RouterosDialect(Dialect):
    """RouterOS 7 ``/export`` (grouped ``/path`` then ``add …`` lines) or ``/export terse``
    (``/path add …`` per line), with or without ``verbose`` defaults.

    A statement is present when a running one has the same path, verb and selector and at least
    its attributes (an export adds defaults). Rules of confprov carry a ``comment=confprov…``:
    those the candidate no longer has are removed. A route to the conference network through
    another gateway (same distance) is replaced, one with another distance is a backup path and
    left alone. Filter rules are placed before the forward chain's first drop rule.
    """

    # The verb is a whole word: `/ip address add …` is the menu `/ip address`, not `/ip` + "add…".
    _LINE = re.compile(
        r"^(/[^\s]+(?: [a-z][a-z0-9-]*)*?) (add|set)(?= |$) ?(\[ ?find [^\]]*\])? ?(.*)$"
    )

    def statements(self, text: str) -> list[LinePath]:
        out: list[LinePath] = []
        pending = ""
        section = ""
        for raw in text.splitlines():
            line = raw.rstrip()
            if line.endswith("\\"):
                pending += line[:-1].lstrip()
                continue
            line = (pending + line.lstrip()) if pending else line.strip()
            pending = ""
            if not line or line.startswith("#"):
                continue
            if line.startswith("/") and "=" not in line and not re.search(r" (add|set)\b", line):
                section = line  # grouped export: a section header, then its lines
                continue
            if not line.startswith("/"):
                line = f"{section} {line}"
            parsed = self.parse(line)
            canon = self.canonical(parsed) if parsed is not None else line
            self.raw[(canon,)] = canon
            out.append((canon,))
        return out

    def parse(self, line: str) -> _RosLine | None:
        match = self._LINE.match(line)
        if not match:
            return None
        path, verb, selector, rest = match.groups()
        rest = re.sub(r"(?:^| )place-before=\[[^\]]*\]", "", rest)  # where, not what
        attrs: dict[str, str] = {}
        try:
            words = shlex.split(rest)
        except ValueError:
            return None
        for token in words:
            key, _, value = token.partition("=")
            if path.startswith("/ip firewall") and key in ("dst-address", "src-address"):
                value = value.removesuffix("/32")
            attrs[key] = value
        norm = " ".join((selector or "").replace("[", "").replace("]", "").split())
        return _RosLine(path, verb, norm, attrs)

    def canonical(self, parsed: _RosLine) -> str:
        where = f" [ {parsed.selector} ]" if parsed.selector else ""
        attrs = " ".join(f"{k}={_ros_quote(v)}" for k, v in parsed.attrs.items())
        return f"{parsed.path} {parsed.verb}{where} {attrs}".rstrip()

    def _matches(self, have: _RosLine, want: _RosLine) -> bool:
        return (have.path, have.verb, have.selector) == (want.path, want.verb, want.selector) and (
            all(have.attrs.get(k) == v for k, v in want.attrs.items() if k not in _ROS_IGNORED)
        )

    def _present(self, index: set[LinePath], running: list[LinePath], path: LinePath) -> bool:
        if path in index:
            return True
        want = self.parse(path[0])
        if want is None:
            return False
        for (line,) in running:
            have = self.parse(line)
            if have is not None and self._matches(have, want):
                return True
        return False

    def owned(self, path: LinePath) -> bool:
        parsed = self.parse(path[0])
        return parsed is not None and parsed.attrs.get("comment", "").startswith("confprov")

    def ordered(self, path: LinePath) -> bool:
        parsed = self.parse(path[0])
        return parsed is not None and parsed.verb == "add" and parsed.path in ROS_ORDERED

    def touches(self, done: LinePath, other: LinePath) -> bool:
        """By identity, not text: an ``add`` is sent with ``place-before`` (never printed) and
        printed with defaults; a ``set`` is undone by another ``set`` of the same item."""
        if done == other:
            return True
        a, b = self.parse(done[0]), self.parse(other[0])
        if a is None or b is None or (a.path, a.verb, a.selector) != (b.path, b.verb, b.selector):
            return False
        return a.verb == "set" or self._matches(b, a)  # printed with defaults added

    @staticmethod
    def _route(parsed: _RosLine | None) -> tuple[str, str] | None:
        if parsed is None or parsed.path != "/ip route" or parsed.verb != "add":
            return None
        if parsed.attrs.get("routing-table", "main") != "main":
            return None
        return parsed.attrs.get("dst-address", ""), parsed.attrs.get("distance", "1")

    def conflict_key(self, path: LinePath) -> LinePath | None:
        route = self._route(self.parse(path[0]))
        return ("route", *route) if route else None

    def stale(self, candidate: list[LinePath], running: list[LinePath]) -> list[LinePath]:
        wanted = [w for p in candidate if (w := self.parse(p[0])) is not None]
        out = []
        for p in running:
            have = self.parse(p[0])
            if have is None or have.verb != "add" or not self.owned(p):
                continue
            if not any(self._matches(have, w) for w in wanted):
                out.append(p)
        return out

    def keep_notes(self, candidate: list[LinePath], running: list[LinePath]) -> list[str]:
        ours = {r for p in candidate if (r := self._route(self.parse(p[0])))}
        nets = {r[0] for r in ours}
        notes = [
            f"{p[0]} (a route to the same network with another distance: a backup path of "
            "the site, not confprov's)"
            for p in running
            if (r := self._route(self.parse(p[0]))) and r[0] in nets and r not in ours
        ]
        drop = self.first_drop(running)
        if drop is not None and drop[1] == "":
            notes.append(
                f"{drop[0]}: the forward chain's first drop rule has no comment to place "
                "confprov's rules before; they land at the end of the chain, after it: move "
                "them above it by hand"
            )
        return notes

    def first_drop(self, running: list[LinePath]) -> tuple[str, str] | None:
        """The forward chain's first drop/reject rule: its line and its comment."""
        for (line,) in running:
            parsed = self.parse(line)
            if (
                parsed is not None
                and parsed.path == "/ip firewall filter"
                and parsed.attrs.get("chain") == "forward"
                and parsed.attrs.get("action") in ("drop", "reject")
                and parsed.attrs.get("disabled", "no") != "yes"
            ):
                return line, parsed.attrs.get("comment", "")
        return None

    def missing(self, candidate: list[LinePath], running: list[LinePath]) -> Change:
        change = super().missing(candidate, running)
        wanted = [w for p in candidate if (w := self.parse(p[0])) is not None]
        change.remove = [  # a running line that is a candidate's, with defaults, stays
            p
            for p in change.remove
            if not ((have := self.parse(p[0])) and any(self._matches(have, w) for w in wanted))
        ]
        drop = self.first_drop(running)
        if drop is not None and drop[1]:
            where = f"place-before=[ find chain=forward comment={_ros_quote(drop[1])} ]"
            placed: list[LinePath] = []
            for p in change.add:
                parsed = self.parse(p[0])
                if parsed and parsed.path == "/ip firewall filter" and parsed.verb == "add":
                    line = f"{p[0]} {where}"
                    self.raw[(line,)] = line
                    placed.append((line,))
                else:
                    placed.append(p)
            change.add = placed
        return change

    def between(self, running: list[LinePath], target: list[LinePath]) -> Change:
        have, want = set(running), set(target)
        add = [self._placed(p, target, have) for p in target if p not in have]
        targets = {(t.path, t.selector): t for p in target if (t := self.parse(p[0]))}
        notes: list[str] = []
        for p in running:
            parsed = self.parse(p[0])
            if parsed is None or parsed.verb != "set" or p in want:
                continue
            # A `set` is undone by its target's values, and for what the backup does not show
            # (an export omits defaults), by the default.
            before = targets.get((parsed.path, parsed.selector))
            keep = before.attrs if before else {}
            defaults = ROS_DEFAULTS.get(parsed.path, {})
            reset = {k: defaults[k] for k in parsed.attrs if k not in keep and k in defaults}
            unknown = [k for k in parsed.attrs if k not in keep and k not in defaults]
            if unknown:
                notes.append(f"{p[0]}: no known default for {', '.join(unknown)}: left as is")
            if reset:
                line = self.canonical(_RosLine(parsed.path, "set", parsed.selector, reset))
                add.append((line,))
        return Change(
            add=add,
            remove=[
                p for p in running if p not in want and (x := self.parse(p[0])) and x.verb == "add"
            ],
            notes=notes,
        )

    def _placed(self, path: LinePath, target: list[LinePath], have: set[LinePath]) -> LinePath:
        """A rule of an ordered menu re-added where the target had it: ``place-before`` the
        item that followed it there and is still on the device (else at the end, as there)."""
        parsed = self.parse(path[0])
        if parsed is None or parsed.verb != "add" or parsed.path not in ROS_ORDERED:
            return path
        for (line,) in target[target.index(path) + 1 :]:
            after = self.parse(line)
            if after is not None and after.path == parsed.path and (line,) in have:
                where = " ".join(
                    f"{k}={_ros_quote(v)}" for k, v in after.attrs.items() if k not in _ROS_IGNORED
                )
                placed = f"{path[0]} place-before=[ find {where} ]"
                self.raw[(placed,)] = placed
                return (placed,)
        return path

    def commands(self, change: Change) -> list[str]:
        out = []
        for (line,) in change.remove:
            parsed = self.parse(line)
            if parsed is None:
                continue
            where = " ".join(
                f"{k}={_ros_quote(v)}" for k, v in parsed.attrs.items() if k not in _ROS_IGNORED
            )
            out.append(f"{parsed.path} remove [ find {where} ]")
        out.extend(line for (line,) in change.add)
        return out


def _ros_quote(value: str) -> str:
    if value == '""':
        return value
    return value if re.fullmatch(r"[A-Za-z0-9._/:-]+", value) else f'"{value}"'


def dialect(platform: Platform) -> Dialect:
    if platform.name == "cisco_ios":
        return IosDialect(platform)
    if platform.name == "huawei_vrp":
        return VrpDialect(platform)
    kinds: dict[str, type[Dialect]] = {
        "tree": TreeDialect,
        "set": SetDialect,
        "routeros": RouterosDialect,
    }
    return kinds[platform.syntax](platform)
