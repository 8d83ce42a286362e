"""`lab up`, `lab down`, `lab status`: the life cycle, each step recorded before it is taken."""

from __future__ import annotations

import os
import shutil
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

from confprov.exceptions import EnvironmentProblem, InputError, NotReady
from confprov.lab import containers, hostfs, net
from confprov.lab import lab_workspace as labws
from confprov.lab.image import build_image, cached_image
from confprov.lab.plan import LabPlan, SiteSpec, check_name, make_plan
from confprov.lab.state import LABS_DIR, Entry, LabState, all_labs, claim
from confprov.lab.system import LAB_TOOLS, require_root, require_tools

# Services the conference host starts besides Kamailio: name → shell snippet (sourced by its
# boot script before sshd). The verify issue's media reflector registers itself here.
CONFERENCE_SERVICES: dict[str, str] = {}

Progress = Callable[[str], None]


def _quiet(_: str) -> None:
    return None


@dataclass
class UpResult:
    name: str
    workspace: Path
    plan: LabPlan
    timings: dict[str, float] = field(default_factory=dict)


def preflight() -> None:
    require_root("confprov lab")
    require_tools(LAB_TOOLS)


def up(
    name: str,
    specs: list[SiteSpec],
    workspace: Path | None = None,
    *,
    progress: Progress = _quiet,
    ssh_timeout: float = 180.0,
    labs_dir: Path = LABS_DIR,
    conference_services: dict[str, str] | None = None,
) -> UpResult:
    """Build lab ``name`` of ``specs`` and write its workspace; undo it all if a step fails.

    ``conference_services`` adds services to the conference host (name → shell snippet, started
    before its sshd) beside those registered in ``CONFERENCE_SERVICES``.
    """
    services = {**CONFERENCE_SERVICES, **(conference_services or {})}
    check_name(name)
    preflight()
    started = time.monotonic()
    timings: dict[str, float] = {}
    try:
        image = cached_image()
    except EnvironmentProblem:
        progress("building the lab image (debootstrap, once per recipe)…")
        image, spent = build_image()
        timings["image"] = spent
    state, slot = claim(name, labs_dir)
    try:
        plan = make_plan(name, slot, specs)
        target = (workspace or Path.cwd() / f"lab-{name}").resolve()
        labws.check_target(target, name)
        state.write_json("plan.json", plan.as_dict())
        state.write_json(
            "meta.json",
            {
                "name": name,
                "slot": slot,
                "phase": "building",
                "workspace": str(target),
                "image": str(image),
                "created": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
            },
        )
        progress(
            f"lab {name}: {len(plan.sites)} sites, {2 * len(plan.sites) + 1} hosts, "
            f"addresses {plan.block}, workspace {target}"
        )
        _build(state, plan, image, target, progress=progress, timings=timings, services=services)
    except BaseException:
        # A half-done lab is undone at once (the journal knows what exists), then the error shown.
        down(name, labs_dir=labs_dir)
        raise
    t = time.monotonic()
    missing = containers.wait_ssh(plan.mgmt_addresses(), ssh_timeout)
    timings["ready"] = time.monotonic() - t
    timings["total"] = time.monotonic() - started
    meta = state.meta()
    meta.update({"phase": "up" if not missing else "partial", "timings": timings})
    state.write_json("meta.json", meta)
    if missing:
        raise NotReady(
            f"lab {name}: {len(missing)} host(s) do not answer SSH after {ssh_timeout:.0f} s "
            f"(first: {', '.join(missing[:5])}); consoles in {state.hosts_dir}/*/console.log; "
            f"remove it with `confprov lab down --name {name}`"
        )
    return UpResult(name, target, plan, timings)


def _build(
    state: LabState,
    plan: LabPlan,
    image: Path,
    target: Path,
    *,
    progress: Progress,
    timings: dict[str, float],
    services: dict[str, str],
) -> None:
    t = time.monotonic()
    net.create(plan, state)
    timings["network"] = time.monotonic() - t

    t = time.monotonic()
    secrets = labws.new_secrets()
    client = hostfs.new_keypair(f"confprov-lab-{plan.name}")
    hosts, host_keys = _host_files(
        state, plan, image, client_public=client.public_line, secrets=secrets, services=services
    )
    timings["files"] = time.monotonic() - t

    t = time.monotonic()
    progress(f"starting {len(hosts)} hosts…")
    containers.start(image, hosts, state)
    state.record([Entry("workspace", str(target))])
    labws.write(
        target,
        plan,
        secrets,
        client=(client.private_openssh, client.public_line),
        host_keys=host_keys,
    )
    _hand_to_sudo_user(target)
    timings["start"] = time.monotonic() - t


