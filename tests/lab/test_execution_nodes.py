"""Execution nodes on a lab: provision, routers push and verify spread over three lab nodes
(``ssh NODE ansible-runner worker``, the payload on stdin) against the same work run here.

A 12-site lab of this module's own, with three execution nodes (confprov/lab/execnodes.py).
Which node ran a host is read from the host itself: its sshd logs every login with the address
it came from (an oracle confprov does not write). A node is killed by PID (every process in its
network namespace) at a known point: the first event of its slice reaching the controller.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import signal
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from confprov import nodes, runner, vault
from confprov.cli import main

pytestmark = pytest.mark.lab

ACCEPTED = re.compile(r"Accepted publickey for \S+ from (\S+) port")


@dataclass
class NodesLab:
    name: str
    workspace: Path
    plan: Any
    nodes_file: Path
    addresses: dict[str, str]  # node name -> its address
    logs: dict[str, Path]  # endpoint host -> its console log (its sshd's)


@pytest.fixture(scope="module")
def nodes_lab(tmp_path_factory: pytest.TempPathFactory) -> Iterator[NodesLab]:
    from tests.lab.conftest import lab_skip_reason, remove_stale_session_labs, session_lab_name

    reason = lab_skip_reason()
    if reason:
        pytest.skip(reason)
    from confprov.lab import execnodes
    from confprov.lab import lab as lab_mod
    from confprov.lab.state import LabState

    remove_stale_session_labs()
    name = session_lab_name("ptx")
    workspace = tmp_path_factory.mktemp("nodes") / "workspace"
    try:
        argv = ["lab", "up", "--name", name, "--sites", "12", "--exec-nodes", "3"]
        assert main([*argv, "-w", str(workspace), "-q"]) == 0
        state = LabState(name)
        plan = state.plan()
        assert plan is not None
        found = execnodes.lab_nodes(state, 3)
        logs = {s.slug: state.hosts_dir / s.endpoint_ns / "console.log" for s in plan.sites}
        yield NodesLab(
            name,
            workspace,
            plan,
            workspace / execnodes.NODES_FILE,
            {n.name: n.address for n in found},
            logs,
        )
    finally:
        lab_mod.down(name)


def _marks(lab: NodesLab) -> dict[str, int]:
    return {host: log.stat().st_size for host, log in lab.logs.items()}


def _logins_since(lab: NodesLab, marks: dict[str, int]) -> dict[str, set[str]]:
    """Each endpoint's SSH logins since ``marks``, by the address they came from."""
    out = {}
    for host, log in lab.logs.items():
        with log.open("rb") as fh:
            fh.seek(marks[host])
            out[host] = set(ACCEPTED.findall(fh.read().decode(errors="replace")))
    return out


def _summary(run_dir: Path) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((run_dir / runner.SUMMARY).read_text())
    return data


def _host_events(run_dir: Path) -> dict[tuple[str, str], int]:
    """Each host's events by kind, leaving out run_once tasks' (they run once per slice, so a
    spread run has one per slice: a task that touched one host of a slice of several)."""
    out: dict[tuple[str, str], int] = {}
    for folder in run_dir.glob("artifacts/*/job_events"):
        events = [json.loads(p.read_text()) for p in folder.glob("*.json")]
        events = [e for e in events if e.get("event_data", {}).get("host")]
        hosts_of: dict[str, set[str]] = {}
        for e in events:
            hosts_of.setdefault(e["event_data"].get("task_uuid", ""), set()).add(
                e["event_data"]["host"]
            )
        everyone = {e["event_data"]["host"] for e in events}
        for e in events:
            if len(everyone) > 1 and len(hosts_of[e["event_data"].get("task_uuid", "")]) == 1:
                continue  # run_once
            key = (e["event_data"]["host"], e["event"])
            out[key] = out.get(key, 0) + 1
    return out


