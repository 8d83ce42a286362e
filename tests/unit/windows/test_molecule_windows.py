"""The Molecule scenario against a real Windows laptop (roles/windows_client/molecule/windows).

No Windows host runs on this machine or in CI, so the run is skipped here, saying why; on a
machine where the variables below name a laptop, ``make molecule-windows`` (or this test) runs
destroy → create → converge → idempotence → verify → destroy on it (docs/windows.md).
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

REPO = Path(__file__).resolve().parents[3]
SCENARIO = REPO / "roles" / "windows_client" / "molecule" / "windows"
NEEDED = (
    "CONFPROV_WINDOWS_HOST",
    "CONFPROV_WINDOWS_USER",
    "CONFPROV_WINDOWS_KEY",
    "CONFPROV_WINDOWS_KNOWN_HOSTS",
)
MISSING = [name for name in NEEDED if not os.environ.get(name)]


def test_the_scenario_converges_twice_and_verifies_outcomes() -> None:
    scenario = yaml.safe_load((SCENARIO / "molecule.yml").read_text())
    sequence = scenario["scenario"]["test_sequence"]
    assert sequence.index("converge") < sequence.index("idempotence") < sequence.index("verify")
    assert scenario["driver"]["options"]["ansible_connection_options"]["ansible_shell_type"] == (
        "powershell"
    )
    docs = (REPO / "docs" / "windows.md").read_text()
    create = (SCENARIO / "create.yml").read_text()
    for name in NEEDED:  # what the scenario requires is what the user is told to set
        assert name in docs and name in create


@pytest.mark.ansible
@pytest.mark.skipif(
    bool(MISSING),
    reason=f"no Windows laptop to run on (no Windows host runs here): set {', '.join(MISSING)} "
    "and run `make molecule-windows` (docs/windows.md)",
)
def test_molecule_scenario_on_a_real_windows_laptop() -> None:
    env = {**os.environ, "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}"}
    proc = subprocess.run(
        [str(Path(sys.executable).parent / "molecule"), "test", "-s", "windows"],
        cwd=SCENARIO.parents[1],
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    assert proc.returncode == 0, proc.stdout[-4000:] + proc.stderr[-4000:]
