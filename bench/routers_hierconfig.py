"""Adopt hier_config, or keep confprov's own diff and use hier_config as an oracle? Measured.

For generated running configs (the property test's parts, drawn with a fixed seed) of IOS and
Junos, and for the recorded VRP and IOS fixtures, each approach pushes to the fake devices of
tests/unit/routers/fakedevice.py (vendor semantics: replace vs add, undo forms, dependencies,
refusals) and is counted correct when the device ends exactly in the intended state (confprov's
objects as intended, nothing stale, what is not confprov's untouched) and nothing was refused:

- confprov:        confprov's engine (plan, push, check) as shipped;
- hc-merge:        hier_config as one would adopt it for a partial intent: the candidate merged
                   into the running config (``running.future(candidate)``), then
                   ``WorkflowRemediation(running, merged)`` sent as is;
- hc-full:         hier_config given the whole intended config (which only confprov's own rules
                   can build): ``WorkflowRemediation(running, intended)`` sent as is;
- rollback:        after confprov's push, back to the backup: confprov's rollback vs
                   hier_config's remediation from the pushed config to the backup.

No timing: this is correctness. Prints a Markdown table for docs/benchmarks.md.

    .venv/bin/python bench/routers_hierconfig.py [--cases 200] [--seed 18]
"""

from __future__ import annotations

import argparse
import random
import sys
import tempfile
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests" / "unit" / "routers"))

import hier_config  # noqa: E402
from fakedevice import IosDevice, JunosDevice, VrpDevice  # noqa: E402
from netmiko.exceptions import ConfigInvalidException  # noqa: E402
from test_routers_property import (  # noqa: E402
    CONF,
    IOS_ENTRIES,
    IOS_T,
    JUNOS_T,
    JUNOS_WANT,
    ios_intended,
    ios_text,
    junos_intended,
    stmts,
)

from confprov.routers import engine  # noqa: E402
from confprov.routers.device import Session  # noqa: E402
from confprov.routers.platforms import platform  # noqa: E402
from confprov.routers.render import RouterTarget, render  # noqa: E402

HC = hier_config.Platform


def ios_parts(rng: random.Random) -> dict[str, Any]:
    return {
        "version": rng.choice(["15", "17"]),
        "description": rng.choice(["none", "old", "ours"]),
        "route": rng.choice(["none", "ours", "other"]),
        "floating": rng.random() < 0.5,
        "entries": rng.sample(IOS_ENTRIES, rng.randint(0, 3)),
        "stale": rng.random() < 0.5,
        "classes": rng.random() < 0.5,
        "dscp": rng.choice(["none", "ours", "other"]),
        "policy": rng.choice(["none", "ours", "foreign"]),
        "ntp": rng.choice(["none", "other", "ours", "both"]),
        "extra": rng.random() < 0.5,
        "order": rng.sample(range(8), 8),
    }


JUNOS_OTHER = [
    'set interfaces ge-0/0/0 description "old uplink"',
    "set routing-options static route 198.18.32.0/24 next-hop 198.18.9.9",
    "set routing-options static route 198.18.32.0/24 qualified-next-hop 198.18.20.1 preference 250",
    "set firewall family inet filter CONFPROV-CONFERENCE term media from destination-port "
    "16000-32000",
    "set firewall family inet filter CONFPROV-MARK term audio then dscp cs5",
    "set system ntp server 198.18.0.1",
    "set firewall family inet filter OPS-SHAPE term all then accept",
    "set interfaces ge-0/0/0 unit 0 family inet filter output OPS-SHAPE",
]


def junos_lines(rng: random.Random) -> list[str]:
    ours = rng.sample(JUNOS_WANT, rng.randint(0, len(JUNOS_WANT)))
    ours = [ln for ln in ours if "filter output" not in ln]
    other = rng.sample(JUNOS_OTHER, rng.randint(0, len(JUNOS_OTHER)))
    if JUNOS_OTHER[-1] in other and JUNOS_OTHER[-2] not in other:
        other.append(JUNOS_OTHER[-2])
    lines = [
        "set system host-name r1",
        "set interfaces ge-0/0/0 unit 0 family inet address 198.18.8.3/21",
        "set routing-options static route 0.0.0.0/0 next-hop 198.18.0.1",
        *ours,
        *other,
    ]
    rng.shuffle(lines)
    return lines


def push_confprov(device: Any, target: RouterTarget) -> tuple[bool, engine.RouterResult]:
    with tempfile.TemporaryDirectory() as tmp:
        opts = engine.Options(workspace=Path(tmp), known_hosts=Path(tmp) / "known_hosts")
        job = engine.Job(target)
        result = engine.run_one("push", job, CONF, opts, lambda *_: Session(device))
        if result.changed:
            back = engine.run_one("rollback", job, CONF, opts, lambda *_: Session(device))
            result.reverted = back.status == "changed"  # reused: did the rollback work
            engine.run_one("push", job, CONF, opts, lambda *_: Session(device))
        return result.status in ("ok", "changed"), result


def send_tree(device: Any, lines: tuple[str, ...], plat: str) -> bool:
    """hier_config's remediation lines, as a user would send them (netmiko, error pattern)."""
    try:
        device.send_config_set(
            [ln.strip() for ln in lines], error_pattern=platform(plat).error_pattern
        )
    except ConfigInvalidException:
        return False
    return True


def send_junos(device: JunosDevice, lines: tuple[str, ...]) -> bool:
    for line in lines:
        error = device.configure(line)
        if error and "warning" not in error:
            device.candidate = list(device.committed)
            return False
    try:
        device.commit()
    except ValueError:
        return False
    return True


