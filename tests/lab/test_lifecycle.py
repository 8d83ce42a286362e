"""Up, down and what must be gone after down: also after a crash, beside another lab."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from confprov.lab.system import lab_unavailable

if (_reason := lab_unavailable()) is not None:
    pytest.skip(_reason, allow_module_level=True)

from confprov.exceptions import EnvironmentProblem, InputError
from confprov.lab import lab as lab_mod
from confprov.lab.containers import lab_processes
from confprov.lab.plan import generated_sites
from confprov.lab.state import LabState

pytestmark = pytest.mark.lab
REPO = Path(__file__).resolve().parents[2]


def leftovers(name: str, slot: int, entries) -> list[str]:
    """Everything of lab ``name`` still on the machine, described; empty when all is gone."""
    found = []
    netns = subprocess.run(["ip", "netns"], capture_output=True, text=True, check=False).stdout
    found += [f"netns {line}" for line in netns.splitlines() if line.startswith(f"cp-{name}-")]
    mounts = Path("/proc/self/mountinfo").read_text()
    found += [f"mount {line}" for line in mounts.splitlines() if f"cp-{name}-" in line]
    links = subprocess.run(
        ["ip", "-br", "link"], capture_output=True, text=True, check=False
    ).stdout
    found += [
        f"link {line.split()[0]}" for line in links.splitlines() if line.startswith(f"cp{slot}")
    ]
    tables = subprocess.run(
        ["nft", "list", "tables"], capture_output=True, text=True, check=False
    ).stdout
    found += [f"nft {t}" for t in tables.splitlines() if f"confprov_lab_{name}" in t]
    found += [f"process {pid}" for pid in lab_processes(entries)]
    for entry in entries:
        if entry.kind == "pid" and _alive_not_zombie(int(entry.value)):
            found.append(f"nspawn {entry.value}")
        if entry.kind == "dir" and Path(entry.value).exists():
            found.append(f"dir {entry.value}")
    if LabState(name).exists():
        found.append(f"state {LabState(name).dir}")
    return found


def _alive_not_zombie(pid: int) -> bool:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return stat.rsplit(")", 1)[1].split()[0] != "Z"


# Named after this session's PID like the shared lab (see conftest.SESSION_LAB), so concurrent
# sessions never meet and a dead session's labs are recognised and removed.
B, C, D = (f"{prefix}{os.getpid()}" for prefix in ("ptb", "ptc", "ptd"))


def _fresh(name: str) -> None:
    """A lab of this session's name left by an earlier failed test of this session."""
    if LabState(name).exists():
        lab_mod.down(name)


def test_second_lab_coexists_and_down_leaves_nothing(lab, tmp_path):
    _fresh(B)
    hook = {"pytest-hook": "echo started > /tmp/pytest-hook\n"}
    up = lab_mod.up(B, generated_sites(1), tmp_path / "ws", conference_services=hook)
    other = type(lab)(B, up.workspace, up.plan)  # the fixture's helpers, for the second lab
    state = LabState(B)
    entries, slot = state.entries(), state.meta()["slot"]
    try:
        assert other.plan.block != lab.plan.block
        assert slot != lab.plan.slot
        # both labs answer at the same time, each with its own keys
        assert lab.ssh(lab.endpoint(0), "hostname").stdout.strip() == lab.sites[0]
        assert other.ssh(other.endpoint(0), "hostname").stdout.strip() == other.sites[0]
        assert other.ssh(lab.endpoint(0), "true", check=False).returncode != 0
        # the conference services hook ran on the second lab's conference host
        hooked = other.ssh(other.conference, "cat /tmp/pytest-hook", user="root")
        assert hooked.stdout.strip() == "started"
        with pytest.raises(InputError, match="exists already"):
            lab_mod.up(B, generated_sites(1), tmp_path / "ws2")
    finally:
        lab_mod.down(B)
    assert leftovers(B, slot, entries) == []
    # the shared lab is untouched
    assert lab.ssh(lab.endpoint(0), "true").returncode == 0


def test_down_after_a_crash_removes_everything(tmp_path):
    _fresh(C)
    lab_mod.up(C, generated_sites(2), tmp_path / "ws")
    state = LabState(C)
    entries, slot = state.entries(), state.meta()["slot"]
    # The crash: every nspawn monitor dies at once; the hosts' processes live on, orphaned.
    monitors = [int(e.value) for e in entries if e.kind == "pid"]
    for pid in monitors:
        os.kill(pid, signal.SIGKILL)
    for pid in monitors:
        os.waitpid(pid, 0)  # this process started them (in-process `up`): reap, no zombies
    assert lab_processes(entries), "the hosts' processes should outlive their monitors"
    lab_mod.down(C)
    assert leftovers(C, slot, entries) == []


def test_down_after_a_half_done_up(tmp_path, monkeypatch):
    """`up` dying between the network and the hosts leaves a lab that `down` clears."""
    from confprov.lab import containers

    _fresh(D)

    def boom(*_args, **_kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(containers, "start", boom)
    monkeypatch.setattr(lab_mod, "down", lambda *a, **k: None)  # simulate no clean-up on the way
    with pytest.raises(KeyboardInterrupt):
        lab_mod.up(D, generated_sites(2), tmp_path / "ws")
    monkeypatch.undo()
    state = LabState(D)
    entries, slot = state.entries(), state.meta()["slot"]
    assert any(e.kind == "netns" for e in entries)
    lab_mod.down(D)
    assert leftovers(D, slot, entries) == []


def test_unknown_lab_is_an_input_error():
    with pytest.raises(InputError, match="no lab"):
        lab_mod.down("nosuchlab")


def test_missing_tool_names_the_package(monkeypatch):
    import shutil

    from confprov.lab import system

    real = shutil.which
    monkeypatch.setattr(
        system.shutil, "which", lambda tool: None if tool == "systemd-nspawn" else real(tool)
    )
    with pytest.raises(EnvironmentProblem, match="apt-get install systemd-container"):
        lab_mod.preflight()


def test_without_root_a_clear_message():
    env = {**os.environ, "PYTHONPATH": str(REPO), "HOME": "/tmp"}
    proc = subprocess.run(
        [
            "setpriv",
            "--reuid=65534",
            "--regid=65534",
            "--clear-groups",
            sys.executable,
            "-m",
            "confprov",
            "lab",
            "down",
            "--name",
            "x",
        ],
        capture_output=True,
        text=True,
        env=env,
        cwd="/",
        check=False,
    )
    assert proc.returncode == 2, proc.stderr
    assert "needs root" in proc.stderr