def _every_event_arrived(run_dir: Path) -> None:
    """Each slice's events are numbered 1..n by its worker: none missing, none twice."""
    for folder in run_dir.glob("artifacts/*/job_events"):
        counters = sorted(json.loads(p.read_text())["counter"] for p in folder.glob("*.json"))
        assert counters == list(range(1, len(counters) + 1)), folder


def _states(hosts: dict[str, Any]) -> dict[str, tuple[str, str, str]]:
    return {h: (r["status"], r["failed_task"], r["message"]) for h, r in hosts.items()}


def _node_of(summary: dict[str, Any]) -> dict[str, str]:
    return {h: s["node"] for s in summary["nodes"] for h in s["hosts"]}


def _newest(workspace: Path, action: str) -> Path:
    return sorted((workspace / "runs").glob(f"*-{action}*"))[-1]


def test_provision_spread_over_three_nodes_equals_the_local_run(nodes_lab: NodesLab) -> None:
    ws = str(nodes_lab.workspace)
    spread_arg = ["--nodes", str(nodes_lab.nodes_file)]
    # A dry run changes nothing: here and spread, on the same state, the same findings.
    assert main(["provision", "-w", ws, "--check", "-q", "--json", ws + "/l.json"]) == 0
    local = json.loads(Path(ws, "l.json").read_text())
    marks = _marks(nodes_lab)
    assert (
        main(["provision", "-w", ws, "--check", "-q", *spread_arg, "--json", ws + "/s.json"]) == 0
    )
    spread = json.loads(Path(ws, "s.json").read_text())
    assert spread["would_change"] == local["would_change"] and local["would_change"]
    # run_once tasks (the survey's save) run once per slice, as in AWX job slicing: their
    # change counts on each slice's first host; every host's state is the local run's.
    assert _states(spread["result"]["hosts"]) == _states(local["result"]["hosts"])
    node_of = _node_of(spread["result"])
    assert len(set(node_of.values())) == 3
    for host, came_from in _logins_since(nodes_lab, marks).items():  # each from its node only
        assert came_from == {nodes_lab.addresses[node_of[host]]}, host
    _every_event_arrived(Path(spread["result"]["run_dir"]))
    # The real work, spread (three sites of three districts: three slices, kept small).
    three = ["--limit", "doi-1,doi-2,so-ban-1"]
    assert main(["provision", "-w", ws, "-q", *three, *spread_arg]) == 0
    summary = _summary(_newest(nodes_lab.workspace, "provision"))
    assert {h["status"] for h in summary["hosts"].values()} == {"changed"}
    assert len(summary["nodes"]) == 3
    # … and completely: run here again, nothing is left to change.
    assert main(["provision", "-w", ws, "-q", *three]) == 0
    again = _summary(_newest(nodes_lab.workspace, "provision"))
    assert {h["status"] for h in again["hosts"].values()} == {"ok"}
    assert set(again["hosts"]) == set(summary["hosts"])


def test_routers_push_spread_then_verify_spread_equals_local(nodes_lab: NodesLab) -> None:
    ws = str(nodes_lab.workspace)
    nodes_arg = ["--nodes", str(nodes_lab.nodes_file)]
    assert main(["routers", "push", "-w", ws, "-q", *nodes_arg]) == 0
    pushed = _summary(_newest(nodes_lab.workspace, "routers-push"))
    assert len(pushed["hosts"]) == 12 and len(pushed["nodes"]) == 3
    assert {h["status"] for h in pushed["hosts"].values()} == {"changed"}
    assert main(["routers", "plan", "-w", ws, "-q"]) == 0  # nothing left to push
    from confprov.verify.run import verify

    local = verify(nodes_lab.workspace)
    marks = _marks(nodes_lab)
    spread = verify(nodes_lab.workspace, nodes=nodes_lab.nodes_file)
    assert [(s.site, s.ready, [v.check for v in s.failing]) for s in spread.sites] == [
        (s.site, s.ready, [v.check for v in s.failing]) for s in local.sites
    ]
    run_dir, local_dir = spread.run_dir, local.run_dir
    assert _summary(run_dir)["hosts"] == _summary(local_dir)["hosts"]
    assert _host_events(run_dir) == _host_events(local_dir)  # every host event arrived
    _every_event_arrived(run_dir)
    node_of = _node_of(_summary(run_dir))
    # (a node may reuse its SSH master connection of an earlier run: no new login then)
    for host, came_from in _logins_since(nodes_lab, marks).items():
        assert came_from <= {nodes_lab.addresses[node_of[host]]}, host


