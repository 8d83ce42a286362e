from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

REPO = Path(__file__).resolve().parent.parent
DATA = REPO / "tests" / "unit" / "data"


@pytest.fixture
def small_workspace(tmp_path: Path) -> Path:
    """A workspace holding the small test registry and its confprov.yml."""
    ws = tmp_path / "ws"
    ws.mkdir()
    shutil.copyfile(DATA / "confprov.yml", ws / "confprov.yml")
    shutil.copyfile(DATA / "sites.csv", ws / "sites.csv")
    return ws


# MSIs built with wixl (msitools), the kind of file a vendor ships, from a WiX source whose
# ProductCode, version and name the test chooses: the oracle for what confprov reads back
# (Windows endpoints: tests/unit/windows, tests/lab/test_windows.py).
WXS = """<?xml version="1.0" encoding="utf-8"?>
<Wix xmlns="http://schemas.microsoft.com/wix/2006/wi">
  <Product Id="{code}" Name="{name}" Version="{version}" Manufacturer="{manufacturer}"
           UpgradeCode="{{1A2B3C4D-0000-4000-8000-000000000001}}" Language="1033">
    <Package InstallerVersion="200" Compressed="yes" InstallScope="perMachine"/>
    <Media Id="1" Cabinet="p.cab" EmbedCab="yes"/>
    <Directory Id="TARGETDIR" Name="SourceDir">
      <Directory Id="ProgramFilesFolder">
        <Directory Id="INSTALLDIR" Name="ConfprovTest">
          <Component Id="C1" Guid="{{2B3C4D5E-0000-4000-8000-000000000002}}">
            <File Id="F1" Name="readme.txt" Source="readme.txt"/>
          </Component>
        </Directory>
      </Directory>
    </Directory>
    <Feature Id="Main" Level="1"><ComponentRef Id="C1"/></Feature>
  </Product>
</Wix>
"""

MsiBuilder = Callable[..., Path]


@pytest.fixture
def build_msi(tmp_path: Path) -> MsiBuilder:
    if shutil.which("wixl") is None:
        pytest.skip("wixl (Debian package wixl) is not installed: scripts/setup.sh installs it")
    src = tmp_path / "wixl-src"
    src.mkdir()
    (src / "readme.txt").write_text("confprov test package\n")

    def build(
        dest: Path,
        *,
        name: str = "Webex",
        version: str = "44.10.0.31126",
        code: str = "{6F0D3C1E-1B2A-4C3D-9E8F-0A1B2C3D4E5F}",
        manufacturer: str = "Cisco Systems, Inc",
    ) -> Path:
        wxs = src / f"{dest.stem}.wxs"
        wxs.write_text(WXS.format(code=code, name=name, version=version, manufacturer=manufacturer))
        dest.parent.mkdir(parents=True, exist_ok=True)
        subprocess.run(["wixl", "-o", str(dest), str(wxs)], cwd=src, check=True)
        return dest

    return build


# --- markers say what a test needs ----------------------------------------------------------
# A test that starts Ansible must say so (`ansible`, or `lab`, which may run it too), so that a
# selection without them (`make test-unit`: -m "not lab and not ansible") runs no Ansible. Under
# such a selection an unmarked test that starts it fails here, naming the marker it lacks: an
# Ansible program started through subprocess, or a run through the runner façade.
_ANSIBLE_PROGRAMS = ("ansible", "molecule")


def _program(args: object) -> str:
    first = args if isinstance(args, str | bytes | os.PathLike) else next(iter(args), "")  # type: ignore[call-overload]
    name = Path(os.fsdecode(first)).name if first else ""
    return name.split()[0] if name else ""


@pytest.fixture(autouse=True)
def _ansible_only_when_marked(
    request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch
) -> None:
    if "not ansible" not in (request.config.option.markexpr or ""):
        return  # Ansible may run: nothing to guard
    if any(request.node.get_closest_marker(m) for m in ("ansible", "lab")):
        return
    where = request.node.nodeid

    def refuse(what: str) -> None:
        pytest.fail(f"{where} runs Ansible ({what}): mark it @pytest.mark.ansible", pytrace=False)

    real_popen = subprocess.Popen

    class Guarded(real_popen):  # type: ignore[misc,valid-type]
        def __init__(self, args: Any, *rest: Any, **kwargs: Any) -> None:
            if _program(args).startswith(_ANSIBLE_PROGRAMS):
                refuse(_program(args))
            super().__init__(args, *rest, **kwargs)

    monkeypatch.setattr(subprocess, "Popen", Guarded)
    from confprov import runner

    monkeypatch.setattr(runner, "_run", lambda **_: refuse("ansible-runner"))
