"""`confprov routers …` and `confprov trust` without a lab: usage, bad input, backups, results."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from confprov.cli import main
from confprov.routers import backups
from confprov.routers.run import module_results


def test_routers_commands_are_listed(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exc:
        main(["routers", "--help"])
    assert exc.value.code == 0
    out = capsys.readouterr().out
    for command in ("plan", "push", "rollback", "backups", "check"):
        assert command in out
    with pytest.raises(SystemExit):
        main(["trust", "--help"])
    assert "--replace" in capsys.readouterr().out


def test_backups_lists_newest_first(small_workspace: Path, capsys) -> None:
    import datetime as dt

    assert main(["routers", "backups", "-w", str(small_workspace)]) == 0
    assert "no backups" in capsys.readouterr().out
    t0 = dt.datetime(2026, 11, 26, 10, 0, 0)
    backups.save(small_workspace, "cam-khe-rt", "old\n", t0)
    backups.save(small_workspace, "cam-khe-rt", "new\n", t0 + dt.timedelta(minutes=5))
    same = backups.save(small_workspace, "cam-khe-rt", "newer\n", t0 + dt.timedelta(minutes=5))
    assert same.name == "20261126-100500-1", "same second: a suffix, never an overwrite"
    assert main(["routers", "backups", "-w", str(small_workspace)]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[0] == "cam-khe-rt: 3 backup(s)"
    assert out[1].split()[0] == "20261126-100500-1" and "newest" in out[1]
    assert out[3].split()[0] == "20261126-100000"
    assert backups.choose(small_workspace, "cam-khe-rt", None).text() == "newer\n"
    assert backups.choose(small_workspace, "cam-khe-rt", "20261126-100000").text() == "old\n"
    assert backups.choose(small_workspace, "cam-khe-rt", "20261126-1005").text() == "newer\n"
    mode = backups.versions(small_workspace, "cam-khe-rt")[0].path.stat().st_mode
    assert mode & 0o777 == 0o600


def test_rollback_to_an_unknown_backup_names_the_known_ones(small_workspace: Path) -> None:
    backups.save(small_workspace, "cam-khe-rt", "x\n")
    from confprov.exceptions import InputError

    with pytest.raises(InputError, match=r"no backup 'nope' of cam-khe-rt \(newest: "):
        backups.choose(small_workspace, "cam-khe-rt", "nope")


def test_bad_settings_are_bad_input(small_workspace: Path, capsys) -> None:
    code = main(["routers", "push", "-w", str(small_workspace), "--workers", "0"])
    assert code == 2
    assert "--workers" in capsys.readouterr().err


def test_trust_refuses_a_host_outside_the_workspace(small_workspace: Path, capsys) -> None:
    assert main(["trust", "-w", str(small_workspace), "203.0.113.7"]) == 2
    assert "not a host of this workspace" in capsys.readouterr().err


def test_check_routers_refuses_an_unknown_router(small_workspace: Path) -> None:
    from confprov.exceptions import InputError
    from confprov.routers import check_routers

    with pytest.raises(InputError, match="nosuch-rt: no such site"):
        check_routers(small_workspace, ["nosuch-rt"])


def test_module_results_are_read_from_the_job_events(tmp_path: Path) -> None:
    events = tmp_path / "artifacts" / "ansible" / "job_events"
    events.mkdir(parents=True)
    (events / "1-start.json").write_text(json.dumps({"event": "playbook_on_start"}))
    (events / "2-ok.json").write_text(
        json.dumps(
            {
                "event": "runner_on_ok",
                "event_data": {
                    "host": "localhost",
                    "task": "a display name reworded in the role",
                    "task_action": "confprov.core.router_config",
                    "res": {
                        "routers": {
                            "a-rt": {"host": "a-rt", "status": "changed", "changed": True},
                            "b-rt": {"host": "b-rt", "status": "unreachable", "failed": True},
                        }
                    },
                },
            }
        )
    )
    results = module_results(tmp_path)
    assert results is not None
    assert results["a-rt"].changed and not results["a-rt"].failed
    assert results["b-rt"].failed and results["b-rt"].status == "unreachable"
