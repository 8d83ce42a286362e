"""`--retry-failed` means one thing in provision, routers and verify (confprov.runner's rule).

Nothing failed last time (inside --limit when given): exit 0, the same line, nothing run or
written. No earlier run to retry from: bad input, exit 2. verify also takes `--failed-only`.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from confprov import runner
from confprov.cli import main
from confprov.verify import store
from confprov.verify.evaluate import SiteResult, Verdict

NOTHING = "nothing to retry: the last run had no failed sites"


def last_run(ws: Path, action: str, hosts: dict[str, str]) -> None:
    """An earlier run's summary.json, as runner.run_playbook writes it (what retries read)."""
    run = ws / "runs" / f"20261126-120000-{action}"
    run.mkdir(parents=True)
    summary = {"action": action, "hosts": {h: {"status": s} for h, s in hosts.items()}}
    (run / "summary.json").write_text(json.dumps(summary))


def all_ready(ws: Path) -> None:
    site = SiteResult(
        site="sngv",
        name="Sở Ngoại vụ",
        level="department",
        district="",
        checks=[Verdict(host="sngv", check="route", severity="pass")],
    )
    store.save_run(ws, [site], started=store.now(), scope="all", run_dir="")


def test_the_rule_keeps_the_limit_and_says_nothing_to_retry() -> None:
    assert runner.retry_selection(["b", "a"]) == ["a", "b"]
    assert runner.retry_selection(["a", "b"], within=["b", "c"]) == ["b"]
    with pytest.raises(runner.NothingToRetry) as nothing:
        runner.retry_selection([])
    assert (str(nothing.value), nothing.value.exit_code) == (NOTHING, 0)
    with pytest.raises(runner.NothingToRetry, match=f"^{NOTHING} among those --limit selects$"):
        runner.retry_selection(["a"], within=["b"])


COMMANDS = {
    "provision": (["provision"], "provision", "sngv"),
    "routers push": (["routers", "push"], "routers-push", "sngv-rt"),
    "routers plan": (["routers", "plan"], "routers-plan", "sngv-rt"),
}


@pytest.mark.parametrize("command", [*COMMANDS, "verify", "verify --failed-only"])
def test_nothing_failed_last_time_exits_0_with_the_same_line_everywhere(
    command: str, small_workspace: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    if command.startswith("verify"):
        all_ready(small_workspace)
        argv = ["verify", "--failed-only" if command.endswith("only") else "--retry-failed"]
    else:
        argv, action, host = COMMANDS[command]
        last_run(small_workspace, action, {host: "ok"})
        argv = [*argv, "--retry-failed"]
    assert main([*argv, "-w", str(small_workspace)]) == 0
    assert NOTHING in capsys.readouterr().out
    assert not (small_workspace / "inventory").exists(), "nothing rendered, nothing run"


@pytest.mark.parametrize("command", [*COMMANDS, "verify"])
def test_a_limit_without_the_failed_hosts_has_nothing_to_retry(
    command: str, small_workspace: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """cam-khe failed last time; --limit sngv holds none of it: nothing to retry, exit 0."""
    if command == "verify":
        all_ready(small_workspace)
        argv = ["verify", "--retry-failed"]
    else:
        argv, action, host = COMMANDS[command]
        failed = host.replace("sngv", "cam-khe")
        last_run(small_workspace, action, {failed: "unreachable", host: "ok"})
        argv = [*argv, "--retry-failed"]
    code = main([*argv, "--limit", "sngv", "-w", str(small_workspace)])
    assert code == 0
    assert f"{NOTHING} among those --limit selects" in capsys.readouterr().out


@pytest.mark.parametrize(
    ("argv", "says"),
    [
        (["provision", "--retry-failed"], "no earlier 'provision' run to retry"),
        (["routers", "push", "--retry-failed"], "no earlier 'routers-push' run to retry"),
        (["verify", "--retry-failed"], "no earlier verification"),
    ],
)
def test_no_earlier_run_to_retry_from_is_bad_input(
    argv: list[str], says: str, small_workspace: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main([*argv, "-w", str(small_workspace)]) == 2
    assert says in capsys.readouterr().err
    assert not (small_workspace / "inventory").exists()
