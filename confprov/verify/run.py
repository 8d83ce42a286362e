"""One verification: choose the sites, run the check play, judge, check routers, store.

The play runs one task per endpoint (module ``confprov_check``); its results are read back from
the run's own ansible-runner events (``artifacts/*/job_events``), the same files anyone can audit.
Probe concurrency is Ansible's ``forks``, bounded so that the probes together never exceed the
conference side's uplink (``uplink_kbps // bitrate_kbps``).
"""

from __future__ import annotations

from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from confprov import nodes as execution
from confprov import runner
from confprov.config import Config
from confprov.exceptions import ConfprovError, InputError, Problem
from confprov.registry import Registry, Site
from confprov.runner import ProgressCallback, RunResult, run_playbook
from confprov.selection import select
from confprov.verify import store
from confprov.verify import windows as win
from confprov.verify.evaluate import (
    SiteResult,
    Verdict,
    endpoint_verdicts,
    host_failure,
)

PLAYBOOK = "verify.yml"
MODULE = "confprov_check"
DEFAULT_FORKS = 50
# verify.yml fails every endpoint that is not ready (a job's status is readiness) unless false.
FAIL_NOT_READY = "confprov_verify_fail_not_ready"


@dataclass
class Outcome:
    run: store.RunInfo
    sites: list[SiteResult]
    run_dir: Path


