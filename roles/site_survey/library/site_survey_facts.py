#!/usr/bin/python3
"""The room survey of one endpoint, read from /proc and /sys in one pass."""

from __future__ import annotations

DOCUMENTATION = r"""
---
module: site_survey_facts
short_description: Read an endpoint's CPU, memory, disk, OS, display outputs, audio devices and cameras
description:
  - Reads /proc/cpuinfo, /proc/meminfo, the root file system, /etc/os-release,
    /sys/class/drm (display outputs), /proc/asound (sound cards) and /sys/class/video4linux
    (cameras) without running any program; changes nothing.
  - Values that move from run to run (free memory, free disk) are left out, so a survey of an
    unchanged room is identical each time.
options: {}
attributes:
  check_mode: {support: full}
  diff_mode: {support: none}
  idempotent: {support: full}
author: confprov
"""

EXAMPLES = r"""
- name: Survey the room
  site_survey_facts:
  register: survey
"""

RETURN = r"""
survey:
  description: cpu {model, cores}, memory_mb, disk_gb, os, kernel, displays, audio, cameras.
  type: dict
  returned: always
"""

import glob
import os
import platform
import re

from ansible.module_utils.basic import AnsibleModule


def _read(path, default=""):
    try:
        with open(path, encoding="utf-8", errors="replace") as fh:
            return fh.read().strip()
    except OSError:
        return default


def _cpu():
    model, cores = "", 0
    for line in _read("/proc/cpuinfo").splitlines():
        if line.startswith("model name") and not model:
            model = line.split(":", 1)[1].strip()
        if line.startswith("processor"):
            cores += 1
    return {"model": model, "cores": cores or os.cpu_count() or 0}


def _memory_mb():
    match = re.search(r"^MemTotal:\s+(\d+) kB", _read("/proc/meminfo"), re.M)
    return int(match.group(1)) // 1024 if match else 0


def _disk_gb():
    st = os.statvfs("/")
    return round(st.f_blocks * st.f_frsize / 1e9, 1)


def _os():
    fields = {}
    for line in _read("/etc/os-release").splitlines():
        if "=" in line:
            key, value = line.split("=", 1)
            fields[key] = value.strip().strip('"')
    return fields.get("PRETTY_NAME", "")


def _displays():
    out = []
    for status_path in sorted(glob.glob("/sys/class/drm/card*-*/status")):
        folder = os.path.dirname(status_path)
        modes = _read(os.path.join(folder, "modes")).splitlines()
        out.append({
            "output": os.path.basename(folder).split("-", 1)[1],
            "connected": _read(status_path) == "connected",
            "best_mode": modes[0] if modes else "",
        })
    return out


def _audio():
    out = []
    for line in _read("/proc/asound/cards").splitlines():
        match = re.match(r"^\s*(\d+)\s+\[(\S+)\s*\]:\s*(.*)$", line)
        if not match:
            continue
        card = "/proc/asound/card" + match.group(1)
        out.append({
            "card": int(match.group(1)),
            "id": match.group(2),
            "name": match.group(3).split(" - ", 1)[-1].strip(),
            "playback": bool(glob.glob(card + "/pcm*p")),
            "capture": bool(glob.glob(card + "/pcm*c")),
        })
    return out


def _cameras():
    out = []
    for folder in sorted(glob.glob("/sys/class/video4linux/video*")):
        # A USB camera exposes a capture node (index 0) and metadata nodes: count the first only.
        if _read(os.path.join(folder, "index"), "0") != "0":
            continue
        out.append({"device": "/dev/" + os.path.basename(folder), "name": _read(os.path.join(folder, "name"))})
    return out


def main():
    module = AnsibleModule(argument_spec={}, supports_check_mode=True)
    survey = {
        "cpu": _cpu(),
        "memory_mb": _memory_mb(),
        "disk_gb": _disk_gb(),
        "os": _os(),
        "kernel": platform.release(),
        "displays": _displays(),
        "audio": _audio(),
        "cameras": _cameras(),
    }
    module.exit_json(changed=False, survey=survey)


if __name__ == "__main__":
    main()
