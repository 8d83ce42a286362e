"""Conference client profiles: what to install and which files to write, as data (YAML).

A profile is handed whole to the ``conference_client`` role; adding a client means adding a YAML
file under ``confprov/provision/profiles/``, not a branch in code or in the role.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

import jinja2
import yaml
from jinja2 import meta

from confprov import yamlutil
from confprov.exceptions import InputError, Problem

# The variables a profile's contents may use (the conference_client role defines each of them).
TEMPLATE_VARS = (
    "conference_client_site_name",
    "conference_client_sip_user",
    "conference_client_sip_password",
    "conference_client_sip_domain",
    "conference_client_server",
    "conference_client_port",
    "conference_client_transport",
    "conference_client_home",
)
_KEYS = {
    "name",
    "description",
    "packages",
    "default_version",
    "conflicts",
    "binary",
    "smoke_test",
    "dirs",
    "files",
}
_FILE_KEYS = {"path", "mode", "content", "secret"}
_PACKAGE = re.compile(r"^[a-z0-9][a-z0-9+.-]+$")
_MODE = re.compile(r"^0[0-7]{3}$")


@dataclass(frozen=True)
class ProfileFile:
    path: str  # relative to the operator's home
    mode: str
    content: str  # Jinja2 over TEMPLATE_VARS
    secret: bool = False


@dataclass(frozen=True)
class SmokeTest:
    argv: tuple[str, ...]
    rc: int = 0
    shows_version: bool = False


@dataclass(frozen=True)
class Profile:
    name: str
    description: str
    packages: tuple[str, ...]
    default_version: str
    conflicts: tuple[str, ...]
    binary: str
    smoke_test: SmokeTest
    dirs: tuple[str, ...]
    files: tuple[ProfileFile, ...]
    source: str  # the YAML file it came from

    def version(self, pinned: str) -> str:
        """The version to install: the workspace's pin, else the profile's default."""
        return pinned or self.default_version

    def as_vars(self) -> dict[str, Any]:
        """The profile as the role's ``conference_client_profile`` variable."""
        return {
            "name": self.name,
            "packages": list(self.packages),
            "default_version": self.default_version,
            "conflicts": list(self.conflicts),
            "binary": self.binary,
            "smoke_test": {
                "argv": list(self.smoke_test.argv),
                "rc": self.smoke_test.rc,
                "shows_version": self.smoke_test.shows_version,
            },
            "dirs": list(self.dirs),
            "files": [
                {"path": f.path, "mode": f.mode, "content": f.content, "secret": f.secret}
                for f in self.files
            ],
        }

    def render(self, values: dict[str, Any]) -> dict[str, str]:
        """Each file's content for ``values`` (TEMPLATE_VARS), as the role writes it."""
        env = jinja2.Environment(
            undefined=jinja2.StrictUndefined,
            keep_trailing_newline=True,
            autoescape=False,  # noqa: S701 - config files, not HTML
        )
        return {f.path: env.from_string(f.content).render(values) for f in self.files}


def profiles_dir() -> Path:
    return Path(str(resources.files("confprov.provision") / "profiles"))


def available() -> list[str]:
    return sorted(p.stem for p in profiles_dir().glob("*.yml"))


def load_profile(
    name: str, *, field: str = "client.profile", config: str = "confprov.yml"
) -> Profile:
    """Load and check the profile ``name``; an unknown name is the operator's input error."""
    path = profiles_dir() / f"{name}.yml"
    if not path.is_file():
        raise InputError(
            [
                Problem(
                    config,
                    None,
                    field,
                    f"unknown client profile {name!r} (known: {', '.join(available())})",
                )
            ]
        )
    return parse_profile(path.read_text(encoding="utf-8"), str(path))


def read_mapping(text: str, source: str, keys: set[str]) -> tuple[dict[str, Any], list[Problem]]:
    """A profile's mapping (bounded YAML) and the problems of its keys: unknown ones, and every
    one but ``description`` missing. Linux and Windows profiles share this rule."""
    try:
        data = yamlutil.safe_load(text)
    except yaml.YAMLError as exc:  # bad syntax, or refused for its shape (yamlutil's bounds)
        mark = getattr(exc, "problem_mark", None)
        line = mark.line + 1 if mark is not None else None
        raise InputError(
            [Problem(source, line, None, f"not a usable YAML profile: {exc}")]
        ) from None
    if not isinstance(data, dict):
        raise InputError([Problem(source, None, None, "a profile is a YAML mapping")])
    known = ", ".join(sorted(keys))
    problems = [
        Problem(source, None, k, f"unknown key (known: {known})") for k in sorted(set(data) - keys)
    ]
    problems += [
        Problem(source, None, k, "missing") for k in sorted(keys - set(data) - {"description"})
    ]
    return data, problems


