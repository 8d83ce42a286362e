"""Windows client profiles, the workspace's Windows package folder and the MSIs in it.

A Windows profile (``profiles/windows/<name>.yml``) is data, like the Debian ones: the MSI to
install (a file name pattern and the ProductName it must carry), the msiexec properties, files and
registry values (Jinja2 over ``windows_client_*``). What identifies the package (ProductCode,
ProductVersion) is read from the MSI itself on the controller with msitools' ``msiinfo``, never
copied into the profile, so a new vendor release needs no edit here: drop the MSI into the folder
and pin its version. ``ansible.windows.win_package`` is then idempotent by that ProductCode and
checks the download against the SHA-256 computed here.

The folder is served over HTTP on the management network while ``confprov provision`` runs, as
the apt mirror is (``mirror.serve``), on its own port.
"""

from __future__ import annotations

import contextlib
import fnmatch
import hashlib
import shutil
import subprocess
import urllib.parse
from collections.abc import Iterator
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

import jinja2
from jinja2 import meta

from confprov.config import Config
from confprov.exceptions import EnvironmentProblem, InputError, Problem
from confprov.provision import mirror
from confprov.provision.profiles import read_mapping

# Beside the apt mirror's port, so a run serving both never clashes with itself.
PACKAGES_PORT = mirror.DEFAULT_PORT + 1
KINDS = ("msi", "browser")
# The variables a Windows profile's text may use (the windows_client role defines each of them).
TEMPLATE_VARS = (
    "windows_client_site",
    "windows_client_site_name",
    "windows_client_server",
    "windows_client_port",
    "windows_client_transport",
    "windows_client_sip_domain",
    "windows_client_web_url",
    "windows_client_web_origin",
    "windows_client_version",
)
REG_TYPES = ("string", "expandstring", "dword", "qword", "multistring", "binary")
_KEYS = {"name", "description", "kind", "package", "arguments", "files", "registry"}
_FILE_KEYS = {"path", "content", "secret"}
_REG_KEYS = {"path", "name", "type", "data"}


@dataclass(frozen=True)
class WindowsProfile:
    name: str
    description: str
    kind: str  # msi | browser
    package_file: str  # glob in the package folder ("" for browser)
    product_name: str  # the MSI's ProductName must contain it
    arguments: tuple[str, ...]
    files: tuple[dict[str, Any], ...]
    registry: tuple[dict[str, str], ...]
    source: str

    def as_vars(self) -> dict[str, Any]:
        """The profile as the windows_client role's ``windows_client_profile`` variable."""
        return {
            "name": self.name,
            "kind": self.kind,
            "arguments": list(self.arguments),
            "files": [dict(f) for f in self.files],
            "registry": [dict(r) for r in self.registry],
        }


@dataclass(frozen=True)
class MsiPackage:
    """One MSI of the package folder, as its own Property table describes it."""

    file: str
    sha256: str
    size: int
    product_code: str
    product_version: str
    product_name: str
    manufacturer: str

    def as_vars(self, url: str = "") -> dict[str, Any]:
        return {
            "file": self.file,
            "url": url,
            "sha256": self.sha256,
            "product_code": self.product_code,
            "version": self.product_version,
            "product_name": self.product_name,
        }


def profiles_dir() -> Path:
    return Path(str(resources.files("confprov.provision") / "profiles" / "windows"))


def available() -> list[str]:
    return sorted(p.stem for p in profiles_dir().glob("*.yml"))


def load_windows_profile(name: str, config: str = "confprov.yml") -> WindowsProfile:
    path = profiles_dir() / f"{name}.yml"
    if not path.is_file():
        raise InputError(
            [
                Problem(
                    config,
                    None,
                    "windows.profile",
                    f"unknown Windows client profile {name!r} (known: {', '.join(available())})",
                )
            ]
        )
    return parse_windows_profile(path.read_text(encoding="utf-8"), str(path))


def _check_text(text: Any, key: str, bad: Any) -> bool:
    """Jinja2 that parses and uses only TEMPLATE_VARS."""
    if not isinstance(text, str):
        bad(key, "must be a string")
        return False
    try:
        parsed = jinja2.Environment(autoescape=False).parse(text)  # noqa: S701 - syntax only
    except jinja2.TemplateSyntaxError as exc:
        bad(key, f"Jinja2 syntax error at line {exc.lineno}: {exc.message}")
        return False
    unknown = set(meta.find_undeclared_variables(parsed)) - set(TEMPLATE_VARS)
    if unknown:
        bad(key, f"unknown variable(s) {', '.join(sorted(unknown))}")
        return False
    return True


