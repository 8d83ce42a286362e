"""What the controller pays per run for a Windows client package: reading the MSI and serving it.

    .venv/bin/python bench/windows_packages.py                 # 100 MB payload, 5 runs
    .venv/bin/python bench/windows_packages.py --mb 200 --runs 7

Builds an MSI with wixl around a random payload of ``--mb`` MB (incompressible, like a vendor's
compressed client), then measures, medians over ``--runs``:

* ``plan``: confprov's ``provision.windows.plan`` (find the MSI, ``msiinfo export`` of its
  Property table, SHA-256 of the file), against the floor of ``sha256sum`` + ``msiinfo export``
  as two processes in the same run;
* ``serve``: one download of the MSI over HTTP from confprov's server on 127.0.0.1 (the package
  folder's server, ``provision.windows.served``), against reading the file from disk.

The machine is shared: the report prints the load average before and after.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from confprov.config import parse_config  # noqa: E402
from confprov.provision import windows as winprov  # noqa: E402

WXS = """<?xml version="1.0" encoding="utf-8"?>
<Wix xmlns="http://schemas.microsoft.com/wix/2006/wi">
  <Product Id="{6F0D3C1E-1B2A-4C3D-9E8F-0A1B2C3D4E5F}" Name="Webex" Version="44.10.0.31126"
           Manufacturer="bench" UpgradeCode="{1A2B3C4D-0000-4000-8000-000000000001}"
           Language="1033">
    <Package InstallerVersion="200" Compressed="yes" InstallScope="perMachine"/>
    <Media Id="1" Cabinet="p.cab" EmbedCab="yes"/>
    <Directory Id="TARGETDIR" Name="SourceDir"><Directory Id="ProgramFilesFolder">
      <Directory Id="INSTALLDIR" Name="Bench">
        <Component Id="C1" Guid="{2B3C4D5E-0000-4000-8000-000000000002}">
          <File Id="F1" Name="payload.bin" Source="payload.bin"/>
        </Component>
      </Directory></Directory></Directory>
    <Feature Id="Main" Level="1"><ComponentRef Id="C1"/></Feature>
  </Product>
</Wix>
"""


def timed(fn) -> float:  # type: ignore[no-untyped-def]
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--mb", type=int, default=100)
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    load_before = os.getloadavg()
    with tempfile.TemporaryDirectory(prefix="confprov-bench-win-") as tmp:
        work = Path(tmp)
        (work / "payload.bin").write_bytes(os.urandom(args.mb * 1024 * 1024))
        (work / "p.wxs").write_text(WXS)
        folder = work / "ws" / "packages" / "windows"
        folder.mkdir(parents=True)
        msi = folder / "Webex.msi"
        subprocess.run(["wixl", "-o", str(msi), str(work / "p.wxs")], cwd=work, check=True)
        config = parse_config("conference: {server: 198.18.32.10, sip_domain: x}\n", "confprov.yml")
        plan_t, floor_t, serve_t, read_t = [], [], [], []
        for _ in range(args.runs):
            plan_t.append(timed(lambda: winprov.plan(work / "ws", config)))

            def floor() -> None:
                subprocess.run(["sha256sum", str(msi)], capture_output=True, check=True)
                subprocess.run(["msiinfo", "export", str(msi), "Property"],
                               capture_output=True, check=True)  # fmt: skip

            floor_t.append(timed(floor))
            with winprov.served(folder, {"bench": "127.0.0.1"}) as urls:
                url = urls["bench"] + "Webex.msi"

                def download(u: str = url) -> None:
                    with urllib.request.urlopen(u, timeout=60) as response:
                        while response.read(1 << 20):
                            pass

                serve_t.append(timed(download))
            read_t.append(timed(msi.read_bytes))
        size = msi.stat().st_size
    result = {
        "msi_mb": round(size / 1e6, 1),
        "runs": args.runs,
        "plan_s": round(statistics.median(plan_t), 3),
        "floor_sha256sum_msiinfo_s": round(statistics.median(floor_t), 3),
        "plan_ratio": round(statistics.median(plan_t) / statistics.median(floor_t), 2),
        "serve_s": round(statistics.median(serve_t), 3),
        "serve_mb_per_s": round(size / 1e6 / statistics.median(serve_t), 1),
        "disk_read_s": round(statistics.median(read_t), 3),
        "load_before": [round(x, 1) for x in load_before],
        "load_after": [round(x, 1) for x in os.getloadavg()],
    }
    print(json.dumps(result, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
