"""Issue #13 items 5/6 at the printing layer: text from devices and servers never reaches the
terminal raw, report files are written by safefile.replace, a reader that leaves ends a
command quietly."""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
import uuid
from pathlib import Path

import pytest

from confprov import cliargs
from confprov.cli import BROKEN_PIPE, main
from confprov.verify import store
from confprov.verify.evaluate import SiteResult, Verdict

# A SIP reason phrase as a hostile server could send it: set the window title, clear the
# screen, ring the bell, and turn the rest of the line right-to-left.
REASON = "Forbidden \x1b]0;pwned\x07\x1b[2J\x9b31m \u202eredro\u200b"
RAW = ("\x1b", "\x07", "\x9b", "\u202e", "\u200b")


def test_clean_escapes_every_control_but_line_breaks_and_tabs() -> None:
    assert cliargs.clean("a\tb\nc") == "a\tb\nc"
    assert cliargs.clean("\x1b[2J\r\u202e") == "\\u001b[2J\\u000d\\u202e"


def _run_with_reason(workspace: Path) -> None:
    site = SiteResult(site="sngv", name="Sở Ngoại vụ", level="department", district="")
    site.checks = [Verdict(host="sngv", check="sip", severity="fail", reason=REASON)]
    store.save_run(workspace, [site], started=store.now(), scope="all", run_dir="")


def test_a_server_reason_phrase_is_shown_escaped(
    small_workspace: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    _run_with_reason(small_workspace)
    assert main(["report", "-w", str(small_workspace)]) == 1
    out = capsys.readouterr().out
    assert "Forbidden \\u001b]0;pwned" in out
    assert not any(c in out for c in RAW), repr(out)


def test_json_on_stdout_keeps_the_exact_reason(
    small_workspace: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """The escapes are JSON's own: stdout is valid JSON holding the server's exact text."""
    _run_with_reason(small_workspace)
    main(["report", "-w", str(small_workspace), "--json", "-"])
    out = capsys.readouterr().out
    assert not any(c in out for c in RAW), repr(out)
    (check,) = json.loads(out)["sites"][0]["checks"]
    assert check["reason"] == REASON


class Tty(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_rich_output_is_cleaned_and_keeps_its_colours(monkeypatch: pytest.MonkeyPatch) -> None:
    from rich.table import Table

    monkeypatch.delenv("NO_COLOR", raising=False)
    stream = Tty()
    table = Table()
    table.add_column("reason")
    table.add_row(REASON)
    con = cliargs.console(None, cliargs.CleanStream(stream))
    con.print("[red]fail[/]")
    con.print(table)
    out = stream.getvalue()
    assert "\x1b[31mfail" in out  # rich's own colour codes are not escaped
    assert "\\u001b]0;pwned" in out
    assert not any(c in out for c in RAW[1:]) and "\x1b]" not in out and "\x1b[2J" not in out


def test_a_report_file_replaces_a_planted_link_without_following_it(
    small_workspace: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """``--html`` at a path where a link to another file system was planted: before
    safefile.replace, the temporary file went into the link's target folder (and the rename
    then failed across file systems: exit 3); now the link itself is replaced."""
    shm = Path("/dev/shm")
    if not shm.is_dir() or shm.stat().st_dev == tmp_path.stat().st_dev:
        pytest.skip("needs /dev/shm on another file system than the test's tmp folder")
    victim_dir = shm / f"confprov-test-{uuid.uuid4().hex}"
    victim_dir.mkdir()
    try:
        victim = victim_dir / "victim.txt"
        victim.write_text("keep me\n")
        _run_with_reason(small_workspace)
        target = tmp_path / "r.html"
        target.symlink_to(victim)
        assert main(["report", "-w", str(small_workspace), "--html", str(target)]) == 1
        assert not target.is_symlink() and "<html" in target.read_text()
        assert victim.read_text() == "keep me\n"
        assert sorted(p.name for p in victim_dir.iterdir()) == ["victim.txt"]
    finally:
        for p in victim_dir.iterdir():
            p.unlink()
        victim_dir.rmdir()
    capsys.readouterr()


@pytest.mark.parametrize(
    "argv", [["check"], ["lab", "status"], ["--help"], ["--version"]], ids=" ".join
)
def test_a_reader_that_leaves_ends_the_command_quietly(
    small_workspace: Path, argv: list[str]
) -> None:
    """``confprov check | head -0``: stdout is a pipe whose reader has gone; no trace, not 3."""
    read, write = os.pipe()
    os.close(read)
    try:
        proc = subprocess.run(
            [sys.executable, "-m", "confprov", *argv],
            stdout=write,
            stderr=subprocess.PIPE,
            text=True,
            env={**os.environ, "CONFPROV_WORKSPACE": str(small_workspace)},
            check=False,
            timeout=60,
        )
    finally:
        os.close(write)
    assert proc.returncode in (BROKEN_PIPE, 0), proc.stderr  # argparse's own exits stay 0
    assert "Traceback" not in proc.stderr and "internal error" not in proc.stderr, proc.stderr
    if argv[0] in ("check", "lab"):  # they write to stdout: the pipe breaks
        assert proc.returncode == BROKEN_PIPE
