"""Arguments and output conventions every `confprov` command shares.

One module that the top-level parser and every area's CLI import (so no area CLI imports
``confprov.cli``): the workspace and ``--limit`` options, ``--json [FILE|-]`` with one meaning
everywhere, ``-q/--quiet`` and ``--no-color`` added to every command, colour only on a terminal
and never with ``NO_COLOR`` (https://no-color.org), and the progress display fed by the runner
façade's events (a live bar on a terminal, a plain line every few seconds in a CI log).
"""

from __future__ import annotations

import argparse
import functools
import json
import os
import re
import sys
import time
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any

from confprov import domain, safefile
from confprov.exceptions import InputError, Problem

if TYPE_CHECKING:
    from rich.console import Console
    from rich.table import Table

    from confprov.runner import Progress, ProgressCallback

WORKSPACE_ENV = "CONFPROV_WORKSPACE"
STDOUT = "-"
# A plain progress line at most this often when stderr is not a terminal (CI logs).
PLAIN_INTERVAL_S = 5.0
# Colours of states, the same in every table and line.
STATE_STYLE = {"pass": "green", "warn": "yellow", "fail": "bold red", "skip": "dim"}


# One example per command, shown at the end of its --help (add_common puts it there).
EXAMPLES = {
    "init": "confprov init phu-tho --example phu-tho",
    "check": "confprov check -w phu-tho",
    "inventory": "confprov inventory -w phu-tho",
    "demo": "confprov demo --sites 5 -w demo-ws",
    "export-vars": "confprov export-vars -w phu-tho --out play-vars.yml",
    "lab up": "confprov lab up --name lab1 --sites 3 -w lab1-ws",
    "lab status": "confprov lab status",
    "lab down": "confprov lab down --name lab1",
    "lab fault": "confprov lab fault --name lab1 xa-1.huyen-1 --loss 5",
    "lab image": "confprov lab image",
    "provision": "confprov provision -w phu-tho --limit district:'Cẩm Khê' --json run.json",
    "mirror": "confprov mirror -w phu-tho",
    "survey": "confprov survey -w phu-tho --json - | jq .lacking",
    "routers plan": "confprov routers plan -w phu-tho --limit cam-khe",
    "routers push": "confprov routers push -w phu-tho --json - > push.json",
    "routers rollback": "confprov routers rollback -w phu-tho --limit cam-khe",
    "routers backups": "confprov routers backups -w phu-tho",
    "routers check": "confprov routers check -w phu-tho -q",
    "trust": "confprov trust -w phu-tho cam-khe-rt",
    "verify": "confprov verify -w phu-tho --html r.html --xlsx r.xlsx --junit r.xml",
    "report": "confprov report -w phu-tho --json - | jq .summary",
    "reflector": "confprov reflector --deploy -w phu-tho",
    "sheets": "confprov sheets -w phu-tho --out sheets --pdf",
    "watch serve": "confprov watch serve -w phu-tho --port 8470",
    "watch status": "confprov watch status -w phu-tho --json - | jq .up",
    "watch restore": "confprov watch restore -w phu-tho yen-tap.cam-khe --action router",
    "watch deploy": "confprov watch deploy -w phu-tho",
    "watch report": "confprov watch report -w phu-tho --html session.html",
}


# --------------------------------------------------------------------------- the terminal

# What must not reach a terminal raw: domain.CONTROL (C0/C1 controls, zero-width and
# bidirectional marks) but the line break and the tab. An escape sequence in a SIP reason
# phrase or a device's answer could retitle the window, clear the screen or hide text; an RTL
# override makes a name read backwards.
_UNSAFE = re.compile(r"(?![\n\t])(?:" + domain.CONTROL.pattern + ")")


def clean(text: str) -> str:
    """``text`` with every unsafe character shown as its ``\\uXXXX`` escape (also a valid JSON
    escape of the same character, so JSON on stdout stays JSON with the same values)."""
    return _UNSAFE.sub(lambda m: f"\\u{ord(m.group(0)):04x}", text)


