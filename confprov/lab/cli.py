"""`confprov lab …`: parse, call, print. The work lives in confprov.lab's other modules."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from rich.markup import escape

from confprov.exceptions import InputError
from confprov.lab.plan import check_name, example_sites, generated_sites, registry_sites
from confprov.lab.state import LabState, all_labs
from confprov.lab.system import require_root
from confprov.paths import EXAMPLES

# The life-cycle modules (and through the vault, ansible) are imported by the handlers that need
# them, so `confprov --help` and `lab status` stay quick.

DEFAULT_NAME = "lab"


def _progress(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def _cmd_up(args: argparse.Namespace) -> int:
    require_root("confprov lab up")
    from confprov import cliargs
    from confprov.lab import lab

    name = check_name(args.name)
    if args.example:
        specs = example_sites(args.example)
    elif args.registry:
        specs = registry_sites(Path(args.registry))
    else:
        specs = generated_sites(args.sites)
    if args.quiet:
        result = lab.up(name, specs, args.workspace)  # no step lines with -q
    else:
        result = lab.up(name, specs, args.workspace, progress=_progress)
    t = result.timings
    nodes = ""
    if args.exec_nodes > 0:
        from confprov.lab import execnodes

        nodes_file = execnodes.up(name, args.exec_nodes)
        nodes = f"execution nodes: {args.exec_nodes} in {nodes_file} (--nodes {nodes_file})\n"
    cliargs.summary(
        args,
        f"lab {name} up: {len(result.plan.sites)} sites, {2 * len(result.plan.sites) + 1} hosts "
        f"in {t['total']:.1f} s (network {t['network']:.1f} s, start {t['start']:.1f} s, "
        f"ready {t['ready']:.1f} s)\n"
        f"workspace: {result.workspace}\n{nodes}"
        f"next: confprov provision -w {result.workspace}",
    )
    return 0


def _cmd_status(args: argparse.Namespace) -> int:
    """Every lab (or ``--name``'s) as a table; exit 1 when one is not fully up."""
    from dataclasses import asdict

    from confprov import cliargs
    from confprov.lab import lab

    cliargs.check_targets(args, ("json",))
    names = [check_name(args.name)] if args.name else all_labs()
    states = [lab.status(name) for name in names]
    cliargs.emit_json(args, {"labs": [asdict(st) for st in states]})
    code = 1 if any(st.phase != "up" or 0 <= st.running < st.hosts for st in states) else 0
    if args.quiet:
        return code
    if not states:
        cliargs.say(args, "no lab")
        return code
    shown = cliargs.table(
        "labs",
        ["lab", "phase", "hosts running", "sites", "addresses", "workspace", "faults"],
        right=["hosts running", "sites"],
    )
    for st in states:
        style = cliargs.STATE_STYLE["pass" if st.phase == "up" else "fail"]
        running = f"{st.running}/{st.hosts}" if st.running >= 0 else f"?/{st.hosts} (root)"
        faults = "; ".join(f"{site}: {', '.join(f)}" for site, f in sorted(st.faults.items()) if f)
        shown.add_row(
            escape(st.name),
            f"[{style}]{escape(st.phase)}[/]",
            running,
            str(st.sites),
            escape(st.block),
            escape(st.workspace),
            escape(faults),
        )
    cliargs.print_table(args, shown)
    return code


def _cmd_down(args: argparse.Namespace) -> int:
    require_root("confprov lab down")
    from confprov import cliargs
    from confprov.lab import lab

    result = lab.down(check_name(args.name))
    kept = f"\nworkspace kept (its keys no longer open anything): {result.workspace}"
    cliargs.summary(
        args,
        f"lab {result.name} down: removed {', '.join(result.removed)}"
        + (kept if result.workspace else ""),
    )
    return 0


def _cmd_fault(args: argparse.Namespace) -> int:
    from confprov.lab import faults

    require_root("confprov lab fault")
    state = LabState(check_name(args.name))
    plan = state.plan()
    if plan is None:
        raise InputError(
            f"no lab {args.name!r}: start one with `confprov lab up --name {args.name}`"
        )
    done = faults.apply(
        state,
        plan,
        args.site,
        loss=args.loss,
        rate=args.rate,
        link_down=args.down,
        clear_all=args.clear,
    )
    print(f"lab {args.name}: {done}")
    return 0


def _cmd_image(args: argparse.Namespace) -> int:
    from confprov.lab.image import build_image, image_root

    require_root("confprov lab image")
    root, spent = build_image(force=args.rebuild, log=None)
    if spent:
        print(f"lab image built in {spent:.0f} s: {root}")
    else:
        print(f"lab image up to date: {image_root()}")
    return 0


def register(sub: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    from confprov.cliargs import json_arg, workspace_arg

    parser = sub.add_parser("lab", help="a rehearsal province of real hosts and routers here")
    lab_sub = parser.add_subparsers(dest="lab_command", metavar="LAB_COMMAND", required=True)

    def name_arg(p: argparse.ArgumentParser) -> None:
        p.add_argument("--name", default=DEFAULT_NAME, help=f"lab name (default: {DEFAULT_NAME})")

    p = lab_sub.add_parser("up", help="build a lab and write a ready workspace for it")
    name_arg(p)
    source = p.add_mutually_exclusive_group()
    source.add_argument(
        "--sites",
        type=int,
        default=3,
        help="a generated province of N sites, every level present (default 3)",
    )
    source.add_argument("--example", choices=EXAMPLES, help="a shipped province's sites")
    source.add_argument("--registry", metavar="FILE", help="the sites of a registry file")
    p.add_argument(
        "--exec-nodes",
        type=int,
        default=0,
        metavar="N",
        help="also N execution nodes, written to the workspace's nodes.yml (docs/nodes.md)",
    )
    workspace_arg(p)
    p.set_defaults(func=_cmd_up)

    p = lab_sub.add_parser("status", help="what labs run, their workspace and faults")
    p.add_argument("--name", default=None, help="one lab (default: all)")
    json_arg(p, "every lab's state")
    p.set_defaults(func=_cmd_status)

    p = lab_sub.add_parser("down", help="remove everything a lab made (also after a crash)")
    name_arg(p)
    p.set_defaults(func=_cmd_down)

    p = lab_sub.add_parser("fault", help="a fault on a site router's WAN side")
    p.add_argument("site", help="site host name (slug), name or id")
    kind = p.add_mutually_exclusive_group(required=True)
    kind.add_argument("--loss", type=float, metavar="PCT", help="drop PCT %% of packets")
    kind.add_argument("--rate", type=int, metavar="KBIT", help="limit to KBIT kbit/s")
    kind.add_argument("--down", action="store_true", help="take the WAN link down")
    kind.add_argument("--clear", action="store_true", help="remove every fault")
    name_arg(p)
    p.set_defaults(func=_cmd_fault)

    p = lab_sub.add_parser("image", help="build or refresh the cached base image (root)")
    p.add_argument("--rebuild", action="store_true", help="rebuild even when up to date")
    p.set_defaults(func=_cmd_image)
