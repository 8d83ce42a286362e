"""Execution nodes (confprov/nodes.py): the nodes file, slicing, the transport commands, and a
spread run through real ansible-runner transmit | worker | process.

The spread runs here start ``ansible-runner worker`` on this machine in place of ``ssh NODE
ansible-runner worker`` (tests/lab/test_execution_nodes.py runs it over SSH on lab nodes); a
"dead node" is a transport that reads a little of the payload and exits, as ssh does when its
node dies.
Receptor's binary is not installable here: only the command confprov builds is tested.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from confprov import nodes, paths, runner, vault
from confprov.cli import main
from confprov.exceptions import InputError
from confprov.workspace import load

DATA = Path(__file__).parent / "data"
SECRET = "vault-pw-N0des-77"
LOCAL = "{ansible_connection: local, ansible_python_interpreter: " + sys.executable + "}"
RUNNER = str(Path(sys.executable).parent / "ansible-runner")
KEY = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIK0eNqX0bGzq3yP6Qf2m3S4xv5xYc1b1Jw7m8Qd8hT0p"


def nodes_file(folder: Path, text: str) -> Path:
    (folder / "kh").write_text(f"198.18.0.5 {KEY}\n198.18.0.6 {KEY}\n[198.18.0.7]:2222 {KEY}\n")
    (folder / "key").write_text("not read by confprov\n")
    path = folder / "nodes.yml"
    path.write_text(text)
    return path


GOOD = """\
slicing: round-robin
nodes:
  - {name: n1, address: 198.18.0.5, user: conf, key: key, known_hosts: kh}
  - {name: n2, address: 198.18.0.6, key: key, known_hosts: kh, runner: /opt/venv/bin/ansible-runner}
  - {name: n3, address: 198.18.0.7, port: 2222, known_hosts: kh}