class CleanStream:
    """A text stream whose plain writes pass through ``clean``; everything else is the raw
    stream's (``cli.main`` puts one over stdout and stderr for the whole command)."""

    def __init__(self, raw: IO[str]) -> None:
        self.raw = raw

    def write(self, text: str) -> int:
        self.raw.write(clean(text))
        return len(text)

    def writelines(self, lines: Iterable[str]) -> None:
        for line in lines:
            self.write(line)

    def __getattr__(self, name: str) -> Any:
        return getattr(self.raw, name)


def raw_stream(stream: Any) -> Any:
    """The stream under a CleanStream (rich's console cleans its own text, below)."""
    return stream.raw if isinstance(stream, CleanStream) else stream


def workspace_arg(parser: argparse.ArgumentParser) -> None:
    """The ``-w/--workspace`` option every command takes."""
    parser.add_argument(
        "-w",
        "--workspace",
        type=Path,
        default=None,
        help=f"workspace folder (default: ${WORKSPACE_ENV}, else the current folder)",
    )


def limit_arg(parser: argparse.ArgumentParser, what: str = "these sites") -> None:
    """The ``--limit`` option, one syntax for every command (confprov.selection)."""
    from confprov.selection import HELP

    parser.add_argument(
        "--limit",
        action="append",
        default=[],
        metavar="SITE|district:NAME|group:NAME|level:LEVEL",
        help=f"only {what}; each a {HELP}",
    )


def resolve_workspace(args: argparse.Namespace) -> Path:
    """Explicit argument, then environment, then the current folder."""
    chosen = args.workspace or os.environ.get(WORKSPACE_ENV) or "."
    return Path(chosen).resolve()


def json_arg(parser: Any, what: str = "the result") -> None:
    """``--json [FILE|-]``: the result as JSON into FILE, or on stdout with ``-`` or no value."""
    parser.add_argument(
        "--json",
        nargs="?",
        const=STDOUT,
        default=None,
        metavar="FILE|-",
        help=f"write {what} as JSON to FILE (stdout with - or no value)",
    )


def json_to_stdout(args: argparse.Namespace) -> bool:
    """True when stdout carries the JSON: then human text goes to stderr (or nowhere with -q)."""
    return getattr(args, "json", None) == STDOUT


def human_stream(args: argparse.Namespace) -> IO[str]:
    return sys.stderr if json_to_stdout(args) else sys.stdout


def write_atomic(path: Path, text: str | bytes) -> None:
    """Whole or not at all, never through a link planted at the path: ``safefile.replace``."""
    safefile.replace(path, text)


def check_targets(args: argparse.Namespace, flags: tuple[str, ...]) -> None:
    """Refuse output files whose folder is missing, before any work (nothing half-way)."""
    problems = []
    for flag in flags:
        value = getattr(args, flag, None)
        if value is None or str(value) == STDOUT:
            continue
        if not Path(value).resolve().parent.is_dir():
            problems.append(Problem(str(value), None, f"--{flag}", "its folder does not exist"))
    if problems:
        raise InputError(problems)


def emit_json(args: argparse.Namespace, data: Any) -> None:
    """Write ``data`` where ``--json`` says: stdout for ``-``, else FILE (atomically)."""
    target = getattr(args, "json", None)
    if target is None:
        return
    text = json.dumps(data, indent=2, ensure_ascii=False) + "\n"
    if str(target) == STDOUT:
        sys.stdout.write(text)
        sys.stdout.flush()
        return
    write_atomic(Path(target), text)
    say(args, f"json: {target}")


def summary(args: argparse.Namespace, text: str) -> None:
    """A command's report: all of it, or with -q its first line (the summary line)."""
    lines = text.splitlines() or [""]
    print("\n".join(lines[:1] if getattr(args, "quiet", False) else lines))


def say(args: argparse.Namespace, text: str) -> None:
    """A human line: stdout, or stderr when stdout carries JSON; nothing with -q."""
    if not getattr(args, "quiet", False):
        print(text, file=human_stream(args))


def color_enabled(args: argparse.Namespace | None, stream: Any) -> bool:
    """Colour only on a terminal, never with ``--no-color`` or a non-empty ``NO_COLOR``."""
    if args is not None and getattr(args, "no_color", False):
        return False
    if os.environ.get("NO_COLOR"):
        return False
    return bool(hasattr(stream, "isatty") and stream.isatty())


