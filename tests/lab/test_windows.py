"""A Windows site among real lab sites: verify reaches for it over SSH with the PowerShell shell,
reports it per site, and checks the other sites for real in the same run.

What is real and what is not: the lab has no Windows host, so the site declared windows here is a
Debian container (its OpenSSH answers, its shell is no PowerShell): the Windows play really runs
and really fails there, as it would on a laptop whose OpenSSH or PowerShell is broken. The other
site is a real lab endpoint checked by the real probe. The shared lab is not changed: the test
works on a copy of its workspace.
"""

from __future__ import annotations

import csv
import io
import json
import shutil
from pathlib import Path

import pytest

from confprov.cli import main

pytestmark = [pytest.mark.lab, pytest.mark.ansible]


def windows_copy(lab, tmp_path: Path, build_msi) -> Path:  # type: ignore[no-untyped-def]
    ws = tmp_path / "ws"
    shutil.copytree(
        lab.workspace, ws, ignore=shutil.ignore_patterns("runs", "inventory", "results.sqlite*")
    )
    rows = list(csv.reader(io.StringIO((ws / "sites.csv").read_text(encoding="utf-8"))))
    column = rows[0].index("endpoint_os")
    slug = lab.sites[0]
    for row in rows[1:]:
        if lab.endpoint(0) in row:
            row[column] = "windows"
    out = io.StringIO()
    csv.writer(out, lineterminator="\n").writerows(rows)
    (ws / "sites.csv").write_text(out.getvalue(), encoding="utf-8")
    build_msi(ws / "packages" / "windows" / "Webex.msi")
    assert slug
    return ws


def test_a_broken_windows_endpoint_fails_its_site_only(lab, tmp_path: Path, build_msi) -> None:  # type: ignore[no-untyped-def]
    ws = windows_copy(lab, tmp_path, build_msi)
    win, other = lab.sites[0], lab.sites[1]
    out = tmp_path / "r.json"
    argv = ["verify", "-w", str(ws), "--limit", win, "--limit", other, "--no-router-checks"]
    code = main([*argv, "--json", str(out), "--lang", "en"])
    assert code == 1
    sites = {s["site"]: s for s in json.loads(out.read_text())["sites"]}
    failing = [c for c in sites[win]["checks"] if c["severity"] == "fail"]
    assert [c["check"] for c in failing] == ["ssh"]
    assert failing[0]["reason"]  # what Ansible said, per site
    # The other site was measured for real in the same run (its probe's checks are there).
    checks = {c["check"] for c in sites[other]["checks"]}
    assert {"gateway", "route", "sip_port", "rtt"} <= checks
    assert "unmeasured" not in {c["severity"] for c in sites[other]["checks"]}
