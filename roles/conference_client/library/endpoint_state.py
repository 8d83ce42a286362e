#!/usr/bin/python3
"""Read, in one pass and without changing anything, how far an endpoint is from a wanted state."""

from __future__ import annotations

DOCUMENTATION = r"""
---
module: endpoint_state
short_description: Compare installed packages, files and folders with a wanted state
description:
  - One module call reads every package version, file content, mode and owner a role manages,
    so a role can skip its work entirely on an endpoint that needs none (a no-change rerun costs
    one task per host instead of one per file or package).
  - It changes nothing; C(drift) lists what differs, in words an operator reads.
options:
  packages:
    description: Package name to wanted version (empty string for any version).
    type: dict
    default: {}
  absent:
    description: Packages that must not be installed.
    type: list
    elements: str
    default: []
  dirs:
    description: Folders that must exist with this owner and mode.
    type: list
    elements: dict
    default: []
    suboptions:
      path: {description: Absolute path., type: str, required: true}
      mode: {description: Octal mode as a string., type: str, required: true}
      owner: {description: Owner name., type: str, default: root}
  files:
    description: Files that must hold exactly C(content) with this owner and mode.
    type: list
    elements: dict
    default: []
    suboptions:
      path: {description: Absolute path., type: str, required: true}
      content: {description: Wanted content (never logged)., type: str, required: true}
      mode: {description: Octal mode as a string., type: str, required: true}
      owner: {description: Owner name., type: str, default: root}
  home:
    description: Folder that C(home_dirs) and C(home_files) paths are relative to.
    type: str
    default: ""
  home_owner:
    description: Owner of C(home_dirs) and C(home_files).
    type: str
    default: root
  home_dirs:
    description: Folders under C(home) that must exist, owned by C(home_owner), mode C(home_dir_mode).
    type: list
    elements: str
    default: []
  home_dir_mode:
    description: Mode of C(home_dirs).
    type: str
    default: "0700"
  home_files:
    description: Files under C(home), owned by C(home_owner), that must hold exactly C(content).
    type: list
    elements: dict
    default: []
    suboptions:
      path: {description: Path relative to C(home)., type: str, required: true}
      content: {description: Wanted content (never logged)., type: str, required: true}
      mode: {description: Octal mode as a string., type: str, required: true}
      secret: {description: Ignored here (the role writes such files with no_log)., type: bool, default: false}
  processes:
    description: Process names (as in /proc/PID/comm) to report as running or not.
    type: list
    elements: str
    default: []
attributes:
  check_mode: {support: full}
  diff_mode: {support: none}
  idempotent: {support: full}
author: confprov
"""

EXAMPLES = r"""
- name: Read the client's state
  endpoint_state:
    packages: {baresip-core: 1.0.0-4+b3}
    absent: [linphone]
    home: /home/conf
    home_owner: conf
    home_files:
      - {path: .baresip/accounts, content: "...", mode: "0600"}
  register: client_state
"""

RETURN = r"""
drift:
  description: What differs from the wanted state, one sentence each (empty when nothing does).
  type: list
  returned: always
installed:
  description: Installed version of each asked package and of each present C(absent) package.
  type: dict
  returned: always
release:
  description: VERSION_CODENAME of /etc/os-release (empty when absent).
  type: str
  returned: always
running:
  description: Which of C(processes) run.
  type: list
  returned: always
"""

import hashlib
import os
import pwd
import stat

from ansible.module_utils.basic import AnsibleModule


def _installed(module, names):
    if not names:
        return {}
    rc, out, _ = module.run_command(
        ["dpkg-query", "-W", "-f=${Package}\t${Version}\t${db:Status-Abbrev}\n", *names],
        environ_update={"LC_ALL": "C"},
    )
    versions = {}
    for line in out.splitlines():
        parts = line.split("\t")
        if len(parts) == 3 and parts[2].startswith("ii"):
            versions[parts[0]] = parts[1]
    return versions


def _owner(uid):
    try:
        return pwd.getpwuid(uid).pw_name
    except KeyError:
        return str(uid)


