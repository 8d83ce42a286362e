"""One ``confprov provision`` run: targets, mirror, served package source, the play, the survey."""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from confprov import nodes as execution
from confprov import runner
from confprov.exceptions import InputError, Problem
from confprov.provision import mirror, survey, targets
from confprov.provision import windows as winprov
from confprov.provision.profiles import Profile, load_profile
from confprov.workspace import Loaded, load, render_workspace_inventory

PLAYBOOK = "provision.yml"
ACTION = "provision"
CHECK_ACTION = "provision-check"
# The apt module of Ansible needs python3-apt on the endpoint: the mirror carries it.
ANSIBLE_NEEDS = ("python3-apt",)


# --check: the roles whose tasks/report.yml lists what a real run would change, in the one task
# of that role running REPORT_ACTION (tests/contracts keeps it the only one).
REPORT_ROLES = ("conference_client", "endpoint_baseline")
REPORT_ACTION = "ansible.builtin.debug"


@dataclass(kw_only=True)
class ProvisionOutcome:
    result: runner.RunResult | None
    mirror: mirror.MirrorState | None = None
    targets: targets.Targets | None = None
    survey: survey.SurveySummary | None = None
    notes: list[str] = field(default_factory=list)
    would_change: dict[str, list[str]] = field(default_factory=dict)  # --check: host -> what

    @property
    def exit_code(self) -> int:
        if self.result is None:
            return 0
        return 0 if self.result.ok else 1

    def to_json(self) -> dict[str, Any]:
        return {
            "result": self.result.to_json() if self.result else None,
            "mirror": str(self.mirror.path) if self.mirror else None,
            "windows": list(self.targets.windows) if self.targets else [],
            "survey": self.survey.to_json() if self.survey else None,
            "would_change": self.would_change,
            "notes": self.notes,
        }


def baseline_packages() -> list[str]:
    """The endpoint_baseline role's packages, read from its defaults (one source of truth)."""
    import yaml

    from confprov import paths

    defaults = paths.roles_path() / "endpoint_baseline" / "defaults" / "main.yml"
    data = yaml.safe_load(defaults.read_text()) or {}
    return [str(p) for p in data.get("endpoint_baseline_packages", [])]


def mirror_spec(profile: Profile, version: str) -> mirror.MirrorSpec:
    release, arch = mirror.controller_release()
    return mirror.MirrorSpec(
        profile=profile.name,
        pinned=tuple(f"{p}={version}" for p in profile.packages),
        extra=tuple(sorted({*baseline_packages(), *ANSIBLE_NEEDS})),
        release=release,
        arch=arch,
    )


def prepare_mirror(loaded: Loaded, *, rebuild: bool = False) -> tuple[Profile, mirror.MirrorState]:
    config = loaded.config
    if config.package_source.kind != "apt":
        raise InputError(
            [
                Problem(
                    str(loaded.workspace / "confprov.yml"),
                    None,
                    "package_source.kind",
                    f"{config.package_source.kind!r} is not supported: use apt",
                )
            ]
        )
    profile = load_profile(config.client.profile, config=str(loaded.workspace / "confprov.yml"))
    spec = mirror_spec(profile, profile.version(config.client.version))
    return profile, mirror.ensure_mirror(loaded.workspace, spec, rebuild=rebuild)


def served_addresses(addresses: dict[str, str]) -> dict[str, str]:
    """Host -> the controller address it reaches us from (where the mirror must listen)."""
    out: dict[str, str] = {}
    problems: list[Problem] = []
    for host, address in addresses.items():
        try:
            out[host] = mirror.source_address(address)
        except OSError as exc:
            problems.append(
                Problem("registry", None, host, f"no route to {address} ({exc.strerror})")
            )
    if problems:
        raise InputError(problems)
    return out


def provision(
    workspace: Path,
    *,
    limits: Sequence[str] = (),
    check: bool = False,
    retry_failed: bool = False,
    forks: int = 20,
    on_progress: runner.ProgressCallback | None = None,
    say: Callable[[str], None] = lambda _: None,
    nodes: Path | None = None,
) -> ProvisionOutcome:
    if forks < 1:
        raise InputError([Problem("--forks", None, None, "must be 1 or more")])
    loaded = load(workspace)
    only: list[str] | None = None
    if retry_failed:
        within = None
        if limits:
            limited = targets.resolve(loaded.registry, limits)
            within = [*limited.hosts, *limited.windows]
        try:
            only = runner.retry_limit(workspace, ACTION, within)
        except runner.NothingToRetry as nothing:
            return ProvisionOutcome(result=None, notes=[str(nothing)])
    chosen = targets.resolve(loaded.registry, limits, only)
    notes: list[str] = []
    if not chosen.hosts and not chosen.windows:
        raise InputError([Problem("--limit", None, ", ".join(limits), "selects no endpoint")])
    # Everything that can refuse the input is checked before anything is served or run.
    every = [*chosen.hosts, *chosen.windows]
    spread = execution.spread_for(workspace, nodes, loaded.config, loaded.registry, every)
    windows = winprov.plan(workspace, loaded.config) if chosen.windows else None
    say(render_workspace_inventory(workspace).text())
    state = None
    extra: dict[str, Any] = {}
    if chosen.hosts:
        profile, state = prepare_mirror(loaded)
        say(state.text())
        extra = play_vars(workspace, profile)
    if windows is not None:
        say(windows.text())
    limit = every if only is not None else list(chosen.groups)
    action = CHECK_ACTION if check else ACTION
    with (
        served(workspace, loaded, chosen.addresses) as urls,
        served_windows(workspace, loaded, windows, chosen.windows_addresses) as win_urls,
    ):
        for what, served_urls in (("the mirror", urls), ("the Windows packages", win_urls)):
            if served_urls:
                say(f"serving {what} at {', '.join(sorted(set(served_urls.values())))}")
        if windows is not None:
            extra.update(windows.play_vars(win_urls))
        result = runner.run_playbook(
            workspace, PLAYBOOK, action=action, limit=limit, check=check, forks=forks,
            extra_vars={**extra, "confprov_mirror_urls": urls}, on_progress=on_progress,
            total=len(chosen.hosts), spread=spread,
        )  # fmt: skip
    surveys = survey.summarise(survey.load(workspace, every))
    outcome = ProvisionOutcome(
        result=result, mirror=state, targets=chosen, survey=surveys, notes=notes
    )
    if check:
        outcome.would_change = would_change(result.run_dir)
    return outcome