def _files(value: list[Any], bad: Any) -> list[dict[str, Any]]:
    files: list[dict[str, Any]] = []
    for i, item in enumerate(value):
        key = f"files[{i}]"
        if not isinstance(item, dict) or set(item) != _FILE_KEYS:
            bad(key, f"a mapping of {', '.join(sorted(_FILE_KEYS))}")
        elif not isinstance(item["secret"], bool):
            bad(f"{key}.secret", "true when the file holds a secret, else false")
        elif not (isinstance(item["path"], str) and item["path"][1:3] == ":\\"):
            bad(f"{key}.path", r"an absolute Windows path such as C:\ProgramData\confprov\x")
        elif _check_text(item["content"], f"{key}.content", bad):
            files.append(dict(item))
    return files


def _registry(value: list[Any], bad: Any) -> list[dict[str, str]]:
    registry: list[dict[str, str]] = []
    for i, item in enumerate(value):
        key = f"registry[{i}]"
        if not isinstance(item, dict) or set(item) != _REG_KEYS:
            bad(key, f"a mapping of {', '.join(sorted(_REG_KEYS))}")
        elif not str(item["path"]).startswith("HKLM:\\"):
            bad(f"{key}.path", r"a machine key: HKLM:\...")
        elif item["type"] not in REG_TYPES:
            bad(f"{key}.type", f"one of {', '.join(REG_TYPES)}")
        elif _check_text(item["data"], f"{key}.data", bad):
            registry.append({k: str(v) for k, v in item.items()})
    return registry


def parse_windows_profile(text: str, source: str) -> WindowsProfile:
    """Check a Windows profile; every problem names the field."""
    data, problems = read_mapping(text, source, _KEYS)

    def bad(key: str, message: str) -> None:
        problems.append(Problem(source, None, key, message))

    kind = data.get("kind")
    if kind not in KINDS:
        bad("kind", f"must be one of {', '.join(KINDS)}")
    package = data.get("package") or {}
    if kind == "msi" and (
        not isinstance(package, dict)
        or set(package) != {"file", "product_name"}
        or not all(isinstance(v, str) and v for v in package.values())
    ):
        bad("package", "an MSI profile names {file: a glob such as 'Webex*.msi', product_name}")
        package = {}
    if kind == "browser" and package:
        bad("package", "a browser profile installs nothing: package: {}")
    arguments = data.get("arguments", [])
    if not isinstance(arguments, list) or not all(isinstance(a, str) for a in arguments):
        bad("arguments", "a list of msiexec properties such as ACCEPT_EULA=TRUE")
        arguments = []
    files = _files(data.get("files") or [], bad)
    registry = _registry(data.get("registry") or [], bad)
    for key in ("name", "description"):
        if key in data and not isinstance(data[key], str):
            bad(key, "must be a string")
    if problems:
        raise InputError(problems)
    return WindowsProfile(
        name=data["name"],
        description=str(data.get("description", "")),
        kind=str(kind),
        package_file=str(package.get("file", "")),
        product_name=str(package.get("product_name", "")),
        arguments=tuple(arguments),
        files=tuple(files),
        registry=tuple(registry),
        source=source,
    )


# --------------------------------------------------------------------------- MSI


def msi_properties(path: Path) -> dict[str, str]:
    """The MSI's Property table (msitools' ``msiinfo export``), as name -> value."""
    if shutil.which("msiinfo") is None:
        raise EnvironmentProblem("reading MSI packages needs msiinfo: apt-get install msitools")
    proc = subprocess.run(
        ["msiinfo", "export", str(path), "Property"],
        capture_output=True,
        text=True,
        check=False,
    )
    if proc.returncode != 0:
        raise InputError(
            [Problem(str(path), None, None, f"not a readable MSI: {proc.stderr.strip()[-200:]}")]
        )
    # An exported table: column names, column types, table name, then one row per line.
    out: dict[str, str] = {}
    for line in proc.stdout.splitlines()[3:]:
        name, _, value = line.rstrip("\r").partition("\t")
        if name:
            out[name] = value
    return out


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def read_msi(path: Path) -> MsiPackage:
    props = msi_properties(path)
    missing = [k for k in ("ProductCode", "ProductVersion", "ProductName") if not props.get(k)]
    if missing:
        raise InputError(
            [Problem(str(path), None, None, f"the MSI's Property table lacks {', '.join(missing)}")]
        )
    return MsiPackage(
        file=path.name,
        sha256=sha256_of(path),
        size=path.stat().st_size,
        product_code=props["ProductCode"].upper(),
        product_version=props["ProductVersion"],
        product_name=props["ProductName"],
        manufacturer=props.get("Manufacturer", ""),
    )


