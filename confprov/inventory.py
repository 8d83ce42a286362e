"""Rendering the Ansible inventory from the registry, with Jinja2 templates (StrictUndefined).

The rendered files are the one product: confprov's own commands read them through Ansible, and the
inventory plugin parses the very same rendered text, so the two can never drift apart.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import shutil
import tempfile
import traceback
from collections.abc import Callable, Iterable, Iterator
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import jinja2
import yaml

from confprov.config import Config
from confprov.exceptions import ConfprovError, InputError, Problem
from confprov.registry import Registry, Site
from confprov.windows import connection_vars, connections

INVENTORY_DIR = "inventory"
CONFERENCE_HOST = "conference-server"
_OSES_WITH_GROUP = ("debian", "ubuntu", "windows")


def group_name(prefix: str, slug: str) -> str:
    """Ansible group names allow only letters, digits and ``_``: ``district_cam_khe``."""
    return f"{prefix}_" + slug.replace("-", "_").replace(".", "_")


_PLAIN = re.compile(r'^[^"\\\x00-\x1f\x7f-\x9f\u2028\u2029\ufeff]*$')


def _q(value: Any) -> str:
    """A YAML scalar or flow collection that reads back as exactly ``value``."""
    if type(value) is str and _PLAIN.match(value):
        return f'"{value}"'  # the common case, without json's overhead: nothing to escape
    # Everything else escaped to ASCII: YAML reads \uXXXX, and U+2028 raw would fold the line.
    return json.dumps(value)


def _block(value: dict[str, Any]) -> str:
    """A mapping as an indented YAML block under its key, for humans reading group_vars."""
    text = yaml.safe_dump(value, allow_unicode=True, sort_keys=False, default_flow_style=False)
    return "\n" + "".join(f"  {line}\n" for line in text.splitlines()).rstrip("\n")


_ENV = jinja2.Environment(
    loader=jinja2.PackageLoader("confprov", "templates/inventory"),
    undefined=jinja2.StrictUndefined,
    trim_blocks=True,
    lstrip_blocks=True,
    keep_trailing_newline=True,
    autoescape=False,  # noqa: S701 - YAML, not HTML; values are quoted by the q filter
)
_ENV.filters["q"] = _q
_ENV.filters["block"] = _block


@dataclass(frozen=True)
class Group:
    name: str
    hosts: tuple[str, ...] = ()
    children: tuple[str, ...] = ()


@dataclass
class RenderReport:
    path: Path
    written: list[str] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    unchanged: int = 0

    def text(self) -> str:
        if not self.written and not self.removed:
            return f"inventory {self.path}: up to date ({self.unchanged} files unchanged)"
        return (
            f"inventory {self.path}: {len(self.written)} written, {len(self.removed)} removed, "
            f"{self.unchanged} unchanged"
        )


def groups_of(registry: Registry, config: Config) -> list[Group]:
    """Every group of the inventory, in a stable order."""
    sites = registry.sites
    groups: list[Group] = [
        Group("endpoints", tuple(h for s in sites for h in s.endpoint_hosts)),
        Group("routers", tuple(s.router_host for s in sites if s.router)),
        Group("conference", (CONFERENCE_HOST,) if config.conference.management_address else ()),
    ]
    for os_name in _OSES_WITH_GROUP:
        hosts = tuple(h for s in sites if s.endpoint_os == os_name for h in s.endpoint_hosts)
        if hosts:
            groups.append(Group(f"os_{os_name}", hosts))
    groups.extend(
        Group(
            f"level_{level}",
            children=tuple(group_name("site", s.slug) for s in sites if s.level == level),
        )
        for level in registry.count_levels()  # the levels the registry uses
    )
    groups.extend(
        Group(
            group_name("district", d.slug),
            children=tuple(group_name("site", s.slug) for s in registry.members(d)),
        )
        for d in registry.districts()
    )
    groups.extend(
        Group(
            group_name("group", slug), children=tuple(group_name("site", s.slug) for s in members)
        )
        for slug, members in registry.groups().items()
    )
    groups.extend(
        Group(
            group_name("site", s.slug), (*s.endpoint_hosts, *((s.router_host,) if s.router else ()))
        )
        for s in sites
    )
    return groups


def _check_group_names(registry: Registry, groups: Iterable[Group]) -> None:
    seen: dict[str, Site] = {}
    problems = []
    by_group = {group_name("site", s.slug): s for s in registry.sites}
    for group in groups:
        site = by_group.get(group.name)
        if site is None:
            continue
        if group.name in seen and seen[group.name] is not site:
            problems.append(
                Problem(
                    site.file,
                    site.line,
                    "name",
                    f"group name {group.name} also made by line {seen[group.name].line}; "
                    "give one of them an id",
                )
            )
        seen[group.name] = site
    if problems:
        raise InputError(problems)


def render_files(workspace: Path, registry: Registry, config: Config) -> dict[str, str]:
    """Every inventory file as ``{relative path: text}``; nothing touches the disk."""
    return dict(iter_files(workspace, registry, config))


def iter_files(
    workspace: Path, registry: Registry, config: Config, part: tuple[int, int] = (0, 1)
) -> Iterator[tuple[str, str]]:
    """The inventory's files one by one; with ``part=(k, n)`` only the k-th of n shares.

    Everything that can refuse the input (the group names) is checked before the first file.
    """
    k, n = part
    known_hosts = str(workspace / "known_hosts")
    ssh_args = f"-o UserKnownHostsFile={known_hosts} -o StrictHostKeyChecking=yes"
    private_key = str(workspace / config.ssh_private_key) if config.ssh_private_key else ""
    groups = groups_of(registry, config)
    _check_group_names(registry, groups)
    sites = registry.sites
    common = {"ssh_args": ssh_args, "private_key": private_key, "known_hosts": known_hosts}
    windows = connections(config, ((s.slug, s.endpoint_os, s.endpoint_hosts) for s in sites))
    windows_vars = {c: connection_vars(config, str(workspace), c) for c in set(windows.values())}
    endpoint = _ENV.get_template("endpoint.yml.j2")
    router = _ENV.get_template("router.yml.j2")
    for site in registry.sites[k::n]:
        view = _site_view(site)
        for index, (host, address) in enumerate(
            zip(site.endpoint_hosts, site.endpoints, strict=True)
        ):
            yield (
                f"host_vars/{host}.yml",
                endpoint.render(
                    site=view,
                    host=host,
                    address=address,
                    index=index + 1,
                    windows=windows_vars[windows[host]] if host in windows else None,
                    connection=windows.get(host, ""),
                ),
            )
        if site.router:
            yield f"host_vars/{site.router_host}.yml", router.render(site=view)
    if k != 0:
        return  # the shared files are the first share's
    yield (
        "hosts.yml",
        _ENV.get_template("hosts.yml.j2").render(groups=groups, registry_name=registry.path.name),
    )
    yield (
        "group_vars/all.yml",
        _ENV.get_template("all.yml.j2").render(workspace=str(workspace), config=config.as_vars()),
    )
    routers = [s for s in registry.sites if s.router]
    for group in ("endpoints", "routers", "conference"):
        yield (
            f"group_vars/{group}.yml",
            _ENV.get_template(f"{group}.yml.j2").render(**common, routers=routers),
        )
    if any(s.endpoint_os == "windows" for s in registry.sites):
        yield (
            "group_vars/os_windows.yml",
            _ENV.get_template("os_windows.yml.j2").render(windows=asdict(config.windows)),
        )
    if config.conference.management_address:
        yield (
            f"host_vars/{CONFERENCE_HOST}.yml",
            "# The conference host, from confprov.yml (conference.management_address).\n"
            f"ansible_host: {_q(config.conference.management_address)}\n"
            f"ansible_user: {_q(config.conference.management_user)}\n",
        )


def _site_view(site: Site) -> SimpleNamespace:
    """What templates see of a site: its fields, derived names computed once, the file's name."""
    view = SimpleNamespace(**{f.name: getattr(site, f.name) for f in fields(site)})
    view.name_ascii = site.name_ascii
    view.endpoint_hosts = site.endpoint_hosts
    view.router_host = site.router_host
    view.file_name = os.path.basename(site.file)
    return view