"""


def test_a_nodes_file_is_read_with_paths_relative_to_it(tmp_path: Path) -> None:
    found = nodes.load(nodes_file(tmp_path, GOOD))
    assert [n.name for n in found.nodes] == ["n1", "n2", "n3"]
    assert found.slicing == "round-robin"
    assert found.nodes[0].key == str(tmp_path / "key")
    assert found.nodes[0].known_hosts == str(tmp_path / "kh")
    assert found.nodes[1].user == "root"  # the default
    assert found.nodes[2].port == 2222
    # a bare list is a nodes file too, sliced by group (the default)
    plain = nodes.load(nodes_file(tmp_path, "- {name: a, address: 198.18.0.5, known_hosts: kh}\n"))
    assert plain.slicing == nodes.DEFAULT_SLICING == "group"


@pytest.mark.parametrize(
    ("text", "line", "field", "message"),
    [
        ("nodes:\n  - {name: n1, address: 198.18.0.9, known_hosts: kh}\n", 2,
         "nodes[0].known_hosts", "has no host key for 198.18.0.9"),
        ("nodes:\n  - name: n1\n    address: 198.18.0.5\n", 2, "nodes[0].known_hosts",
         "missing: the node's host key is pinned"),
        ("nodes:\n  - {name: n1, address: '-oProxyCommand=x', known_hosts: kh}\n", 2,
         "nodes[0].address", "invalid host name '-oProxyCommand=x'"),
        ("nodes:\n  - {name: n1, address: localhost, known_hosts: kh}\n", 2,
         "nodes[0].address", "is the controller itself"),
        ("nodes:\n  - {name: n1, address: 1.2.3.4.5, known_hosts: kh}\n", 2,
         "nodes[0].address", "invalid IP address"),
        ("nodes:\n  - {name: n1, address: 198.18.0.5, user: Root, known_hosts: kh}\n", 2,
         "nodes[0].user", "'Root' is not a login name"),
        ("nodes:\n  - {name: n1, address: 198.18.0.5, known_hosts: kh, port: 0}\n", 2,
         "nodes[0].port", "must be a port number"),
        ("nodes:\n  - {name: n1, address: 198.18.0.5, known_hosts: kh, colour: red}\n", 2,
         "nodes[0].colour", "unknown key"),
        ("nodes:\n  - {name: n1, address: 198.18.0.5, known_hosts: nowhere}\n", 2,
         "nodes[0].known_hosts", "no such file"),
        ("nodes:\n  - {address: 198.18.0.5, known_hosts: kh}\n", 2, "nodes[0].name", "missing"),
        ("slicing: random\nnodes:\n  - {name: a, address: 198.18.0.5, known_hosts: kh}\n", 1,
         "slicing", "must be one of group, round-robin"),
        ("nodes:\n  - {name: a, address: 198.18.0.5, known_hosts: kh}\n"
         "  - {name: a, address: 198.18.0.6, known_hosts: kh}\n", 3, "nodes[1].name",
         "also names nodes[0]"),
        ("nodes: []\n", 1, "nodes", "no execution nodes"),
        ("nodes: [unclosed\n", 2, None, "not valid YAML"),
    ],
)  # fmt: skip
def test_a_bad_nodes_file_names_file_line_and_field(
    tmp_path: Path, text: str, line: int, field: str | None, message: str
) -> None:
    path = nodes_file(tmp_path, text)
    with pytest.raises(InputError) as caught:
        nodes.load(path)
    problem = caught.value.problems[0]
    assert (problem.file, problem.line, problem.field) == (str(path), line, field)
    assert message in problem.message


def test_a_bad_nodes_file_stops_verify_with_exit_2_before_anything_runs(
    small_workspace: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    bad = nodes_file(tmp_path, "nodes:\n  - {name: n1, address: 198.18.0.9, known_hosts: kh}\n")
    code = main(["verify", "-w", str(small_workspace), "--nodes", str(bad), "-q"])
    assert code == 2
    assert f"{bad}:2: nodes[0].known_hosts: has no host key for 198.18.0.9" in (
        capsys.readouterr().err
    )
    assert not (small_workspace / "runs").exists()


def test_confprov_yml_names_the_nodes_file(small_workspace: Path, tmp_path: Path) -> None:
    nodes_file(small_workspace, GOOD)
    config = small_workspace / "confprov.yml"
    config.write_text(config.read_text() + "execution_nodes: nodes.yml\n")
    loaded = load(small_workspace)
    assert loaded.config.execution_nodes == "nodes.yml"
    found = nodes.from_workspace(small_workspace, None, loaded.config.execution_nodes)
    assert found is not None and len(found.nodes) == 3
    other = nodes_file(tmp_path, "- {name: x, address: 198.18.0.5, known_hosts: kh}\n")
    given = nodes.from_workspace(small_workspace, other, loaded.config.execution_nodes)
    assert given is not None and [n.name for n in given.nodes] == ["x"]  # --nodes wins
    assert nodes.from_workspace(small_workspace, None, "") is None  # neither: local


def _three(tmp_path: Path) -> tuple[nodes.Node, ...]:
    return nodes.load(nodes_file(tmp_path, GOOD)).nodes


def test_group_slicing_keeps_each_district_on_one_node(
    small_workspace: Path, tmp_path: Path
) -> None:
    registry = load(small_workspace).registry
    hosts = [h for s in registry.sites for h in s.endpoint_hosts]
    groups = nodes.host_groups(registry, hosts)
    slices = nodes.make_slices(_three(tmp_path), hosts, groups, "group")
    assert sorted(h for s in slices for h in s.hosts) == sorted(hosts)  # each host once
    node_of = {h: s.node.name for s in slices for h in s.hosts}
    for site in registry.sites:  # the registry's grouping (Site.grouping), never split
        mates = [h for s in registry.sites if s.grouping == site.grouping for h in s.endpoint_hosts]
        assert {node_of[h] for h in mates} == {node_of[site.endpoint_hosts[0]]}
    # the province's own sites (no district, no group) share one slice key
    centre = next(s for s in registry.sites if not s.grouping)
    assert groups[centre.endpoint_hosts[0]] == nodes.UNGROUPED


def test_group_slicing_balances_whole_groups_largest_first(tmp_path: Path) -> None:
    groups = {f"a{i}": "big" for i in range(5)} | {f"b{i}": "mid" for i in range(3)}
    groups |= {f"c{i}": "small" for i in range(2)} | {"d0": "tiny"}
    slices = nodes.make_slices(_three(tmp_path), list(groups), groups, "group")
    assert [len(s.hosts) for s in slices] == [5, 3, 3]  # big | mid | small + tiny
    assert [s.name for s in slices] == ["ansible-n1", "ansible-n2", "ansible-n3"]


def test_round_robin_deals_hosts_as_awx_job_slicing_does(tmp_path: Path) -> None:
    hosts = [f"h{i}" for i in range(7)]
    slices = nodes.make_slices(_three(tmp_path), hosts, {}, "round-robin")
    assert [s.hosts for s in slices] == [("h0", "h3", "h6"), ("h1", "h4"), ("h2", "h5")]
    # fewer hosts than nodes: no empty slice
    assert len(nodes.make_slices(_three(tmp_path), ["h0"], {}, "round-robin")) == 1


def test_forks_are_shared_not_multiplied() -> None:
    assert nodes.split_forks(20, 3) == [7, 7, 6]
    assert nodes.split_forks(2, 3) == [1, 1, 1]
    assert sum(nodes.split_forks(50, 4)) == 50


def test_ssh_transport_pins_the_nodes_host_key(tmp_path: Path) -> None:
    found = nodes.load(nodes_file(tmp_path, GOOD))
    cmd = nodes.worker_command(found.nodes[0], found)
    assert cmd[0] == "ssh"
    options = [cmd[i + 1] for i, arg in enumerate(cmd) if arg == "-o"]
    assert "StrictHostKeyChecking=yes" in options
    assert f"UserKnownHostsFile={tmp_path / 'kh'}" in options
    assert "GlobalKnownHostsFile=/dev/null" in options
    assert "BatchMode=yes" in options
    assert cmd[-3:] == ["--", "198.18.0.5", "ansible-runner worker"]
    assert cmd[cmd.index("-l") + 1] == "conf"
    other = nodes.worker_command(found.nodes[1], found)
    assert other[-1] == "/opt/venv/bin/ansible-runner worker"


def test_receptor_transport_is_receptorctl_work_submit(tmp_path: Path) -> None:
    """Receptor cannot be installed here: the command built is what is tested (docs say so)."""
    text = "receptor_socket: /run/receptor/receptor.sock\nnodes:\n"
    text += "  - {name: hue, address: 198.18.0.5, receptor_node: exec-hue}\n"
    text += "  - {name: vinh, address: 198.18.0.6}\n"
    found = nodes.load(nodes_file(tmp_path, text))  # no known_hosts needed: Receptor's TLS
    assert nodes.worker_command(found.nodes[0], found) == [
        "receptorctl", "--socket", "/run/receptor/receptor.sock", "work", "submit",
        "--node", "exec-hue", "--payload", "-", "--follow", "--rm", "ansible-runner",
    ]  # fmt: skip
    assert nodes.worker_command(found.nodes[1], found)[6] == "vinh"


# ------------------------------------------------------------- spread runs through ansible-runner


@pytest.fixture
def ws(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    ws = tmp_path / "ws"
    (ws / "inventory").mkdir(parents=True)
    hosts = "".join(f"    {h}: {LOCAL}\n" for h in ("good", "steady", "bad", "other"))
    (ws / "inventory" / "hosts.yml").write_text("all:\n  hosts:\n" + hosts)
    vault.write_password_file(ws / ".vault-pass", SECRET)
    (ws / "vault.yml").write_text(vault.encrypt({"vault_router_password": "x" * 9}, SECRET))
    real = paths.playbook
    monkeypatch.setattr(
        paths,
        "playbook",
        lambda name: DATA / "playbooks" / name if name == "runner_probe.yml" else real(name),
    )
    return ws


def _local_nodes(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, dead: set[str]) -> nodes.Nodes:
    """Nodes whose transport is ``ansible-runner worker`` here; a dead one reads a little of
    the payload and exits 255, as ssh does when its node goes away."""
    found = nodes.load(nodes_file(tmp_path, GOOD))

    def command(node: nodes.Node, _: nodes.Nodes) -> list[str]:
        if node.name in dead:
            return ["sh", "-c", "head -c 64 >/dev/null; echo 'node gone' >&2; exit 255"]
        return [RUNNER, "worker"]

    monkeypatch.setattr(nodes, "worker_command", command)
    return found


def _spread(found: nodes.Nodes, hook: Any = None) -> nodes.Spread:
    hosts = ["good", "steady", "bad", "other"]
    return nodes.Spread(
        nodes=found, slices=nodes.make_slices(found.nodes[:2], hosts, {}, "round-robin"), hook=hook
    )


def _host_events(run_dir: Path) -> dict[str, int]:
    out: dict[str, int] = {}
    for path in run_dir.glob("artifacts/*/job_events/*.json"):
        host = json.loads(path.read_text()).get("event_data", {}).get("host")
        if host:
            out[host] = out.get(host, 0) + 1
    return out


@pytest.mark.ansible
def test_a_spread_run_gives_the_local_runs_result(
    ws: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    local = runner.run_playbook(ws, "runner_probe.yml", action="probe", forks=4)
    seen: list[list[str]] = []

    def hook(piece: nodes.Slice, node: nodes.Node, event: dict[str, Any]) -> None:
        if len(seen) < 1 and event.get("event") == "playbook_on_start":
            seen.append(_commands_of_children())

    found = _local_nodes(tmp_path, monkeypatch, dead=set())
    spread = runner.run_playbook(
        ws, "runner_probe.yml", action="probe", forks=4, spread=_spread(found, hook)
    )
    assert spread.hosts == local.hosts
    assert (spread.status, spread.rc) == (local.status, local.rc)
    for action in ("ansible.builtin.fail", "ansible.builtin.command"):
        key = [(t.host, t.status, t.role) for t in local.results(actions=(action,))]
        assert sorted(key) == sorted(
            (t.host, t.status, t.role) for t in spread.results(actions=(action,))
        )
    assert _host_events(spread.run_dir) == _host_events(local.run_dir)  # every event arrived
    summary = json.loads((spread.run_dir / "summary.json").read_text())
    assert [s["node"] for s in summary["nodes"]] == ["n1", "n2"]
    assert "execution nodes: ansible-n1 (2 hosts) on n1" in spread.summary_text()
    assert "nodes" not in json.loads((local.run_dir / "summary.json").read_text())
    # the vault password went to the workers on stdin, never in an argument
    assert seen and seen[0], "the workers were running"
    assert not [c for c in seen[0] if SECRET in c]


def _commands_of_children() -> list[str]:
    """The command lines of every process under this one."""
    out = []
    for proc in Path("/proc").iterdir():
        if not proc.name.isdigit():
            continue
        try:
            status = (proc / "status").read_text()
            cmdline = (proc / "cmdline").read_bytes().replace(b"\0", b" ").decode()
        except OSError:
            continue
        ppid = next(int(line.split()[1]) for line in status.splitlines() if line[:5] == "PPid:")
        if ppid == os.getpid() or cmdline.startswith((RUNNER, "ansible-playbook")):
            out.append(cmdline)
    return out


@pytest.mark.ansible
def test_a_slice_whose_node_dies_is_re_sent_once_and_the_summary_says_so(
    ws: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    local = runner.run_playbook(ws, "runner_probe.yml", action="probe", forks=4)
    found = _local_nodes(tmp_path, monkeypatch, dead={"n2"})
    spread = runner.run_playbook(
        ws, "runner_probe.yml", action="probe", forks=4, spread=_spread(found)
    )
    assert spread.hosts == local.hosts  # the lost slice ran again, elsewhere
    assert _host_events(spread.run_dir) == _host_events(local.run_dir)  # no duplicate
    record = json.loads((spread.run_dir / "summary.json").read_text())["nodes"][1]
    assert record["resent"] and record["node"] == "n1"
    assert [a["node"] for a in record["attempts"]] == ["n2", "n1"]
    assert record["attempts"][0]["status"] == "lost"
    assert "node gone" in record["attempts"][0]["reason"]
    assert "RE-SENT     ansible-n2: node n2 lost it" in spread.summary_text()
    # verify's and routers' own reports say it from the run folder (nothing for a local run)
    assert any(line.startswith("  RE-SENT     ansible-n2") for line in nodes.said(spread.run_dir))
    assert nodes.said(local.run_dir) == []
    assert (spread.run_dir / "nodes" / "ansible-n2.lost-1").is_dir()  # kept for the record


@pytest.mark.ansible
def test_a_slice_lost_twice_makes_its_hosts_unreachable(
    ws: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    found = _local_nodes(tmp_path, monkeypatch, dead={"n1", "n2", "n3"})
    result = runner.run_playbook(
        ws, "runner_probe.yml", action="probe", forks=4, spread=_spread(found)
    )
    assert {h.status for h in result.hosts.values()} == {"unreachable"}
    assert result.rc == nodes.LOST_RC and not result.ok
    assert "LOST" in result.summary_text()


@pytest.mark.ansible
def test_a_slice_ending_without_host_events_reports_its_hosts_failed(
    ws: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A node without confprov: ansible-playbook exits before the play, the worker still sends
    a final status. Every host of the slice is in the result, failed, never dropped."""
    found = nodes.load(nodes_file(tmp_path, GOOD))
    said = 'cat >/dev/null; printf \'{"status": "failed"}\\n{"eof": true}\\n\''
    monkeypatch.setattr(nodes, "worker_command", lambda node, _: ["sh", "-c", said])
    result = runner.run_playbook(
        ws, "runner_probe.yml", action="probe", forks=4, spread=_spread(found)
    )
    assert sorted(result.hosts) == ["bad", "good", "other", "steady"]
    assert {h.status for h in result.hosts.values()} == {"failed"}
    assert "no result from slice ansible-n1 on node n1" in result.hosts["good"].message
    assert not result.ok
    summary = json.loads((result.run_dir / "summary.json").read_text())
    assert sorted(summary["hosts"]) == ["bad", "good", "other", "steady"]


