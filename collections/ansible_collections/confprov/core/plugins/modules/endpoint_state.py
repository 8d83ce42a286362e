#!/usr/bin/python3
# A "JSONARGS" module (Ansible's module architecture guide): Ansible writes the task's arguments
# into this file in place of the marker below and runs it with the endpoint's Python, without
# AnsiballZ or ansible.module_utils. On a 30-site lab one such call took 1.1 s for all endpoints
# against 3.9 s for the same work through AnsibleModule (docs/benchmarks.md): this module is the
# one task a no-change provision rerun pays per endpoint. Standard library only.
"""Read how far an endpoint is from what the provision roles want, and survey its room."""

from __future__ import annotations

DOCUMENTATION = r"""
---
module: endpoint_state
short_description: Compare endpoint packages, files and folders with wanted states; survey the room
version_added: "0.1.0"
description:
  - One call reads every package version, file checksum, mode and owner that one or more roles
    manage (one I(section) per role) and, when asked, the room survey (CPU, memory, disk, OS,
    display outputs, audio devices, cameras) from /proc and /sys. A play that reads all of its
    roles' sections in one call can skip each role where nothing differs, so a no-change rerun
    costs one task per endpoint.
  - Changes nothing. C(drift) lists what differs, one sentence an operator reads per item.
  - Files are compared by SHA-256 (the caller passes the checksum of the wanted content, so no
    file content, and no secret, is ever sent to the endpoint or shown in a result).
  - Written with the standard library only, as a JSONARGS module (no AnsiballZ).
options:
  sections:
    description:
      - Section name (usually the role's name) to its wanted state, with these keys (all optional)
      - C(packages) package name to wanted version (empty string for any version);
        C(absent) packages that must not be installed;
        C(dirs) list of C(path), C(mode), C(owner) (default root) of folders;
        C(files) list of C(path), C(mode), C(owner) (default root), C(sha256) of files;
        C(home) absolute folder that C(home_dirs) and C(home_files) are relative to, owned by
        C(home_owner) (default root); C(home_dirs) folder names, mode C(home_dir_mode)
        (default 0700);
        C(home_files) list of C(path), C(mode), C(sha256); C(processes) process names
        (as in /proc/PID/comm) to report as running or not.
    type: dict
    default: {}
  survey:
    description: Also read the room survey (returned as C(survey)).
    type: bool
    default: false
attributes:
  check_mode: {support: full}
  diff_mode: {support: none}
  idempotent: {support: full}
author: confprov
"""

EXAMPLES = r"""
- name: Read the client's and the baseline's state and survey the room, in one call
  confprov.core.endpoint_state:
    sections:
      conference_client:
        packages: {baresip-core: 1.0.0-4+b3}
        absent: [linphone]
        home: /home/conf
        home_owner: conf
        home_files:
          - {path: .baresip/accounts, mode: "0600", sha256: "{{ accounts_text | hash('sha256') }}"}
      endpoint_baseline:
        packages: {chrony: ""}
        processes: [chronyd]
    survey: true
  register: state
"""

RETURN = r"""
sections:
  description: >-
    Per section: C(drift) (what differs, one sentence each; empty when nothing does),
    C(installed) (installed version of each asked package and of each present C(absent) package),
    C(running) (which of C(processes) run), C(release) (as below).
  type: dict
  returned: always
release:
  description: VERSION_CODENAME of /etc/os-release (empty when absent).
  type: str
  returned: always
survey:
  description: cpu {model, cores}, memory_mb, disk_gb, os, kernel, displays, audio, cameras.
  type: dict
  returned: when survey is true
"""

import hashlib
import json
import os
import platform
import pwd
import re
import stat
import subprocess
import sys
from pathlib import Path
from typing import Any

ARGS = r"""<<INCLUDE_ANSIBLE_MODULE_JSON_ARGS>>"""

SECTION_KEYS = {
    "packages", "absent", "dirs", "files", "home", "home_owner", "home_dirs", "home_dir_mode",
    "home_files", "processes",
}  # fmt: skip


class Refused(Exception):
    pass


def _read(path: str | Path, default: str = "") -> str:
    try:
        with Path(path).open(encoding="utf-8", errors="replace") as fh:
            return fh.read().strip()
    except OSError:
        return default


# --- wanted state -------------------------------------------------------------------------


