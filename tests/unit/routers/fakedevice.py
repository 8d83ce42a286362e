"""Fake routers that apply their vendor's semantics to the lines confprov sends.

A mock, said so: no IOS, VRP, Junos or RouterOS can run on this machine. Each class is a stand-in
for a netmiko connection (the methods confprov's device layer calls: ``send_command``,
``send_config_set``, ``config_mode``, ``check_config_mode``, ``exit_config_mode``, ``commit``,
``save_config``, ``disconnect``), so the engine's real code path runs against it. It keeps a
config model and changes it as the vendor's CLI does, from the vendor's documentation:

- replace vs add: a single-valued setting (a description, ``set dscp``, a Junos ``filter
  output``) is replaced, a list-valued one (an ACL entry, a route, an NTP server, a Junos
  ``next-hop``) is added beside the others;
- what each ``no``/``undo``/``delete``/``remove`` form removes, and which forms are refused;
- dependencies (a class-map in use by a policy-map, a policy on an interface);
- refusals carry the vendor's error text, and reach confprov as netmiko raises them
  (``ConfigInvalidException`` when the line's output matches the error pattern confprov passes;
  Junos' ``commit()`` raising ``ValueError`` with netmiko's own message);
- IOS' ``configure terminal revert timer`` (armed, confirmed, reverted), Junos' shared and
  exclusive candidate, ``commit confirmed``, ``rollback N``.

Error texts: IOS ``% Invalid input detected at '^' marker.`` and VRP ``Error: Unrecognized
command found at '^' position.`` / ``Error: Too many parameters found at '^' position.`` are the
CLIs' own generic parser errors; Junos ``syntax error.``, ``error: configuration check-out
failed`` and ``error: configuration database locked by:`` are from Juniper's CLI guide. The
"in use" refusals of IOS and VRP are written as those CLIs phrase them in community threads (the
exact wording varies by release); confprov matches them through its error patterns either way.
"""

from __future__ import annotations

import copy
import re
import shlex
from dataclasses import dataclass, field
from typing import Any

from netmiko.exceptions import ConfigInvalidException

IOS_INVALID = "% Invalid input detected at '^' marker."
VRP_UNRECOGNIZED = "Error: Unrecognized command found at '^' position."
VRP_TOO_MANY = "Error: Too many parameters found at '^' position."
JUNOS_SYNTAX = "syntax error."


@dataclass
class Node:
    line: str
    children: list[Node] = field(default_factory=list)
    seq: int = 0  # an IOS ACL entry's sequence number

    def find(self, line: str) -> Node | None:
        return next((c for c in self.children if c.line == line), None)

    def find_prefix(self, prefix: str) -> Node | None:
        return next((c for c in self.children if c.line.startswith(prefix)), None)


