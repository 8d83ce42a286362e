"""CLI conventions on every command: --version, --json [FILE|-], -q, --no-color and NO_COLOR,
an example in each help, progress with a total in a CI log."""

from __future__ import annotations

import argparse
import ast
import importlib.metadata
import io
import json
import subprocess
import sys
from pathlib import Path

import pytest

from confprov import cliargs
from confprov.cli import build_parser, main
from confprov.runner import Progress

REPO = Path(__file__).resolve().parents[2]


def leaves(parser: argparse.ArgumentParser):
    subs = [a for a in parser._actions if isinstance(a, argparse._SubParsersAction)]
    if not subs:
        yield parser
    for action in subs:
        for child in {id(c): c for c in action.choices.values()}.values():
            yield from leaves(child)


COMMANDS = list(leaves(build_parser()))


def test_version_prints_the_package_version():
    proc = subprocess.run(
        [sys.executable, "-m", "confprov", "--version"], capture_output=True, text=True
    )
    version = importlib.metadata.version("confprov")  # hatch reads confprov/__init__.py
    assert proc.returncode == 0
    assert proc.stdout.strip() == f"confprov {version}"


@pytest.mark.parametrize("command", COMMANDS, ids=lambda p: p.prog)
def test_every_command_has_quiet_no_color_and_an_example(command):
    options = command._option_string_actions
    assert "-q" in options and "--quiet" in options and "--no-color" in options
    assert command.epilog and command.epilog.startswith(f"example: {command.prog}")


def test_json_means_the_same_on_every_command_that_has_it():
    having = [c for c in COMMANDS if "--json" in c._option_string_actions]
    assert {c.prog for c in having} >= {
        "confprov verify",
        "confprov report",
        "confprov provision",
        "confprov survey",
        "confprov routers push",
        "confprov routers check",
        "confprov sheets",
    }
    for command in having:
        action = command._option_string_actions["--json"]
        assert (action.nargs, action.const, action.metavar) == ("?", "-", "FILE|-")
        assert action.default is None


def test_area_clis_do_not_import_the_top_level_cli():
    for path in (REPO / "confprov").glob("*/cli.py"):
        tree = ast.parse(path.read_text())
        imported = {
            node.module for node in ast.walk(tree) if isinstance(node, ast.ImportFrom)
        } | {alias.name for node in ast.walk(tree) if isinstance(node, ast.Import)
             for alias in node.names}  # fmt: skip
        assert "confprov.cli" not in imported, path


def test_json_to_stdout_parses_on_report_and_survey(small_workspace, capsys):
    from confprov.verify import store
    from confprov.verify.evaluate import SiteResult, Verdict

    site = SiteResult(site="sngv", name="Sở Ngoại vụ", level="department", district="")
    site.checks = [Verdict(host="sngv", check="route", severity="pass")]
    store.save_run(small_workspace, [site], started=store.now(), scope="all", run_dir="")
    for argv in (["report"], ["survey"]):
        capsys.readouterr()
        main([*argv, "-w", str(small_workspace), "--json", "-"])
        captured = capsys.readouterr()
        json.loads(captured.out)  # stdout holds the JSON only
    assert json.loads(captured.out)["sites"] == 0


def test_json_file_and_quiet(small_workspace, tmp_path, capsys):
    from confprov.verify import store

    store.save_run(small_workspace, [], started=store.now(), scope="all", run_dir="")
    out = tmp_path / "r.json"
    assert main(["report", "-w", str(small_workspace), "--json", str(out), "-q"]) == 0
    assert json.loads(out.read_text())["summary"]["sites"] == 0
    assert capsys.readouterr().out.strip().endswith("0/0 sẵn sàng")  # -q: the count line only


class Tty(io.StringIO):
    def isatty(self) -> bool:
        return True


def colored(args: argparse.Namespace) -> bool:
    stream = Tty()
    cliargs.console(args, stream).print("[red]fail[/]")
    return "\x1b[" in stream.getvalue()


def test_colour_on_a_terminal_unless_no_color(monkeypatch):
    monkeypatch.delenv("NO_COLOR", raising=False)
    assert colored(argparse.Namespace(no_color=False))
    assert not colored(argparse.Namespace(no_color=True))
    monkeypatch.setenv("NO_COLOR", "1")
    assert not colored(argparse.Namespace(no_color=False))
    monkeypatch.delenv("NO_COLOR")
    plain = io.StringIO()  # not a terminal: never colour
    cliargs.console(argparse.Namespace(no_color=False), plain).print("[red]fail[/]")
    assert plain.getvalue() == "fail\n"


