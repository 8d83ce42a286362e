"""`confprov verify`, `confprov report` and `confprov reflector`: parse, call, print."""

from __future__ import annotations

import argparse
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from confprov import cliargs
from confprov.cliargs import limit_arg, resolve_workspace, workspace_arg
from confprov.config import LANGS
from confprov.exceptions import InputError, Problem
from confprov.nodes import nodes_arg, said

if TYPE_CHECKING:
    from confprov.verify.report import Report


# Report files: flag -> help. Each is refused before any work when its folder is missing.
FILE_OUTPUTS = {
    "junit": "JUnit XML (Jenkins/Surefire and Ant schemas), one test case per site",
    "html": "one self-contained HTML page with charts",
    "xlsx": "Excel workbook: sites, and a summary per level and district",
    "csv": "CSV of the sites with status, reason and measured values",
    "prom": "Prometheus text (node_exporter textfile collector), written atomically",
}


def _outputs(parser: argparse.ArgumentParser) -> None:
    cliargs.json_arg(parser, "the run")
    for flag, text in FILE_OUTPUTS.items():
        parser.add_argument(f"--{flag}", type=Path, metavar="FILE", help=text)
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
        "--retry-failed",
        "--failed-only",
        dest="retry_failed",
        action="store_true",
        help="recheck only the sites not ready in their latest run (--failed-only: the same)",
    )
    limit_arg(p)
    p.add_argument("--forks", type=int, default=50, help="parallel hosts (default 50)")
    nodes_arg(p)
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

    p = sub.add_parser(
        "sheets",
        help="one printable A4 operator sheet per site (HTML; PDF with --pdf)",
        description="Write, for every site, a page an operator keeps beside the laptop: the "
        "site and its laptop(s), how to start and check the client, the conference room, the "
        "on-site contact and the technician to call (support in confprov.yml), and the latest "
        "readiness result with its date. PDF printed by headless Chromium when it is present.",
    )
    workspace_arg(p)
    p.add_argument("--out", type=Path, required=True, metavar="DIR", help="folder to write into")
    p.add_argument("--pdf", action="store_true", help="also print every sheet into sheets.pdf")
    p.add_argument("--lang", choices=LANGS, help="language (default: lang in confprov.yml)")
    cliargs.json_arg(p, "the list of files written")
    p.set_defaults(func=_cmd_sheets)

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
    cliargs.check_targets(args, ("json", *FILE_OUTPUTS))


def _render(args: argparse.Namespace, report: Report) -> None:
    from confprov.verify import exports
    from confprov.verify import html as html_mod
    from confprov.verify import report as report_mod

    report_mod.print_terminal(
        report, cliargs.console(args, cliargs.human_stream(args)), quiet=args.quiet
    )
    cliargs.emit_json(args, report_mod.to_json(report))
    writers: dict[str, Callable[[Report], str | bytes]] = {
        "junit": report_mod.junit_text,
        "html": html_mod.html_page,
        "xlsx": exports.xlsx_bytes,
        "csv": exports.csv_text,
        "prom": exports.prom_text,
    }
    for flag, writer in writers.items():
        path = getattr(args, flag)
        if path is not None:
            cliargs.write_atomic(path, writer(report))
            cliargs.say(args, f"{flag}: {path.resolve()}")


def _make_report(workspace: Path, run_id: int | None, lang: str | None, scope_all: bool) -> Report:
    from confprov.verify import store
    from confprov.verify.report import Report
    from confprov.workspace import load

    loaded = load(workspace)
    info = store.run_info(workspace, run_id)
    sites = store.load_run(workspace, info.id)
    report = Report(
        run=info,
        sites=sites,
        province=loaded.config.province,
        district_names=loaded.registry.grouping_names(),
        lang=lang or loaded.config.lang,
        history=store.history(workspace),
        limits=loaded.config.thresholds,
    )
    if not scope_all:
        report.province_sites = store.latest_results(workspace, info.id)
    return report


def _cmd_verify(args: argparse.Namespace) -> int:
    from confprov.runner import NothingToRetry
    from confprov.verify.run import verify

    workspace = resolve_workspace(args)
    _check_targets(args)
    if args.forks < 1:
        raise InputError([Problem("", None, "--forks", "must be at least 1")])
    try:
        with cliargs.progress(args, "verify") as progress:
            outcome = verify(
                workspace,
                failed_only=args.retry_failed,
                limit=args.limit,
                forks=args.forks,
                max_probes=args.max_probes,
                check_routers=not args.no_router_checks,
                on_progress=progress,
                nodes=args.nodes,
            )
    except NothingToRetry as nothing:
        cliargs.say(args, str(nothing))
        if getattr(args, "json", None) is not None:
            from confprov.verify.report import nothing_json
            from confprov.workspace import load

            cliargs.emit_json(args, nothing_json(load(workspace).config.province, str(nothing)))
        return nothing.exit_code
    report = _make_report(workspace, outcome.run.id, args.lang, outcome.run.scope == "all")
    _render(args, report)
    if outcome.run.run_dir:
        for line in said(Path(outcome.run.run_dir)):  # execution nodes, re-sent slices
            cliargs.say(args, line)
        cliargs.say(args, f"run folder: {outcome.run.run_dir}")
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
        cliargs.say(args, changes_text(changes, args.since, args.lang or loaded.config.lang))
        if not (args.json or args.run or any(getattr(args, f) for f in FILE_OUTPUTS)):
            return 0
    info = store.run_info(workspace, args.run)
    report = _make_report(workspace, info.id, args.lang, info.scope == "all")
    _render(args, report)
    return 0 if not report.not_ready else 1


def _cmd_sheets(args: argparse.Namespace) -> int:
    from confprov.verify.sheets import write_sheets

    cliargs.check_targets(args, ("json",))
    result = write_sheets(resolve_workspace(args), args.out, lang=args.lang, pdf=args.pdf)
    cliargs.emit_json(args, result.to_json())
    sites = len(result.html) - 1
    cliargs.say(args, f"sheets: {sites} site(s) in {args.out.resolve()}")
    if result.pdf is not None:
        cliargs.say(args, f"pdf: {result.pdf.resolve()}")
    if result.note:
        cliargs.say(args, f"note: {result.note}")
    return 0


def _cmd_reflector(args: argparse.Namespace) -> int:
    if args.deploy:
        from confprov.verify.run import deploy_reflector

        result = deploy_reflector(resolve_workspace(args))
        cliargs.summary(args, result.summary_text())
        return 0 if result.ok else 1
    from confprov.verify.reflector import serve_args

    return serve_args(args)
