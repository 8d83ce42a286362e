"""Install the Ansible collections confprov's Windows roles use, from PyPI, into the virtualenv.

Ansible Galaxy may be unreachable where confprov is set up (it is here), but PyPI's ``ansible``
package bundles every collection of a release. Installing that whole bundle costs about 500 MB
and 20 s for the one collection we use, so this takes only ``ansible_collections/ansible/windows``
out of the wheel (1.7 MB) into the virtualenv's ``site-packages``, where ansible-core and
ansible-lint find collections (``COLLECTIONS_SCAN_SYS_PATH``). Safe to rerun: it does nothing when
the wanted version is already there. Run by scripts/setup.sh; never at confprov run time.

ansible.windows declares no collection dependencies (its MANIFEST.json), so nothing else is taken.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import sysconfig
import tempfile
import zipfile
from pathlib import Path

# The `ansible` release whose ansible-core requirement is our pinned 2.19 line (ansible 12.x:
# ansible-core ~=2.19.5), and the collections taken out of it with the version it bundles.
BUNDLE = "ansible==12.3.0"
COLLECTIONS = {"ansible/windows": "3.3.0"}


def installed_version(target: Path) -> str:
    try:
        manifest = json.loads((target / "MANIFEST.json").read_text())
    except (FileNotFoundError, json.JSONDecodeError):
        return ""
    return str(manifest["collection_info"]["version"])


def main() -> int:
    site = Path(sysconfig.get_paths()["purelib"]) / "ansible_collections"
    wanted = {name: site / name for name, version in COLLECTIONS.items()
              if installed_version(site / name) != version}  # fmt: skip
    if not wanted:
        return 0
    with tempfile.TemporaryDirectory(prefix="confprov-collections-") as tmp:
        subprocess.run(
            [sys.executable, "-m", "pip", "download", "-q", "--no-deps", BUNDLE, "-d", tmp],
            check=True,
        )
        wheel = next(Path(tmp).glob("ansible-*.whl"))
        with zipfile.ZipFile(wheel) as archive:
            for name, target in wanted.items():
                prefix = f"ansible_collections/{name}/"
                staging = Path(tmp) / "out"
                shutil.rmtree(staging, ignore_errors=True)
                members = [m for m in archive.namelist() if m.startswith(prefix)]
                if not members:
                    sys.exit(f"install_collections: {BUNDLE} holds no {name}")
                archive.extractall(staging, members)
                got = installed_version(staging / prefix)
                if got != COLLECTIONS[name]:
                    sys.exit(f"install_collections: {BUNDLE} holds {name} {got}, not "
                             f"{COLLECTIONS[name]}: update COLLECTIONS")  # fmt: skip
                shutil.rmtree(target, ignore_errors=True)
                target.parent.mkdir(parents=True, exist_ok=True)
                shutil.move(staging / prefix, target)
                print(f"setup: installed collection {name.replace('/', '.')} {got} into {target}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
