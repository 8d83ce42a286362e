"""Today's two-tier province on real lab hosts: the starter workspace (a xã and a phường directly
under the province, a department, a `group`) brought up as a lab of its own — every router
mapped to FRR, the lab's only real router — then check, inventory, `routers plan`, push, and
`verify` by group. The starter's other platforms are rendered in tests/unit/test_examples.py."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest

from confprov.lab.system import lab_unavailable

if (_reason := lab_unavailable()) is not None:
    pytest.skip(_reason, allow_module_level=True)

from tests.lab.conftest import Lab, remove_stale_session_labs, session_lab_name
from tests.lab.test_verify import build_client_package, install_client, remove_client

pytestmark = pytest.mark.lab

STARTER = Path(__file__).resolve().parents[2] / "confprov" / "examples" / "starter" / "sites.csv"


@pytest.fixture(scope="module")
def starter_lab(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Lab]:
    from confprov.lab import lab as lab_mod
    from confprov.lab.plan import registry_sites

    remove_stale_session_labs()
    name = session_lab_name("ptt")
    workspace = tmp_path_factory.mktemp("two-tier") / "workspace"
    result = lab_mod.up(name, registry_sites(STARTER), workspace)
    try:
        yield Lab(name, result.workspace, result.plan)
    finally:
        lab_mod.down(name)


def test_starter_lab_checks_plans_pushes_and_verifies_by_group(starter_lab, tmp_path, capsys):
    from confprov.cli import main

    lab = starter_lab
    ws = str(lab.workspace)
    assert [s.level for s in lab.plan.sites] == ["province", "department", "commune", "ward"]
    assert main(["check", "-w", ws]) == 0
    assert "Cụm Mẫu     2" in capsys.readouterr().out
    assert main(["inventory", "-w", ws]) == 0
    capsys.readouterr()
    assert main(["routers", "plan", "-w", ws]) == 0
    out = capsys.readouterr().out
    assert "4 would change, 0 unchanged, 0 failed, 0 unreachable" in out, out

    assert main(["reflector", "--deploy", "-w", ws]) == 0
    deb = build_client_package(tmp_path)
    for site in range(len(lab.sites)):
        install_client(lab, site, deb)
    try:
        assert main(["routers", "push", "-w", ws]) == 0
        report = tmp_path / "group.json"
        rc = main(["verify", "-w", ws, "--limit", "group:cụm mẫu", "--json", str(report)])
        data = json.loads(report.read_text())
        assert rc == 0, data
        assert {s["site"] for s in data["sites"]} == {"mau-mot", "mau-hai"}
        assert data["summary"]["by_district"] == {"Cụm Mẫu": {"ready": 2, "sites": 2}}
        report = tmp_path / "all.json"
        assert main(["verify", "-w", ws, "--json", str(report)]) == 0
        data = json.loads(report.read_text())
        assert data["summary"]["ready"] == 4
    finally:
        for site in range(len(lab.sites)):
            remove_client(lab, site)
