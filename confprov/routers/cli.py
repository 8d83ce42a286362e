"""`confprov routers plan|push|rollback|backups|check` and `confprov trust`: parse, call, print."""

from __future__ import annotations

import argparse
import re
from typing import Any

from confprov import cliargs
from confprov.cliargs import limit_arg, resolve_workspace, workspace_arg
from confprov.nodes import nodes_arg
from confprov.routers.settings import DEFAULTS, MAX_CONNECT_ATTEMPTS


def shown(text: str) -> str:
    """``text`` from a router (its config, its errors) made safe for a terminal.

    A device's output is not ours: an escape sequence in a description or an error message
    would reach the operator's terminal and act there (move the cursor, rewrite what was
    printed, set the window title). Every control, zero-width and bidirectional character
    (domain.CONTROL, the registry's own rule) is printed escaped (``\\x1b``); line breaks stay.
    """
    from confprov.domain import CONTROL

    def escape(match: re.Match[str]) -> str:
        char = match.group(0)
        return char if char == "\n" else char.encode("unicode_escape").decode("ascii")

    return CONTROL.sub(escape, text)


def _settings(args: argparse.Namespace) -> object:
    from confprov.routers.settings import RouterSettings

    return RouterSettings(
        workers=args.workers,
        connect_timeout=args.connect_timeout,
        command_timeout=args.command_timeout,
        confirm_minutes=args.confirm_minutes,
        connect_attempts=args.connect_attempts,
        session_logs=not args.no_session_logs,
    )


def _print_run(args: argparse.Namespace, outcome: object) -> int:
    from confprov.routers.run import RoutersRun

    assert isinstance(outcome, RoutersRun)
    cliargs.emit_json(args, outcome.to_json())
    if cliargs.json_to_stdout(args):
        return outcome.exit_code
    show_diff = outcome.plan or args.diff
    if show_diff and not args.quiet:
        for r in outcome.routers.values():
            if r.diff:
                print(shown(f"--- {r.host} ({r.platform}, {r.address})"))
                print(shown(r.diff))
    elif not args.quiet:
        for r in sorted(outcome.routers.values(), key=lambda r: r.host):
            if r.changed and not r.failed:
                print(shown(f"  {'CHANGED':<11} {r.host}: {r.message}"))
    lines = outcome.summary().splitlines()
    text = "\n".join(lines[:1] if args.quiet and not outcome.failed else lines)
    cliargs.print_states(args, shown(text))
    return outcome.exit_code


def _run(args: argparse.Namespace, action: str, *, plan: bool = False, backup: str = "") -> int:
    from confprov.routers.run import run_routers
    from confprov.routers.settings import RouterSettings
    from confprov.runner import NothingToRetry

    settings = _settings(args)
    assert isinstance(settings, RouterSettings)
    cliargs.check_targets(args, ("json",))
    try:
        what = "plan" if plan and action == "push" else action + (" --check" if plan else "")
        with cliargs.progress(args, f"routers {what}") as progress:
            outcome = run_routers(
                resolve_workspace(args),
                action,
                plan=plan,
                limits=args.limit,
                retry_failed=getattr(args, "retry_failed", False),
                backup=backup,
                settings=settings,
                on_progress=progress,
                nodes=getattr(args, "nodes", None),
            )
    except NothingToRetry as nothing:  # said as provision and verify say it (confprov.runner)
        cliargs.emit_json(args, {"routers": {}, "note": str(nothing)})
        cliargs.say(args, str(nothing))
        return nothing.exit_code
    return _print_run(args, outcome)


def _cmd_plan(args: argparse.Namespace) -> int:
    return _run(args, "push", plan=True)


def _cmd_push(args: argparse.Namespace) -> int:
    return _run(args, "push")


def _cmd_rollback(args: argparse.Namespace) -> int:
    return _run(args, "rollback", plan=args.check, backup=args.to or "")


def _cmd_check(args: argparse.Namespace) -> int:
    from confprov.routers.check import check_routers

    cliargs.check_targets(args, ("json",))
    checks = check_routers(resolve_workspace(args), args.limit or None)
    cliargs.emit_json(args, {h: c.to_json() for h, c in checks.items()})
    if not args.quiet and not cliargs.json_to_stdout(args):
        _check_table(args, checks)
    bad = [c for c in checks.values() if not c.ok]
    print(
        f"check: {len(checks)} routers: {len(checks) - len(bad)} ok, {len(bad)} not ready",
        file=cliargs.human_stream(args),
    )
    return 1 if bad else 0


def _check_table(args: argparse.Namespace, checks: dict[str, Any]) -> None:
    """`routers check` as the table every command prints (cliargs.table): router, address,
    state, why; the state coloured on a terminal (cliargs.TAG_STYLE), device text escaped."""
    from rich.markup import escape

    styles = {"OK": "green", "NOT READY": cliargs.TAG_STYLE["FAILED"]}
    styles["UNREACHABLE"] = cliargs.TAG_STYLE["UNREACHABLE"]
    table = cliargs.table("", ["router", "address", "state", "why"])
    for check in checks.values():
        state = "OK" if check.ok else ("NOT READY" if check.reachable else "UNREACHABLE")
        table.add_row(
            escape(check.host),
            escape(check.address),
            f"[{styles[state]}]{state}[/]",
            escape(shown(check.error)),
        )
    cliargs.print_table(args, table)


