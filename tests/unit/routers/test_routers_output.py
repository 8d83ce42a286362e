"""What `confprov routers` writes and prints: never through a link, nothing raw from a device."""

from __future__ import annotations

import argparse
from pathlib import Path

import pytest

from confprov import safefile
from confprov.exceptions import InputError
from confprov.routers import cli
from confprov.routers.engine import RouterResult
from confprov.routers.run import RoutersRun

HOSTILE = "desc \x1b]0;owned\x07\x1b[2J\r\u202egnp.exe"


def args(**extra: object) -> argparse.Namespace:
    return argparse.Namespace(quiet=False, json=None, diff=True, no_color=True, **extra)


def test_router_output_reaches_the_terminal_escaped(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A device's escape sequences (set the title, clear the screen, carriage return, a
    right-to-left override) are printed as text, in the diff and in the summary."""
    result = RouterResult(
        "r-rt",
        "198.18.0.13",
        "frr",
        status="failed",
        diff=f"+ interface wan / {HOSTILE}",
        message=f"refused: % Unknown command: {HOSTILE}",
    )
    run = RoutersRun("routers-push", tmp_path, {"r-rt": result})
    assert cli._print_run(args(), run) == 1
    out = capsys.readouterr().out
    assert "\x1b" not in out and "\r" not in out and "\u202e" not in out and "\x07" not in out
    assert r"desc \x1b]0;owned\x07\x1b[2J\r\u202egnp.exe" in out
    assert out.count("\n") >= 3, "line breaks stay line breaks"


def test_session_logs_are_never_written_through_a_link(tmp_path: Path) -> None:
    target = tmp_path / "elsewhere"
    target.write_text("keep")
    (tmp_path / "r-rt.log").symlink_to(target)
    with pytest.raises(InputError, match="symbolic link"):
        safefile.append(tmp_path / "r-rt.log")
    assert target.read_text() == "keep"
    with safefile.append(tmp_path / "s-rt.log") as log:
        log.write(b"attempt 1\n")
    with safefile.append(tmp_path / "s-rt.log") as log:
        log.write(b"attempt 2\n")
    assert (tmp_path / "s-rt.log").read_bytes() == b"attempt 1\nattempt 2\n"
    assert (tmp_path / "s-rt.log").stat().st_mode & 0o777 == 0o600


def test_routers_check_prints_a_table(capsys: pytest.CaptureFixture[str]) -> None:
    from confprov.routers.check import RouterCheck

    checks = {
        "a-rt": RouterCheck("a-rt", "198.18.0.11", reachable=True, intended=True),
        "b-rt": RouterCheck(
            "b-rt", "198.18.0.12", True, False, ["x"], f"1 intended line(s) missing {HOSTILE}"
        ),
        "c-rt": RouterCheck("c-rt", "198.18.0.13", False, False, [], "no answer (3 attempts)"),
    }
    cli._check_table(args(), checks)
    out = capsys.readouterr().out
    rows = [line.split() for line in out.splitlines()]
    assert rows[0] == ["router", "address", "state", "why"]
    row = {r[0]: r for r in rows[1:] if r and r[0].endswith("-rt")}  # a long "why" wraps
    assert row["a-rt"][:3] == ["a-rt", "198.18.0.11", "OK"]
    assert row["b-rt"][:4] == ["b-rt", "198.18.0.12", "NOT", "READY"]
    assert row["c-rt"][:3] == ["c-rt", "198.18.0.13", "UNREACHABLE"]
    assert "\x1b" not in out and r"\x1b]0;owned" in out


def test_push_progress_counts_routers_of_a_total(tmp_path: Path) -> None:
    """The module appends each router's end to a file (api._progress); the CLI reads it while the
    play runs (run._router_progress) and draws it with the progress every command uses."""
    from confprov import cliargs
    from confprov.routers import api, run

    seen: list[str] = []
    path = tmp_path / ".progress"
    with (
        run._router_progress(
            path, 4, lambda p: seen.append(cliargs.progress_line("routers push", p, 10.0))
        ),
        api._progress(path) as write,
    ):
        assert write is not None
        write(RouterResult("a-rt", status="changed"))
        write(RouterResult("b-rt", status="unreachable"))
        write(RouterResult("c-rt", status="interrupted"))
    assert seen[0] == "routers push: 0/4 done (0 failed, 0 unreachable), 00:10 elapsed, ETA --:--"
    assert seen[-1] == (
        "routers push: 3/4 done (1 failed, 1 unreachable), 00:10 elapsed, ETA 00:03"
    )