def _processes_in(netns: str) -> list[int]:
    target = os.stat(f"/run/netns/{netns}").st_ino
    out = []
    for proc in Path("/proc").iterdir():
        if proc.name.isdigit():
            try:
                if os.stat(proc / "ns" / "net").st_ino == target:
                    out.append(int(proc.name))
            except OSError:
                continue
    return out


def _all_command_lines() -> str:
    out = []
    for proc in Path("/proc").iterdir():
        if proc.name.isdigit():
            try:
                out.append((proc / "cmdline").read_bytes().replace(b"\0", b" ").decode())
            except OSError:
                continue
    return "\n".join(out)


def test_a_node_killed_mid_run_has_its_slice_re_run_on_another(nodes_lab: NodesLab) -> None:
    ws = nodes_lab.workspace
    secrets = [vault.read_password(ws), *_vault_values(ws)]
    victim = "ansible-" + sorted(nodes_lab.addresses)[1]  # node 2's slice
    seen: dict[str, Any] = {}

    def hook(piece: nodes.Slice, node: nodes.Node, event: dict[str, Any]) -> None:
        if "killed" in seen or piece.name != victim:
            return
        seen["args"] = _all_command_lines()  # the workers run: nothing secret in any argument
        netns = f"cp-{nodes_lab.name}-x2"
        pids = _processes_in(netns)
        for pid in pids:
            with contextlib.suppress(ProcessLookupError):  # gone with its parent meanwhile
                os.kill(pid, signal.SIGKILL)
        seen["killed"] = (node.name, len(pids))

    real_plan = nodes.plan

    def held(*args: Any) -> nodes.Spread | None:
        spread = real_plan(*args)
        assert spread is not None
        return nodes.Spread(nodes=spread.nodes, slices=spread.slices, hook=hook)

    given = nodes.load(nodes_lab.nodes_file)
    local_code = main(["verify", "-w", str(ws), "-q"])
    local_dir = _newest(ws, "verify")
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(nodes, "plan", held)
        code = main(["verify", "-w", str(ws), "-q", "--nodes", str(nodes_lab.nodes_file)])
    run_dir = _newest(ws, "verify")
    assert code == local_code  # the same exit code as the same work run here
    assert seen["killed"][0] == given.nodes[1].name and seen["killed"][1] > 0
    for secret in secrets:
        assert secret not in seen["args"]
    summary = _summary(run_dir)
    record = next(s for s in summary["nodes"] if s["slice"] == victim)
    assert record["resent"] and record["attempts"][0]["status"] == "lost"
    assert record["node"] != given.nodes[1].name and record["status"] == "successful"
    assert summary["hosts"] == _summary(local_dir)["hosts"]
    _every_event_arrived(run_dir)
    assert _host_events(run_dir) == _host_events(local_dir)
    text = runner.RunResult(
        action="verify", run_dir=run_dir, status="", rc=0, nodes=summary["nodes"]
    ).summary_text()
    assert f"RE-SENT     {victim}: node {given.nodes[1].name} lost it" in text


def _vault_values(ws: Path) -> list[str]:
    data = vault.decrypt(ws / vault.VAULT_FILE, vault.read_password(ws))
    return [v for v in _leaves(data) if isinstance(v, str) and len(v) >= 8]


def _leaves(data: Any) -> Iterator[Any]:
    if isinstance(data, dict):
        for value in data.values():
            yield from _leaves(value)
    elif isinstance(data, list):
        for value in data:
            yield from _leaves(value)
    else:
        yield data