def _cmd_backups(args: argparse.Namespace) -> int:
    from confprov.routers import backups

    workspace = resolve_workspace(args)
    kept = backups.routers_with_backups(workspace)
    if args.limit and all(name in kept for name in args.limit):
        routers = list(args.limit)  # as kept, even for a site gone from the registry
    elif args.limit:
        from confprov.routers.targets import router_hosts
        from confprov.workspace import load

        routers = router_hosts(load(workspace).registry, args.limit)
    else:
        routers = kept
    if not routers:
        print(f"no backups in {workspace / backups.BACKUPS_DIR}")
        return 0
    for router in routers:
        found = backups.versions(workspace, router)
        print(f"{router}: {len(found)} backup(s)")
        for backup in reversed(found):
            newest = "  (newest: the default for rollback)" if backup is found[-1] else ""
            print(f"  {backup.name}  {backup.path.stat().st_size:>7} bytes{newest}")
    return 0


def _cmd_trust(args: argparse.Namespace) -> int:
    from confprov.routers.trust import ask_on_terminal, raise_if_refused, trust

    confirm = None if args.yes else ask_on_terminal
    results = trust(resolve_workspace(args), args.hosts, replace=args.replace, confirm=confirm)
    for result in results:
        print(shown(result.line()))
    raise_if_refused(results)
    return 0


def _run_options(p: argparse.ArgumentParser, *, retry: bool = True) -> None:
    workspace_arg(p)
    limit_arg(p, "the routers of these sites")
    if retry:
        p.add_argument(
            "--retry-failed",
            action="store_true",
            help="only the routers that failed or did not answer in the last run of this command",
        )
    d = DEFAULTS
    p.add_argument(
        "--workers", type=int, default=d.workers, help=f"routers worked on at once ({d.workers})"
    )
    p.add_argument(
        "--connect-timeout",
        type=float,
        default=d.connect_timeout,
        help=f"seconds to connect and log in ({d.connect_timeout:g})",
    )
    p.add_argument(
        "--command-timeout",
        type=float,
        default=d.command_timeout,
        help=f"seconds for one command's output ({d.command_timeout:g})",
    )
    p.add_argument(
        "--confirm-minutes",
        type=int,
        default=d.confirm_minutes,
        help="IOS/Junos: minutes before an unconfirmed change reverts itself "
        f"({d.confirm_minutes})",
    )
    p.add_argument(
        "--connect-attempts",
        type=int,
        default=d.connect_attempts,
        help="attempts to open a router's session when it does not answer, only ever before "
        f"any line is sent ({d.connect_attempts}; at most {MAX_CONNECT_ATTEMPTS})",
    )
    p.add_argument(
        "--no-session-logs",
        action="store_true",
        help="keep no per-router session log in the run folder",
    )
    p.add_argument("--diff", action="store_true", help="print each router's diff")
    p.add_argument("-q", "--quiet", action="store_true", help="print the summary line only")
    cliargs.json_arg(p)


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add `routers …` and `trust` to the `confprov` parser."""
    parser = sub.add_parser(
        "routers",
        help="site routers: plan, push, roll back (netmiko)",
        description="Exit 0 when every router succeeded, 1 when any failed or did not answer, "
        "2 on bad input. See docs/routers.md.",
    )
    rsub = parser.add_subparsers(dest="routers_command", metavar="ROUTERS_COMMAND", required=True)

    p = rsub.add_parser(
        "plan", help="show what a push would add or remove on each router; changes nothing"
    )
    _run_options(p)
    p.set_defaults(func=_cmd_plan)

    p = rsub.add_parser(
        "push",
        help="back up, apply what is missing, check, save; revert on its own when a check fails",
    )
    _run_options(p)
    nodes_arg(p)
    p.set_defaults(func=_cmd_push)

    p = rsub.add_parser("rollback", help="restore a backup (default: each router's newest)")
    _run_options(p)
    p.add_argument("--to", metavar="BACKUP", help="the backup's name (see `routers backups`)")
    p.add_argument("--check", action="store_true", help="show what the rollback would change")
    p.set_defaults(func=_cmd_rollback)

    p = rsub.add_parser("backups", help="list the kept backups of each router")
    workspace_arg(p)
    limit_arg(p, "the routers of these sites")
    p.set_defaults(func=_cmd_backups)

    p = rsub.add_parser(
        "check", help="read-only: does every router answer and hold every intended line?"
    )
    workspace_arg(p)
    limit_arg(p, "the routers of these sites")
    cliargs.json_arg(p)
    p.set_defaults(func=_cmd_check)

    p = sub.add_parser(
        "trust",
        help="pin a host's SSH key in the workspace's known_hosts (after checking it)",
        description="Connects to each HOST, prints its key's fingerprint and pins it once "
        "confirmed on the terminal (--yes: without asking; no terminal and no --yes: exit 2, "
        "nothing pinned). A key that differs from the pinned one is refused unless --replace. "
        "Exit 1 if any host was refused, declined or did not answer.",
    )
    workspace_arg(p)
    p.add_argument("hosts", nargs="+", metavar="HOST", help="inventory host name or address")
    p.add_argument("--replace", action="store_true", help="replace a changed pinned key")
    p.add_argument(
        "--yes",
        action="store_true",
        help="pin without asking (for scripts that checked the fingerprints another way)",
    )
    p.set_defaults(func=_cmd_trust)
