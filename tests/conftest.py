from __future__ import annotations

import shutil
import subprocess
from collections.abc import Callable
from pathlib import Path

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
