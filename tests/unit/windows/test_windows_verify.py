"""verify with a Windows site: its verdicts, the exit code, and "not measured on Windows" in
every report format.

Mocked, and why: no Windows host runs on this machine, so ``run_playbook`` is replaced by a fake
that writes what ansible-runner writes for the windows_check role (a ``runner_on_ok`` job event
whose result holds the ``windows_check_result`` fact, the shape the role's report task produces:
tests/unit/windows/test_windows_roles.py runs that task on recorded module results). Everything
after it is real: reading the events, judging, the results store, the CLI's exit code and every
report format.
"""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

import pytest

from confprov.cli import main
from confprov.runner import HostResult, RunResult
from confprov.verify import run as verify_run
from confprov.verify import windows as win
from tests.unit.windows.test_windows_provision import WINDOWS as WINDOWS_SURVEY

HOST = "so-khoa-hoc-va-cong-nghe"
GOOD = {
    "versions": ["44.10.0.31126"],
    "site_file": True,
    "site": HOST,
    "sip_port": {"ok": True, "detail": "", "seconds": 0.02},
}


def fake_run(status: str, fact: dict[str, Any] | None, calls: list[dict[str, Any]]):  # type: ignore[no-untyped-def]
    def run_playbook(workspace: Path, playbook: str, **kwargs: Any) -> RunResult:
        calls.append({"playbook": playbook, **kwargs})
        run_dir = workspace / "runs" / "fake-verify"
        events = run_dir / "artifacts" / "fake" / "job_events"
        events.mkdir(parents=True)
        if fact is not None:
            event = {
                "event": "runner_on_ok",
                "event_data": {
                    "host": HOST,
                    "task": "Report the Windows checks",
                    "task_action": "ansible.builtin.set_fact",
                    "res": {"ansible_facts": {"windows_check_result": fact}, "changed": False},
                },
            }
            (events / "9-report.json").write_text(json.dumps(event))
        message = "" if status == "ok" else "ssh: connect to host 198.18.5.11 port 22: timed out"
        return RunResult(
            action="verify",
            run_dir=run_dir,
            status="successful" if status == "ok" else "failed",
            rc=0 if status == "ok" else 4,
            hosts={HOST: HostResult(host=HOST, status=status, message=message)},
        )

    return run_playbook


@pytest.fixture
def windows_ws(small_workspace: Path, build_msi) -> Path:  # type: ignore[no-untyped-def]
    build_msi(small_workspace / "packages" / "windows" / "Webex.msi")
    return small_workspace


def verify(ws: Path, monkeypatch: pytest.MonkeyPatch, status: str, fact, tmp_path: Path):  # type: ignore[no-untyped-def]
    calls: list[dict[str, Any]] = []
    monkeypatch.setattr(verify_run, "run_playbook", fake_run(status, fact, calls))
    out = {k: tmp_path / f"r.{k}" for k in ("json", "junit", "html")}
    argv = ["verify", "-w", str(ws), "--limit", HOST, "--lang", "en"]
    for kind, path in out.items():
        argv += [f"--{kind}", str(path)]
    code = main(argv)
    return code, out, calls


def with_transport(ws: Path, transport: str) -> None:
    conf = ws / "confprov.yml"
    conf.write_text(
        conf.read_text().replace(
            "sip_domain: hoinghi.example", f"sip_domain: hoinghi.example\n  transport: {transport}"
        )
    )


