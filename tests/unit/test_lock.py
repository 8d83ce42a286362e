"""The workspace lock: a second writing command exits 2 naming the first (PID and command), or
waits when asked; readers are not blocked; the lock dies with its holder."""

from __future__ import annotations

import argparse
import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from confprov import lock
from confprov.cli import build_parser, main

HOLD = (
    "import sys; from pathlib import Path; from confprov.lock import workspace_lock\n"
    "with workspace_lock(Path(sys.argv[1]), 'routers push'):\n"
    "    print('held', flush=True); sys.stdin.read()\n"
)


@pytest.fixture
def holder(small_workspace: Path) -> Iterator[subprocess.Popen[str]]:
    """Another process holding the workspace's lock until its stdin closes."""
    proc = subprocess.Popen(
        [sys.executable, "-c", HOLD, str(small_workspace)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    assert proc.stdout is not None and proc.stdout.readline() == "held\n"
    yield proc
    if proc.poll() is None:
        proc.kill()
    proc.wait()


def test_a_second_writer_exits_2_naming_the_first_and_writes_nothing(
    small_workspace: Path, holder: subprocess.Popen[str], capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["inventory", "-w", str(small_workspace)]) == 2
    err = capsys.readouterr().err
    assert f"PID {holder.pid}" in err and "`confprov routers push`" in err, err
    assert "busy" in err and lock.WAIT_ENV in err
    assert not (small_workspace / "inventory").exists()


def test_readers_are_not_blocked(
    small_workspace: Path, holder: subprocess.Popen[str], capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["check", "-w", str(small_workspace)]) == 0


def test_a_waiting_writer_runs_once_the_first_ends(
    small_workspace: Path, holder: subprocess.Popen[str]
) -> None:
    second = subprocess.Popen(
        [sys.executable, "-m", "confprov", "inventory", "-w", str(small_workspace)],
        env={**os.environ, lock.WAIT_ENV: "60"},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert holder.stdin is not None
    holder.stdin.close()  # the first command ends
    out, err = second.communicate(timeout=60)
    assert second.returncode == 0, err
    assert "written" in out


def test_the_lock_dies_with_its_holder_even_killed(
    small_workspace: Path, holder: subprocess.Popen[str]
) -> None:
    holder.send_signal(signal.SIGKILL)
    holder.wait()
    assert main(["inventory", "-w", str(small_workspace)]) == 0


def test_one_process_may_take_it_again_inside(small_workspace: Path) -> None:
    with lock.workspace_lock(small_workspace, "demo"):
        assert main(["inventory", "-w", str(small_workspace)]) == 0
    # … and it is released afterwards: another process can take it.
    proc = subprocess.run(
        [sys.executable, "-c", HOLD, str(small_workspace)], input="", text=True, check=False
    )
    assert proc.returncode == 0


def _commands(parser: argparse.ArgumentParser, prefix: str = "") -> set[str]:
    found = set()
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for name, sub in action.choices.items():
                full = f"{prefix} {name}".strip()
                found.add(full)
                found |= _commands(sub, full)
    return found


def test_every_writer_named_is_a_real_command_taking_a_workspace() -> None:
    commands = _commands(build_parser())
    assert commands >= lock.WRITERS, lock.WRITERS - commands