def _installed(names: list[str]) -> dict[str, str]:
    if not names:
        return {}
    proc = subprocess.run(
        ["dpkg-query", "-W", "-f=${Package}\t${Version}\t${db:Status-Abbrev}\n", *names],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        env=dict(os.environ, LC_ALL="C"),
        check=False,
    )
    versions: dict[str, str] = {}
    for line in proc.stdout.decode("utf-8", "replace").splitlines():
        parts = line.split("\t")
        if len(parts) == 3 and parts[2].startswith("ii"):
            versions[parts[0]] = parts[1]
    return versions


def _owner(uid: int) -> str:
    try:
        return pwd.getpwuid(uid).pw_name
    except KeyError:
        return str(uid)


def _path_drift(path: str, mode: str, owner: str, want_dir: bool) -> tuple[list[str], bool]:
    try:
        st = os.lstat(path)
    except (FileNotFoundError, NotADirectoryError):
        return [f"{path}: missing"], False
    kind_ok = stat.S_ISDIR(st.st_mode) if want_dir else stat.S_ISREG(st.st_mode)
    if not kind_ok:
        return ["{}: not a {}".format(path, "folder" if want_dir else "file")], False
    out: list[str] = []
    have = f"{stat.S_IMODE(st.st_mode):04o}"
    if mode and have != str(mode).zfill(4):
        out.append(f"{path}: mode {have}, wanted {mode}")
    if _owner(st.st_uid) != owner:
        out.append(f"{path}: owner {_owner(st.st_uid)}, wanted {owner}")
    return out, True


def _sha256(path: str) -> str:
    digest = hashlib.sha256()
    with Path(path).open("rb") as fh:
        for block in iter(lambda: fh.read(65536), b""):
            digest.update(block)
    return digest.hexdigest()


def _file_drift(path: str, spec: dict[str, Any], owner: str) -> list[str]:
    problems, present = _path_drift(path, spec.get("mode", ""), owner, False)
    if present and _sha256(path) != spec.get("sha256"):
        problems.append(f"{path}: content differs")
    return problems


def _running(names: list[str]) -> list[str]:
    wanted = set(names)
    found: set[str] = set()
    if not wanted:
        return []
    for proc in Path("/proc").iterdir():
        if proc.name.isdigit() and wanted - found:
            comm = _read(proc / "comm")
            if comm in wanted:
                found.add(comm)
    return sorted(found)


def _release() -> str:
    for line in _read("/etc/os-release").splitlines():
        if line.startswith("VERSION_CODENAME="):
            return line.split("=", 1)[1].strip().strip('"')
    return ""


def _check_spec(name: str, spec: Any) -> None:
    if not isinstance(spec, dict):
        raise Refused(f"section {name}: a mapping is needed, got {type(spec).__name__}")
    unknown = sorted(set(spec) - SECTION_KEYS)
    if unknown:
        raise Refused("section {}: unknown key(s) {}".format(name, ", ".join(unknown)))
    for key in ("files", "home_files"):
        for item in spec.get(key) or []:
            if not isinstance(item, dict) or not item.get("path") or not item.get("sha256"):
                raise Refused(f"section {name}: every {key} item needs path and sha256")
    if (spec.get("home_dirs") or spec.get("home_files")) and not str(
        spec.get("home", "")
    ).startswith("/"):
        raise Refused(
            "section {}: home must be an absolute path, got {!r}".format(name, spec.get("home"))
        )


def _section(spec: dict[str, Any], installed: dict[str, str], release: str) -> dict[str, Any]:
    drift: list[str] = []
    packages = spec.get("packages") or {}
    for name, version in sorted(packages.items()):
        have = installed.get(name)
        if have is None:
            drift.append(
                "package {}: not installed{}".format(name, ", wanted " + version if version else "")
            )
        elif version and have != version:
            drift.append(f"package {name}: {have} installed, wanted {version}")
    absent = spec.get("absent") or []
    drift.extend(f"package {n}: installed, must be removed" for n in absent if n in installed)
    for item in spec.get("dirs") or []:
        drift.extend(
            _path_drift(item["path"], item.get("mode", ""), item.get("owner", "root"), True)[0]
        )
    for item in spec.get("files") or []:
        drift.extend(_file_drift(item["path"], item, item.get("owner", "root")))
    home, home_owner = spec.get("home", ""), spec.get("home_owner", "root")
    for rel in spec.get("home_dirs") or []:
        path = str(Path(home, rel))
        drift.extend(_path_drift(path, spec.get("home_dir_mode", "0700"), home_owner, True)[0])
    for item in spec.get("home_files") or []:
        drift.extend(_file_drift(str(Path(home, item["path"])), item, home_owner))
    return {
        "drift": drift,
        "installed": {n: v for n, v in installed.items() if n in packages or n in absent},
        "running": _running(spec.get("processes") or []),
        "release": release,
    }