def test_progress_in_a_ci_log_prints_lines_with_the_total(monkeypatch):
    ticks = iter([0.0, 0.0, 1.0, 6.0, 20.0])  # start, three events, the end
    monkeypatch.setattr(cliargs.time, "monotonic", lambda: next(ticks))
    log = io.StringIO()  # not a terminal
    with cliargs.progress(argparse.Namespace(quiet=False), "verify", log) as show:
        assert show is not None
        p = Progress(total=4)
        p.done.add("a")
        show(p)  # first event: a line
        p.done.add("b")
        show(p)  # 1 s later: too soon for another line
        p.failed.add("c")
        show(p)  # 6 s: a line
    lines = log.getvalue().splitlines()
    assert lines == [
        "verify: 1/4 done (0 failed, 0 unreachable), 00:00 elapsed, ETA 00:00",
        "verify: 3/4 done (1 failed, 0 unreachable), 00:06 elapsed, ETA 00:02",
        "verify: 3/4 done (1 failed, 0 unreachable), 00:20 elapsed, ETA 00:07",  # the end
    ]


def test_quiet_shows_no_progress():
    with cliargs.progress(argparse.Namespace(quiet=True), "verify") as show:
        assert show is None


def test_shell_completion_answers_commands_and_options(tmp_path):
    """What bash asks through argcomplete's protocol (as register-python-argcomplete does)."""
    out = tmp_path / "completions"
    for line, expected in (("confprov she", "sheets"), ("confprov verify --js", "--json")):
        env = {
            "PATH": str(Path(sys.executable).parent),
            "_ARGCOMPLETE": "1",
            "COMP_LINE": line,
            "COMP_POINT": str(len(line)),
            "_ARGCOMPLETE_STDOUT_FILENAME": str(out),
        }
        proc = subprocess.run(
            [sys.executable, "-m", "confprov"], env=env, capture_output=True, text=True
        )
        assert proc.returncode == 0, proc.stderr
        assert out.read_text().split() == [expected]


def test_run_summaries_colour_state_tags_on_a_terminal_only(monkeypatch):
    monkeypatch.delenv("NO_COLOR", raising=False)
    args = argparse.Namespace(no_color=False, json=None)
    summary = "push: 2 hosts\n  FAILED      a-rt: [bad] config\n  CHANGED     b-rt: ok"
    tty = Tty()
    monkeypatch.setattr(sys, "stdout", tty)
    cliargs.print_states(args, summary)
    assert "\x1b[1;31mFAILED\x1b[0m" in tty.getvalue() and "[bad]" in tty.getvalue()
    plain = io.StringIO()
    monkeypatch.setattr(sys, "stdout", plain)
    cliargs.print_states(args, summary)
    assert plain.getvalue() == summary + "\n"


PTY_CHILD = """
import argparse, os
from confprov import cliargs
from confprov.runner import Progress

with cliargs.progress(argparse.Namespace(quiet=False, no_color=False), "verify") as show:
    p = Progress(total=4)
    p.failed.add("a")
    show(p)
    os.write(2, b"<<still running>>\\n")
"""


def test_no_color_on_a_terminal_still_draws_progress_live_without_colour():
    """NO_COLOR on a terminal: the live bar is drawn while the run goes on, in no colour."""
    import os
    import pty
    import re

    master, slave = pty.openpty()
    env = {**os.environ, "NO_COLOR": "1", "TERM": "xterm-256color", "COLUMNS": "120"}
    argv = [sys.executable, "-c", PTY_CHILD]
    proc = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=slave, stderr=slave, env=env)
    os.close(slave)
    chunks = []
    while True:
        try:
            data = os.read(master, 4096)
        except OSError:  # EIO: the child closed the terminal
            break
        if not data:
            break
        chunks.append(data)
    os.close(master)
    assert proc.wait(timeout=60) == 0
    out = b"".join(chunks).decode()
    assert "<<still running>>" in out, out
    assert "verify" in out.split("<<still running>>")[0], out  # drawn before the end
    assert not re.search(r"\x1b\[[0-9;]*m", out), repr(out)  # no colour/style codes


# --- #15 item 4 outside routers: --json on check and lab status, -q, tables -----------------