def _routers_push(ws: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, dead: set[str]) -> int:
    nodes_file(tmp_path, GOOD)
    _local_nodes(tmp_path, monkeypatch, dead=dead)
    return main(["routers", "push", "-w", str(ws), "--nodes", str(tmp_path / "nodes.yml"), "-q"])


def test_a_routers_push_whose_nodes_all_die_reports_every_router_failed(
    small_workspace: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:  # fmt: skip
    from confprov.routers.targets import router_hosts

    routers = sorted(router_hosts(load(small_workspace).registry, []))
    assert _routers_push(small_workspace, tmp_path, monkeypatch, {"n1", "n2", "n3"}) == 1
    (run,) = (small_workspace / "runs").glob("*-routers-push")
    summary = json.loads((run / "summary.json").read_text())
    assert sorted(summary["hosts"]) == routers
    assert {h["status"] for h in summary["hosts"].values()} == {"failed"}
    message = summary["hosts"][routers[0]]["message"]
    assert "execution node lost" in message and "confprov routers check" in message
    # not re-sent: one attempt per slice (a push lost mid-way may have changed routers)
    assert {len(s["attempts"]) for s in summary["nodes"]} == {1}
    out = capsys.readouterr().out
    assert "confprov routers rollback" in out and "not re-sent: see each of its hosts" in out
    # --retry-failed takes them all up again
    assert runner.retry_limit(small_workspace, "routers-push", None) == routers


class _Ran(Exception):
    """Raised in place of running the play: the spread it was given is what the test reads."""


@pytest.mark.parametrize(
    ("argv", "spread"),
    [
        (["routers", "push"], True),
        (["routers", "push", "--nodes", "none"], False),
        (["routers", "plan"], False),
        (["routers", "rollback"], False),
        (["routers", "rollback", "--check"], False),
        (["verify", "--nodes", "none"], False),
    ],
)
def test_only_a_push_is_spread_and_nodes_none_runs_here(
    small_workspace: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
    argv: list[str], spread: bool,
) -> None:  # fmt: skip
    """confprov.yml names execution nodes: routers plan and rollback still run here (never
    spread), and `--nodes none` runs verify and routers push here (provision takes the same
    nodes.spread_for as verify)."""
    nodes_file(small_workspace, GOOD)
    config = small_workspace / "confprov.yml"
    config.write_text(config.read_text() + "execution_nodes: nodes.yml\n")
    given: list[object] = []

    def run_playbook(*_: object, **kwargs: object) -> None:
        given.append(kwargs.get("spread"))
        raise _Ran

    from confprov.verify import run as verify_run

    monkeypatch.setattr(runner, "run_playbook", run_playbook)
    monkeypatch.setattr(verify_run, "run_playbook", run_playbook)
    main([*argv, "-w", str(small_workspace), "-q"])  # the play's stand-in raised: exit 3
    assert len(given) == 1 and (given[0] is not None) == spread


def test_a_bad_nodes_file_stops_provision_before_inventory_or_mirror(
    small_workspace: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    bad = nodes_file(tmp_path, "nodes:\n  - {name: n1, address: 198.18.0.9, known_hosts: kh}\n")
    code = main(
        ["provision", "-w", str(small_workspace), "--limit", "cam-khe", "--nodes", str(bad)]
    )
    assert code == 2
    assert "nodes[0].known_hosts: has no host key for 198.18.0.9" in capsys.readouterr().err
    written = {p.name for p in small_workspace.iterdir()} - {".confprov.lock"}  # the CLI's lock
    assert written == {"confprov.yml", "sites.csv"}  # no inventory, no mirror, no run


CHILD = """
import os
import sys
from pathlib import Path
from confprov import nodes, paths, runner

ws, folder, pids, data = (Path(a) for a in sys.argv[1:5])
real = paths.playbook
paths.playbook = lambda name: data / name if name == "runner_probe.yml" else real(name)
found = nodes.load(folder / "nodes.yml")
# a node that never answers: records its PID, then waits (exec: the same PID)
# (CONFPROV_TEST_TRAP="trap '' TERM;": a transport that ignores SIGTERM, as one behind an ssh
# master connection would, only a second signal's SIGKILL ends it)
trap = os.environ.get("CONFPROV_TEST_TRAP", "")
nodes.worker_command = lambda node, _: ["sh", "-c", f"{trap} echo $$ >> {pids}; exec sleep 120"]
hosts = ["good", "steady", "bad", "other"]
slices = nodes.make_slices(found.nodes[:2], hosts, {}, "round-robin")
spread = nodes.Spread(nodes=found, slices=slices)
result = runner.run_playbook(ws, "runner_probe.yml", action="probe", forks=4, spread=spread)
print(result.status, result.rc)
"""


def _until(condition: Any, seconds: float, what: str) -> None:
    """Poll ``condition`` until true or ``seconds`` pass (then fail saying ``what``)."""
    import time

    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.05)


def _alive(pid: int) -> bool:
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return False
    return "\nState:\tZ" not in status


@contextlib.contextmanager
def _spread_child(
    ws: Path, tmp_path: Path, trap: str = ""
) -> Iterator[tuple[subprocess.Popen[str], list[int]]]:
    """CHILD running a spread over two never-answering transports, once both are up (their
    PIDs given); afterwards the child and any transport left are killed (a failed run must not
    leave them: each a `sleep` this test started)."""
    nodes_file(tmp_path, GOOD)
    pids = tmp_path / "pids"
    child = subprocess.Popen(
        [sys.executable, "-c", CHILD, str(ws), str(tmp_path), str(pids), str(DATA / "playbooks")],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "CONFPROV_TEST_TRAP": trap},
    )
    try:
        started = lambda: pids.is_file() and len(pids.read_text().split()) == 2  # noqa: E731
        _until(lambda: started() or child.poll() is not None, 60, "2 transports")
        assert child.poll() is None, child.communicate()
        yield child, [int(p) for p in pids.read_text().split()]
    finally:
        if child.poll() is None:
            child.kill()
            child.wait()
        for pid in [int(p) for p in pids.read_text().split()] if pids.is_file() else []:
            if _alive(pid):
                os.kill(pid, signal.SIGKILL)


