"""Speed of `confprov verify` against a raw-SSH floor and a stock ansible-playbook (root).

    sudo .venv/bin/python bench/verify.py --sites 30 --runs 3
    sudo .venv/bin/python bench/verify.py --example phu-tho --runs 3   # 298 sites

One lab for the whole bench (`--name`, default vbench), its reflector deployed by its role and
its routers pushed, so every check really runs (client checks fail: no client is installed,
which costs the same as a pass). Each run times, in rotating order, on the same lab:

- **confprov**: `confprov verify` end to end, in process (inventory render, one Ansible task per
  host through ansible-runner, router checks in parallel, judging, SQLite, summary), and again
  with `--no-router-checks` (the endpoint work alone, what the floor does);
- **floor**: the same probe (the check module's `run_checks`) piped to `python3` over plain
  parallel SSH, as many at once as confprov runs probes: what the work costs without Ansible;
- **stock**: `ansible-playbook` with bench/verify_stock/verify_stock.yml, one task per check
  group, stock settings (default forks 5, no pipelining), and once more with confprov's forks.

The report gives medians over `--runs` and the ratios to the floor and to the stock playbooks
measured in the same run. The lab is taken down at the end (also on failure) unless `--keep`.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shlex
import statistics
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import yaml

from confprov import paths
from confprov.lab.lab_workspace import ssh_argv

ROOT = Path(__file__).resolve().parent.parent
MODULE = paths.modules_path() / "confprov_check.py"
STOCK = ROOT / "bench" / "verify_stock" / "verify_stock.yml"
# Read the JSON arguments (first line of stdin), then the module's source (one self-contained
# file); run its probe.
LOADER = (
    "import json, sys; a = json.loads(sys.stdin.readline()); "
    "g = {'__name__': 'floor'}; exec(sys.stdin.read(), g); "
    "print(json.dumps(g['run_checks'](g['parse_args'](a))))"
)
# The stock playbook's module, written the usual way: AnsibleModule, with the probe's code as
# module_utils (a copy of the check module); made per run in a temporary folder.
STOCK_MODULE = """#!/usr/bin/python3
from ansible.module_utils.basic import AnsibleModule
from ansible.module_utils.confprov_checklib import GROUPS, run_checks


def main():
    module = AnsibleModule(
        argument_spec={
            "conference": {"type": "dict", "required": True},
            "media": {"type": "dict", "required": True},
            "sip_user": {"type": "str", "required": True},
            "sip_password": {"type": "str", "default": "", "no_log": True},
            "client_package": {"type": "str", "default": "baresip"},
            "client_version": {"type": "str", "default": ""},
            "client_config": {"type": "path", "default": ""},
            "timeout": {"type": "float", "default": 2.0},
            "only": {"type": "list", "elements": "str", "default": [], "choices": list(GROUPS)},
        },
        supports_check_mode=True,
    )
    module.exit_json(changed=False, **run_checks(module.params))


if __name__ == "__main__":
    main()