class FakeDevice:
    """What every fake shares: the netmiko surface, the log of what was sent, refusals."""

    prompt = "router#"

    def __init__(self, *, refuse: dict[str, str] | None = None) -> None:
        self.sent: list[str] = []
        self.refuse = dict(refuse or {})  # a line → the error the device prints for it
        self.in_config = False
        self.saved: Any = None
        self.disconnected = False

    # -- netmiko's surface ------------------------------------------------------------------

    def send_command(self, command_string: str, **_kwargs: Any) -> str:
        self.sent.append(command_string)
        return self.exec(command_string)

    def send_config_set(
        self,
        config_commands: list[str],
        *,
        error_pattern: str = "",
        config_mode_command: str | None = None,
        enter_config_mode: bool = True,
        exit_config_mode: bool = True,
        **_kwargs: Any,
    ) -> str:
        output = ""
        if enter_config_mode:
            output += self.config_mode(config_mode_command or self.config_command)
        for cmd in config_commands:
            self.sent.append(cmd)
            output += f"{self.prompt}{cmd}\n"
            error = self.refuse.get(cmd) or self.configure(cmd)
            if error:
                output += f"{error}\n"
            if error_pattern:  # netmiko's own check, as in BaseConnection.send_config_set
                match = re.search(error_pattern, output, flags=re.M)
                if match:
                    raise ConfigInvalidException(
                        f"Invalid input detected at command: {cmd}, matched error: {match.group(0)}"
                    )
        if exit_config_mode:
            output += self.exit_config_mode()
        return output

    config_command = "configure terminal"

    def config_mode(self, config_command: str = "", pattern: str = "", **_kw: Any) -> str:
        if not self.in_config:
            command = config_command or self.config_command
            self.sent.append(command)
            self.enter(command)
        return ""

    def check_config_mode(self, *_a: Any, **_kw: Any) -> bool:
        return self.in_config

    def exit_config_mode(self, *_a: Any, **_kw: Any) -> str:
        if self.in_config:
            self.sent.append("(exit config mode)")
            self.leave()
        return ""

    def save_config(self, *_a: Any, **_kw: Any) -> str:
        self.sent.append("(save)")
        self.saved = copy.deepcopy(self.state())
        return "Save the configuration successfully."

    def disconnect(self) -> None:
        self.disconnected = True

    # -- the device ---------------------------------------------------------------------------

    def enter(self, command: str) -> None:
        self.in_config = True

    def leave(self) -> None:
        self.in_config = False

    def exec(self, command: str) -> str:
        raise NotImplementedError

    def configure(self, line: str) -> str:
        """Apply one config line; the device's error text, or ""."""
        raise NotImplementedError

    def state(self) -> Any:
        raise NotImplementedError

    def show(self) -> str:
        raise NotImplementedError


# =============================================================================== Cisco IOS


def _ios_ace(text: str) -> str:
    """An ACL entry as IOS prints it: `host X` for a 0.0.0.0 wildcard, `any` for all."""
    tokens = text.split()
    out: list[str] = []
    i = 0
    while i < len(tokens):
        a = tokens[i]
        b = tokens[i + 1] if i + 1 < len(tokens) else ""
        if re.fullmatch(r"[\d.]+", a) and a.count(".") == 3 and b.count(".") == 3:
            if b == "0.0.0.0":
                out += ["host", a]
            elif a == "0.0.0.0" and b == "255.255.255.255":
                out.append("any")
            else:
                out += [a, b]
            i += 2
            continue
        out.append(a)
        i += 1
    return " ".join(out)


def parse_tree(text: str) -> Node:
    """A running config's indented blocks; IOS ACL entries keep (or get) their numbers."""
    root = Node("")
    stack: list[tuple[int, Node]] = [(-1, root)]
    for raw in text.splitlines():
        line = raw.rstrip()
        stripped = line.strip()
        if line in ("!", "#"):
            stack = [(-1, root)]  # a separator in column 0 ends every block
            continue
        if (
            not stripped
            or stripped.startswith(("!", "#"))
            or stripped in ("end", "exit", "return", "quit")
            or stripped.startswith(("Building configuration", "Current configuration"))
        ):
            continue
        indent = len(line) - len(line.lstrip())
        while stack[-1][0] >= indent:
            stack.pop()
        parent = stack[-1][1]
        node = Node(stripped)
        if parent.line.startswith("ip access-list ") and re.match(r"^\d+ ", stripped):
            seq, _, rest = stripped.partition(" ")
            node = Node(_ios_ace(rest), seq=int(seq))
        elif parent.line.startswith("ip access-list "):
            node = Node(_ios_ace(stripped), seq=10 * (len(parent.children) + 1))
        parent.children.append(node)
        stack.append((indent, node))
    return root