@pytest.mark.ansible
@pytest.mark.parametrize("sig", ["SIGINT", "SIGTERM", "SIGHUP"])
def test_a_signal_stops_a_spread_run_with_a_summary_and_no_transport_left(
    ws: Path, tmp_path: Path, sig: str
) -> None:
    with _spread_child(ws, tmp_path) as (child, transports):
        child.send_signal(getattr(signal, sig))
        out, err = child.communicate(timeout=20)  # the transports would wait 120 s
    assert child.returncode == 0, err
    status, rc = out.split()
    assert status == "canceled" and int(rc) == nodes.CANCELED_RC  # as ansible-runner says it
    assert f"{sig}: stopping 2 slices" in err
    (run,) = (ws / "runs").glob("*-probe")
    summary = json.loads((run / "summary.json").read_text())
    assert summary["status"] == "canceled"
    assert sorted(summary["hosts"]) == ["bad", "good", "other", "steady"]
    assert {h["status"] for h in summary["hosts"].values()} == {"failed"}
    assert f"stopped by {sig}" in summary["hosts"]["good"]["message"]
    assert [a["status"] for s in summary["nodes"] for a in s["attempts"]] == ["canceled"] * 2
    assert not [pid for pid in transports if _alive(pid)]  # no node's transport left behind


