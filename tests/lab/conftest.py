"""One 3-site rehearsal lab per test session, shared by every lab test (later issues' too).

Use the ``lab`` fixture: ``lab.workspace`` is a ready workspace (confprov.yml, sites.csv, vault,
key, known_hosts); ``lab.endpoint(site)``/``lab.router(site)`` give management addresses;
``lab.ssh(address, cmd)`` runs over SSH with strict host key checking; ``lab.run(host, argv)``
runs a command inside a host (``host`` = a site slug, ``<slug>-rt`` or ``conference``).
Tests that change a router or a fault must undo it (the lab is shared).
"""

from __future__ import annotations

import os
import re
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from confprov.lab.plan import LabPlan, LabSite

# Several engineers run lab tests on one machine at once: every session names its labs after its
# own PID, so no session ever touches another's lab.
SESSION_LAB = re.compile(r"^pt[a-z]?(\d+)$")


def session_lab_name(prefix: str = "pt") -> str:
    """A lab name owned by this pytest session (``prefix`` + PID, at most 10 characters)."""
    return f"{prefix}{os.getpid()}"


def remove_stale_session_labs() -> None:
    """Take down labs of pytest sessions that died without their teardown (their PID is gone)."""
    from confprov.lab import lab as lab_mod
    from confprov.lab.state import all_labs

    for name in all_labs():
        match = SESSION_LAB.match(name)
        if match and not Path(f"/proc/{match.group(1)}").exists():
            lab_mod.down(name)


def lab_skip_reason() -> str | None:
    """Why lab tests cannot run here (None when they can)."""
    from confprov.lab.system import lab_unavailable

    return lab_unavailable()


@dataclass
class Lab:
    name: str
    workspace: Path
    plan: LabPlan

    @property
    def sites(self) -> list[str]:
        return [s.slug for s in self.plan.sites]

    def site(self, ref: str | int) -> LabSite:
        if isinstance(ref, int):
            return self.plan.sites[ref]
        return self.plan.site(ref)

    def endpoint(self, ref: str | int) -> str:
        return self.site(ref).endpoint_mgmt

    def router(self, ref: str | int) -> str:
        return self.site(ref).router_mgmt

    @property
    def conference(self) -> str:
        return self.plan.conf_mgmt

    @property
    def conference_server(self) -> str:
        return self.plan.conf_server

    def ssh_command(self, address: str, command: str, user: str = "conf") -> list[str]:
        from confprov.lab.lab_workspace import ssh_argv

        return ssh_argv(self.workspace, address, command, user)

    def ssh(
        self, address: str, command: str, user: str = "conf", check: bool = True
    ) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            self.ssh_command(address, command, user),
            capture_output=True,
            text=True,
            check=check,
            timeout=120,
        )

    def machine(self, host: str) -> str:
        if host == "conference":
            return self.plan.conf_ns
        if host.endswith("-rt"):
            return self.site(host[:-3]).router_ns
        return self.site(host).endpoint_ns

    def run(
        self, host: str, argv: list[str], check: bool = True, input_text: str | None = None
    ) -> subprocess.CompletedProcess[str]:
        from confprov.lab.containers import exec_command
        from confprov.lab.state import LabState

        cmd = exec_command(LabState(self.name).entries(), self.machine(host), argv)
        return subprocess.run(
            cmd, capture_output=True, text=True, check=check, timeout=120, input=input_text
        )


@pytest.fixture(scope="session")
def lab(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Lab]:
    reason = lab_skip_reason()
    if reason:
        pytest.skip(reason)
    from confprov.lab import lab as lab_mod
    from confprov.lab.plan import generated_sites

    remove_stale_session_labs()
    name = session_lab_name()
    workspace = tmp_path_factory.mktemp("lab") / "workspace"
    result = lab_mod.up(name, generated_sites(3), workspace)
    try:
        yield Lab(name, result.workspace, result.plan)
    finally:
        lab_mod.down(name)