def would_change(run_dir: Path) -> dict[str, list[str]]:
    """What a --check run found different, per host, from the run's own job events.

    The roles' report task (each REPORT_ROLES role's one ``REPORT_ACTION`` task, found by
    role and action, never by its display name) lists each difference (never a file's content).
    """
    out: dict[str, list[str]] = {}
    for task in runner.task_results(run_dir):
        if task.role in REPORT_ROLES and task.is_action(REPORT_ACTION) and not task.item:
            if task.status not in ("ok", "changed"):
                continue
            messages = task.res.get("msg", [])
            out.setdefault(task.host, []).extend(
                messages if isinstance(messages, list) else [str(messages)]
            )
        elif change := _windows_change(task):
            # Windows: stock modules say themselves in check mode what they would change.
            out.setdefault(task.host, []).append(change)
    return {host: sorted(set(lines)) for host, lines in sorted(out.items())}


def _windows_change(task: runner.TaskResult) -> str:
    """ "task: item" for a changed ansible.windows task (an item or the task itself), else ""."""
    if not task.action.startswith("ansible.windows.") or task.status != "changed":
        return ""
    if "results" in task.res:  # a loop's summary: its items are listed
        return ""
    label = task.res.get("_ansible_item_label", "")
    return f"{task.task}: {label}" if label else task.task


def play_vars(workspace: Path, profile: Profile) -> dict[str, Any]:
    """The extra variables playbooks/provision.yml expects (besides the mirror URLs)."""
    manifest = mirror.read_manifest(workspace) or {}
    return {
        "confprov_client_profile": profile.as_vars(),
        "confprov_mirror_key": mirror.public_key(workspace),
        "confprov_mirror_release": str(manifest.get("spec", {}).get("release", "")),
    }


def export_vars(workspace: Path, loaded: Loaded) -> tuple[dict[str, Any], list[str]]:
    """provision.yml's variables for a run without confprov (AWX, plain ansible-playbook), with
    notes on what such a run still needs. The same play_vars as a run's; no mirror is served
    (nothing here serves one): endpoints take confprov.yml's package_source.url."""
    config = loaded.config
    profile = load_profile(config.client.profile, config=str(loaded.workspace / "confprov.yml"))
    notes: list[str] = []
    out: dict[str, Any] = {"confprov_mirror_urls": {}}
    if mirror.read_manifest(workspace) is None:
        out["confprov_client_profile"] = profile.as_vars()
        notes.append(
            "provision: no mirror in the workspace yet (its signing key and release are "
            "needed): run `confprov mirror`, then export-vars again"
        )
    else:
        out.update(play_vars(workspace, profile))
    if not config.package_source.url:
        notes.append(
            "provision: confprov.yml package_source.url is empty: serve the workspace's "
            f"{mirror.MIRROR_DIR}/ folder on a web server the endpoints reach and set it"
        )
    if any(site.endpoint_os == "windows" for site in loaded.registry.sites):
        try:
            windows = winprov.plan(workspace, config)
        except InputError as exc:  # what `provision` would refuse: said, the rest exported
            notes.extend(f"provision: Windows endpoints left out: {p}" for p in exc.problems)
        else:
            out.update(windows.play_vars({}))
            if windows.package is not None:
                # `confprov provision` serves the MSI from the controller for its one run;
                # nothing serves it for a run without confprov, so no URL can be exported.
                notes.append(
                    f"provision: the Windows profile installs {windows.package.file}, and no "
                    "URL of it can be exported (confprov serves it only during its own "
                    "provision): put it on a web server the Windows endpoints reach and give "
                    "confprov_windows_package_urls {HOST: URL, ...} with the play's variables "
                    "(docs/awx.md), else every Windows endpoint fails at its first check"
                )
    return out, notes


@contextlib.contextmanager
def served_windows(
    workspace: Path,
    loaded: Loaded,
    windows: winprov.WindowsPlan | None,
    addresses: dict[str, str],
) -> Iterator[dict[str, str]]:
    """Host -> base URL of the Windows package folder while the block runs (nothing to serve
    for a browser profile or when no Windows endpoint is selected)."""
    if windows is None or windows.package is None:
        yield {}
        return
    with winprov.served(winprov.package_folder(workspace, loaded.config), addresses) as urls:
        yield urls


@contextlib.contextmanager
def served(workspace: Path, loaded: Loaded, addresses: dict[str, str]) -> Iterator[dict[str, str]]:
    """Host -> mirror URL while the block runs: confprov's own server on the management network,
    or nothing when confprov.yml names a web server (package_source.url) holding a copy."""
    if loaded.config.package_source.url:
        yield {}
        return
    if not addresses:
        yield {}
        return
    by_host = served_addresses(addresses)
    with mirror.serve(workspace / mirror.MIRROR_DIR, by_host.values()) as urls:
        yield {host: urls[address] for host, address in by_host.items()}