def console(args: argparse.Namespace | None, stream: Any = None) -> Console:
    """A rich console for ``stream`` that honours the colour rules above.

    Whether it is a terminal and whether it is coloured are separate: ``--no-color`` on a
    terminal still draws the live progress (cursor movement), only without colour.
    """
    out = raw_stream(stream if stream is not None else sys.stdout)
    tty = bool(hasattr(out, "isatty") and out.isatty())
    on = color_enabled(args, out)
    return _console_class()(
        file=out,
        no_color=not on,
        color_system="auto" if on else None,
        highlight=False,
        force_terminal=tty,
        soft_wrap=not tty,
    )


@functools.cache
def _console_class() -> type[Console]:
    """rich's Console, cleaning every text segment it writes (``clean``); the segments of its
    own escape codes (colour, cursor movement) are rendered by rich after, untouched. A broken
    pipe is left to ``cli.main``."""
    from rich.console import Console
    from rich.segment import Segment

    class CleanConsole(Console):
        def on_broken_pipe(self) -> None:
            """rich would exit 1 itself; ``cli.main`` ends every command alike (141)."""
            raise BrokenPipeError

        def _render_buffer(self, buffer: Iterable[Segment]) -> str:
            return super()._render_buffer(
                s if s.control else Segment(clean(s.text), s.style, s.control) for s in buffer
            )

    return CleanConsole


def table(title: str, columns: Sequence[str], right: Sequence[str] = ()) -> Table:
    """The terminal table every command prints (rich measures Vietnamese text by its cells):
    a title at the left, no box, ``right`` columns right-aligned (numbers)."""
    from rich.table import Table

    out = Table(title=title, title_justify="left", box=None, pad_edge=False)
    for column in columns:
        out.add_column(column, justify="right" if column in right else "left", overflow="fold")
    return out


def print_table(args: argparse.Namespace, shown: Table) -> None:
    """``shown`` on the command's human stream: folded to a terminal's width, and at its full
    width elsewhere (a log or a pipe keeps whole paths on one line, for copying)."""
    from rich.measure import Measurement

    con = console(args, human_stream(args))
    if not con.is_terminal:
        con.width = Measurement.get(con, con.options.update(width=10_000), shown).maximum
    con.print(shown)


# Per-host state tags in the summaries of runs (runner.RunResult, routers): their colours.
TAG_STYLE = {"FAILED": "bold red", "UNREACHABLE": "magenta", "CHANGED": "yellow"}


def print_states(args: argparse.Namespace, text: str) -> None:
    """A run's summary, its state tags coloured on a terminal (plain text elsewhere)."""
    from rich.text import Text

    out = Text(text)
    for word, style in TAG_STYLE.items():
        out.highlight_regex(rf"\b{word}\b", style)
    console(args, human_stream(args)).print(out, soft_wrap=True)


_WHOLE = re.compile(r"[+-]?[0-9]+")
_DECIMAL = re.compile(r"[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][+-]?[0-9]+)?")


def whole(text: str) -> int:
    """A whole-number option in ASCII digits. ``int()`` also takes other scripts' digits
    (a full-width five would be 5), which no operator means: refused (argparse: exit 2)."""
    if not _WHOLE.fullmatch(text.strip()):
        raise argparse.ArgumentTypeError(f"not a whole number in ASCII digits 0-9: {text!r}")
    return int(text)


def decimal(text: str) -> float:
    """A number option in ASCII digits (``1.5``, ``2e3``); no NaN, no infinity."""
    if not _DECIMAL.fullmatch(text.strip()):
        raise argparse.ArgumentTypeError(f"not a number in ASCII digits 0-9: {text!r}")
    return float(text)