# --- room survey ----------------------------------------------------------------------------


def _cpu() -> dict[str, Any]:
    model, cores = "", 0
    for line in _read("/proc/cpuinfo").splitlines():
        if line.startswith("model name") and not model:
            model = line.split(":", 1)[1].strip()
        if line.startswith("processor"):
            cores += 1
    return {"model": model, "cores": cores or os.cpu_count() or 0}


def _memory_mb() -> int:
    match = re.search(r"^MemTotal:\s+(\d+) kB", _read("/proc/meminfo"), re.M)
    return int(match.group(1)) // 1024 if match else 0


def _disk_gb() -> float:
    st = os.statvfs("/")
    return round(st.f_blocks * st.f_frsize / 1e9, 1)


def _os() -> str:
    fields: dict[str, str] = {}
    for line in _read("/etc/os-release").splitlines():
        if "=" in line:
            key, value = line.split("=", 1)
            fields[key] = value.strip().strip('"')
    return fields.get("PRETTY_NAME", "")


def _displays() -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    for status_path in sorted(Path("/sys/class/drm").glob("card*-*/status")):
        folder = status_path.parent
        modes = _read(folder / "modes").splitlines()
        out.append({
            "output": folder.name.split("-", 1)[1],
            "connected": _read(status_path) == "connected",
            "best_mode": modes[0] if modes else "",
        })  # fmt: skip
    return out


def _audio() -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    for line in _read("/proc/asound/cards").splitlines():
        match = re.match(r"^\s*(\d+)\s+\[(\S+)\s*\]:\s*(.*)$", line)
        if not match:
            continue
        card = Path("/proc/asound/card" + match.group(1))
        out.append({
            "card": int(match.group(1)),
            "id": match.group(2),
            "name": match.group(3).split(" - ", 1)[-1].strip(),
            "playback": any(card.glob("pcm*p")),
            "capture": any(card.glob("pcm*c")),
        })  # fmt: skip
    return out


def _cameras() -> list[dict[str, str]]:
    out: list[dict[str, str]] = []
    for folder in sorted(Path("/sys/class/video4linux").glob("video*")):
        # A USB camera exposes a capture node (index 0) and metadata nodes: count the first only.
        if _read(folder / "index", "0") != "0":
            continue
        out.append({"device": "/dev/" + folder.name, "name": _read(folder / "name")})
    return out


def survey() -> dict[str, Any]:
    """Values that move from run to run (free memory, free disk) are left out: an unchanged room
    gives an identical survey."""
    return {
        "cpu": _cpu(),
        "memory_mb": _memory_mb(),
        "disk_gb": _disk_gb(),
        "os": _os(),
        "kernel": platform.release(),
        "displays": _displays(),
        "audio": _audio(),
        "cameras": _cameras(),
    }


def read_state(args: dict[str, Any]) -> dict[str, Any]:
    unknown = sorted(
        k for k in args if not k.startswith("_ansible_") and k not in ("sections", "survey")
    )
    if unknown:
        raise Refused(
            "unsupported parameter(s): {} (supported: sections, survey)".format(", ".join(unknown))
        )
    sections = args.get("sections") or {}
    if not isinstance(sections, dict):
        raise Refused("sections must be a mapping of section name to wanted state")
    for name, spec in sections.items():
        _check_spec(name, spec)
    names: set[str] = set()
    for spec in sections.values():
        names.update(spec.get("packages") or {})
        names.update(spec.get("absent") or [])
    installed = _installed(sorted(names))
    release = _release()
    result: dict[str, Any] = {
        "changed": False,
        "release": release,
        "sections": {name: _section(spec, installed, release) for name, spec in sections.items()},
    }
    if args.get("survey") in (True, "true", "yes", "True", 1):
        result["survey"] = survey()
    return result


def main() -> None:
    try:
        result = read_state(json.loads(ARGS))
    except Refused as exc:
        result = {"failed": True, "msg": str(exc)}
    except Exception as exc:  # noqa: BLE001 - an endpoint in an unexpected state: say what, don't trace back
        result = {"failed": True, "msg": f"endpoint_state: {type(exc).__name__}: {exc}"}
    sys.stdout.write(json.dumps(result))


if __name__ == "__main__":
    main()
