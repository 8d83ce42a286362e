"""`confprov provision`, `confprov mirror`, `confprov survey`: parse, call, print."""

from __future__ import annotations

import argparse
from typing import Any

from confprov import cliargs
from confprov.cliargs import limit_arg, resolve_workspace, workspace_arg
from confprov.nodes import nodes_arg


def _out(args: argparse.Namespace) -> Any:
    """Where progress lines go: nowhere with --quiet, stderr when stdout carries the JSON."""
    if args.quiet:
        return lambda _: None
    stream = cliargs.human_stream(args)
    return lambda line: print(line, file=stream, flush=True)


def _cmd_provision(args: argparse.Namespace) -> int:
    from confprov.provision.run import provision

    say = _out(args)
    cliargs.check_targets(args, ("json",))
    with cliargs.progress(args, "provision") as progress:
        outcome = provision(
            resolve_workspace(args),
            limits=args.limit,
            check=args.check,
            retry_failed=args.retry_failed,
            forks=args.forks,
            on_progress=progress,
            say=say,
            nodes=args.nodes,
        )
    cliargs.emit_json(args, outcome.to_json())
    if cliargs.json_to_stdout(args):
        return outcome.exit_code
    for note in outcome.notes:
        print(note)
    for host, changes in outcome.would_change.items():
        print(f"would change on {host}:")
        print("\n".join(f"  {line}" for line in changes))
    if outcome.result is not None:
        lines = outcome.result.summary_text().splitlines()
        cliargs.print_states(
            args, "\n".join(lines[:1] if args.quiet and outcome.result.ok else lines)
        )
    if outcome.survey is not None and not args.quiet:
        print("\n".join(outcome.survey.lines()))
    return outcome.exit_code


def _cmd_mirror(args: argparse.Namespace) -> int:
    from confprov.provision.run import prepare_mirror
    from confprov.workspace import load

    _, state = prepare_mirror(load(resolve_workspace(args)), rebuild=args.rebuild)
    cliargs.summary(args, state.text())
    return 0


def _cmd_survey(args: argparse.Namespace) -> int:
    from rich.markup import escape

    from confprov.provision import survey

    cliargs.check_targets(args, ("json",))
    summary = survey.summarise(survey.load(resolve_workspace(args)))
    cliargs.emit_json(args, summary.to_json())
    if args.quiet:
        return 0
    head, *_ = summary.lines()
    cliargs.say(args, head)
    if summary.rows() or summary.unreadable:
        shown = cliargs.table("", ["sites", "lacking", "which"], right=["sites"])
        for words, names in summary.rows():
            shown.add_row(str(len(names)), escape(words), escape(", ".join(names)))
        for name in summary.unreadable:
            shown.add_row("", "unreadable survey file", escape(name))
        cliargs.print_table(args, shown)
    return 0


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add `provision`, `mirror` and `survey` to the `confprov` parser."""
    p = sub.add_parser(
        "provision",
        help="install and configure the conference client on every endpoint",
        description=(
            "Install the pinned conference client from the workspace's signed mirror (served "
            "to the endpoints over the management network during the run), set up time sync "
            "and no-sleep, and survey each room. Exit 0 when every endpoint succeeded, 1 when "
            "any failed or was unreachable, 2 on bad input."
        ),
    )
    workspace_arg(p)
    limit_arg(p, "the endpoints of these sites")
    p.add_argument("--check", action="store_true", help="dry run: show what would change")
    p.add_argument(
        "--retry-failed",
        action="store_true",
        help="only the hosts that failed or were unreachable in the last provision run",
    )
    p.add_argument("--forks", type=int, default=20, help="endpoints worked on at once (20)")
    nodes_arg(p)
    p.add_argument("-q", "--quiet", action="store_true", help="print the summary line only")
    cliargs.json_arg(p)
    p.set_defaults(func=_cmd_provision)

    p = sub.add_parser(
        "mirror",
        help="build the workspace's offline package mirror (provision does it when needed)",
    )
    workspace_arg(p)
    p.add_argument("--rebuild", action="store_true", help="rebuild even when up to date")
    p.add_argument("-q", "--quiet", action="store_true", help=argparse.SUPPRESS)
    p.set_defaults(func=_cmd_mirror)

    p = sub.add_parser("survey", help="summarise the room surveys saved by provision")
    workspace_arg(p)
    cliargs.json_arg(p, "the summary")
    p.set_defaults(func=_cmd_survey)