class IosDevice(FakeDevice):
    """Cisco IOS 15 (``version="15"``: ACL entries without numbers) or IOS-XE 17 (numbered)."""

    def __init__(self, running: str, *, version: str = "17", **kw: Any) -> None:
        super().__init__(**kw)
        self.version = version
        self.root = self.parse(running)
        self.context: list[Node] = []
        self.timer_snapshot: Node | None = None  # armed revert timer: the config to go back to
        self.hostname = "router"

    @property
    def timer_armed(self) -> bool:
        return self.timer_snapshot is not None

    def parse(self, text: str) -> Node:
        return parse_tree(text)

    def state(self) -> Node:
        return self.root

    def show(self, version: str | None = None) -> str:
        numbered = (version or self.version) != "15"
        out = ["Building configuration...", "", "Current configuration : 1999 bytes", "!"]

        def emit(node: Node, depth: int) -> None:
            for child in node.children:
                text = child.line
                if node.line.startswith("ip access-list ") and numbered:
                    text = f"{child.seq} {text}"
                out.append(" " * depth + text)
                emit(child, depth + 1)
            if depth == 0:
                pass

        for top in self.root.children:
            out.append(top.line)
            emit(top, 1)
            out.append("!")
        out.append("end")
        return "\n".join(out) + "\n"

    # -- exec ---------------------------------------------------------------------------------

    def exec(self, command: str) -> str:
        if command == "show running-config":
            return self.show()
        if command == "configure confirm":
            self.timer_snapshot = None
            return ""
        if command == "configure revert now":
            if self.timer_snapshot is not None:
                self.root = self.timer_snapshot
                self.timer_snapshot = None
                return "Rollback Done"
            return ""
        if command == "write memory":
            self.saved = copy.deepcopy(self.root)
            return "Building configuration...\n[OK]"
        return IOS_INVALID

    def enter(self, command: str) -> None:
        match = re.fullmatch(r"configure terminal revert timer (\d+)", command)
        if match:
            archive = self.root.find("archive")
            if archive is None or archive.find_prefix("path ") is None:
                raise ConfigInvalidException("archive path is not configured")
            self.timer_snapshot = copy.deepcopy(self.root)
        self.in_config = True
        self.context = []

    def leave(self) -> None:
        self.in_config = False
        self.context = []

    # -- config -------------------------------------------------------------------------------

    def _uses(self, word: str, name: str) -> bool:
        """Is an object of this name in use (a class in a policy, a policy on an interface)?"""
        for top in self.root.children:
            in_policy = top.line.startswith("policy-map ") and top.find(f"class {name}")
            on_interface = top.line.startswith("interface ") and any(
                c.line.startswith("service-policy ") and c.line.endswith(f" {name}")
                for c in top.children
            )
            if (word == "class" and in_policy) or (word == "policy" and on_interface):
                return True
        return False

    def configure(self, line: str) -> str:
        if line == "exit":
            if self.context:
                self.context.pop()
            else:
                self.leave()
            return ""
        if line == "end":
            self.leave()
            return ""
        here = self.context[-1] if self.context else self.root
        if line.startswith("no "):
            return self._no(here, line[3:])
        if not self.context:
            opens = ("interface ", "ip access-list extended ", "class-map ", "policy-map ")
            opens += ("archive",)
            if line.startswith(opens):
                node = here.find(line)
                if node is None:
                    node = Node(line)
                    here.children.append(node)
                self.context.append(node)
                return ""
            if here.find(line) is None:
                here.children.append(Node(line))
            return ""
        if here.line.startswith("ip access-list "):
            match = re.match(r"^(\d+) (.*)$", line)
            seq = int(match.group(1)) if match else 0
            text = _ios_ace(match.group(2) if match else line)
            if any(c.line == text for c in here.children):
                return ""  # IOS keeps one copy of an entry
            if seq and any(c.seq == seq for c in here.children):
                return "% Duplicate sequence number"
            if not seq:
                seq = max((c.seq for c in here.children), default=0) + 10
            here.children.append(Node(text, seq=seq))
            here.children.sort(key=lambda c: c.seq)
            return ""
        if here.line.startswith("policy-map ") and line.startswith("class "):
            if self.root.find_prefix(f"class-map match-any {line[6:]}") is None and (
                self.root.find_prefix(f"class-map match-all {line[6:]}") is None
            ):
                return f"% class-map {line[6:]} not configured"
            node = here.find(line) or Node(line)
            if node not in here.children:
                here.children.append(node)
            self.context.append(node)
            return ""
        if here.line.startswith("policy-map ") and not line.startswith("description "):
            return IOS_INVALID  # a policy-map holds classes; `set` is a class's
        single = ("description ", "set dscp ", "path ", "maximum ")
        for prefix in single:
            if line.startswith(prefix):
                here.children = [c for c in here.children if not c.line.startswith(prefix)]
        if line.startswith("service-policy "):
            direction = line.split()[1]
            held = here.find_prefix(f"service-policy {direction} ")
            if held is not None and held.line != line:
                return "% A service-policy is already attached in this direction"
        if here.find(line) is None:
            here.children.append(Node(line))
        return ""

    def _no(self, here: Node, what: str) -> str:
        if here.line.startswith("ip access-list ") and self.context:
            first = what.split(maxsplit=1)[0]
            if first.isdigit():  # `no 10` (or `no 10 permit …`): the entry numbered 10
                here.children = [c for c in here.children if c.seq != int(first)]
                return ""
            here.children = [c for c in here.children if c.line != _ios_ace(what)]
            return ""
        if what == "description":
            here.children = [c for c in here.children if not c.line.startswith("description ")]
            return ""
        if what.startswith("set dscp"):
            here.children = [c for c in here.children if not c.line.startswith("set dscp")]
            return ""
        if not self.context:
            match = re.match(r"^class-map (?:match-any |match-all )?(\S+)$", what)
            if match and self._uses("class", match.group(1)):
                return f"% Class-map {match.group(1)} is being used"
            match = re.match(r"^policy-map (\S+)$", what)
            if match and self._uses("policy", match.group(1)):
                return f"% Policy map {match.group(1)} is being used"
            if what.startswith("class-map "):
                name = what.rsplit(maxsplit=1)[-1]
                here.children = [
                    c
                    for c in here.children
                    if not (c.line.startswith("class-map ") and c.line.split()[-1] == name)
                ]
                return ""
            if what.startswith("ip route "):
                parts = what.split()
                here.children = [c for c in here.children if c.line.split()[: len(parts)] != parts]
                return ""
        here.children = [c for c in here.children if c.line != what]
        return ""


