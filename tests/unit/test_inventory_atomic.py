"""An inventory update is all or nothing, never writes through a link, never deletes what
confprov did not write; Ctrl-C, SIGTERM or SIGKILL at any moment leave the old inventory or the
new one, no staging folder and no worker process."""

from __future__ import annotations

import hashlib
import importlib.util
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from confprov.cli import main
from confprov.inventory import write_inventory
from confprov.workspace import render_workspace_inventory

REPO = Path(__file__).resolve().parents[2]


def snapshot(folder: Path) -> dict[str, str]:
    """Every file below ``folder`` with a digest of its bytes: two equal snapshots, one tree."""
    return {
        str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in sorted(folder.rglob("*"))
        if p.is_file() and not p.name.startswith(".")
    }


def leftovers(ws: Path) -> list[str]:
    return sorted(p.name for p in ws.iterdir() if p.name.startswith(".inventory"))


def test_a_symlinked_inventory_is_refused_and_its_target_untouched(
    small_workspace: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    (elsewhere / "keep.txt").write_text("mine")
    (small_workspace / "inventory").symlink_to(elsewhere)
    assert main(["inventory", "-w", str(small_workspace)]) == 2
    assert "is a symbolic link" in capsys.readouterr().err
    assert sorted(p.name for p in elsewhere.iterdir()) == ["keep.txt"]


def test_a_link_planted_at_a_file_is_replaced_not_followed(
    small_workspace: Path, tmp_path: Path
) -> None:
    render_workspace_inventory(small_workspace)
    victim = tmp_path / "victim"
    victim.write_text("precious\n")
    hosts = small_workspace / "inventory" / "hosts.yml"
    hosts.unlink()
    hosts.symlink_to(victim)
    report = render_workspace_inventory(small_workspace)
    assert "hosts.yml" in report.written
    assert victim.read_text() == "precious\n"
    assert not hosts.is_symlink() and "all:" in hosts.read_text()


def test_files_confprov_did_not_write_are_kept(small_workspace: Path) -> None:
    render_workspace_inventory(small_workspace)
    inv = small_workspace / "inventory"
    own = inv / "host_vars" / "operator-notes.yml"
    own.write_text("mine: true\n")
    (inv / "README.txt").write_text("hand-written\n")
    sites = small_workspace / "sites.csv"
    lines = sites.read_text(encoding="utf-8").splitlines(keepends=True)
    sites.write_text("".join(line for line in lines if "Yên Tập" not in line), encoding="utf-8")
    report = render_workspace_inventory(small_workspace)
    assert "host_vars/operator-notes.yml" not in report.removed
    assert own.read_text() == "mine: true\n"
    assert (inv / "README.txt").read_text() == "hand-written\n"
    assert not (inv / "host_vars/yen-tap.cam-khe.yml").exists()


def test_a_foreign_file_where_a_host_file_goes_is_refused(
    small_workspace: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    sites = small_workspace / "sites.csv"
    original = sites.read_text(encoding="utf-8")
    lines = original.splitlines(keepends=True)
    sites.write_text("".join(line for line in lines if "Yên Tập" not in line), encoding="utf-8")
    render_workspace_inventory(small_workspace)
    hand = small_workspace / "inventory/host_vars/yen-tap.cam-khe.yml"
    hand.write_text("hand: made\n")
    before = snapshot(small_workspace / "inventory")
    sites.write_text(original, encoding="utf-8")
    assert main(["inventory", "-w", str(small_workspace)]) == 2
    assert "not written by confprov" in capsys.readouterr().err
    assert snapshot(small_workspace / "inventory") == before
    assert leftovers(small_workspace) == []


@pytest.mark.parametrize("parallel", [False, True], ids=["one process", "forked workers"])
def test_ctrl_c_while_writing_keeps_the_old_inventory_and_no_worker(
    tmp_path: Path, parallel: bool, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("confprov.inventory._PARALLEL_FROM", 100)
    target = tmp_path / "inventory"
    n_files = 200 if parallel else 50

    def parts(version: str, stop_after: int | None) -> object:
        def share(part: tuple[int, int]) -> Iterator[tuple[str, str]]:
            k, n = part
            for i in range(k, n_files, n):
                if stop_after is not None and i >= stop_after:
                    if k == 0:
                        raise KeyboardInterrupt
                    signal.pause()  # a worker still busy when the parent is interrupted
                yield f"host_vars/h{i}.yml", f"v: {version}\n"
            if k == 0:
                yield "hosts.yml", f"all: {{}}  # {version}\n"

        return share

    write_inventory(target, parts("old", None), count=n_files)  # type: ignore[arg-type]
    old = snapshot(target)
    forked: list[int] = []
    real_fork = os.fork

    def fork() -> int:
        pid = real_fork()
        if pid:
            forked.append(pid)
        return pid

    monkeypatch.setattr(os, "fork", fork)
    with pytest.raises(KeyboardInterrupt):
        write_inventory(target, parts("new", n_files // 2), count=n_files)  # type: ignore[arg-type]
    assert snapshot(target) == old
    assert leftovers(tmp_path) == []
    assert (len(forked) > 0) == parallel
    for pid in forked:
        with pytest.raises(ChildProcessError):
            os.waitpid(pid, os.WNOHANG)  # reaped already: not running, not a zombie


def _bench_registry(n: int) -> str:
    spec = importlib.util.spec_from_file_location(
        "registry_scale", REPO / "bench/registry_scale.py"
    )
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    text: str = module.make_registry(n)
    return text


def _processes_of(ws: Path) -> list[int]:
    """Processes whose command line names this workspace (the command and its workers)."""
    found = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                if str(ws).encode() in (entry / "cmdline").read_bytes():
                    found.append(int(entry.name))
            except OSError:
                continue
    return found


def _wait_for(condition: object, timeout: float = 30.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():  # type: ignore[operator]
            return True
        time.sleep(0.02)
    return False


@pytest.fixture(scope="module")
def big_workspace(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    """300 sites; the command runs with a low parallel threshold, so it forks workers."""
    ws = tmp_path_factory.mktemp("big") / "ws"
    assert main(["init", str(ws)]) == 0
    (ws / "sites.csv").write_text(_bench_registry(300), encoding="utf-8")
    yield ws


# `confprov inventory`, forking workers from 100 files on (normally 2,000: a test stays small),
# that stops once it has created `gate` files: it makes the file `marker` and waits for a signal
# (a signal at a known moment, not one raced against the command's end).
FORKING = """
import signal, sys
import confprov.inventory as inv
from confprov.cli import main
inv._PARALLEL_FROM = 100
gate, marker, created, real = int(sys.argv[2]), sys.argv[3], [0], inv._create

def create(path, data):
    real(path, data)
    created[0] += 1
    if created[0] == gate:
        open(marker, "w").close()
        while True:
            signal.pause()

inv._create = create
sys.exit(main(["inventory", "-w", sys.argv[1]]))
"""


def _run_inventory(ws: Path, gate: int, marker: Path) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [sys.executable, "-c", FORKING, str(ws), str(gate), str(marker)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )


_SNAPSHOTS: dict[str, dict[str, str]] = {}


def _versions(ws: Path, old_text: str, new_text: str) -> tuple[dict[str, str], dict[str, str]]:
    """The old and new inventories' snapshots (rendered once), and the old one in place."""
    sites = ws / "sites.csv"
    if not _SNAPSHOTS:
        sites.write_text(new_text, encoding="utf-8")
        assert main(["inventory", "-w", str(ws)]) == 0
        _SNAPSHOTS["new"] = snapshot(ws / "inventory")
    sites.write_text(old_text, encoding="utf-8")
    assert main(["inventory", "-w", str(ws)]) == 0
    _SNAPSHOTS.setdefault("old", snapshot(ws / "inventory"))
    assert _SNAPSHOTS["old"] != _SNAPSHOTS["new"]
    return _SNAPSHOTS["old"], _SNAPSHOTS["new"]


@pytest.mark.parametrize(
    "sig,moment",
    [
        (signal.SIGINT, "staging appears"),
        (signal.SIGTERM, "half the files written"),
        (signal.SIGTERM, "all files written"),
        (signal.SIGKILL, "half the files written"),
    ],
)
def test_a_signal_at_any_moment_leaves_old_or_new_and_nothing_behind(
    big_workspace: Path, sig: signal.Signals, moment: str
) -> None:
    ws = big_workspace
    sites = ws / "sites.csv"
    text = sites.read_text(encoding="utf-8")
    old_text, new_text = (
        text.replace(",projector\n", ",tv\n"),
        text.replace(",tv\n", ",projector\n"),
    )
    old, new = _versions(ws, old_text, new_text)

    sites.write_text(new_text, encoding="utf-8")
    changed = sum(1 for rel in new if new[rel] != old.get(rel))
    # The command holds still once it has written that many files, until the signal comes.
    gate = {"staging appears": 1, "half the files written": changed // 2}.get(moment, changed)
    marker = ws.parent / f"gate-{sig.name}-{moment.replace(' ', '-')}"
    marker.unlink(missing_ok=True)
    proc = _run_inventory(ws, gate, marker)
    reached = _wait_for(lambda: marker.exists() or proc.poll() is not None, 300)
    proc.send_signal(sig)
    proc.wait(timeout=60)
    assert reached and marker.exists(), proc.stderr.read().decode() if proc.stderr else ""
    assert proc.returncode != 0, "the signal came after the command had finished"
    if sig == signal.SIGKILL:
        # Outright killed: the workers die with it; the next run cleans the staging folder.
        assert _wait_for(lambda: not _processes_of(ws), 10)
        assert snapshot(ws / "inventory") in (old, new)
        assert main(["inventory", "-w", str(ws)]) == 0
    assert _wait_for(lambda: not _processes_of(ws), 10), "a worker outlived the command"
    assert snapshot(ws / "inventory") in (old, new)
    assert leftovers(ws) == []


def test_an_update_keeps_the_unchanged_files_themselves(small_workspace: Path) -> None:
    render_workspace_inventory(small_workspace)
    inv = small_workspace / "inventory"
    kept = inv / "group_vars" / "endpoints.yml"
    before = (kept.stat().st_ino, kept.stat().st_mtime_ns)
    sites = small_workspace / "sites.csv"
    lines = sites.read_text(encoding="utf-8").splitlines(keepends=True)
    sites.write_text("".join(line for line in lines if "Yên Tập" not in line), encoding="utf-8")
    report = render_workspace_inventory(small_workspace)
    assert report.removed and report.unchanged
    assert (kept.stat().st_ino, kept.stat().st_mtime_ns) == before


def test_nothing_changed_writes_nothing_not_even_a_staging_folder(small_workspace: Path) -> None:
    render_workspace_inventory(small_workspace)
    inv = small_workspace / "inventory"
    long_ago = 1_000_000_000_000_000_000  # ns; any staging folder made and removed would move it
    for folder in (small_workspace, inv, inv / "host_vars"):
        os.utime(folder, ns=(long_ago, long_ago))
    before = {p: (p.stat().st_ino, p.stat().st_mtime_ns) for p in (small_workspace, inv)}
    report = render_workspace_inventory(small_workspace)
    assert report.written == [] and report.removed == [] and report.unchanged
    assert {p: (p.stat().st_ino, p.stat().st_mtime_ns) for p in before} == before
    assert (inv / "host_vars").stat().st_mtime_ns == long_ago