def ios_case(parts: dict[str, Any], score: dict[str, int]) -> None:
    if parts["policy"] == "ours" and not (parts["classes"] and parts["dscp"] != "none"):
        parts["policy"] = "none"
    running, want = ios_text(parts), ios_intended(parts)
    goal = stmts("cisco_ios", want)
    device = IosDevice(running, version=parts["version"])
    ok, result = push_confprov(device, IOS_T)
    score["confprov"] += ok and stmts("cisco_ios", device.show()) == goal
    score["rollback confprov"] += (not result.changed) or result.reverted
    run_hc = hier_config.get_hconfig(HC.CISCO_IOS, running)
    cand = hier_config.get_hconfig(HC.CISCO_IOS, render(IOS_T, CONF))
    for name, target in (
        ("hc-merge", run_hc.future(cand)),
        ("hc-full", hier_config.get_hconfig(HC.CISCO_IOS, want)),
    ):
        dev = IosDevice(running, version=parts["version"])
        rem = hier_config.WorkflowRemediation(run_hc, target).remediation_config
        sent = send_tree(dev, rem.dump_simple(sectional_exiting=True), "cisco_ios")
        score[name] += sent and stmts("cisco_ios", dev.show()) == goal
        if name == "hc-full" and sent:
            pushed = hier_config.get_hconfig(HC.CISCO_IOS, dev.show(version="15"))
            back = hier_config.WorkflowRemediation(pushed, run_hc).remediation_config
            ok_back = send_tree(dev, back.dump_simple(sectional_exiting=True), "cisco_ios")
            score["rollback hc"] += ok_back and stmts("cisco_ios", dev.show()) == stmts(
                "cisco_ios", running
            )
        elif name == "hc-full":
            score["rollback hc"] += 0


def junos_case(lines: list[str], score: dict[str, int]) -> None:
    device = JunosDevice("\n".join(lines))
    running = list(device.committed)
    text = "\n".join(running)
    goal = junos_intended(running)
    ok, result = push_confprov(device, JUNOS_T)
    score["confprov"] += ok and stmts("juniper_junos", "\n".join(device.committed)) == goal
    score["rollback confprov"] += (not result.changed) or result.reverted
    run_hc = hier_config.get_hconfig(HC.JUNIPER_JUNOS, text)
    cand = hier_config.get_hconfig(HC.JUNIPER_JUNOS, render(JUNOS_T, CONF))
    want = "\n".join(p[0] for p in sorted(goal))
    for name, target in (
        ("hc-merge", run_hc.future(cand)),
        ("hc-full", hier_config.get_hconfig(HC.JUNIPER_JUNOS, want)),
    ):
        dev = JunosDevice(text)
        rem = hier_config.WorkflowRemediation(run_hc, target).remediation_config
        sent = send_junos(dev, rem.dump_simple())
        score[name] += sent and stmts("juniper_junos", "\n".join(dev.committed)) == goal
        if name == "hc-full" and sent:
            pushed = hier_config.get_hconfig(HC.JUNIPER_JUNOS, "\n".join(dev.committed))
            back = hier_config.WorkflowRemediation(pushed, run_hc).remediation_config
            ok_back = send_junos(dev, back.dump_simple())
            score["rollback hc"] += ok_back and stmts(
                "juniper_junos", "\n".join(dev.committed)
            ) == stmts("juniper_junos", text)


def vrp_cases(score: dict[str, int]) -> int:
    """VRP has no generator here: the recorded fixtures, pushed and rolled back."""
    fixtures = ROOT / "tests" / "unit" / "routers" / "fixtures" / "huawei_vrp"
    target = RouterTarget(
        "r1", "198.18.0.13", "huawei_vrp", "Cam Khe", "GigabitEthernet0/0/1", "198.18.8.1"
    )
    names = ["display_current-configuration.pristine.txt", "display_current-configuration.v5.txt"]
    for name in names:
        running = (fixtures / name).read_text()
        device = VrpDevice(running)
        ok, result = push_confprov(device, target)
        score["confprov"] += ok
        score["rollback confprov"] += (not result.changed) or result.reverted
        pushed = VrpDevice(running)
        push_confprov(pushed, target)  # pushed, rolled back, pushed again: the pushed state
        after = hier_config.get_hconfig(HC.HUAWEI_VRP, pushed.show())
        before = hier_config.get_hconfig(HC.HUAWEI_VRP, running)
        back = hier_config.WorkflowRemediation(after, before).remediation_config
        ok_back = send_tree(pushed, back.dump_simple(sectional_exiting=True), "huawei_vrp")
        score["rollback hc"] += ok_back and stmts("huawei_vrp", pushed.show()) == stmts(
            "huawei_vrp", running
        )
    return len(names)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cases", type=int, default=200, help="generated cases per platform")
    parser.add_argument("--seed", type=int, default=18)
    args = parser.parse_args()
    rng = random.Random(args.seed)
    keys = ("confprov", "hc-merge", "hc-full", "rollback confprov", "rollback hc")
    rows = []
    for plat in ("cisco_ios", "juniper_junos", "huawei_vrp"):
        score = dict.fromkeys(keys, 0)
        if plat == "huawei_vrp":
            n = vrp_cases(score)
            score["hc-merge"] = score["hc-full"] = -1  # not measured: no generator
        else:
            n = args.cases
            for _ in range(n):
                if plat == "cisco_ios":
                    ios_case(ios_parts(rng), score)
                else:
                    junos_case(junos_lines(rng), score)
        rows.append((plat, n, score))
    print(f"| platform | cases | {' | '.join(keys)} |")
    print("| --- | --- |" + " --- |" * len(keys))
    for plat, n, score in rows:
        cells = [("n/a" if score[k] < 0 else f"{score[k]}/{n}") for k in keys]
        print(f"| {plat} | {n} | {' | '.join(cells)} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
