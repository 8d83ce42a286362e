"""The cached base image under every lab host: one debootstrap, rebuilt when its recipe changes.

The cache key is a hash of the recipe (suite, mirror, packages, setup script), so editing any of
them builds a new image beside the old one; an unchanged recipe costs nothing on the next run.
"""

from __future__ import annotations

import fcntl
import hashlib
import json
import re
import shutil
import subprocess
import time
from pathlib import Path

from confprov.exceptions import EnvironmentProblem
from confprov.lab.system import require_root, require_tools, run_command

IMAGES_DIR = Path("/var/lib/confprov/images")
SUITE = "bookworm"
DEFAULT_MIRROR = "http://deb.debian.org/debian"
ENDPOINT_USER = "conf"
ROUTER_USER = "netops"
PACKAGES = (
    "python3",
    "openssh-server",
    "sudo",
    "iproute2",
    "nftables",
    "iputils-ping",
    "procps",
    "frr",
    "kamailio",
)

# Runs once inside the fresh debootstrap (chroot). Host keys are removed: each lab host gets its
# own at `lab up`, so no two hosts share a key.
SETUP_SCRIPT = f"""set -eu
useradd -m -s /bin/bash {ENDPOINT_USER}
echo '{ENDPOINT_USER} ALL=(ALL) NOPASSWD: ALL' > /etc/sudoers.d/{ENDPOINT_USER}
chmod 0440 /etc/sudoers.d/{ENDPOINT_USER}
useradd -m -s /usr/bin/vtysh -G frrvty,frr {ROUTER_USER}
# No banner before vtysh: netmiko reads the prompt, and a kernel line ("#1 SMP") can look like one.
touch /home/{ROUTER_USER}/.hushlogin
chmod g+w /etc/frr
touch /etc/frr/vtysh.conf && chown frr:frrvty /etc/frr/vtysh.conf && chmod 0664 /etc/frr/vtysh.conf
chown frr:frr /etc/frr/frr.conf && chmod 0664 /etc/frr/frr.conf
sed -i 's/^zebra=.*/zebra=yes/; s/^staticd=.*/staticd=yes/' /etc/frr/daemons
rm -f /etc/ssh/ssh_host_*
mkdir -p /etc/ssh/sshd_config.d /etc/confprov/conference.d
cat > /etc/ssh/sshd_config.d/confprov.conf <<'CONF'
HostKey /etc/ssh/ssh_host_ed25519_key
PasswordAuthentication yes
PermitRootLogin prohibit-password
UseDNS no
PrintMotd no
PrintLastLog no
MaxStartups 100:30:200
CONF
apt-get clean
rm -rf /var/lib/apt/lists/* /var/cache/apt/*.bin
"""


def _labs_using(root: Path) -> list[str]:
    from confprov.lab.state import LABS_DIR

    users = []
    for meta in LABS_DIR.glob("*/meta.json"):
        try:
            if json.loads(meta.read_text()).get("image") == str(root):
                users.append(meta.parent.name)
        except (OSError, ValueError):
            continue
    return users


def mirror() -> str:
    """The Debian mirror this machine's apt uses (the only registry it reaches)."""
    for path in [Path("/etc/apt/sources.list"), *sorted(Path("/etc/apt/sources.list.d").glob("*"))]:
        try:
            text = path.read_text()
        except OSError:
            continue
        for match in re.finditer(r"(?:URIs:|^deb)\s+(?:\[[^\]]*\]\s+)?(\S+/debian)\s", text, re.M):
            return match.group(1)
    return DEFAULT_MIRROR


def recipe() -> dict[str, object]:
    return {
        "suite": SUITE,
        "variant": "minbase",
        "mirror": mirror(),
        "packages": list(PACKAGES),
        "setup": SETUP_SCRIPT,
    }


def recipe_hash() -> str:
    blob = json.dumps(recipe(), sort_keys=True).encode()
    return hashlib.sha256(blob).hexdigest()[:16]


def image_root() -> Path:
    return IMAGES_DIR / recipe_hash() / "root"


def cached_image() -> Path:
    """The image's root for the current recipe; EnvironmentProblem when it is not built yet."""
    root = image_root()
    if not (root.parent / "READY").exists():
        raise EnvironmentProblem(
            f"the lab image is not built (expected {root}): run `confprov lab image` as root "
            "(or `make setup`)"
        )
    return root


def build_image(*, force: bool = False, log: Path | None = None) -> tuple[Path, float]:
    """Build the image when missing (or when forced); return its root and the seconds spent."""
    require_root("confprov lab image")
    require_tools({"debootstrap": "debootstrap", "chroot": "coreutils"})
    IMAGES_DIR.mkdir(parents=True, exist_ok=True)
    # One build at a time: a second `lab up` waits here, then finds the image ready.
    with (IMAGES_DIR / ".lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        return _build_locked(force=force, log=log)


def _build_locked(*, force: bool, log: Path | None) -> tuple[Path, float]:
    final = IMAGES_DIR / recipe_hash()
    if (final / "READY").exists() and not force:
        return final / "root", 0.0
    if final.exists() and force:
        users = _labs_using(final / "root")
        if users:
            raise EnvironmentProblem(
                f"the image {final} is under running lab(s) {', '.join(users)}: take them down "
                "(`confprov lab down --name NAME`) before rebuilding it"
            )
    started = time.monotonic()
    work = IMAGES_DIR / f".{final.name}.building"
    shutil.rmtree(work, ignore_errors=True)
    work.mkdir(parents=True)
    root = work / "root"
    log_path = log or work / "debootstrap.log"
    spec = recipe()
    with log_path.open("w") as out:
        proc = subprocess.run(
            [
                "debootstrap",
                "--variant=minbase",
                f"--include={','.join(PACKAGES)}",
                SUITE,
                str(root),
                str(spec["mirror"]),
            ],
            stdout=out,
            stderr=subprocess.STDOUT,
            check=False,
        )
    if proc.returncode != 0:
        raise EnvironmentProblem(
            f"debootstrap failed (exit {proc.returncode}); see {log_path} "
            f"(mirror {spec['mirror']}, packages {', '.join(PACKAGES)})"
        )
    run_command(["chroot", str(root), "/bin/sh", "-c", SETUP_SCRIPT])
    (work / "recipe.json").write_text(json.dumps(spec, indent=2, sort_keys=True) + "\n")
    (work / "READY").write_text(time.strftime("%Y-%m-%dT%H:%M:%SZ\n", time.gmtime()))
    if final.exists():
        shutil.rmtree(final)
    work.rename(final)
    return final / "root", time.monotonic() - started