# =============================================================================== Huawei VRP


class VrpDevice(FakeDevice):
    """Huawei VRP with the ``huawei`` driver: ``system-view``, each line live at once.

    ``version="v8"`` prints classifiers as ``type or`` (CE series) instead of ``operator or``,
    and a policy's ``classifier X behavior Y`` with the precedence the device assigned when none
    was typed (``precedence 5``, ``10``…, as the saved configs in Huawei's CE V8 QoS
    configuration examples show).
    """

    config_command = "system-view"
    prompt = "[router]"

    def __init__(self, running: str, *, version: str = "v5", **kw: Any) -> None:
        super().__init__(**kw)
        self.version = version
        self.root = parse_tree(running)
        self.context: list[Node] = []

    def state(self) -> Node:
        return self.root

    def show(self) -> str:
        out = ["!Software Version V200R010C00SPC600", "#"]

        def emit(node: Node, depth: int) -> None:
            for rank, child in enumerate(node.children, start=1):
                text = child.line
                if self.version == "v8" and text.startswith("traffic classifier "):
                    text = text.replace(" operator or", " type or")
                if (
                    self.version == "v8"
                    and node.line.startswith("traffic policy ")
                    and text.startswith("classifier ")
                    and " precedence " not in text
                ):
                    text += f" precedence {5 * rank}"
                out.append(" " * depth + text)
                emit(child, depth + 1)

        for top in self.root.children:
            text = top.line
            if self.version == "v8" and text.startswith("traffic classifier "):
                text = text.replace(" operator or", " type or")
            out.append(text)
            emit(top, 1)
            out.append("#")
        out.append("return")
        return "\n".join(out) + "\n"

    def exec(self, command: str) -> str:
        if command == "display current-configuration":
            return self.show()
        return VRP_UNRECOGNIZED

    def enter(self, command: str) -> None:
        self.in_config = True
        self.context = []

    def leave(self) -> None:
        self.in_config = False
        self.context = []

    @staticmethod
    def _rule(line: str) -> str:
        return re.sub(r" (source|destination) (\S+) 0\.0\.0\.0\b", r" \1 \2 0", line)

    def _in_use(self, kind: str, name: str) -> bool:
        for top in self.root.children:
            lines = [c.line for c in top.children]
            uses = (
                (
                    kind == "acl"
                    and top.line.startswith("traffic classifier ")
                    and f"if-match acl {name}" in lines
                )
                or (
                    kind in ("classifier", "behavior")
                    and top.line.startswith("traffic policy ")
                    and any(
                        ln.split()[:2] == ["classifier", name] or ln.endswith(f" behavior {name}")
                        for ln in lines
                    )
                )
                or (
                    kind == "policy"
                    and top.line.startswith("interface ")
                    and any(ln.startswith(f"traffic-policy {name} ") for ln in lines)
                )
            )
            if uses:
                return True
        return False

    def configure(self, line: str) -> str:
        if line == "quit":
            if self.context:
                self.context.pop()
            else:
                self.leave()
            return ""
        if line == "return":
            self.leave()
            return ""
        here = self.context[-1] if self.context else self.root
        tokens = line.split()
        if tokens[0] == "undo":
            return self._undo(here, tokens[1:])
        if not self.context:
            if tokens[:2] == ["acl", "name"] and len(tokens) in (3, 4, 5):
                return self._open(here, line, f"acl name {tokens[2]}")
            if (
                tokens[:2]
                in (["traffic", "classifier"], ["traffic", "behavior"], ["traffic", "policy"])
                and len(tokens) >= 3
            ):
                return self._open(here, line, " ".join(tokens[:3]))
            if tokens[0] == "interface":
                return self._open(here, line, line)
            if tokens[0] in ("ip", "ntp-service"):
                if here.find(line) is None:
                    here.children.append(Node(line))
                return ""
            return VRP_UNRECOGNIZED
        if here.line.startswith("acl ") and tokens[0] == "rule":
            if not tokens[1].isdigit():
                ids = [int(c.line.split()[1]) for c in here.children]
                tokens.insert(1, str(max(ids, default=0) + 5))
            text = self._rule(" ".join(tokens))
            here.children = [c for c in here.children if c.line.split()[1] != tokens[1]]
            here.children.append(Node(text))
            here.children.sort(key=lambda c: int(c.line.split()[1]))
            return ""
        single = ("description ", "remark dscp ")
        for prefix in single:
            if line.startswith(prefix):
                here.children = [c for c in here.children if not c.line.startswith(prefix)]
        if tokens[0] == "classifier" and len(tokens) == 4:
            if not self.root.find_prefix(f"traffic classifier {tokens[1]} "):
                return f"Error: The classifier {tokens[1]} does not exist."
            here.children = [c for c in here.children if c.line.split()[:2] != tokens[:2]]
        if tokens[0] == "traffic-policy":
            direction = tokens[-1]
            held = next(
                (
                    c
                    for c in here.children
                    if c.line.startswith("traffic-policy ") and c.line.endswith(direction)
                ),
                None,
            )
            if held is not None and held.line != line:
                return "Error: The policy has been applied in this direction."
        if here.find(line) is None:
            here.children.append(Node(line))
        return ""

    def _open(self, here: Node, line: str, key: str) -> str:
        node = next(
            (c for c in here.children if c.line.startswith(key + " ") or c.line == key), None
        )
        if node is None:
            node = Node(line)
            here.children.append(node)
        self.context.append(node)
        return ""

    def _undo(self, here: Node, t: list[str]) -> str:
        def drop(pred: Any) -> None:
            here.children = [c for c in here.children if not pred(c)]

        if not self.context:
            if t[:2] == ["acl", "name"]:
                if len(t) != 3:
                    return VRP_TOO_MANY
                if self._in_use("acl", t[2]):
                    return f"Error: The ACL {t[2]} is being used by a traffic classifier."
                drop(lambda c: c.line.split()[:3] == ["acl", "name", t[2]])
                return ""
            if t[:1] == ["traffic"] and len(t) >= 3:
                if len(t) != 3:
                    return VRP_TOO_MANY
                if self._in_use(t[1], t[2]):
                    return f"Error: The {t[1]} {t[2]} is being used."
                drop(lambda c: c.line.split()[:3] == t[:3])
                return ""
            if t[:1] in (["ip"], ["ntp-service"]):
                drop(lambda c: c.line == " ".join(t))
                return ""
            return VRP_UNRECOGNIZED
        if t[0] == "rule":
            if len(t) != 2:
                return VRP_TOO_MANY
            drop(lambda c: c.line.split()[:2] == ["rule", t[1]])
            return ""
        if t[0] == "classifier":
            if len(t) != 2:
                return VRP_TOO_MANY
            drop(lambda c: c.line.split()[:2] == ["classifier", t[1]])
            return ""
        if t[:2] == ["remark", "dscp"]:
            if len(t) != 2:
                return VRP_TOO_MANY
            drop(lambda c: c.line.startswith("remark dscp "))
            return ""
        if t[0] == "description":
            if len(t) != 1:
                return VRP_TOO_MANY
            drop(lambda c: c.line.startswith("description "))
            return ""
        if t[0] == "traffic-policy":
            drop(lambda c: c.line.startswith("traffic-policy ") and c.line.endswith(t[-1]))
            return ""
        if t[:2] == ["if-match", "acl"]:
            drop(lambda c: c.line == " ".join(t))
            return ""
        return VRP_UNRECOGNIZED