def test_a_windows_site_whose_measurable_checks_pass_is_ready_and_verify_exits_0(
    windows_ws: Path,
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    with_transport(windows_ws, "tcp")
    code, out, calls = verify(windows_ws, monkeypatch, "ok", GOOD, tmp_path)
    text = capsys.readouterr().out
    assert code == 0, text
    # The Windows host is in the play now, with the pinned ProductCode/version read from the MSI.
    assert calls[0]["limit"] == [HOST]
    assert (
        calls[0]["extra_vars"]["windows_check_product_code"]
        == "{6F0D3C1E-1B2A-4C3D-9E8F-0A1B2C3D4E5F}"
    )
    assert calls[0]["extra_vars"]["windows_check_version"] == "44.10.0.31126"
    assert "1/1 ready" in text
    assert f"Not measured on Windows (1): {HOST}" in text
    report = json.loads(out["json"].read_text())
    checks = {c["check"]: c for c in report["sites"][0]["checks"]}
    assert report["sites"][0]["ready"] is True
    assert {
        n: checks[n]["severity"] for n in ("ssh", "client_version", "client_config", "sip_port")
    } == {"ssh": "pass", "client_version": "pass", "client_config": "pass", "sip_port": "pass"}
    assert {checks[n]["severity"] for n in win.PROBE_CHECKS} == {"unmeasured"}
    assert "not measured on Windows" in checks["rtt"]["reason"]
    junit = ET.parse(out["junit"]).getroot()
    # Ant's schema: no attributes on <testsuites>; the totals are on each suite.
    assert sum(int(suite.get("failures", "x")) for suite in junit.iter("testsuite")) == 0
    [case] = [c for c in junit.iter("testcase") if c.get("name", "").startswith(f"{HOST} (")]
    assert case.find("failure") is None
    [media] = [
        c for c in junit.iter("testcase") if c.get("name") == f"{HOST}: media path (Windows)"
    ]
    assert media.find("skipped").get("message").startswith("not measured on Windows")
    assert "rtt [so-khoa-hoc-va-cong-nghe] unmeasured: not measured on Windows" in ET.tostring(
        junit, encoding="unicode"
    )
    html = out["html"].read_text()
    assert 'class="lv-unmeasured">not measured on Windows<' in html
    assert "media path not measured (Windows)" in html


def test_a_provisioned_windows_site_with_its_survey_saved_is_ready(
    windows_ws: Path,
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """provision.yml saves a Windows survey as devices_surveyed: false with empty device lists:
    the room is unknown (a warning), never "no camera found", so the site stays ready."""
    with_transport(windows_ws, "tcp")
    (windows_ws / "survey").mkdir(exist_ok=True)
    (windows_ws / "survey" / f"{HOST}.json").write_text(json.dumps(WINDOWS_SURVEY))
    code, out, _ = verify(windows_ws, monkeypatch, "ok", GOOD, tmp_path)
    assert code == 0, capsys.readouterr().out
    site = json.loads(out["json"].read_text())["sites"][0]
    room = next(c for c in site["checks"] if c["check"] == "room")
    assert site["ready"] is True
    assert room["severity"] == "warn"
    assert "not surveyed (Windows: no stock module lists devices)" in room["reason"]


def test_judge_reads_a_windows_survey_as_unknown_not_missing(windows_ws: Path) -> None:
    from confprov.workspace import load

    loaded = load(windows_ws)
    sites = [s for s in loaded.registry.sites if s.slug == HOST]
    findings = win.Findings(results={HOST: GOOD})
    [result] = verify_run.judge(
        loaded.config, sites, None, {}, {}, surveys={HOST: WINDOWS_SURVEY}, windows=findings
    )
    room = next(v for v in result.checks if v.check == "room")
    assert (room.severity, result.ready) == ("warn", True), room.reason


def test_udp_signalling_is_not_measured_on_windows_rather_than_failed(
    windows_ws: Path, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    fact = {**GOOD, "sip_port": {}}  # the role skips the TCP check for UDP
    code, out, _ = verify(windows_ws, monkeypatch, "ok", fact, tmp_path)
    assert code == 0
    checks = {c["check"]: c for c in json.loads(out["json"].read_text())["sites"][0]["checks"]}
    assert checks["sip_port"]["severity"] == "unmeasured"
    assert "(UDP)" in checks["sip_port"]["reason"]


@pytest.mark.parametrize(
    ("status", "fact", "check", "reason"),
    [
        ("unreachable", None, "ssh", "endpoint not reachable over SSH"),
        (
            "ok",
            {**GOOD, "versions": ["43.1.0.1"]},
            "client_version",
            "version 43.1.0.1 installed, 44.10.0.31126 pinned",
        ),
        ("ok", {**GOOD, "versions": []}, "client_version", "client missing: ProductCode"),
        (
            "ok",
            {**GOOD, "site_file": True, "site": "cam-khe"},
            "client_config",
            "site file names 'cam-khe', not 'so-khoa-hoc-va-cong-nghe'",
        ),
        (
            "ok",
            {**GOOD, "sip_port": {"ok": False, "detail": "timeout while waiting"}},
            "sip_port",
            "198.19.255.10:5060/tcp: timeout while waiting",
        ),
    ],
)
def test_a_failing_measurable_check_makes_verify_exit_1_naming_it(
    windows_ws: Path,
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    status: str,
    fact: dict[str, Any] | None,
    check: str,
    reason: str,
) -> None:
    with_transport(windows_ws, "tcp")
    code, out, _ = verify(windows_ws, monkeypatch, status, fact, tmp_path)
    assert code == 1
    site = json.loads(out["json"].read_text())["sites"][0]
    assert not site["ready"]
    failing = {c["check"]: c["reason"] for c in site["checks"] if c["severity"] == "fail"}
    assert list(failing) == [check]
    assert reason in failing[check]
    assert reason in capsys.readouterr().out


def test_without_the_msi_the_version_check_says_why(
    small_workspace: Path, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    code, out, _ = verify(small_workspace, monkeypatch, "ok", GOOD, tmp_path)
    assert code == 1
    checks = {c["check"]: c for c in json.loads(out["json"].read_text())["sites"][0]["checks"]}
    assert checks["client_version"]["severity"] == "fail"
    assert "the pinned version is unknown" in checks["client_version"]["reason"]
    assert "no Webex MSI" in checks["client_version"]["reason"]


def test_every_check_the_linux_path_judges_is_listed_for_a_windows_endpoint(
    windows_ws: Path,
) -> None:
    """A Windows site's report names each endpoint check, measured or "not measured"."""
    from confprov.verify.evaluate import CHECK_ORDER
    from confprov.workspace import load

    config = load(windows_ws).config
    verdicts = win.verdicts(HOST, HOST, win.Findings(results={HOST: GOOD}), config)
    found = {v.check: v.severity for v in verdicts}
    assert set(found) == set(CHECK_ORDER) - {"room", "router"}
    assert {found[n] for n in ("loss_15s", "burst_200ms", "mos")} == {"unmeasured"}


def test_a_connection_override_keyed_by_site_slug_applies_to_its_endpoints(
    windows_ws: Path,
) -> None:
    """windows_connections accepts a host or a site slug; verify reads it as inventory does."""
    from dataclasses import replace

    from confprov.workspace import load

    config = replace(load(windows_ws).config, windows_connections={HOST: "winrm"})
    assert config.windows.connection != "winrm"
    laptop = "laptop-2"  # a second endpoint of the site: not itself a key
    findings = win.Findings(results={laptop: GOOD})
    ssh = win.verdicts(laptop, HOST, findings, config)[0]
    assert (ssh.check, ssh.reason) == ("ssh", "reached over winrm")
