"""What loading the vault in the plays (``vars_files``, for AWX) costs a confprov run, against the
way it was loaded before (``-e @vault.yml`` from the runner), on the 298-site Phú Thọ inventory.

    .venv/bin/python bench/play_vault.py --runs 5

No lab, no root: the plays' tasks are ``debug`` (no connection), so what is timed is Ansible's
per-host variable work, where a vars_files entry is templated and read for every host and task.
Each run times, in rotating order, ansible-playbook with the rendered inventory and the vault
password file:

- **extra-vars**: verify.yml's shape (one task per endpoint, the role's run_once check) with the
  vault given as ``-e @vault.yml`` (confprov before this change);
- **vars_files**: the same play loading the vault with ``vars_files`` as confprov's plays now do,
  plus verify.yml's verdict play switched off as ``confprov verify`` switches it off.

The report gives medians of wall time and of CPU time (user + system of ansible-playbook and its
workers: steadier than wall time on a shared machine) and the ratios of the two variants.
"""

from __future__ import annotations

import argparse
import os
import platform
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import yaml

BIN = Path(sys.executable).parent
VAULT = "{{ confprov_vault_file | default('/dev/null') }}"


def plays(vars_files: bool) -> list[dict[str, object]]:
    tasks: list[dict[str, object]] = [
        {"name": "Once per play", "ansible.builtin.debug": {"msg": "x"}, "run_once": True},
        {"name": "Per endpoint", "ansible.builtin.debug": {"msg": "{{ confprov_sip_user }}"}},
    ]
    first: dict[str, object] = {"name": "Check", "hosts": "endpoints", "gather_facts": False}
    if vars_files:
        first["vars_files"] = [[VAULT, "/dev/null"]]
    first["tasks"] = tasks
    out = [first]
    if vars_files:
        out.append(
            {
                "name": "Verdict (off)",
                "hosts": "{{ 'endpoints' if confprov_verify_fail_not_ready | default(true) "
                "| bool else 'all:!all' }}",
                "vars_files": [[VAULT, "/dev/null"]],
                "gather_facts": False,
                "tasks": [{"name": "Judge", "ansible.builtin.debug": {"msg": "y"}}],
            }
        )
    return out


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    from confprov.workspace import init_workspace, render_workspace_inventory

    with tempfile.TemporaryDirectory(prefix="bench-vault-") as tmp:
        ws = init_workspace(Path(tmp) / "ws", example="phu-tho")
        render_workspace_inventory(ws)
        books = {}
        for name, flag in (("extra-vars", False), ("vars_files", True)):
            books[name] = Path(tmp) / f"{name}.yml"
            books[name].write_text(yaml.safe_dump(plays(flag), sort_keys=False))
        extra = {
            "extra-vars": ["-e", f"@{ws / 'vault.yml'}"],
            "vars_files": ["-e", "confprov_verify_fail_not_ready=false"],
        }
        env = {**os.environ, "ANSIBLE_NOCOLOR": "1", "ANSIBLE_FORKS": "50"}
        times: dict[str, list[float]] = {name: [] for name in books}
        cpu: dict[str, list[float]] = {name: [] for name in books}
        order = list(books)
        for run in range(args.runs):
            for name in order[run % 2 :] + order[: run % 2]:
                argv = [str(BIN / "ansible-playbook"), "-i", str(ws / "inventory"),
                        "--vault-password-file", str(ws / ".vault-pass"), *extra[name],
                        str(books[name])]  # fmt: skip
                before = resource.getrusage(resource.RUSAGE_CHILDREN)
                started = time.perf_counter()
                proc = subprocess.run(argv, env=env, capture_output=True, text=True, check=False)
                times[name].append(time.perf_counter() - started)
                after = resource.getrusage(resource.RUSAGE_CHILDREN)
                cpu[name].append(
                    after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime
                )
                if proc.returncode != 0:
                    print(proc.stdout[-2000:], proc.stderr, file=sys.stderr)
                    return 1
    med = {name: statistics.median(values) for name, values in times.items()}
    med_cpu = {name: statistics.median(values) for name, values in cpu.items()}
    print(f"machine: {platform.node()}, {os.cpu_count()} cores, load {os.getloadavg()[0]:.1f}")
    for name, values in times.items():
        runs = ", ".join(f"{v:.2f}" for v in values)
        print(f"{name:<11} wall median {med[name]:.2f} s (runs {runs}); "
              f"CPU median {med_cpu[name]:.2f} s")  # fmt: skip
    print(
        f"ratio vars_files / extra-vars: wall {med['vars_files'] / med['extra-vars']:.3f}, "
        f"CPU {med_cpu['vars_files'] / med_cpu['extra-vars']:.3f}"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