def probe_limit(config: Config, override: int | None = None) -> int:
    """How many media probes may run at once: the conference uplink divided by one probe's rate.

    Explicit argument (``--max-probes``) first, then ``verify.max_parallel_probes`` in
    confprov.yml, then what the uplink carries.
    """
    if override is not None:
        if override < 1:
            raise InputError([Problem("", None, "--max-probes", "must be at least 1")])
        return override
    if config.verify.max_parallel_probes:
        return config.verify.max_parallel_probes
    return max(1, config.conference.uplink_kbps // max(1, config.media.bitrate_kbps))


def select_sites(
    workspace: Path, registry: Registry, *, failed_only: bool, limit: Sequence[str]
) -> list[Site]:
    """The sites ``limit`` selects (confprov.selection), narrowed to last run's red ones
    (runner.retry_selection: the rule of every command's retry; NothingToRetry when none)."""
    chosen = list(select(registry, limit).sites)
    if failed_only:
        within = [s.slug for s in chosen] if limit else None
        red = set(runner.retry_selection(store.not_ready_sites(workspace), within))
        chosen = [s for s in chosen if s.slug in red]
    return chosen


def client_vars(config: Config) -> dict[str, str]:
    """Package, pinned version and account file of the client, from provisioning's profile."""
    from confprov.provision.profiles import load_profile

    profile = load_profile(config.client.profile)
    accounts = next((f.path for f in profile.files if f.secret), "")
    return {
        "connection_check_client_package": profile.packages[0] if profile.packages else "",
        "connection_check_client_version": config.client.version or profile.default_version,
        "connection_check_client_config": f"~/{accounts}" if accounts else "",
    }


def windows_findings(workspace: Path, config: Config, sites: Sequence[Site]) -> win.Findings:
    """What a run knows of Windows endpoints before it starts: the pinned MSI, when any of
    ``sites`` has Windows endpoints."""
    if any(s.endpoint_os == "windows" for s in sites):
        return win.pinned(workspace, config)
    return win.Findings()


def play_vars(config: Config, windows: win.Findings) -> dict[str, Any]:
    """The variables of playbooks/verify.yml: what ``confprov verify`` passes and ``confprov
    export-vars`` writes (one place): the client's package, pinned version and account file,
    and the pinned Windows MSI."""
    return {**client_vars(config), **windows.pinned}


def module_results(run: RunResult) -> dict[str, dict[str, Any]]:
    """The check module's result per host, from the run's ansible-runner events.

    The task's duration (ansible-runner's ``event_data.duration``, seconds) is kept beside the
    result as ``_seconds``: JUnit's time of the site.
    """
    out: dict[str, dict[str, Any]] = {}
    for task in run.results(actions=(MODULE,)):
        if task.status in ("ok", "changed") and not task.item:
            out[task.host] = {**task.res, "_seconds": task.seconds}
    return out


def router_verdicts(workspace: Path, routers: list[str]) -> dict[str, Verdict]:
    """Read-only router checks from the routers area: reachable, intended lines present."""
    if not routers:
        return {}
    from confprov.routers import check_routers

    threshold = "reachable, intended lines present"
    try:
        results = check_routers(workspace, routers)
    except ConfprovError as exc:  # the checker itself failed: every router says so, run kept
        reason = f"router checks could not run: {exc}"
        return {
            host: Verdict(
                host=host, check="router", severity="fail", threshold=threshold, reason=reason
            )
            for host in routers
        }
    out: dict[str, Verdict] = {}
    for host, r in results.items():
        if r.ok:
            reason = f"{host} ({r.address}) reachable, intended lines present"
        elif not r.reachable:
            reason = f"router {host} ({r.address}) not reachable: {r.error}"
        else:
            missing = "; ".join(r.missing) or r.error
            reason = f"router {host} ({r.address}): intended lines missing: {missing}"
        out[host] = Verdict(
            host=host,
            check="router",
            severity="pass" if r.ok else "fail",
            threshold=threshold,
            reason=reason,
        )
    return out


def judge(
    config: Config,
    sites: list[Site],
    run: RunResult | None,
    modules: dict[str, dict[str, Any]],
    routers: dict[str, Verdict],
    *,
    surveys: dict[str, dict[str, Any]] | None = None,
    windows: win.Findings | None = None,
) -> list[SiteResult]:
    """Every chosen site's verdicts; ``surveys`` are the room surveys by host (provision's)."""
    from confprov.verify.room import room_verdict

    surveys = surveys or {}
    hosts = run.hosts if run is not None else {}
    out: list[SiteResult] = []
    for site in sites:
        result = SiteResult(
            site=site.slug, name=site.name, level=site.level, district=site.grouping
        )
        for host in site.endpoint_hosts:
            if windows is not None and host in windows.results:
                result.checks.extend(win.verdicts(host, site.slug, windows, config))
            elif host in modules:
                result.checks.extend(endpoint_verdicts(host, modules[host], config.thresholds))
                result.seconds = max(result.seconds, float(modules[host].get("_seconds", 0.0)))
            elif host in hosts and hosts[host].status in ("failed", "unreachable"):
                h = hosts[host]
                result.checks.append(host_failure(host, h.status, h.message))
            else:
                result.checks.append(host_failure(host, "failed", "no result from Ansible"))
        room = room_verdict(site.endpoint_hosts, surveys, config.equipment.get(site.level, []))
        if room is not None:
            result.checks.append(room)
        if site.router_host in routers:
            result.checks.append(routers[site.router_host])
        out.append(result)
    return out


def deploy_reflector(workspace: Path) -> RunResult:
    """Install and start the media reflector on the conference host (playbooks/conference.yml)."""
    from confprov.workspace import render_workspace_inventory

    render_workspace_inventory(workspace)
    return run_playbook(workspace, "conference.yml", action="reflector")


def verify(
    workspace: Path,
    *,
    failed_only: bool = False,
    limit: Sequence[str] = (),
    forks: int = DEFAULT_FORKS,
    max_probes: int | None = None,
    check_routers: bool = True,
    on_progress: ProgressCallback | None = None,
    nodes: Path | None = None,
) -> Outcome:
    """Verify the chosen sites; runner.NothingToRetry when --failed-only finds no site left
    to recheck."""
    from confprov.workspace import load, render_workspace_inventory

    loaded = load(workspace)
    parallel = min(forks, probe_limit(loaded.config, max_probes))
    sites = select_sites(workspace, loaded.registry, failed_only=failed_only, limit=limit)
    scope = "failed-only" if failed_only else "limit" if limit else "all"
    started = store.now()
    hosts = [h for s in sites for h in s.endpoint_hosts]
    spread = execution.spread_for(workspace, nodes, loaded.config, loaded.registry, hosts)
    render_workspace_inventory(workspace)
    windows = windows_findings(workspace, loaded.config, sites)
    run = None
    modules: dict[str, dict[str, Any]] = {}
    router_hosts = [s.router_host for s in sites if s.router_host] if check_routers else []
    # Routers are checked from the controller while the endpoints run their probes.
    with ThreadPoolExecutor(max_workers=1) as pool:
        routers_future = pool.submit(router_verdicts, workspace, router_hosts)
        if hosts:
            run = run_playbook(
                workspace,
                PLAYBOOK,
                action="verify",
                limit=hosts,
                forks=max(1, parallel),
                # confprov judges on the controller (below): the play's own verdict is off.
                extra_vars={**play_vars(loaded.config, windows), FAIL_NOT_READY: False},
                on_progress=on_progress,
                total=len(hosts),
                spread=spread,
            )
            modules = module_results(run)
        routers = routers_future.result()
    from confprov.provision import survey

    all_hosts = [h for s in sites for h in s.endpoint_hosts]
    windows.results = win.results(run.run_dir) if run is not None else {}
    results = judge(
        loaded.config,
        sites,
        run,
        modules,
        routers,
        surveys=survey.load(workspace, all_hosts),
        windows=windows,
    )
    run_dir = str(run.run_dir) if run is not None else ""
    run_id = store.save_run(workspace, results, started=started, scope=scope, run_dir=run_dir)
    return Outcome(store.run_info(workspace, run_id), results, Path(run_dir))