def _host_files(
    state: LabState,
    plan: LabPlan,
    image: Path,
    *,
    client_public: str,
    secrets: labws.Secrets,
    services: dict[str, str],
) -> tuple[list[containers.HostSpec], dict[str, str]]:
    """Every host's upper folder; return the hosts and their public keys by management address."""
    writer = hostfs.HostWriter(image)
    shadow = writer.router_shadow(hostfs.password_hash(secrets.router_password))
    state.hosts_dir.mkdir(exist_ok=True)
    host_keys: dict[str, str] = {}
    hosts: list[containers.HostSpec] = []

    def host(
        machine: str, hostname: str, address: str, router: bool
    ) -> tuple[Path, hostfs.KeyPair]:
        folder = state.hosts_dir / machine
        upper = folder / "upper"
        upper.mkdir(parents=True)
        hosts.append(
            containers.HostSpec(machine, hostname, machine, upper, folder / "console.log", router)
        )
        # sudo resolves its own host name: give each host an /etc/hosts naming itself.
        hosts_file = f"127.0.0.1 localhost\n127.0.1.1 {hostname}\n::1 localhost\n"
        writer.write(upper, "etc/hosts", hosts_file, 0o644)
        pair = hostfs.new_keypair()
        host_keys[address] = pair.public_line
        return upper, pair

    upper, pair = host(plan.conf_ns, f"conference-{plan.name}", plan.conf_mgmt, router=False)
    hostfs.conference_files(
        writer,
        upper,
        pair,
        client_public=client_public,
        server=plan.conf_server,
        services=services,
    )
    for s in plan.sites:
        upper, pair = host(s.endpoint_ns, s.slug, s.endpoint_mgmt, router=False)
        hostfs.endpoint_files(writer, upper, pair, client_public)
        upper, pair = host(s.router_ns, f"{s.slug}-rt", s.router_mgmt, router=True)
        hostfs.router_files(writer, upper, pair, shadow)
    return hosts, host_keys


def _hand_to_sudo_user(workspace: Path) -> None:
    """Under sudo, give the workspace to the invoking user, who runs provision/verify on it."""
    uid, gid = os.environ.get("SUDO_UID"), os.environ.get("SUDO_GID")
    if not uid or not gid:
        return
    for path in [workspace, *(workspace / f for f in labws.LAB_FILES)]:
        if path.exists():
            os.chown(path, int(uid), int(gid))


@dataclass
class DownResult:
    name: str
    removed: list[str]
    workspace: str


def down(name: str, *, labs_dir: Path = LABS_DIR) -> DownResult:
    """Remove everything the lab made; works on a finished, half-built or crashed lab."""
    check_name(name)
    require_root("confprov lab down")
    state = LabState(name, labs_dir)
    if not state.exists():
        raise InputError(f"no lab {name!r} (labs: {', '.join(all_labs(labs_dir)) or 'none'})")
    entries = state.entries()
    removed: list[str] = []
    stopped = containers.stop(entries)
    if stopped:
        removed.append(f"{stopped} processes")
    removed += net.remove(entries)
    for entry in entries:
        if entry.kind == "dir":
            shutil.rmtree(entry.value, ignore_errors=True)
    # Upper folders can be large (what roles installed): remove them in parallel.
    hosts = list(state.hosts_dir.iterdir()) if state.hosts_dir.exists() else []
    with ThreadPoolExecutor(max_workers=4) as pool:
        list(pool.map(lambda p: shutil.rmtree(p, ignore_errors=True), hosts))
    workspace = state.meta().get("workspace", "")
    state.remove()
    removed.append("state")
    return DownResult(name, removed, str(workspace))


@dataclass
class Status:
    name: str
    phase: str
    workspace: str
    block: str
    sites: int
    hosts: int
    running: int
    faults: dict[str, list[str]]

    def text(self) -> str:
        running = (
            f"{self.running}/{self.hosts} hosts running"
            if self.running >= 0
            else f"{self.hosts} hosts (as root: how many run)"
        )
        lines = [
            f"lab {self.name}: {self.phase}, {running}, {self.sites} sites, addresses {self.block}",
            f"workspace: {self.workspace}",
        ]
        for site, faults in sorted(self.faults.items()):
            if faults:
                lines.append(f"fault on {site}: {', '.join(faults)}")
        return "\n".join(lines)


def status(name: str, *, labs_dir: Path = LABS_DIR) -> Status:
    check_name(name)
    state = LabState(name, labs_dir)
    if not state.exists():
        raise InputError(f"no lab {name!r} (labs: {', '.join(all_labs(labs_dir)) or 'none'})")
    meta = state.meta()
    plan = state.plan()
    entries = state.entries()
    faults = state.read_json("faults.json") or {}
    hosts = 2 * len(plan.sites) + 1 if plan else 0
    return Status(
        name=name,
        phase=str(meta.get("phase", "unknown")),
        workspace=str(meta.get("workspace", "")),
        block=plan.block if plan else "?",
        sites=len(plan.sites) if plan else 0,
        hosts=hosts,
        running=containers.alive(entries) if os.geteuid() == 0 else -1,
        faults=faults,
    )
