"""Rendering the Ansible inventory from the registry, with Jinja2 templates (StrictUndefined).

The rendered files are the one product: confprov's own commands read them through Ansible, and the
inventory plugin parses the very same rendered text, so the two can never drift apart.
"""

from __future__ import annotations

import contextlib
import ctypes
import json
import marshal
import os
import re
import shutil
import signal
import tempfile
import threading
import traceback
from collections.abc import Callable, Iterable, Iterator
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import jinja2
import yaml

from confprov import domain, safefile
from confprov.config import Config
from confprov.exceptions import ConfprovError, InputError, Problem
from confprov.registry import Registry, Site
from confprov.vault import VAULT_FILE
from confprov.windows import connection_vars, connections

INVENTORY_DIR = "inventory"
CONFERENCE_HOST = domain.CONFERENCE_HOST  # reserved: no site may take it
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
        _ENV.get_template("hosts.yml.j2").render(
            groups=groups, registry_name=domain.comment_text(registry.path.name)
        ),
    )
    yield (
        "group_vars/all.yml",
        _ENV.get_template("all.yml.j2").render(
            workspace=str(workspace),
            # Named only when it exists: the plays fail on a named vault that is missing.
            vault_file=str(workspace / VAULT_FILE) if (workspace / VAULT_FILE).exists() else "",
            config=config.as_vars(),
        ),
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
    view.file_name = domain.comment_text(os.path.basename(site.file))  # a comment line
    return view


MANIFEST = ".confprov-files"  # the files confprov wrote; Ansible skips dot files in inventories
_SUBDIRS = ("host_vars", "group_vars")


# A new file with plain syscalls (a render creates tens of thousands of them), never through a
# link; a module name of its own so that a test can hold a render at a chosen file.
_create = safefile.create


Parts = Callable[[tuple[int, int]], Iterable[tuple[str, str]]]
_PARALLEL_FROM = 2000  # files; below this a second process costs more than it saves


def _write_part(base: str, files: Iterable[tuple[str, str]]) -> None:
    for rel, text in files:
        _create(os.path.join(base, rel), text.encode())


def _worker_failed(count: int) -> None:
    raise ConfprovError(f"writing the inventory failed in {count} worker(s); see the trace above")


class Terminated(KeyboardInterrupt):
    """SIGTERM, raised like Ctrl-C so every ``finally`` runs (staging removed, workers reaped)."""


def _raise_terminated(signum: int, frame: object) -> None:
    raise Terminated


@contextlib.contextmanager
def _terminate_as_interrupt() -> Iterator[None]:
    """While the inventory is written, SIGTERM unwinds the stack instead of killing outright."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = signal.signal(signal.SIGTERM, _raise_terminated)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


@contextlib.contextmanager
def _signals_blocked() -> Iterator[None]:
    """No Ctrl-C or SIGTERM between two steps that must both happen (delivered right after)."""
    mask = {signal.SIGINT, signal.SIGTERM}
    old = signal.pthread_sigmask(signal.SIG_BLOCK, mask)
    try:
        yield
    finally:
        signal.pthread_sigmask(signal.SIG_SETMASK, old)


def _die_with_parent(parent: int) -> None:
    """A worker dies with its parent, even one killed by SIGKILL (Linux ``PR_SET_PDEATHSIG``)."""
    with contextlib.suppress(OSError, AttributeError):
        ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG
    if os.getppid() != parent:  # the parent died before the line above
        os._exit(1)


Share = Callable[[int, int], bytes]  # does share k of n, returns what the parent must know


def _child(share: Share, k: int, n: int, parent: int, out: int) -> None:
    """A worker's life: share ``k`` of ``n``, its answer down the pipe ``out``, then exit."""
    code = 0
    try:
        # Ctrl-C and SIGTERM end a worker at once; the parent reports and cleans up.
        signal.signal(signal.SIGINT, signal.SIG_DFL)
        signal.signal(signal.SIGTERM, signal.SIG_DFL)
        _die_with_parent(parent)
        view = memoryview(share(k, n))
        while view:
            view = view[os.write(out, view) :]
    except BaseException:  # noqa: BLE001 - the parent reports it
        traceback.print_exc()
        code = 1
    finally:
        os._exit(code)


def _read_all(fd: int) -> bytes:
    chunks = []
    while chunk := os.read(fd, 1 << 20):
        chunks.append(chunk)
    return b"".join(chunks)


def _in_workers(share: Share, count: int) -> list[bytes]:
    """Every share's answer, the shares done by forked processes when there are many files.

    Templating is CPU-bound and creating or reading tens of thousands of files syscall-bound,
    so both cores help a large inventory (bench/registry_scale.py). However this ends (an
    error, Ctrl-C, SIGTERM), no worker outlives it.
    """
    n = max(1, min(os.cpu_count() or 1, 4)) if count >= _PARALLEL_FROM else 1
    children: list[tuple[int, int]] = []  # (pid, read end of its pipe)
    parent = os.getpid()
    answers: list[bytes] = []
    try:
        for k in range(1, n):
            read_end, write_end = os.pipe()
            pid = os.fork()
            if pid == 0:
                os.close(read_end)
                for _, fd in children:
                    os.close(fd)
                _child(share, k, n, parent, write_end)
            os.close(write_end)
            children.append((pid, read_end))
        answers.append(share(0, n))
        answers.extend(_read_all(fd) for _, fd in children)
    except BaseException:
        with _signals_blocked():
            for pid, _ in children:
                with contextlib.suppress(ProcessLookupError):
                    os.kill(pid, signal.SIGKILL)
            for pid, _ in children:
                os.waitpid(pid, 0)
        raise
    finally:
        for _, fd in children:
            os.close(fd)
    failed = [pid for pid, _ in children if os.waitpid(pid, 0)[1] != 0]
    if failed:
        _worker_failed(len(failed))
    return answers


def _render_into(staging: Path, parts: Parts, count: int) -> None:
    """Render every file into ``staging`` (a first render: nothing to compare with)."""
    for sub in _SUBDIRS:
        (staging / sub).mkdir()
    base = str(staging)

    def share(k: int, n: int) -> bytes:
        _write_part(base, parts((k, n)))
        return b""

    _in_workers(share, count)


Changes = tuple[list[str], dict[str, bytes]]  # every file's name; the new bytes of changed ones


def _differs(path: str, data: bytes) -> bool:
    """Whether the file at ``path`` is not exactly ``data`` (a link there is never the same)."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW)
    except OSError:
        return True
    try:
        return os.read(fd, len(data) + 1) != data  # one read: a regular file gives all it has
    except OSError:  # a folder
        return True
    finally:
        os.close(fd)


def _render_compared(target: Path, parts: Parts, count: int, ours: set[str]) -> Changes:
    """Render every file in memory and compare it with the one in ``target``; nothing written.

    Returns every file's name and the new bytes of those that differ (or are not confprov's).
    """
    base = str(target)

    def share(k: int, n: int) -> bytes:
        names = []
        changed = {}
        for rel, text in parts((k, n)):
            names.append(rel)
            data = text.encode()
            if rel not in ours or _differs(os.path.join(base, rel), data):
                changed[rel] = data
        return marshal.dumps((names, changed))

    names: list[str] = []
    changed: dict[str, bytes] = {}
    for answer in _in_workers(share, count):
        part_names, part_changed = marshal.loads(answer)  # noqa: S302 - our own worker's bytes
        names.extend(part_names)
        changed.update(part_changed)
    return names, changed


def _listing(root: Path) -> set[str]:
    """Every non-folder below ``root`` (links not followed), relative; top-level dot files aside."""
    out: set[str] = set()
    for folder, dirs, files in os.walk(root):
        rel = os.path.relpath(folder, root)
        for name in files + [d for d in dirs if os.path.islink(os.path.join(folder, d))]:
            path = name if rel == "." else f"{rel}/{name}"
            if not (rel == "." and name.startswith(".")):
                out.add(path)
    return out


def _manifest(target: Path) -> set[str] | None:
    """The files confprov wrote in ``target`` by its manifest; None for an inventory from
    before the manifest (or one whose manifest is not a plain file)."""
    manifest = target / MANIFEST
    if manifest.is_file() and not manifest.is_symlink():
        return set(manifest.read_text(encoding="utf-8").splitlines())
    return None


def _legacy_ours(present: set[str]) -> set[str]:
    """What confprov has always written in an inventory: ``hosts.yml`` and ``*_vars/*.yml``."""
    return {
        rel
        for rel in present
        if rel == "hosts.yml"
        or (rel.endswith(".yml") and rel.count("/") == 1 and rel.split("/")[0] in _SUBDIRS)
    }


def _carry(source: Path, dest: Path) -> None:
    """Keep a file confprov did not write: the same inode in the new inventory (never copied
    through a link, never deleted)."""
    dest.parent.mkdir(parents=True, exist_ok=True)
    try:
        os.link(source, dest, follow_symlinks=False)
    except OSError:
        shutil.copy2(source, dest, follow_symlinks=False)


def _exchange(staging: Path, target: Path) -> None:
    """Swap two folders in one step (Linux ``renameat2(RENAME_EXCHANGE)``).

    Where the file system cannot exchange, two renames with signals held back between them.
    """
    with _signals_blocked():
        libc = ctypes.CDLL(None, use_errno=True)
        renameat2 = getattr(libc, "renameat2", None)
        at_fdcwd, rename_exchange = -100, 2
        if (
            renameat2 is not None
            and renameat2(
                at_fdcwd, os.fsencode(staging), at_fdcwd, os.fsencode(target), rename_exchange
            )
            == 0
        ):
            return
        aside = staging.with_name(staging.name + "-old")
        target.rename(aside)
        staging.rename(target)
        aside.rename(staging)


def remove_stale_staging(target: Path) -> list[Path]:
    """Staging folders left by a run killed outright (SIGKILL, power loss): only confprov's own
    (named ``.inventory.XXXXXXXX``, holding a manifest). Called under the workspace lock."""
    removed = []
    for entry in target.parent.glob(f".{target.name}.*"):
        if (
            not entry.is_symlink()
            and entry.is_dir()
            and (entry / MANIFEST).is_file()
            and not (entry / MANIFEST).is_symlink()
        ):
            shutil.rmtree(entry)
            removed.append(entry)
    return removed


def write_inventory(target: Path, parts: Parts, count: int = 0) -> RenderReport:
    """Render the inventory, compare it with ``target``, put a changed one in place in one step.

    All or nothing: after an error, Ctrl-C or SIGTERM at any moment ``target`` is the old
    inventory or the new one, and neither a staging folder nor a worker process is left. When
    nothing changed nothing is written (no staging folder either) and the old inventory is kept
    as it is. Otherwise a staging folder beside ``target`` gets the new bytes of the changed
    files and, for every unchanged one, the old file itself (a hard link: the same inode, not
    touched), and is swapped in. Files in ``target`` that confprov did not write (not in its
    manifest) are carried into the new inventory, never deleted; one that a rendered file would
    replace is refused.

    ``parts((k, n))`` yields the k-th of n shares of the files; ``count`` is about how many
    files there are (it decides whether the render runs in parallel).
    """
    safefile.refuse_link(target)
    if target.exists() and not target.is_dir():
        raise InputError([Problem(str(target), None, None, "is not a folder: move it away")])
    target.parent.mkdir(parents=True, exist_ok=True)
    remove_stale_staging(target)
    report = RenderReport(target)
    with _terminate_as_interrupt():
        if not target.exists():
            _first_render(target, parts, count, report)
            return report
        manifest = _manifest(target)
        present = None if manifest is not None else _listing(target)
        ours = manifest if manifest is not None else _legacy_ours(present or set())
        names, changed = _render_compared(target, parts, count, ours)
        new = set(names)
        base = str(target)
        if not changed and not any(os.path.lexists(f"{base}/{rel}") for rel in ours - new):
            report.unchanged = len(new)
            return report  # nothing to write: the old inventory stays as it is
        if present is None:
            present = _listing(target)
        ours &= present
        report.written = sorted(changed)
        report.removed = sorted(ours - new)
        report.unchanged = len(new) - len(changed)
        if not report.written and not report.removed:
            return report
        foreign = sorted(present - ours)
        clash = [rel for rel in foreign if rel in new]
        if clash:
            raise InputError(
                [
                    Problem(
                        str(target / rel),
                        None,
                        None,
                        "not written by confprov, but the registry makes this file: "
                        "move it out of the inventory (or rename the host)",
                    )
                    for rel in clash
                ]
            )
        _swap_in(target, names, changed, foreign)
    return report


def _swap_in(target: Path, names: list[str], changed: dict[str, bytes], foreign: list[str]) -> None:
    """Build the new inventory beside ``target`` and exchange the two folders."""
    base = str(target)
    staging = _new_staging(target)
    try:
        for sub in _SUBDIRS:
            (staging / sub).mkdir()
        stage = str(staging)
        for rel in names:  # plain strings and syscalls: tens of thousands of files
            data = changed.get(rel)
            if data is None:
                # The old file itself (same inode, same time): an unchanged file is not
                # touched, and removing the old folder frees nothing.
                os.link(f"{base}/{rel}", f"{stage}/{rel}", follow_symlinks=False)
            else:
                _create(f"{stage}/{rel}", data)
        for rel in foreign:
            _carry(target / rel, staging / rel)
        (staging / MANIFEST).write_text("".join(f"{rel}\n" for rel in sorted(names)))
        staging.chmod(0o755)
        if not (target / MANIFEST).exists():
            (target / MANIFEST).touch()  # so the old one, once swapped out, is ours to clean
        _exchange(staging, target)
    finally:
        # The new files on failure, else the old ones; a signal waits until they are gone.
        with _signals_blocked():
            shutil.rmtree(staging, ignore_errors=True)


def _new_staging(target: Path) -> Path:
    """A staging folder beside ``target``, marked confprov's (a manifest) from its first moment."""
    with _signals_blocked():
        staging = Path(tempfile.mkdtemp(dir=target.parent, prefix=f".{target.name}."))
        (staging / MANIFEST).touch()
    return staging


def _first_render(target: Path, parts: Parts, count: int, report: RenderReport) -> None:
    """No inventory yet: render into a staging folder and rename it into place."""
    staging = _new_staging(target)
    try:
        _render_into(staging, parts, count)
        new = _listing(staging)
        (staging / MANIFEST).write_text("".join(f"{rel}\n" for rel in sorted(new)))
        staging.chmod(0o755)
        with _signals_blocked():
            staging.rename(target)
        report.written = sorted(new)
    finally:
        with _signals_blocked():
            shutil.rmtree(staging, ignore_errors=True)  # gone already unless this failed
