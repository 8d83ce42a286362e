"""`confprov watch restore` and `watch report` as an operator runs them (processes)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from confprov.watch.restore import Restorer

CONFPROV = [sys.executable, "-m", "confprov", "watch"]


def run(*args: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k != "CONFPROV_WORKSPACE"}
    return subprocess.run([*CONFPROV, *args], capture_output=True, text=True, timeout=120, env=env)


def test_restore_refuses_while_another_action_runs_on_the_site(small_workspace: Path) -> None:
    # This process holds the site's lock as the board does while its push runs.
    held = Restorer(small_workspace, lambda *_: None)
    fd, _info = held._acquire("yen-tap.cam-khe", "router", "Hà")
    try:
        result = run("restore", "-w", str(small_workspace), "Yên Tập", "--action", "verify")
    finally:
        os.close(fd)
    assert result.returncode == 1
    assert "yen-tap.cam-khe: router is already running (started by Hà at" in result.stderr


def test_restore_names_one_site_or_exits_2(small_workspace: Path) -> None:
    result = run("restore", "-w", str(small_workspace), "no-such-site", "--action", "router")
    assert result.returncode == 2 and "no such site" in result.stderr
    result = run("restore", "-w", str(small_workspace), "district:cam-khe", "--action", "router")
    assert result.returncode == 2 and "give one" in result.stderr
    result = run("restore", "-w", str(small_workspace), "Yên Tập", "--action", "reboot")
    assert result.returncode == 2  # argparse: not one of verify, router, client


def test_report_of_an_empty_session_and_its_files(small_workspace: Path, tmp_path: Path) -> None:
    html, js = tmp_path / "r.html", tmp_path / "r.json"
    result = run("report", "-w", str(small_workspace), "--html", str(html), "--json", str(js))
    assert result.returncode == 0, result.stderr
    assert "0 incident(s)" in result.stdout
    assert json.loads(js.read_text())["incidents"] == []
    assert "<!doctype html>" in html.read_text()
    bad = run("report", "-w", str(small_workspace), "--html", str(tmp_path / "no" / "r.html"))
    assert bad.returncode == 2 and "its folder does not exist" in bad.stderr