def _path_drift(path, mode, owner, want_dir):
    try:
        st = os.lstat(path)
    except (FileNotFoundError, NotADirectoryError):
        return ["%s: missing" % path], False
    kind_ok = stat.S_ISDIR(st.st_mode) if want_dir else stat.S_ISREG(st.st_mode)
    if not kind_ok:
        return ["%s: not a %s" % (path, "folder" if want_dir else "file")], False
    out = []
    have = "%04o" % stat.S_IMODE(st.st_mode)
    if mode and have != mode.zfill(4):
        out.append("%s: mode %s, wanted %s" % (path, have, mode))
    if _owner(st.st_uid) != owner:
        out.append("%s: owner %s, wanted %s" % (path, _owner(st.st_uid), owner))
    return out, True


def _content_drift(path, content):
    if _sha256(path) != hashlib.sha256(content.encode()).hexdigest():
        return ["%s: content differs" % path]
    return []


def _sha256(path):
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(65536), b""):
            digest.update(block)
    return digest.hexdigest()


def _running(names):
    wanted = set(names)
    found = set()
    for pid in os.listdir("/proc"):
        if pid.isdigit() and wanted - found:
            try:
                with open("/proc/%s/comm" % pid) as fh:
                    comm = fh.read().strip()
            except OSError:
                continue
            if comm in wanted:
                found.add(comm)
    return sorted(found)


def _release():
    try:
        with open("/etc/os-release") as fh:
            for line in fh:
                if line.startswith("VERSION_CODENAME="):
                    return line.split("=", 1)[1].strip().strip('"')
    except OSError:
        pass
    return ""


def main():
    path_spec = {
        "path": {"type": "str", "required": True},
        "mode": {"type": "str", "required": True},
        "owner": {"type": "str", "default": "root"},
    }
    module = AnsibleModule(
        argument_spec={
            "packages": {"type": "dict", "default": {}},
            "absent": {"type": "list", "elements": "str", "default": []},
            "dirs": {"type": "list", "elements": "dict", "default": [], "options": path_spec},
            "files": {
                "type": "list",
                "elements": "dict",
                "default": [],
                "options": {**path_spec, "content": {"type": "str", "required": True, "no_log": True}},
            },
            "home": {"type": "str", "default": ""},
            "home_owner": {"type": "str", "default": "root"},
            "home_dirs": {"type": "list", "elements": "str", "default": []},
            "home_dir_mode": {"type": "str", "default": "0700"},
            "home_files": {
                "type": "list",
                "elements": "dict",
                "default": [],
                "options": {
                    "path": {"type": "str", "required": True},
                    "content": {"type": "str", "required": True, "no_log": True},
                    "mode": {"type": "str", "required": True},
                    "secret": {"type": "bool", "default": False},
                },
            },
            "processes": {"type": "list", "elements": "str", "default": []},
        },
        supports_check_mode=True,
    )
    p = module.params
    drift = []
    installed = _installed(module, sorted(set(p["packages"]) | set(p["absent"])))
    for name, version in sorted(p["packages"].items()):
        have = installed.get(name)
        if have is None:
            drift.append("package %s: not installed%s" % (name, ", wanted " + version if version else ""))
        elif version and have != version:
            drift.append("package %s: %s installed, wanted %s" % (name, have, version))
    drift.extend("package %s: installed, must be removed" % n for n in p["absent"] if n in installed)
    for spec in p["dirs"]:
        drift.extend(_path_drift(spec["path"], spec["mode"], spec["owner"], True)[0])
    for spec in p["files"]:
        problems, present = _path_drift(spec["path"], spec["mode"], spec["owner"], False)
        drift.extend(problems)
        if present:
            drift.extend(_content_drift(spec["path"], spec["content"]))
    home = p["home"]
    if (p["home_dirs"] or p["home_files"]) and not home.startswith("/"):
        module.fail_json(msg="home must be an absolute path, got %r" % home)
    for rel in p["home_dirs"]:
        drift.extend(_path_drift(os.path.join(home, rel), p["home_dir_mode"], p["home_owner"], True)[0])
    for spec in p["home_files"]:
        path = os.path.join(home, spec["path"])
        problems, present = _path_drift(path, spec["mode"], p["home_owner"], False)
        drift.extend(problems)
        if present:
            drift.extend(_content_drift(path, spec["content"]))
    module.exit_json(
        changed=False,
        drift=drift,
        installed=installed,
        release=_release(),
        running=_running(p["processes"]),
    )


if __name__ == "__main__":
    main()
