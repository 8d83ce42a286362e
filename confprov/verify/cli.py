"""`confprov verify`, `confprov report` and `confprov reflector`: parse, call, print."""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING

from confprov.cli import limit_arg, resolve_workspace, workspace_arg
from confprov.config import LANGS
from confprov.exceptions import InputError, Problem

if TYPE_CHECKING:
    from confprov.verify.report import Report


def _outputs(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--json", type=Path, metavar="FILE", help="write the run as JSON")
    parser.add_argument("--junit", type=Path, metavar="FILE", help="JUnit XML, one test per site")
    parser.add_argument("--html", type=Path, metavar="FILE", help="one self-contained HTML page")
    parser.add_argument("--lang", choices=LANGS, help="labels (default: lang in confprov.yml)")


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add this area's commands to the `confprov` parser."""
    p = sub.add_parser(
        "verify",
        help="check every site's connection to the conference; exit 0 when all are ready",
        description="Run every check on each endpoint (one task per host), judge it against "
        "confprov.yml's thresholds, store the run in results.sqlite and print the summary. "
        "Exit 0 all ready, 1 some not ready, 2 bad input, 3 internal error.",
    )
    workspace_arg(p)
    p.add_argument(
        "--failed-only", action="store_true", help="recheck only sites not ready last time"
    )
    limit_arg(p)
    p.add_argument("--forks", type=int, default=50, help="parallel hosts (default 50)")
    p.add_argument(
        "--max-probes",
        type=int,
        default=None,
        help="parallel media probes at most (default: conference uplink_kbps / media bitrate_kbps)",
    )
    p.add_argument(
        "--no-router-checks",
        action="store_true",
        help="skip the read-only router checks (routers someone else manages)",
    )
    _outputs(p)
    p.set_defaults(func=_cmd_verify)

    p = sub.add_parser("report", help="show a stored verification again, or what changed since one")
    workspace_arg(p)
    p.add_argument("--run", type=int, metavar="RUN", help="the run to show (default: the newest)")
    p.add_argument(
        "--since", type=int, metavar="RUN", help="list the sites whose state changed since RUN"
    )
    _outputs(p)
    p.set_defaults(func=_cmd_report)

    p = sub.add_parser("reflector", help="run the media reflector (or deploy it with --deploy)")
    workspace_arg(p)
    p.add_argument(
        "--deploy", action="store_true", help="deploy it on the conference host (Ansible)"
    )
    from confprov.verify.reflector import build_parser

    build_parser(p)
    p.set_defaults(func=_cmd_reflector)


def _check_targets(args: argparse.Namespace) -> None:
    """Refuse unusable output paths before any work, so nothing is done half-way."""
    problems = [
        Problem(str(path), None, f"--{flag}", "its folder does not exist")
        for flag in ("json", "junit", "html")
        if (path := getattr(args, flag)) is not None and not path.resolve().parent.is_dir()
    ]
    if problems:
        raise InputError(problems)


def _write(path: Path, text: str) -> None:
    """Whole or not at all: a temporary file beside the target, then a rename."""
    fd, tmp = tempfile.mkstemp(dir=path.resolve().parent, prefix=f".{path.name}.")
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        handle.write(text)
    Path(tmp).chmod(0o644)
    Path(tmp).replace(path)


def _render(args: argparse.Namespace, report: Report) -> None:
    from confprov.verify import html as html_mod
    from confprov.verify import report as report_mod

    print(report_mod.terminal(report))
    if args.json:
        _write(args.json, report_mod.json_text(report))
        print(f"json: {args.json}")
    if args.junit:
        _write(args.junit, report_mod.junit_text(report))
        print(f"junit: {args.junit}")
    if args.html:
        _write(args.html, html_mod.html_page(report))
        print(f"html: {args.html.resolve()}")


def _make_report(workspace: Path, run_id: int | None, lang: str | None, scope_all: bool) -> Report:
    from confprov.verify import store
    from confprov.verify.report import Report
    from confprov.workspace import load

    loaded = load(workspace)
    info = store.run_info(workspace, run_id)
    sites = store.load_run(workspace, info.id)
    report = Report(
        info,
        sites,
        province=loaded.config.province,
        district_names=loaded.registry.grouping_names(),
        lang=lang or loaded.config.lang,
    )
    if not scope_all:
        report.province_sites = store.latest_results(workspace, info.id)
    return report


def _cmd_verify(args: argparse.Namespace) -> int:
    from confprov.runner import terminal_progress
    from confprov.verify.run import verify

    workspace = resolve_workspace(args)
    _check_targets(args)
    if args.forks < 1:
        raise InputError([Problem("", None, "--forks", "must be at least 1")])
    outcome = verify(
        workspace,
        failed_only=args.failed_only,
        limit=args.limit,
        forks=args.forks,
        max_probes=args.max_probes,
        check_routers=not args.no_router_checks,
        on_progress=terminal_progress(sys.stderr),
    )
    if sys.stderr.isatty():
        sys.stderr.write("\n")
    if outcome is None:
        which = "of the sites --limit selects, every one" if args.limit else "every site"
        print(f"verify: no site left to recheck: {which} was ready in its latest run")
        return 0
    report = _make_report(workspace, outcome.run.id, args.lang, outcome.run.scope == "all")
    _render(args, report)
    if outcome.run.run_dir:
        print(f"run folder: {outcome.run.run_dir}")
    return 0 if all(s.ready for s in outcome.sites) else 1


def _cmd_report(args: argparse.Namespace) -> int:
    from confprov.verify import store
    from confprov.verify.report import changes_text
    from confprov.workspace import load

    workspace = resolve_workspace(args)
    _check_targets(args)
    if args.since is not None:
        loaded = load(workspace)
        names = {s.slug: s.name for s in loaded.registry.sites}
        changes = store.changes_since(workspace, args.since, names)
        print(changes_text(changes, args.since, args.lang or loaded.config.lang))
        if not (args.json or args.junit or args.html or args.run):
            return 0
    info = store.run_info(workspace, args.run)
    report = _make_report(workspace, info.id, args.lang, info.scope == "all")
    _render(args, report)
    return 0 if not report.not_ready else 1


def _cmd_reflector(args: argparse.Namespace) -> int:
    if args.deploy:
        from confprov.verify.run import deploy_reflector

        result = deploy_reflector(resolve_workspace(args))
        print(result.summary_text())
        return 0 if result.ok else 1
    from confprov.verify.reflector import run

    return run(args)