def _lab_state(tmp_path, monkeypatch):
    """A lab's state as `lab status` reads it, without a lab (no root, no network)."""
    from confprov.lab import cli as lab_cli
    from confprov.lab import lab

    status = lab.Status(
        name="i13t", phase="up", workspace=str(tmp_path / "a-long-workspace-path" / "ws"),
        block="198.18.192.0/18", sites=3, hosts=7, running=7,
        faults={"xa-1.huyen-1": ["loss 5%"], "huyen-1": []},
    )  # fmt: skip
    monkeypatch.setattr(lab_cli, "all_labs", lambda: ["i13t"])
    monkeypatch.setattr(lab, "status", lambda name: status)
    return status


def test_json_to_stdout_parses_on_check_and_lab_status(
    small_workspace, tmp_path, monkeypatch, capsys
):
    _lab_state(tmp_path, monkeypatch)
    capsys.readouterr()
    assert main(["check", "-w", str(small_workspace), "--json", "-"]) == 0
    data = json.loads(capsys.readouterr().out)  # stdout holds the JSON only
    assert (data["sites"], data["endpoints"], data["routers"]) == (6, 7, 5)
    assert data["levels"]["commune"] == 2 and data["warnings"] == []
    assert main(["lab", "status", "--json", "-"]) == 0
    (shown,) = json.loads(capsys.readouterr().out)["labs"]
    assert shown["name"] == "i13t" and shown["faults"]["xa-1.huyen-1"] == ["loss 5%"]


def test_check_json_file_and_the_summary(small_workspace, tmp_path, capsys):
    out = tmp_path / "check.json"
    assert main(["check", "-w", str(small_workspace), "--json", str(out)]) == 0
    assert json.loads(out.read_text())["sites"] == 6
    assert capsys.readouterr().out.startswith("sites.csv: 6 sites")


@pytest.mark.parametrize(
    "argv",
    [["check"], ["inventory"], ["lab", "status"], ["init", "NEW"], ["survey"]],
    ids=" ".join,
)
def test_quiet_prints_nothing_on_success(small_workspace, tmp_path, monkeypatch, capsys, argv):
    _lab_state(tmp_path, monkeypatch)
    argv = [str(tmp_path / "new") if a == "NEW" else a for a in argv]
    if argv[0] != "lab" and argv[0] != "init":
        argv += ["-w", str(small_workspace)]
    capsys.readouterr()
    assert main([*argv, "-q"]) == 0
    assert capsys.readouterr() == ("", "")
    if argv[0] == "init":
        argv[1] += "-2"
    assert main(argv) == 0  # and without -q, it says something
    assert capsys.readouterr().out


def test_lab_status_is_a_table_with_whole_paths_in_a_log(tmp_path, monkeypatch, capsys):
    status = _lab_state(tmp_path, monkeypatch)
    assert main(["lab", "status"]) == 0
    out = capsys.readouterr().out
    header, row = out.splitlines()[1:3]
    assert header.split() == ["lab", "phase", "hosts", "running", "sites", "addresses",
                              "workspace", "faults"]  # fmt: skip
    assert row.split()[:6] == ["i13t", "up", "7/7", "3", "198.18.192.0/18", status.workspace]
    assert "xa-1.huyen-1: loss 5%" in row


def test_survey_is_a_table(small_workspace, capsys):
    folder = small_workspace / "survey"
    folder.mkdir()
    for host, site in (("a", "Điểm cầu xã Yên Tập"), ("b", "Sở Ngoại vụ")):
        (folder / f"{host}.json").write_text(
            json.dumps(
                {
                    "host": host,
                    "site": host,
                    "site_name": site,
                    "cameras": [],
                    "displays": [],
                    "audio": [],
                },
                ensure_ascii=False,
            )
        )
    assert main(["survey", "-w", str(small_workspace)]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0] == "survey: 2 site(s) surveyed"
    assert lines[1].split() == ["sites", "lacking", "which"]
    assert lines[2].split()[:4] == ["2", "without", "a", "camera"]
    assert lines[2].endswith(
        ("Điểm cầu xã Yên Tập, Sở Ngoại vụ", "Sở Ngoại vụ, Điểm cầu xã Yên Tập")
    )


def test_a_report_with_quiet_is_its_summary_line(capsys) -> None:
    """`lab up/down`, `mirror`, `reflector --deploy`: -q keeps the first line, the summary."""
    import argparse

    from confprov import cliargs

    text = "lab x up: 3 sites, 7 hosts in 9.0 s\nworkspace: /w\nnext: confprov provision -w /w"
    cliargs.summary(argparse.Namespace(quiet=True), text)
    assert capsys.readouterr().out == "lab x up: 3 sites, 7 hosts in 9.0 s\n"
    cliargs.summary(argparse.Namespace(quiet=False), text)
    assert capsys.readouterr().out == text + "\n"
