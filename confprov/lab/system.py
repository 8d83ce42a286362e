"""Wrappers over the commands the lab drives (ip, nft, tc), with errors that say what to do."""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Mapping, Sequence

from confprov.exceptions import ConfprovError, EnvironmentProblem


class LabCommandError(ConfprovError):
    """A lab command failed where it should not have (a bug or a broken machine). Exit code 3."""


def require_root(what: str) -> None:
    if os.geteuid() != 0:
        raise EnvironmentProblem(
            f"{what} needs root (network namespaces, systemd-nspawn): run it with sudo"
        )


def require_tools(tools: Mapping[str, str]) -> None:
    """``tools`` maps a program to the Debian package that provides it."""
    missing = {tool: pkg for tool, pkg in tools.items() if shutil.which(tool) is None}
    if missing:
        names = ", ".join(sorted(missing))
        pkgs = " ".join(sorted(set(missing.values())))
        raise EnvironmentProblem(
            f"missing program(s): {names}; install them with: apt-get install {pkgs} "
            "(or run `make setup` as root)"
        )


def run_command(
    cmd: Sequence[str], *, input_text: str | None = None, check: bool = True
) -> subprocess.CompletedProcess[str]:
    proc = subprocess.run(list(cmd), input=input_text, capture_output=True, text=True, check=False)
    if check and proc.returncode != 0:
        raise LabCommandError(
            f"command failed (exit {proc.returncode}): {' '.join(cmd)}: "
            f"{(proc.stderr or proc.stdout).strip()[:2000]}"
        )
    return proc


LAB_TOOLS = {
    "systemd-nspawn": "systemd-container",
    "debootstrap": "debootstrap",
    "ip": "iproute2",
    "nft": "nftables",
    "tc": "iproute2",
    "nsenter": "util-linux",
    "openssl": "openssl",
}


def lab_unavailable() -> str | None:
    """Why a lab cannot run on this machine (None when it can): for tests' skip reasons."""
    if os.geteuid() != 0:
        return "the lab needs root (network namespaces, systemd-nspawn): run as root"
    missing = {t: p for t, p in LAB_TOOLS.items() if shutil.which(t) is None}
    if missing:
        return (
            f"the lab needs {', '.join(sorted(missing))}: apt-get install "
            f"{' '.join(sorted(set(missing.values())))} (or `make setup` as root)"
        )
    return None