def add_common(parser: argparse.ArgumentParser) -> None:
    """Give every command (each leaf parser) ``-q/--quiet`` and ``--no-color``.

    Added after all areas registered, so a new command has them without asking; a command that
    defines ``-q`` itself keeps its own help. Each command's example (EXAMPLES) ends its help.
    Every ``type=int``/``type=float`` option takes ASCII digits only (``whole``, ``decimal``).
    """
    subs = [a for a in parser._actions if isinstance(a, argparse._SubParsersAction)]
    for action in parser._actions:
        if action.type is int:
            action.type = whole
        elif action.type is float:
            action.type = decimal
    if not subs:
        command = parser.prog.partition(" ")[2]
        if command in EXAMPLES and not parser.epilog:
            parser.epilog = f"example: {EXAMPLES[command]}"
        if "--quiet" not in parser._option_string_actions:
            parser.add_argument(
                "-q", "--quiet", action="store_true", help="less output: the summary line only"
            )
        if "--no-color" not in parser._option_string_actions:
            parser.add_argument(
                "--no-color",
                action="store_true",
                help="no colour (also when NO_COLOR is set or output is not a terminal)",
            )
        return
    for action in subs:
        for child in set(action.choices.values()):
            add_common(child)


def _clock(seconds: float) -> str:
    minutes, secs = divmod(round(seconds), 60)
    return f"{minutes:02d}:{secs:02d}"


def progress_line(what: str, p: Progress, elapsed: float) -> str:
    """``verify: 12/50 done (1 failed, 0 unreachable), 00:32 elapsed, ETA 01:40``."""
    finished = len(p.done | p.failed | p.unreachable)
    total = f"{finished}/{p.total}" if p.total else f"{finished}"
    eta = "ETA --:--"
    if p.total and finished:
        eta = f"ETA {_clock(elapsed / finished * max(0, p.total - finished))}"
    return (
        f"{what}: {total} done ({len(p.failed)} failed, {len(p.unreachable)} unreachable), "
        f"{_clock(elapsed)} elapsed, {eta}"
    )


class _Plain:
    """A line every PLAIN_INTERVAL_S seconds at most, and one at the end: CI logs see progress."""

    def __init__(self, what: str, stream: IO[str], interval: float) -> None:
        self.what, self.stream, self.interval = what, stream, interval
        self.started = time.monotonic()
        self.last: float | None = None
        self.latest: Progress | None = None

    def __call__(self, p: Progress) -> None:
        self.latest = p
        now = time.monotonic()
        if self.last is None or now - self.last >= self.interval:
            self.last = now
            self.stream.write(progress_line(self.what, p, now - self.started) + "\n")
            self.stream.flush()

    def close(self) -> None:
        if self.latest is not None:
            line = progress_line(self.what, self.latest, time.monotonic() - self.started)
            self.stream.write(line + "\n")
            self.stream.flush()


class _Live:
    """rich's progress bar on a terminal: total, done/failed/unreachable, elapsed, ETA."""

    def __init__(self, what: str, con: Console) -> None:
        from rich.progress import (
            BarColumn,
            MofNCompleteColumn,
            Progress,
            TextColumn,
            TimeElapsedColumn,
            TimeRemainingColumn,
        )

        self.bar = Progress(
            TextColumn("{task.description}"),
            BarColumn(),
            MofNCompleteColumn(),
            TextColumn("{task.fields[states]}"),
            TimeElapsedColumn(),
            TextColumn("ETA"),
            TimeRemainingColumn(),
            console=con,
            transient=False,
        )
        self.task = self.bar.add_task(what, total=None, states="")
        self.bar.start()

    def __call__(self, p: Progress) -> None:
        finished = len(p.done | p.failed | p.unreachable)
        states = f"[red]{len(p.failed)} failed[/] [magenta]{len(p.unreachable)} unreachable[/]"
        self.bar.update(
            self.task, total=p.total or None, completed=finished, states=states, refresh=False
        )

    def close(self) -> None:
        self.bar.stop()


@contextmanager
def progress(
    args: argparse.Namespace, what: str, stream: IO[str] | None = None
) -> Iterator[ProgressCallback | None]:
    """The progress display for one command, fed by the runner's events (never by stdout).

    None with ``-q``; rich's live bar on a terminal; otherwise a plain line every few seconds
    and a last one when the run ends.
    """
    if getattr(args, "quiet", False):
        yield None
        return
    out = stream if stream is not None else sys.stderr
    shown: _Plain | _Live
    if hasattr(out, "isatty") and out.isatty():
        shown = _Live(what, console(args, out))
    else:
        shown = _Plain(what, out, PLAIN_INTERVAL_S)
    try:
        yield shown
    finally:
        shown.close()