# =============================================================================== Junos


def _junos_words(line: str) -> list[str]:
    lexer = shlex.shlex(line, posix=True)
    lexer.whitespace_split = True
    lexer.commenters = ""
    return list(lexer)


def _junos_line(words: list[str]) -> str:
    return " ".join(f'"{w}"' if (" " in w or not w) else w for w in words)


# Statements that hold one value (a second `set` replaces it); every other leaf is a list.
_JUNOS_SINGLE = ("description", "output", "input", "dscp", "host-name")


class JunosDevice(FakeDevice):
    """Junos: a committed config, a shared candidate (``configure``) kept between sessions,
    ``configure exclusive`` (locked, discarded on exit), commit/commit confirmed, rollback N."""

    config_command = "configure"
    prompt = "user@router# "

    def __init__(self, running: str, *, locked_by_other: bool = False, **kw: Any) -> None:
        super().__init__(**kw)
        self.candidate: list[str] = []
        for line in running.splitlines():  # as the device would hold it (one description…)
            if line.startswith("set "):
                self.configure(line)
        self.committed = list(self.candidate)
        self.history: list[list[str]] = [list(self.committed)]  # rollback 0, 1, … from the end
        self.candidate = list(self.committed)  # the shared candidate
        self.exclusive = False
        self.locked_by_other = locked_by_other
        self.pending_confirm = False  # a commit confirmed waiting for its confirmation
        self.commit_error = ""  # a reason the next commit is refused

    @staticmethod
    def norm(line: str) -> str:
        return _junos_line(_junos_words(line))

    def state(self) -> list[str]:
        return self.committed

    def show(self) -> str:
        head = "## Last commit: 2026-11-29 10:00:00 UTC by admin\n"
        return head + "\n".join(self.committed) + "\n"

    def exec(self, command: str) -> str:
        if command == "show configuration | display set":
            return self.show()
        if command in ("configure exclusive", "configure private", "configure"):
            if self.locked_by_other:
                return (
                    "error: configuration database locked by:\n"
                    "  ops terminal p1 (pid 4242) on since 2026-11-29 09:00:00 UTC\n"
                    "      exclusive [edit]\n\nuser@router> "
                )
            self.enter(command)
            return (
                "warning: uncommitted changes will be discarded on exit\n"
                "Entering configuration mode\n\n[edit]\nuser@router# "
            )
        if command.startswith("rollback ") and self.in_config:
            n = int(command.split()[1])
            self.candidate = list(self.history[-1 - n])
            return "load complete"
        return f"\n{JUNOS_SYNTAX}"

    def enter(self, command: str) -> None:
        self.in_config = True
        self.exclusive = command == "configure exclusive"

    def leave(self) -> None:
        if self.exclusive and self.candidate != self.committed:
            self.candidate = list(self.committed)  # exclusive: uncommitted changes discarded
        self.in_config = False
        self.exclusive = False

    def configure(self, line: str) -> str:
        words = _junos_words(line)
        if words[0] == "set" and len(words) > 2:
            new = _junos_line(words)
            if words[-2] in _JUNOS_SINGLE:
                key = words[:-1]
                self.candidate = [c for c in self.candidate if _junos_words(c)[:-1] != key]
            # An empty term (`term X;`, see delete) is displayed through its statements again.
            if len(words) > 8 and words[6] == "term":
                self.candidate = [c for c in self.candidate if _junos_words(c) != words[:8]]
            if new not in self.candidate:
                self.candidate.append(new)
            return ""
        if words[0] == "delete" and len(words) > 1:
            prefix = ["set", *words[1:]]
            kept = [c for c in self.candidate if _junos_words(c)[: len(prefix)] != prefix]
            if len(kept) == len(self.candidate):
                return "warning: statement not found"
            # A term is an object of its own: deleting its last statement leaves `term X;`
            # (no match and no action: it accepts everything); `delete … term X` removes it.
            term = prefix[:8]
            if (
                len(prefix) > 8
                and prefix[:5] == ["set", "firewall", "family", "inet", "filter"]
                and prefix[6] == "term"
                and not any(_junos_words(c)[:8] == term for c in kept)
            ):
                kept.append(_junos_line(term))
            self.candidate = kept
            return ""
        return f"{' ' * 10}^\n{JUNOS_SYNTAX}"

    def _check(self) -> str:
        if self.commit_error:
            return self.commit_error
        for line in self.candidate:
            words = _junos_words(line)
            if words[-3:-1] == ["filter", "output"]:
                name = words[-1]
                prefix = ["set", "firewall", "family", "inet", "filter", name]
                if not any(_junos_words(c)[:6] == prefix for c in self.candidate):
                    where = " ".join(words[1:-3])
                    return (
                        f"[edit {where}]\n  'filter'\n    Referenced filter '{name}' is not "
                        "defined\nerror: configuration check-out failed"
                    )
        return ""

    def commit(self, confirm: bool = False, confirm_delay: int | None = None, **_kw: Any) -> str:
        # netmiko's JuniperBase.commit: enter config mode if needed, send, raise on no marker.
        self.config_mode()
        command = f"commit confirmed {confirm_delay}" if confirm else "commit"
        self.sent.append(command)
        if self.locked_by_other:
            error = "error: configuration database locked by:\n  ops terminal p1\n"
        else:
            error = self._check()
        if error:
            raise ValueError(f"Commit failed with the following errors:\n\n{command}\n{error}")
        self.committed = list(self.candidate)
        self.history.append(list(self.committed))
        self.pending_confirm = confirm
        if confirm:
            return (
                f"{command}\ncommit confirmed will be automatically rolled back in "
                f"{confirm_delay} minutes unless confirmed\ncommit complete"
            )
        return f"{command}\ncommit complete"


