"""The ``confprov`` command: parse, call, print. The work lives in the modules it calls."""

from __future__ import annotations

import argparse
import contextlib
import os
import sys
import traceback
from collections.abc import Callable, Sequence
from pathlib import Path

from confprov import __version__, lock
from confprov.cliargs import (  # noqa: F401 - re-exported for callers of confprov.cli
    WORKSPACE_ENV,
    CleanStream,
    add_common,
    check_targets,
    emit_json,
    json_arg,
    json_to_stdout,
    limit_arg,
    resolve_workspace,
    say,
    workspace_arg,
)
from confprov.exceptions import ConfprovError, InputError
from confprov.paths import EXAMPLES

Handler = Callable[[argparse.Namespace], int]
BROKEN_PIPE = 141  # 128 + SIGPIPE: what a shell reports for a writer whose reader left


def _cmd_init(args: argparse.Namespace) -> int:
    from confprov.workspace import init_workspace

    created = init_workspace(Path(args.dir), example=args.example, xlsx=args.xlsx)
    say(args, f"workspace ready: {created}")
    say(args, f"next: confprov check -w {created}")
    return 0


def _cmd_check(args: argparse.Namespace) -> int:
    from confprov.workspace import check_workspace

    check_targets(args, ("json",))
    summary = check_workspace(resolve_workspace(args))
    if args.quiet:  # nothing on success; a roster difference still shows, on stderr
        for warning in summary.warnings:
            print(f"warning: {warning}", file=sys.stderr)
    elif not json_to_stdout(args):
        print(summary.text())
    emit_json(args, summary.to_json())
    return 0


def _cmd_inventory(args: argparse.Namespace) -> int:
    from confprov.workspace import render_workspace_inventory

    report = render_workspace_inventory(resolve_workspace(args))
    say(args, report.text())
    return 0


def _cmd_export_vars(args: argparse.Namespace) -> int:
    from confprov.playvars import VARS_FILE, export_vars, write, write_source

    workspace = resolve_workspace(args)
    exported = export_vars(workspace)
    source = write_source(workspace)
    if source is not None and not args.quiet:  # on stderr: stdout may carry the variables
        print(f"inventory source: {source} (the confprov.core.registry plugin)", file=sys.stderr)
    if str(args.out) == "-":
        sys.stdout.write(exported.text())
    else:
        target = Path(args.out) if args.out else workspace / VARS_FILE
        write(exported, target)
        say(args, f"play variables: {target} ({len(exported.variables)} variables)")
    for note in exported.notes:
        print(f"note: {note}", file=sys.stderr)
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
        epilog="example: confprov verify -w phu-tho --json - | jq .summary  "
        '(completion: eval "$(register-python-argcomplete confprov)")',
    )
    parser.add_argument("--version", action="version", version=f"confprov {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)

    p = sub.add_parser("init", help="scaffold a workspace")
    p.add_argument("dir", help="folder to create (must be empty or absent)")
    p.add_argument("--example", choices=EXAMPLES, help="start from a shipped province")
    p.add_argument(
        "--xlsx", action="store_true", help="write the registry as sites.xlsx (Excel workbook)"
    )
    p.set_defaults(func=_cmd_init)

    p = sub.add_parser("check", help="validate the registry and config; print a summary")
    workspace_arg(p)
    json_arg(p, "the summary (sites, endpoints, routers, levels, districts, groups, warnings)")
    p.set_defaults(func=_cmd_check)

    p = sub.add_parser("inventory", help="render the Ansible inventory into the workspace")
    workspace_arg(p)
    p.set_defaults(func=_cmd_inventory)

    p = sub.add_parser(
        "export-vars",
        help="write the variables confprov gives its plays, for AWX or plain ansible-playbook",
        description="Write the variables provision, verify, routers and watch deploy compute "
        "for their plays into one YAML file (default WS/play-vars.yml; '-' for stdout), so "
        "the plays run without confprov: ansible-playbook -e @FILE, or an AWX job template's "
        "variables (docs/awx.md); and, when absent, WS/sites.confprov.yml, the inventory "
        "source for the confprov.core.registry plugin. No secret is written: the plays load "
        "the vault themselves.",
    )
    workspace_arg(p)
    p.add_argument("--out", help="the file to write (default WS/play-vars.yml; - for stdout)")
    p.set_defaults(func=_cmd_export_vars)

    p = sub.add_parser("demo", help="the whole flow rehearsed on a fresh lab (root)")
    p.add_argument("--sites", type=int, default=5, help="sites in the demo province (default 5)")
    p.add_argument("--keep", action="store_true", help="leave the lab up at the end")
    workspace_arg(p)
    p.set_defaults(func=_cmd_demo)

    from confprov.lab import cli as lab_cli
    from confprov.provision import cli as provision_cli
    from confprov.routers import cli as routers_cli
    from confprov.verify import cli as verify_cli
    from confprov.watch import cli as watch_cli

    for area in (lab_cli, provision_cli, routers_cli, verify_cli, watch_cli):
        area.register(sub)
    add_common(parser)
    return parser


def _complete(parser: argparse.ArgumentParser) -> None:
    """Shell completion (argcomplete): answers and exits only when the shell asks."""
    if "_ARGCOMPLETE" not in os.environ:
        return
    import argcomplete

    argcomplete.autocomplete(parser)


def main(argv: Sequence[str] | None = None) -> int:
    """Run one command. Its plain output passes through ``cliargs.clean`` (text from devices
    and servers never reaches the terminal raw); a reader that goes away (``confprov check |
    head -1``) ends it quietly, as a tool killed by SIGPIPE would (141)."""
    out, err = sys.stdout, sys.stderr
    sys.stdout, sys.stderr = CleanStream(out), CleanStream(err)
    try:
        code = _run(argv)
        sys.stdout.flush()  # a broken pipe shows here, not at the interpreter's exit
    except BrokenPipeError:
        # Python's documented recipe (library/signal.html, "Note on SIGPIPE"): point stdout at
        # /dev/null so the interpreter's last flush cannot fail again.
        with contextlib.suppress(OSError, ValueError):
            devnull = os.open(os.devnull, os.O_WRONLY)
            os.dup2(devnull, out.fileno())
        return BROKEN_PIPE
    finally:
        sys.stdout, sys.stderr = out, err
    return code


def _run(argv: Sequence[str] | None) -> int:
    parser = build_parser()
    _complete(parser)
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
    except BrokenPipeError:
        raise  # the reader left: not a bug (main ends quietly)
    except Exception:  # noqa: BLE001 - the last line of defence: report, exit 3
        traceback.print_exc()
        print("confprov: internal error (a bug): please report the trace above", file=sys.stderr)
        return 3


if __name__ == "__main__":
    sys.exit(main())