def parse_profile(text: str, source: str) -> Profile:
    data, problems = read_mapping(text, source, _KEYS)

    def bad(key: str, message: str) -> None:
        problems.append(Problem(source, None, key, message))

    packages = _names(data.get("packages"), "packages", bad)
    if not packages and "packages" in data:
        bad("packages", "at least one package")
    conflicts = _names(data.get("conflicts", []), "conflicts", bad)
    if set(packages) & set(conflicts):
        bad("conflicts", "a package cannot both be installed and conflict")
    smoke = _smoke_test(data.get("smoke_test"), bad)
    dirs = data.get("dirs", [])
    if not isinstance(dirs, list) or not all(_relative(d) for d in dirs):
        bad("dirs", "folders relative to the operator's home, without '..'")
        dirs = []
    files = _files(data.get("files"), bad)
    for key in ("name", "default_version", "binary"):
        if key in data and not isinstance(data[key], str):
            bad(key, "must be a string")
    if problems:
        raise InputError(problems)
    return Profile(
        name=data["name"],
        description=str(data.get("description", "")),
        packages=tuple(packages),
        default_version=data["default_version"],
        conflicts=tuple(conflicts),
        binary=data["binary"],
        smoke_test=smoke,
        dirs=tuple(dirs),
        files=tuple(files),
        source=source,
    )


def _smoke_test(value: Any, bad: Any) -> SmokeTest:
    if not isinstance(value, dict) or set(value) - {"argv", "rc", "shows_version"}:
        bad("smoke_test", "a mapping of argv (list of strings), rc, shows_version")
        return SmokeTest(())
    argv = value.get("argv")
    if not isinstance(argv, list) or not argv or not all(isinstance(a, str) for a in argv):
        bad("smoke_test.argv", "the command as a list of strings")
        argv = []
    rc = value.get("rc", 0)
    if not isinstance(rc, int) or isinstance(rc, bool) or not 0 <= rc < 256:
        bad("smoke_test.rc", "the exit code the command gives, 0-255")
        rc = 0
    return SmokeTest(tuple(argv), rc, bool(value.get("shows_version", False)))


def _relative(path: Any) -> bool:
    return isinstance(path, str) and bool(path) and not path.startswith("/") and ".." not in path


def _names(value: Any, key: str, bad: Any) -> list[str]:
    if not isinstance(value, list) or not all(
        isinstance(v, str) and _PACKAGE.match(v) for v in value
    ):
        bad(key, "a list of Debian package names")
        return []
    return list(value)


def _files(value: Any, bad: Any) -> list[ProfileFile]:
    if not isinstance(value, list):
        bad("files", "a list of {path, mode, content}")
        return []
    out: list[ProfileFile] = []
    env = jinja2.Environment(autoescape=False)  # noqa: S701 - syntax check only
    for i, item in enumerate(value):
        key = f"files[{i}]"
        if not isinstance(item, dict) or set(item) - _FILE_KEYS:
            bad(key, f"a mapping of {', '.join(sorted(_FILE_KEYS))}")
            continue
        path, mode, content = item.get("path"), item.get("mode"), item.get("content")
        if not _relative(path):
            bad(f"{key}.path", "a file relative to the operator's home, without '..'")
            continue
        if not isinstance(mode, str) or not _MODE.match(mode):
            bad(f"{key}.mode", "a quoted octal mode such as '0644'")
            continue
        if not isinstance(content, str):
            bad(f"{key}.content", "the file's text (Jinja2)")
            continue
        if not isinstance(item.get("secret"), bool):
            bad(f"{key}.secret", "true when the file holds the SIP password, else false")
            continue
        try:
            parsed = env.parse(content)
        except jinja2.TemplateSyntaxError as exc:
            bad(f"{key}.content", f"Jinja2 syntax error at line {exc.lineno}: {exc.message}")
            continue
        unknown = set(meta.find_undeclared_variables(parsed)) - set(TEMPLATE_VARS)
        if unknown:
            bad(f"{key}.content", f"unknown variable(s) {', '.join(sorted(unknown))}")
            continue
        out.append(ProfileFile(str(path), mode, content, item["secret"]))
    return out
