"""`confprov watch serve|status|restore|deploy|report`: parse, call, print."""

from __future__ import annotations

import argparse
import asyncio
import getpass
import json
import os
import sys
from pathlib import Path

from confprov import cliargs
from confprov.cliargs import resolve_workspace, workspace_arg
from confprov.config import LANGS
from confprov.exceptions import InputError, Problem

DEFAULT_PORT = 8470


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add `watch` and its commands to the `confprov` parser."""
    watch = sub.add_parser(
        "watch",
        help="the session-day board: every site live, restore from one place",
        description="Watch every site during the session (docs/watch.md).",
    )
    cmds = watch.add_subparsers(dest="watch_command", metavar="COMMAND", required=True)

    p = cmds.add_parser(
        "serve",
        help="serve the board (web page, event stream, /api/sites, /metrics)",
        description="Run the watch engine and serve the board. Bound to 127.0.0.1 by default; "
        "any other address needs the token ($CONFPROV_WATCH_TOKEN or WS/.watch-token, mode "
        "0600), and every request without it is refused.",
    )
    workspace_arg(p)
    p.add_argument("--bind", default="127.0.0.1", help="address to listen on (127.0.0.1)")
    p.add_argument("--port", type=int, default=DEFAULT_PORT, help=f"port ({DEFAULT_PORT})")
    p.add_argument("--lang", choices=LANGS, help="the board's language (default: confprov.yml)")
    p.set_defaults(func=_cmd_serve)

    p = cmds.add_parser(
        "status",
        help="print every site's state once; exit 0 every measurable site up, 1 some not up",
        description="The state /api/sites serves, read once without a server. "
        "Exit 0 every measurable site up (Windows-only sites are 'unmeasured' and "
        "do not count), 1 some not up, 2 bad input.",
    )
    workspace_arg(p)
    cliargs.json_arg(p, "the /api/sites document")
    p.set_defaults(func=_cmd_status)

    p = cmds.add_parser(
        "restore",
        help="restore one site: re-verify, re-push its router or restart its client",
        description="Run one restore action on one site through the existing commands with "
        "that site's --limit, audited in the watch's event log. Exit 0 when it succeeded, "
        "1 when it failed or another action runs on the site, 2 bad input.",
    )
    workspace_arg(p)
    p.add_argument("site", help="the site: host name, id, address or name (as --limit takes)")
    from confprov.watch.restore import ACTIONS

    p.add_argument("--action", required=True, choices=ACTIONS, help="what to do")
    p.add_argument("--who", help="who does it, for the audit (default: your login name)")
    p.set_defaults(func=_cmd_restore)

    p = cmds.add_parser(
        "deploy",
        help="install or update the probe agents and the collector (idempotent)",
    )
    workspace_arg(p)
    p.set_defaults(func=_cmd_deploy)

    p = cmds.add_parser(
        "report",
        help="summarise a session: uptime per site, incidents, time to detect and restore",
    )
    workspace_arg(p)
    p.add_argument("--html", type=Path, metavar="FILE", help="write one self-contained page")
    cliargs.json_arg(p, "the summary")
    p.set_defaults(func=_cmd_report)


def _cmd_serve(args: argparse.Namespace) -> int:
    from confprov.watch.app import Board, serve
    from confprov.watch.auth import require_token
    from confprov.watch.engine import event_names, open_engine
    from confprov.watch.restore import Restorer
    from confprov.workspace import load

    workspace = resolve_workspace(args)
    if not 0 < args.port < 65536:
        raise InputError([Problem("--port", None, str(args.port), "must be 1-65535")])
    token = require_token(workspace, args.bind)
    loaded = load(workspace)
    watch = open_engine(workspace)
    board = Board(
        watch,
        lang=args.lang or loaded.config.lang,
        province=loaded.config.province,
        restorer=Restorer(workspace, watch.record_action),
    )
    where = f"http://{args.bind}:{args.port}/"
    print(f"watch: board at {where}" + (" (token required)" if token else ""), flush=True)
    from confprov.watch.notify import Notifier, load_urls

    urls, why_not = load_urls(workspace)
    if why_not:
        print(f"watch: {why_not}", file=sys.stderr, flush=True)

    notifier = Notifier(urls, event_names(loaded.registry), board.lang) if urls else None

    async def background(stop: asyncio.Event) -> None:
        """The engine's loop, and the notifications when the vault names where to send them."""
        jobs = [watch.run(stop)] + ([notifier.run(watch, stop)] if notifier else [])
        await asyncio.gather(*jobs)

    if notifier:
        print(f"watch: notifications to {len(urls)} address(es) from the vault", flush=True)
    try:
        serve(board, token, args.bind, args.port, background=background)
    except KeyboardInterrupt:  # Ctrl-C is how a board is stopped: uvicorn re-raises it
        print("watch: stopped", flush=True)
    finally:
        watch.store.close()
    return 0


