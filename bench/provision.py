"""How long `confprov provision` takes on a lab, against two baselines measured in the same run.

  sudo .venv/bin/python bench/provision.py --sites 30 --runs 3

1. a lab of N sites; `confprov provision` (first run: installs everything), then N no-change
   reruns through confprov (ansible-runner façade);
2. plain `ansible-playbook` (pipelining on, same forks, same variables, the mirror served the
   same way), no-change reruns of two plays: a play listing the three roles the way an Ansible
   user writes it (`roles:`), and confprov's own playbooks/provision.yml (its combined read), the
   latter showing what confprov's wrapper (ansible-runner, run folder, mirror) costs;
3. a raw-SSH floor: one `ssh` per endpoint, 20 at once, reading what the roles check (package
   versions, SHA256 of every managed file, the survey's /proc and /sys reads);
4. a fresh lab of the same size: first provision with plain `ansible-playbook`.

Prints a Markdown table (median of the runs) for docs/benchmarks.md. The lab is taken down at
the end, also on error.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import yaml

from confprov import paths, vault
from confprov.lab import lab as lab_mod
from confprov.lab.lab_workspace import ssh_argv
from confprov.lab.plan import generated_sites
from confprov.provision.run import play_vars, prepare_mirror, served
from confprov.workspace import load

FORKS = 20
# What the roles read on each endpoint, as one shell command (the floor does the same reads).
FLOOR_CHECK = (
    "dpkg-query -W -f='${Package} ${Version}\\n' baresip-core chrony iputils-ping iproute2 "
    "python3-apt; sha256sum /etc/apt/keyrings/confprov.asc "
    "/etc/apt/sources.list.d/confprov.sources "
    "/etc/apt/preferences.d/confprov-conference-client ~/.baresip/config ~/.baresip/accounts "
    "~/.config/autostart/confprov-conference-client.desktop "
    "/etc/systemd/logind.conf.d/confprov-no-sleep.conf "
    "/etc/systemd/sleep.conf.d/confprov-no-sleep.conf "
    "/usr/local/bin/confprov-no-blanking /etc/xdg/autostart/confprov-no-blanking.desktop "
    "/etc/chrony/sources.d/confprov.sources; stat -c '%n %a %U' ~/.baresip ~/.config "
    "~/.config/autostart; head -c 4096 /proc/cpuinfo /proc/meminfo /etc/os-release "
    "/proc/asound/cards >/dev/null 2>&1; ls /sys/class/drm /sys/class/video4linux 2>/dev/null; true"
)


def timed(argv: list[str], env: dict[str, str] | None = None) -> tuple[float, int]:
    started = time.monotonic()
    proc = subprocess.run(argv, env=env, capture_output=True, text=True, check=False)
    spent = time.monotonic() - started
    if proc.returncode != 0:
        sys.stderr.write(proc.stdout[-3000:] + proc.stderr[-3000:])
    return spent, proc.returncode


def confprov_run(ws: Path) -> tuple[float, dict[str, int]]:
    spent, rc = timed(
        [str(Path(sys.executable).parent / "confprov"), "provision", "-w", str(ws), "-q"]
    )
    if rc != 0:
        raise SystemExit(f"confprov provision failed ({rc})")
    runs = sorted((ws / "runs").glob("*-provision"))
    summary = json.loads((runs[-1] / "summary.json").read_text())
    return spent, {h: v["changed"] for h, v in summary["hosts"].items()}


def plain_env(ws: Path) -> dict[str, str]:
    env = dict(os.environ)
    env.update(
        {
            "ANSIBLE_ROLES_PATH": str(paths.roles_path()),
            "ANSIBLE_COLLECTIONS_PATH": str(paths.collections_path()),
            "ANSIBLE_HOST_KEY_CHECKING": "True",
            "ANSIBLE_PIPELINING": "True",
            "ANSIBLE_RETRY_FILES_ENABLED": "False",
            "ANSIBLE_INTERPRETER_PYTHON": "auto_silent",
            "PATH": f"{Path(sys.executable).parent}:{env.get('PATH', '')}",
        }
    )
    return env


def roles_play(work: Path) -> Path:
    """A play of the three roles as an Ansible user writes it: provision.yml's play variables,
    then `roles:` (each role reads its own state; no combined read)."""
    play = yaml.safe_load(paths.playbook("provision.yml").read_text())[0]
    user_play = {k: play[k] for k in ("name", "hosts", "gather_facts", "become", "vars")}
    user_play["roles"] = ["conference_client", "endpoint_baseline", "site_survey"]
    path = work / "roles-play.yml"
    path.write_text(yaml.safe_dump([user_play], allow_unicode=True, sort_keys=False))
    return path


def plain_run(ws: Path, varfile: Path, passfile: Path, playbook: Path) -> float:
    argv = [
        str(Path(sys.executable).parent / "ansible-playbook"),
        "-i", str(ws / "inventory"), "--forks", str(FORKS),
        "--vault-password-file", str(passfile), "-e", f"@{ws / 'vault.yml'}",
        "-e", f"@{varfile}", str(playbook),
    ]  # fmt: skip
    spent, rc = timed(argv, plain_env(ws))
    if rc != 0:
        raise SystemExit(f"ansible-playbook failed ({rc})")
    return spent


def floor_run(ws: Path, addresses: list[str]) -> float:
    def one(address: str) -> int:
        argv = ssh_argv(ws, address, FLOOR_CHECK)
        return subprocess.run(argv, capture_output=True, check=False).returncode

    started = time.monotonic()
    with ThreadPoolExecutor(FORKS) as pool:
        codes = list(pool.map(one, addresses))
    if any(codes):
        raise SystemExit(f"raw ssh failed on {sum(1 for c in codes if c)} host(s)")
    return time.monotonic() - started


def with_plain(ws: Path, work: Path, runs: int, playbook: Path) -> list[float]:
    """Plain ansible-playbook runs with the mirror served exactly as confprov serves it."""
    loaded = load(ws)
    profile, _ = prepare_mirror(loaded)
    addresses = {
        h: a
        for s in loaded.registry.sites
        for h, a in zip(s.endpoint_hosts, s.endpoints, strict=True)
    }
    passfile = work / "vault-pass"
    vault.write_password_file(passfile, vault.read_password(ws))
    with served(ws, loaded, addresses) as urls:
        varfile = work / "vars.json"
        varfile.write_text(json.dumps({**play_vars(ws, profile), "confprov_mirror_urls": urls}))
        return [plain_run(ws, varfile, passfile, playbook) for _ in range(runs)]


RERUN = "confprov provision, no-change rerun"
USER_PLAY = "ansible-playbook, user's play of the three roles, no-change rerun"
OWN_PLAY = "ansible-playbook, confprov's provision.yml, no-change rerun"
FLOOR = "raw ssh floor (same reads)"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sites", type=int, default=30)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--name", default="p4bench")
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="confprov-bench-provision-"))
    ws = work / "ws"
    results: dict[str, list[float]] = {}
    try:
        up = lab_mod.up(args.name, generated_sites(args.sites), ws)
        addresses = [s.endpoint_mgmt for s in up.plan.sites]
        first, _ = confprov_run(ws)
        results["confprov provision, first run"] = [first]
        # Interleaved rounds, so that a change of load on the machine hits every variant alike.
        user_play, own_play = roles_play(work), paths.playbook("provision.yml")
        keys = (RERUN, USER_PLAY, OWN_PLAY, FLOOR)
        for key in keys:
            results[key] = []
        for _ in range(args.runs):
            spent, changed = confprov_run(ws)
            if any(changed.values()):
                raise SystemExit(f"rerun changed something: {changed}")
            results[RERUN].append(spent)
            results[USER_PLAY] += with_plain(ws, work, 1, user_play)
            results[OWN_PLAY] += with_plain(ws, work, 1, own_play)
            results[FLOOR].append(floor_run(ws, addresses))
        lab_mod.down(args.name)
        ws2 = work / "ws2"
        lab_mod.up(args.name, generated_sites(args.sites), ws2)
        # Same mirror (already built: the first run's time includes no download for either).
        subprocess.run(
            ["cp", "-a", str(ws / "mirror"), str(ws / "mirror-key"), str(ws2)], check=True
        )
        subprocess.run(
            [str(Path(sys.executable).parent / "confprov"), "inventory", "-w", str(ws2)],
            check=True,
            capture_output=True,
        )
        results["ansible-playbook, first run (user's play of the roles)"] = with_plain(
            ws2, work, 1, user_play
        )
    finally:
        lab_mod.down(args.name)
    med = {k: statistics.median(v) for k, v in results.items()}
    floor = med[FLOOR]
    plain = med[USER_PLAY]
    load = os.getloadavg()[0]
    print(f"machine: {platform.node()}, {os.cpu_count()} cores, load {load:.1f} at the end")
    print(
        f"lab: {args.sites} sites ({args.sites} endpoints), forks {FORKS}, {args.runs} runs each\n"
    )
    print("| what | median s | runs | x raw ssh | x user's plain playbook |")
    print("| --- | ---: | --- | ---: | ---: |")
    for key, values in results.items():
        runs = ", ".join(f"{v:.1f}" for v in values)
        print(
            f"| {key} | {med[key]:.1f} | {runs} | {med[key] / floor:.1f} | {med[key] / plain:.2f} |"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
