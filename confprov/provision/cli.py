"""`confprov provision`, `confprov mirror`, `confprov survey`: parse, call, print."""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

from confprov.cli import limit_arg, resolve_workspace, workspace_arg


def _out(args: argparse.Namespace) -> Any:
    """Where progress lines go: nowhere in --quiet or --json (stdout is then for the result)."""
    if args.quiet or getattr(args, "json", False):
        return lambda _: None
    return lambda line: print(line, flush=True)


def _cmd_provision(args: argparse.Namespace) -> int:
    from confprov import runner
    from confprov.provision.run import provision

    say = _out(args)
    progress = None if args.quiet or args.json else runner.terminal_progress(sys.stderr)
    outcome = provision(
        resolve_workspace(args),
        limits=args.limit,
        check=args.check,
        retry_failed=args.retry_failed,
        forks=args.forks,
        on_progress=progress,
        say=say,
    )
    if progress is not None and sys.stderr.isatty():
        sys.stderr.write("\n")
    if args.json:
        print(json.dumps(outcome.to_json(), indent=2, ensure_ascii=False))
        return outcome.exit_code
    for note in outcome.notes:
        print(note)
    for host, changes in outcome.would_change.items():
        print(f"would change on {host}:")
        print("\n".join(f"  {line}" for line in changes))
    if outcome.result is not None:
        lines = outcome.result.summary_text().splitlines()
        print("\n".join(lines[:1] if args.quiet and outcome.result.ok else lines))
    if outcome.survey is not None and not args.quiet:
        print("\n".join(outcome.survey.lines()))
    return outcome.exit_code


def _cmd_mirror(args: argparse.Namespace) -> int:
    from confprov.provision.run import prepare_mirror
    from confprov.workspace import load

    _, state = prepare_mirror(load(resolve_workspace(args)), rebuild=args.rebuild)
    print(state.text())
    return 0


def _cmd_survey(args: argparse.Namespace) -> int:
    from confprov.provision import survey

    summary = survey.summarise(survey.load(resolve_workspace(args)))
    if args.json:
        print(json.dumps(summary.to_json(), indent=2, ensure_ascii=False))
    else:
        print("\n".join(summary.lines()))
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
    out = p.add_mutually_exclusive_group()
    out.add_argument("-q", "--quiet", action="store_true", help="print the summary line only")
    out.add_argument("--json", action="store_true", help="print the result as JSON on stdout")
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
    p.add_argument("--json", action="store_true", help="print the summary as JSON")
    p.set_defaults(func=_cmd_survey)