def _cmd_status(args: argparse.Namespace) -> int:
    from confprov.watch.model import SiteState
    from confprov.watch.status import exit_code, read_state

    cliargs.check_targets(args, ("json",))
    doc, error = read_state(resolve_workspace(args))
    if error:
        print(f"watch status: collector {error}", file=sys.stderr)
    cliargs.emit_json(args, doc)
    unmeasured = f", {doc['unmeasured']} not measured (Windows)" if doc["unmeasured"] else ""
    cliargs.say(
        args,
        f"{doc['up']}/{doc['measurable']} up{unmeasured}"
        + (" (monitor stale)" if doc["stale"] else ""),
    )
    for site in doc["sites"]:
        if site["state"] not in (SiteState.UP.value, SiteState.UNMEASURED.value):
            cliargs.say(
                args, f"  {site['state']:<9} {site['name']} ({site['site']}): {site['reason']}"
            )
    return exit_code(doc)


def resolve_site(workspace: Path, ref: str) -> str:
    """One site's slug from anything --limit takes; exit 2 if it names none or several."""
    from confprov.selection import names, select
    from confprov.workspace import load

    sites = select(load(workspace).registry, [ref]).sites
    if len(sites) != 1:
        raise InputError(
            [Problem("SITE", None, ref, f"names {len(sites)} sites ({names(sites)}): give one")]
        )
    return sites[0].slug


def _cmd_restore(args: argparse.Namespace) -> int:
    from confprov.watch.engine import open_engine
    from confprov.watch.restore import Restorer

    workspace = resolve_workspace(args)
    site = resolve_site(workspace, args.site)
    who = args.who or os.environ.get("SUDO_USER") or getpass.getuser()
    # The engine's own record_action writes the audit row: one format, whoever restores.
    restorer = Restorer(workspace, open_engine(workspace).record_action)
    print(f"{site}: {args.action} started by {who}", flush=True)
    outcome = restorer.run(site, args.action, who)
    print(f"{site}: {args.action}: {outcome.text()}")
    return 0 if outcome.ok else 1


def _cmd_deploy(args: argparse.Namespace) -> int:
    from confprov.watch.deploy import deploy

    with cliargs.progress(args, "watch deploy") as progress:
        result = deploy(resolve_workspace(args), on_progress=progress)
    cliargs.say(args, result.summary_text())
    return 0 if result.ok else 1


def _cmd_report(args: argparse.Namespace) -> int:
    from confprov.watch import report
    from confprov.watch.store import Store
    from confprov.workspace import load

    workspace = resolve_workspace(args)
    if args.html and not args.html.resolve().parent.is_dir():
        raise InputError([Problem(str(args.html), None, "--html", "its folder does not exist")])
    cliargs.check_targets(args, ("json",))
    from confprov.watch.engine import event_names

    names = event_names(load(workspace).registry)
    store = Store.open(workspace)
    try:
        summary = report.summarise(store.events(), store.incidents(), names)
    finally:
        store.close()
    cliargs.say(args, summary.text())
    if args.json:
        cliargs.emit_json(args, json.loads(report.json_text(summary)))
    if args.html:
        cliargs.write_atomic(args.html, summary.html())
        cliargs.say(args, f"html: {args.html.resolve()}")
    return 0
