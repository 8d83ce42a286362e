"""The verify and report commands' contract: exit codes, bad input before any work, outputs."""

from __future__ import annotations

import json

from confprov.cli import main
from confprov.verify import store
from confprov.verify.evaluate import SiteResult, Verdict
from confprov.verify.report import SCHEMA


def test_report_without_any_run_is_bad_input(small_workspace, capsys):
    assert main(["report", "-w", str(small_workspace)]) == 2
    assert "no verification stored: run `confprov verify` first" in capsys.readouterr().err


def test_unknown_site_in_limit_is_refused_before_any_run(small_workspace, capsys):
    assert main(["verify", "-w", str(small_workspace), "--limit", "no-such-site"]) == 2
    assert "no-such-site: no such site" in capsys.readouterr().err
    assert not (small_workspace / "runs").exists()
    assert not (small_workspace / "results.sqlite").exists()


def test_output_in_a_missing_folder_is_refused_first(small_workspace, tmp_path, capsys):
    target = tmp_path / "nowhere" / "r.html"
    assert main(["verify", "-w", str(small_workspace), "--html", str(target)]) == 2
    assert "--html: its folder does not exist" in capsys.readouterr().err
    assert not (small_workspace / "runs").exists()


def test_failed_only_without_history_is_bad_input(small_workspace, capsys):
    assert main(["verify", "-w", str(small_workspace), "--failed-only"]) == 2
    assert "no earlier verification" in capsys.readouterr().err


def stored_run(ws):
    ready = SiteResult(
        site="sngv",
        name="Sở Ngoại vụ",
        level="department",
        district="",
        checks=[Verdict(host="sngv", check="route", severity="pass")],
    )
    red = SiteResult(
        site="cam-khe",
        name="UBND huyện Cẩm Khê",
        level="district",
        district="cam-khe",
        checks=[
            Verdict(
                host="cam-khe",
                check="route",
                severity="fail",
                reason="no route to the conference network",
            )
        ],
    )
    return store.save_run(ws, [ready, red], started=store.now(), scope="all", run_dir="")


def test_report_renders_a_stored_run_in_every_format(small_workspace, tmp_path, capsys):
    stored_run(small_workspace)
    out = {k: tmp_path / f"r.{k}" for k in ("json", "junit", "html")}
    argv = ["report", "-w", str(small_workspace), "--lang", "en"]
    for kind, path in out.items():
        argv += [f"--{kind}", str(path)]
    assert main(argv) == 1  # a site is not ready
    text = capsys.readouterr().out
    assert "1/2 ready" in text
    assert "Route to conference network [cam-khe]: no route to the conference network" in text
    assert json.loads(out["json"].read_text())["summary"]["ready"] == 1
    assert "<testsuite" in out["junit"].read_text()
    assert 'id="count-total">2</span>' in out["html"].read_text()


def test_report_default_language_comes_from_the_config(small_workspace, capsys):
    stored_run(small_workspace)
    main(["report", "-w", str(small_workspace)])
    assert "1/2 sẵn sàng" in capsys.readouterr().out  # lang defaults to vi


def test_report_since_lists_changes(small_workspace, capsys):
    first = stored_run(small_workspace)
    fixed = SiteResult(
        site="cam-khe",
        name="UBND huyện Cẩm Khê",
        level="district",
        district="cam-khe",
        checks=[Verdict(host="cam-khe", check="route", severity="pass")],
    )
    store.save_run(small_workspace, [fixed], started=store.now(), scope="failed-only", run_dir="")
    assert main(["report", "-w", str(small_workspace), "--since", str(first), "--lang", "en"]) == 0
    text = capsys.readouterr().out
    assert "cam-khe (UBND huyện Cẩm Khê): now ready" in text
    assert "sngv" not in text


def test_failed_only_with_nothing_to_recheck_still_writes_json_to_stdout(small_workspace, capsys):
    stored_run(small_workspace)
    argv = ["verify", "-w", str(small_workspace), "--failed-only", "--limit", "sngv"]
    assert main([*argv, "--json", "-"]) == 0
    captured = capsys.readouterr()
    data = json.loads(captured.out)  # stdout holds the JSON alone
    assert data["schema"] == SCHEMA
    assert (data["sites"], data["run"], data["summary"]["sites"]) == ([], None, 0)
    assert "nothing to retry: the last run had no failed sites among" in data["note"]
    assert "nothing to retry" in captured.err  # the human line moved to stderr