def _write_file(path: str, data: bytes) -> None:
    """Replace ``path`` atomically: readers see the old or the new file, never half of one."""
    tmp = os.path.join(os.path.dirname(path), f".{os.path.basename(path)}.tmp")
    try:
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise


def _create(path: str, data: bytes) -> None:
    """A new file with plain syscalls: a render creates tens of thousands of them."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
    try:
        view = memoryview(data)
        while view:
            view = view[os.write(fd, view) :]
    finally:
        os.close(fd)


Parts = Callable[[tuple[int, int]], Iterable[tuple[str, str]]]
_PARALLEL_FROM = 2000  # files; below this a second process costs more than it saves


def _write_part(base: str, files: Iterable[tuple[str, str]]) -> None:
    for rel, text in files:
        _create(os.path.join(base, rel), text.encode())


def _worker_failed(count: int) -> None:
    raise ConfprovError(f"writing the inventory failed in {count} worker(s); see the trace above")


def _write_fresh(target: Path, parts: Parts, count: int) -> None:
    """A first render into a new folder, renamed into place when complete.

    A large inventory is rendered and written by forked processes, a share of the sites each:
    creating tens of thousands of files is syscall-bound and templating CPU-bound, so both
    cores help (bench/registry_scale.py).
    """
    staging = Path(tempfile.mkdtemp(dir=target.parent, prefix=f".{target.name}."))
    n = max(1, min(os.cpu_count() or 1, 4)) if count >= _PARALLEL_FROM else 1
    try:
        for sub in ("host_vars", "group_vars"):
            (staging / sub).mkdir()
        base = str(staging)
        children = []
        for k in range(1, n):
            pid = os.fork()
            if pid == 0:  # child: write this share, report only by exit status
                code = 0
                try:
                    _write_part(base, parts((k, n)))
                except BaseException:  # noqa: BLE001 - the parent reports it
                    traceback.print_exc()
                    code = 1
                finally:
                    os._exit(code)
            children.append(pid)
        try:
            _write_part(base, parts((0, n)))
        finally:
            failed = [pid for pid in children if os.waitpid(pid, 0)[1] != 0]
        if failed:
            _worker_failed(len(failed))
        staging.chmod(0o755)
        staging.rename(target)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise


def write_inventory(target: Path, parts: Parts, count: int = 0) -> RenderReport:
    """Write what changed, remove what no longer belongs; unchanged files are not touched.

    ``parts((k, n))`` yields the k-th of n shares of the files; ``count`` is about how many
    files there are (it decides whether a first render runs in parallel).
    """
    report = RenderReport(target)
    if not target.exists():
        target.parent.mkdir(parents=True, exist_ok=True)
        _write_fresh(target, parts, count)
        report.written = sorted(
            f"{sub}/{name}"
            for sub in ("host_vars", "group_vars")
            for name in os.listdir(target / sub)
        )
        report.written.append("hosts.yml")
        return report
    files = parts((0, 1))
    base = str(target)
    for sub in ("host_vars", "group_vars"):
        (target / sub).mkdir(exist_ok=True)
    wanted: set[str] = set()
    for rel, text in files:
        wanted.add(rel)
        path = os.path.join(base, rel)
        data = text.encode()
        try:
            with open(path, "rb") as fh:
                if fh.read() == data:
                    report.unchanged += 1
                    continue
        except FileNotFoundError:
            pass
        _write_file(path, data)
        report.written.append(rel)
    for sub in ("host_vars", "group_vars"):
        for entry in os.scandir(os.path.join(base, sub)):
            rel = f"{sub}/{entry.name}"
            if entry.is_file() and entry.name.endswith(".yml") and rel not in wanted:
                os.unlink(entry.path)
                report.removed.append(rel)
    return report