def find_package(folder: Path, profile: WindowsProfile, pinned: str) -> MsiPackage:
    """The one MSI of ``folder`` for ``profile`` at the pinned version (any, when unpinned and
    only one is there). Anything else is the operator's input error, naming what is there."""
    candidates = (
        sorted(p for p in folder.iterdir() if fnmatch.fnmatch(p.name, profile.package_file))
        if folder.is_dir()
        else []
    )
    found = [read_msi(p) for p in candidates]
    found = [m for m in found if profile.product_name.lower() in m.product_name.lower()]
    matching = [m for m in found if not pinned or m.product_version == pinned]
    if len(matching) == 1:
        return matching[0]
    there = ", ".join(f"{m.file} ({m.product_name} {m.product_version})" for m in found) or "none"
    if not matching:
        want = f"version {pinned}" if pinned else "any version"
        message = (
            f"no {profile.product_name} MSI ({profile.package_file}) at {want} in the package "
            f"folder (found: {there}): copy the vendor's MSI there, or pin a version found"
        )
    else:
        message = f"several {profile.product_name} MSIs ({there}): pin one in windows.version"
    field = "windows.version" if pinned else "windows.packages"
    raise InputError([Problem(str(folder), None, field, message)])


def web_origin(url: str) -> str:
    """``https://host[:port]`` of the conference's web address: what browser policies allow."""
    parts = urllib.parse.urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}"


def package_folder(workspace: Path, config: Config) -> Path:
    return workspace / config.windows.packages


@dataclass(frozen=True)
class WindowsPlan:
    """What a provision run hands the Windows play: the profile, the package, the site values."""

    profile: WindowsProfile
    package: MsiPackage | None
    web_url: str

    def text(self) -> str:
        if self.package is None:
            return f"Windows: profile {self.profile.name} ({self.web_url}), nothing to install"
        p = self.package
        return (
            f"Windows: profile {self.profile.name}, {p.file} ({p.product_name} "
            f"{p.product_version}, ProductCode {p.product_code}, sha256 {p.sha256[:12]}…)"
        )

    def play_vars(self, urls: dict[str, str]) -> dict[str, Any]:
        """Extra variables of playbooks/provision.yml's Windows play (host -> package URL)."""
        package = self.package
        return {
            "confprov_windows_profile": self.profile.as_vars(),
            "confprov_windows_package": package.as_vars() if package else {},
            "confprov_windows_package_urls": (
                {h: u + urllib.parse.quote(package.file) for h, u in urls.items()}
                if package
                else {}
            ),
        }


def plan(workspace: Path, config: Config) -> WindowsPlan:
    """The Windows profile and its package for this workspace; InputError naming what is wrong."""
    conf = str(workspace / "confprov.yml")
    profile = load_windows_profile(config.windows.profile, conf)
    web_url = config.windows.web_url
    if web_url and urllib.parse.urlsplit(web_url).scheme not in ("http", "https"):
        raise InputError([Problem(conf, None, "windows.web_url", "an http(s):// address")])
    if profile.kind == "browser":
        if not web_url:
            raise InputError(
                [Problem(conf, None, "windows.web_url", "the browser profile needs the address")]
            )
        return WindowsPlan(profile, None, web_url)
    package = find_package(package_folder(workspace, config), profile, config.windows.version)
    return WindowsPlan(profile, package, web_url)


@contextlib.contextmanager
def served(folder: Path, addresses: dict[str, str]) -> Iterator[dict[str, str]]:
    """Host -> base URL of the package folder, served on the controller's management address
    toward each host (never on all interfaces) while the block runs."""
    by_host: dict[str, str] = {}
    problems = []
    for host, address in addresses.items():
        try:
            by_host[host] = mirror.source_address(address)
        except OSError as exc:
            problems.append(
                Problem("registry", None, host, f"no route to {address} ({exc.strerror})")
            )
    if problems:
        raise InputError(problems)
    with mirror.serve(folder, by_host.values(), port=PACKAGES_PORT) as urls:
        yield {host: urls[address] for host, address in by_host.items()}