# =============================================================================== RouterOS


@dataclass
class RosItem:
    attrs: dict[str, str]


# Attributes an export without `verbose` does not print when they hold their default.
_ROS_DEFAULTS = {
    "distance": "1",
    "disabled": "no",
    "routing-table": "main",
    "log": "no",
    "enabled": "no",
}


class RouterosDevice(FakeDevice):
    """RouterOS 7: menus of items; `add` appends (or `place-before`), `set` changes attributes,
    `remove [ find … ]` removes what matches (nothing when nothing matches); `/export terse`
    prints items without their default values."""

    prompt = "[admin@router] > "

    def __init__(self, running: str, **kw: Any) -> None:
        super().__init__(**kw)
        self.menus: dict[str, list[RosItem]] = {}
        self.settings: dict[tuple[str, str], dict[str, str]] = {}  # (menu, selector) → attrs
        self.ntp_enabled = "no"
        section = ""
        pending = ""
        for raw in running.splitlines():
            line = raw.rstrip()
            if line.endswith("\\"):  # export's line break: the next line goes on as it is
                pending += line[:-1].lstrip()
                continue
            line, pending = (pending + line.lstrip()).strip(), ""
            if not line or line.startswith("#"):
                continue
            if line.startswith("/") and "=" not in line and not re.search(r" (add|set)\b", line):
                section = line  # grouped export: a menu, then its lines
                continue
            self.configure(line if line.startswith("/") else f"{section} {line}")
        self.sent.clear()

    def state(self) -> tuple[Any, ...]:
        return (self.menus, self.settings)

    def config_mode(self, config_command: str = "", pattern: str = "", **_kw: Any) -> str:
        return ""  # RouterOS has no config mode (netmiko's driver does the same)

    def exit_config_mode(self, *_a: Any, **_kw: Any) -> str:
        return ""

    def show(self) -> str:
        out = ["# 2026-11-29 10:00:00 by RouterOS 7.16", "# software id = ABCD-1234"]
        for (menu, selector), attrs in self.settings.items():
            shown = {
                k: v for k, v in attrs.items() if v not in ("", '""') and _ROS_DEFAULTS.get(k) != v
            }
            if shown:
                where = f" [ {selector} ]" if selector else ""
                out.append(
                    f"{menu} set{where} "
                    + " ".join(f"{k}={_q(v)}" for k, v in sorted(shown.items()))
                )
        for menu, items in self.menus.items():
            for item in items:
                shown = {k: v for k, v in item.attrs.items() if _ROS_DEFAULTS.get(k) != v}
                out.append(f"{menu} add " + " ".join(f"{k}={_q(v)}" for k, v in shown.items()))
        return "\n".join(out) + "\n"

    def exec(self, command: str) -> str:
        if command == "/export terse":
            return self.show()
        return "bad command name"

    def configure(self, line: str) -> str:
        place = re.search(r" place-before=\[ ?find ([^\]]*)\]", line)
        if place:
            line = line.replace(place.group(0), "")
        match = re.match(
            r"^(/[a-z][a-z -]*?) (add|set|remove)(?= |$) ?(?:\[ ?find ([^\]]*)\])? ?(.*)$", line
        )
        if not match:
            return "bad command name"
        menu, verb, find, rest = match.groups()
        try:
            attrs = dict(t.partition("=")[::2] for t in shlex.split(rest))
            where = dict(t.partition("=")[::2] for t in shlex.split(find or ""))
        except ValueError:
            return "syntax error (line 1 column 1)"
        if verb == "add":
            if menu.startswith("/ip firewall") and attrs.get("dst-address", "").endswith("/32"):
                attrs["dst-address"] = attrs["dst-address"][:-3]  # printed without its /32
            items = self.menus.setdefault(menu, [])
            item = RosItem(attrs)
            if place:
                cond = dict(t.partition("=")[::2] for t in shlex.split(place.group(1)))
                hits = [i for i, it in enumerate(items) if _match(it.attrs, cond)]
                if len(hits) != 1:
                    return "no such item"
                items.insert(hits[0], item)
            else:
                items.append(item)
            return ""
        if verb == "remove":
            items = self.menus.get(menu, [])
            self.menus[menu] = [it for it in items if not _match(it.attrs, where)]
            return ""
        key = (menu, (f"find {find.strip()}" if find else ""))
        key = (menu, " ".join(key[1].split()))
        current = self.settings.setdefault(key, {})
        for k, v in attrs.items():
            if v in ("", '""'):
                current.pop(k, None)
            else:
                current[k] = v
        return ""

    def filter_rules(self) -> list[dict[str, str]]:
        return [it.attrs for it in self.menus.get("/ip firewall filter", [])]


def _match(attrs: dict[str, str], cond: dict[str, str]) -> bool:
    def value(k: str) -> str:
        return attrs.get(k, _ROS_DEFAULTS.get(k, ""))

    return all(value(k) == v for k, v in cond.items())


def _q(value: str) -> str:
    return value if re.fullmatch(r"[A-Za-z0-9._/:,-]+", value) else f'"{value}"'
