"""The ``confprov`` command: parse, call, print. The work lives in the modules it calls."""

from __future__ import annotations

import argparse
import os
import sys
import traceback
from collections.abc import Callable, Sequence
from pathlib import Path

from confprov import lock
from confprov.exceptions import ConfprovError, InputError

WORKSPACE_ENV = "CONFPROV_WORKSPACE"
Handler = Callable[[argparse.Namespace], int]


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
        metavar="SITE|district:NAME|level:LEVEL",
        help=f"only {what}; each a {HELP}",
    )


def resolve_workspace(args: argparse.Namespace) -> Path:
    """Explicit argument, then environment, then the current folder."""
    chosen = args.workspace or os.environ.get(WORKSPACE_ENV) or "."
    return Path(chosen).resolve()


def _cmd_init(args: argparse.Namespace) -> int:
    from confprov.workspace import init_workspace

    created = init_workspace(Path(args.dir), example=args.example)
    print(f"workspace ready: {created}")
    print(f"next: confprov check -w {created}")
    return 0


def _cmd_check(args: argparse.Namespace) -> int:
    from confprov.workspace import check_workspace

    summary = check_workspace(resolve_workspace(args))
    print(summary.text())
    return 0


def _cmd_inventory(args: argparse.Namespace) -> int:
    from confprov.workspace import render_workspace_inventory

    report = render_workspace_inventory(resolve_workspace(args))
    print(report.text())
    return 0


def _cmd_demo(args: argparse.Namespace) -> int:
    from confprov.demo import default_out, run_demo

    return run_demo(
        args.sites, Path(args.workspace or "demo-workspace"), keep=args.keep, out=default_out
    )


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="confprov",
        description="Make every video-conference site ready: registry, inventory, lab, checks.",
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)

    p = sub.add_parser("init", help="scaffold a workspace")
    p.add_argument("dir", help="folder to create (must be empty or absent)")
    p.add_argument("--example", choices=["phu-tho"], help="start from a shipped province")
    p.set_defaults(func=_cmd_init)

    p = sub.add_parser("check", help="validate the registry and config; print a summary")
    workspace_arg(p)
    p.set_defaults(func=_cmd_check)

    p = sub.add_parser("inventory", help="render the Ansible inventory into the workspace")
    workspace_arg(p)
    p.set_defaults(func=_cmd_inventory)

    p = sub.add_parser("demo", help="the whole flow rehearsed on a fresh lab (root)")
    p.add_argument("--sites", type=int, default=5, help="sites in the demo province (default 5)")
    p.add_argument("--keep", action="store_true", help="leave the lab up at the end")
    workspace_arg(p)
    p.set_defaults(func=_cmd_demo)

    from confprov.lab import cli as lab_cli
    from confprov.provision import cli as provision_cli
    from confprov.routers import cli as routers_cli
    from confprov.verify import cli as verify_cli

    for area in (lab_cli, provision_cli, routers_cli, verify_cli):
        area.register(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    handler: Handler = args.func
    try:
        with lock.for_command(args, resolve_workspace):
            return handler(args)
    except InputError as exc:
        print(f"confprov: {len(exc.problems)} problem(s):", file=sys.stderr)
        for problem in exc.problems:
            print(f"  {problem}".replace(" : ", " "), file=sys.stderr)
        return exc.exit_code
    except ConfprovError as exc:
        print(f"confprov: {exc}", file=sys.stderr)
        return exc.exit_code
    except KeyboardInterrupt:
        print("confprov: interrupted", file=sys.stderr)
        return 130
    except Exception:  # noqa: BLE001 - the last line of defence: report, exit 3
        traceback.print_exc()
        print("confprov: internal error (a bug): please report the trace above", file=sys.stderr)
        return 3


if __name__ == "__main__":
    sys.exit(main())