"""


def other_labs(name: str) -> int:
    out = subprocess.run(["ip", "netns"], capture_output=True, text=True, check=False).stdout
    return sum(
        1 for line in out.splitlines() if line.strip() and not line.startswith(f"cp-{name}-")
    )


def floor_targets(ws: Path) -> list[tuple[str, str]]:
    """(address, JSON arguments line) per endpoint, from the rendered inventory and the vault."""
    from confprov.vault import decrypt, read_password

    inv = ws / "inventory"
    common = yaml.safe_load((inv / "group_vars" / "all.yml").read_text())
    vault = decrypt(ws / "vault.yml", read_password(ws))
    hosts = yaml.safe_load((inv / "hosts.yml").read_text())["all"]["children"]["endpoints"]["hosts"]
    out = []
    for host in hosts:
        hv = yaml.safe_load((inv / "host_vars" / f"{host}.yml").read_text())
        args = {
            "conference": common["confprov_conference"],
            "media": common["confprov_media"],
            "sip_user": hv["confprov_sip_user"],
            "sip_password": vault["vault_sip_passwords"][host],
            "client_package": "baresip-core",
            "client_config": "~/.baresip/accounts",
        }
        out.append((hv["ansible_host"], json.dumps(args)))
    return out


def run_floor(ws: Path, targets: list[tuple[str, str]], forks: int) -> int:
    source = MODULE.read_text()

    def one(target: tuple[str, str]) -> bool:
        address, args = target
        cmd = ssh_argv(ws, address, f"python3 -c {shlex.quote(LOADER)}")
        proc = subprocess.run(
            cmd, input=args + "\n" + source, capture_output=True, text=True, check=False
        )
        return proc.returncode == 0 and '"checks"' in proc.stdout

    with ThreadPoolExecutor(max_workers=forks) as pool:
        done = sum(pool.map(one, targets))
    if done < len(targets):
        print(f"floor: {len(targets) - done} of {len(targets)} probes failed", flush=True)
    return done


def stock_module(work: Path) -> Path:
    """library/ and module_utils/ of the stock module under ``work``; returns ``work``."""
    (work / "library").mkdir(parents=True, exist_ok=True)
    (work / "module_utils").mkdir(exist_ok=True)
    (work / "library" / "confprov_check.py").write_text(STOCK_MODULE)
    (work / "module_utils" / "confprov_checklib.py").write_text(MODULE.read_text())
    return work


def run_stock(ws: Path, forks: int | None) -> int:
    stock = stock_module(ws / "bench-stock")
    env = {
        **os.environ,
        "ANSIBLE_LIBRARY": str(stock / "library"),
        "ANSIBLE_MODULE_UTILS": str(stock / "module_utils"),
        "ANSIBLE_HOST_KEY_CHECKING": "True",
        "ANSIBLE_RETRY_FILES_ENABLED": "False",
        "PATH": f"{Path(sys.executable).parent}:{os.environ.get('PATH', '')}",
    }
    cmd = [
        "ansible-playbook",
        "-i",
        str(ws / "inventory"),
        str(STOCK),
        "-e",
        f"@{ws / 'vault.yml'}",
        "--vault-password-file",
        str(ws / ".vault-pass"),
    ]
    if forks:
        cmd += ["--forks", str(forks)]
    proc = subprocess.run(cmd, env=env, capture_output=True, text=True, check=False)
    if proc.returncode not in (0, 2):
        raise SystemExit(f"stock playbook failed ({proc.returncode}): {proc.stdout[-2000:]}")
    return proc.stdout.count("ok=5")


def run_confprov(ws: Path, forks: int, routers: bool = True) -> int:
    from confprov.verify.run import verify

    outcome = verify(ws, forks=forks, check_routers=routers)
    assert outcome is not None
    return len(outcome.sites)


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--sites", type=int, default=30)
    parser.add_argument("--example", help="a shipped province instead of --sites (phu-tho: 298)")
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--forks", type=int, default=50)
    parser.add_argument("--name", default="vbench")
    parser.add_argument("--keep", action="store_true", help="leave the lab up afterwards")
    parser.add_argument("--out", type=Path, help="write the raw figures as JSON here")
    parser.add_argument(
        "--stock-runs",
        type=int,
        help="run the two stock variants in the first N runs only (default: every run); at 298 "
        "sites one stock run at forks 5 takes about ten minutes",
    )
    args = parser.parse_args()

    from confprov.cli import main as confprov_main
    from confprov.lab import lab as lab_mod
    from confprov.lab.plan import example_sites, generated_sites
    from confprov.lab.state import LabState
    from confprov.verify.run import probe_limit
    from confprov.workspace import load

    specs = example_sites(args.example) if args.example else generated_sites(args.sites)
    ws = Path(f"/tmp/confprov-bench-{args.name}")
    if LabState(args.name).exists():
        lab_mod.down(args.name)
    lab_mod.up(args.name, specs, ws)
    timings: dict[str, list[float]] = {
        "confprov": [],
        "confprov_no_routers": [],
        "floor": [],
        "stock": [],
        "stock_forks": [],
    }
    try:
        assert confprov_main(["reflector", "--deploy", "-w", str(ws)]) == 0
        assert confprov_main(["routers", "push", "-w", str(ws)]) == 0
        assert confprov_main(["inventory", "-w", str(ws)]) == 0
        targets = floor_targets(ws)
        # Media probes at once, as confprov verify computes it (forks bounded by the conference
        # uplink of confprov.yml): the floor and the second stock variant use the same.
        parallel = min(args.forks, probe_limit(load(ws).config))
        print(f"probes at once: {parallel} (forks {args.forks}, conference uplink bound)")
        kinds = {
            "confprov": lambda: run_confprov(ws, args.forks),
            "confprov_no_routers": lambda: run_confprov(ws, args.forks, routers=False),
            "floor": lambda: run_floor(ws, targets, parallel),
            "stock": lambda: run_stock(ws, None),
            "stock_forks": lambda: run_stock(ws, parallel),
        }
        order = list(kinds)
        stock_runs = args.runs if args.stock_runs is None else args.stock_runs
        for run in range(args.runs):
            for kind in order[run % len(order) :] + order[: run % len(order)]:
                if kind.startswith("stock") and run >= stock_runs:
                    continue
                t0 = time.monotonic()
                done = kinds[kind]()
                timings[kind].append(time.monotonic() - t0)
                print(
                    f"run {run + 1} {kind:<12} {timings[kind][-1]:7.1f} s ({done} hosts)",
                    flush=True,
                )
    finally:
        if not args.keep:
            lab_mod.down(args.name)
    med = {k: statistics.median(v) if v else float("nan") for k, v in timings.items()}
    report = {
        "machine": f"{platform.node()} {os.cpu_count()} cores, Python {platform.python_version()}",
        "sites": len(specs),
        "runs": args.runs,
        "forks": args.forks,
        "probes_at_once": parallel,
        "other_lab_namespaces": other_labs(args.name),
        "seconds": timings,
        "median": med,
        "ratio_to_floor": med["confprov"] / med["floor"],
        "no_routers_ratio_to_floor": med["confprov_no_routers"] / med["floor"],
        "stock_over_confprov": med["stock"] / med["confprov"],
        "stock_forks_over_confprov": med["stock_forks"] / med["confprov"],
    }
    print(json.dumps(report, indent=2))
    if args.out:
        args.out.write_text(json.dumps(report, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