@pytest.mark.ansible
def test_a_second_signal_kills_transports_that_ignore_the_first(ws: Path, tmp_path: Path) -> None:
    with _spread_child(ws, tmp_path, trap="trap '' TERM;") as (child, transports):
        child.send_signal(signal.SIGINT)
        assert child.stderr is not None
        said = ""
        while "stopping 2 slices" not in said:  # the first signal handled (they ignore it)
            line = child.stderr.readline()
            assert line, "the run ended without saying it stops"
            said += line
        assert all(_alive(pid) for pid in transports)
        child.send_signal(signal.SIGINT)
        out, _ = child.communicate(timeout=20)  # the transports would wait 120 s
    assert out.split()[0] == "canceled"
    assert not [pid for pid in transports if _alive(pid)]


@pytest.mark.parametrize("user", ["first.last", "svc_ansible", "a-b", "Root", "1x", "-o"])
def test_a_nodes_login_is_the_registrys_login_rule(tmp_path: Path, user: str) -> None:
    """One rule for a login name (confprov.domain.LOGIN): the registry's endpoint_user and a
    node's user accept and refuse the same names ('.' included)."""
    from confprov.domain import LOGIN

    text = f"- {{name: a, address: 198.18.0.5, user: '{user}', known_hosts: kh}}\n"
    try:
        nodes.load(nodes_file(tmp_path, text))
        taken = True
    except InputError:
        taken = False
    assert taken == bool(LOGIN.match(user))
    assert taken == (user in ("first.last", "svc_ansible", "a-b"))


@pytest.mark.ansible
def test_an_error_said_by_a_healthy_worker_is_not_a_lost_node(
    ws: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """ansible-runner's "error" status (the job could not start on the node) is a final one:
    the slice's hosts are failed with the worker's explanation, and nothing is re-sent."""
    found = nodes.load(nodes_file(tmp_path, GOOD))
    said = '{"status": "error", "job_explanation": "ansible-playbook: command not found"}'
    script = f"cat >/dev/null; printf '%s\\n' '{said}' '{{\"eof\": true}}'"
    monkeypatch.setattr(nodes, "worker_command", lambda node, _: ["sh", "-c", script])
    result = runner.run_playbook(
        ws, "runner_probe.yml", action="probe", forks=4, spread=_spread(found)
    )
    assert {h.status for h in result.hosts.values()} == {"failed"} and len(result.hosts) == 4
    assert "ansible-playbook: command not found" in result.hosts["good"].message
    summary = json.loads((result.run_dir / "summary.json").read_text())
    assert [len(s["attempts"]) for s in summary["nodes"]] == [1, 1]  # not re-sent
    assert {s["status"] for s in summary["nodes"]} == {"error"}
    assert "RE-SENT" not in result.summary_text() and not result.ok
