"""`confprov watch` on the lab: real agents on the endpoints, the real collector beside Kamailio.

Real parts: both roles deployed through the runner façade over SSH, the agents' probes over the
routed media path (a static route to the conference network in each FRR router), SIP OPTIONS
answered by the lab's Kamailio, router management reachability over SSH's port, nftables loss
and a WAN link cut by `lab fault`. One stand-in, said here: the conference client is a process
named like the client (`exec -a baresip sleep`), because the watch only looks for its process.
Everything is undone at the end: faults cleared, agents and collector stopped, routes removed.
"""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from confprov.lab.system import lab_unavailable

if (_reason := lab_unavailable()) is not None:
    pytest.skip(_reason, allow_module_level=True)

pytestmark = pytest.mark.lab

AGENT_PID = "/run/confprov-watch-agent.pid"
COLLECTOR_PID = "/run/confprov-watch-collector.pid"
STANDIN_PID = "/tmp/confprov-test-client.pid"  # inside the lab host


def wait_for(what: str, check: Callable[[], bool], seconds: float) -> float:
    """Poll ``check`` until true; fail naming ``what`` after ``seconds``. Returns the wait."""
    start = time.monotonic()
    while not check():
        if time.monotonic() - start > seconds:
            pytest.fail(f"not within {seconds:g} s: {what}")
        time.sleep(0.05)
    return time.monotonic() - start


class Running:
    """The engine's loop in a thread, as `watch serve` runs it."""

    def __init__(self, workspace: Path) -> None:
        from confprov.watch.engine import open_engine

        self.engine = open_engine(workspace)
        self.loop = asyncio.new_event_loop()
        self.stop: asyncio.Event | None = None
        ready = threading.Event()

        def main() -> None:
            async def go() -> None:
                self.stop = asyncio.Event()
                ready.set()
                await self.engine.run(self.stop)

            self.loop.run_until_complete(go())

        self.thread = threading.Thread(target=main, daemon=True)
        self.thread.start()
        ready.wait(10)

    def states(self) -> dict[str, str]:
        return {v.site: v.state.value for v in self.engine.snapshot()}

    def view(self, site: str):
        return next(v for v in self.engine.snapshot() if v.site == site)

    def close(self) -> None:
        assert self.stop is not None
        self.loop.call_soon_threadsafe(self.stop.set)
        self.thread.join(10)
        self.engine.store.close()


def fault(lab, site: str, *flags: str) -> None:
    from confprov.cli import main

    assert main(["lab", "fault", "--name", lab.name, site, *flags]) == 0


def conference_route(lab, site: str, add: bool) -> None:
    no = "" if add else "no "
    lab.run(
        f"{site}-rt",
        [
            "vtysh",
            "-c",
            "configure terminal",
            "-c",
            f"{no}ip route {lab.plan.conf_net} {lab.plan.conf_wan}",
        ],
        check=False,
    )


def start_client(lab, site: str) -> None:
    lab.ssh(
        lab.endpoint(site),
        f"nohup bash -c 'exec -a baresip sleep 86400' >/dev/null 2>&1 & echo $! > {STANDIN_PID}",
    )


def stop_client(lab, site: str) -> None:
    lab.ssh(
        lab.endpoint(site),
        f"kill $(cat {STANDIN_PID}) 2>/dev/null; rm -f {STANDIN_PID}",
        check=False,
    )


def stop_daemon(lab, host: str, pidfile: str) -> None:
    lab.run(
        host,
        [
            "start-stop-daemon",
            "--stop",
            "--oknodo",
            "--retry",
            "TERM/5/KILL/2",
            "--remove-pidfile",
            "--pidfile",
            pidfile,
        ],
        check=False,
    )


@pytest.fixture(scope="module")
def deployed(lab) -> Iterator[dict]:
    """Routes to the conference network, stand-in clients, the watch deployed twice."""
    from confprov.watch.deploy import deploy

    for site in lab.sites:
        conference_route(lab, site, add=True)
        start_client(lab, site)
    first = deploy(lab.workspace)
    second = deploy(lab.workspace)
    try:
        yield {"first": first, "second": second}
    finally:
        for site in lab.sites:
            fault(lab, site, "--clear")
            stop_client(lab, site)
            stop_daemon(lab, site, AGENT_PID)
            lab.run(site, ["rm", "-f", "/etc/confprov/watch-agent.json"], check=False)
            conference_route(lab, site, add=False)
        stop_daemon(lab, "conference", COLLECTOR_PID)
        lab.run("conference", ["rm", "-f", "/etc/confprov/watch-collector.json"], check=False)


@pytest.fixture(scope="module")
def watch(lab, deployed) -> Iterator[Running]:
    running = Running(lab.workspace)
    try:
        yield running
    finally:
        running.close()


def all_up(watch: Running) -> Callable[[], bool]:
    return lambda: set(watch.states().values()) == {"up"}


def test_deploy_is_idempotent_and_the_key_stays_off_arguments_and_runs(lab, deployed):
    first, second = deployed["first"], deployed["second"]
    assert first.ok and second.ok, second.summary_text()
    assert len(first.hosts) == len(lab.sites) + 1  # every endpoint and the conference host
    assert not second.changed_hosts, second.summary_text()
    key = (lab.workspace / "watch.key").read_text().strip()
    assert (lab.workspace / "watch.key").stat().st_mode & 0o777 == 0o600
    for run in (first, second):
        for path in run.run_dir.rglob("*"):
            if path.is_file():
                assert key not in path.read_text(errors="replace"), path
    site = lab.sites[0]
    mode = lab.run(site, ["stat", "-c", "%a %U", "/etc/confprov/watch-agent.json"]).stdout
    assert mode.split() == ["600", "root"]
    cmdlines = lab.run(site, ["sh", "-c", "cat /proc/[0-9]*/cmdline | tr '\\0' ' '"]).stdout
    assert "probe.py agent --config /etc/confprov/watch-agent.json" in cmdlines
    assert key not in cmdlines


def test_every_site_comes_up_with_client_sip_and_router(lab, watch):
    wait_for("every site up", all_up(watch), 30)
    wait_for(
        "every router checked",
        lambda: all(v.router_reachable is not None for v in watch.engine.snapshot()),
        10,
    )
    for view in watch.engine.snapshot():
        assert view.client_running is True and view.router_reachable is True
        assert view.loss_ratio == 0.0 and 0 < view.rtt_ms < 100
    # SIP OPTIONS runs every 15 s: the first answer from Kamailio arrives within one interval.
    wait_for(
        "SIP OPTIONS answered from every site",
        lambda: all(v.sip_ok for v in watch.engine.snapshot()),
        20,
    )


def test_a_cut_site_is_down_within_the_gap_and_up_after_the_clean_window(lab, watch):
    config = watch.engine.config.watch
    site = lab.sites[1]
    wait_for("every site up", all_up(watch), 30)
    cut = time.time()
    fault(lab, site, "--down")
    try:
        # gap + one poll, and 1 s for the shared 2-core machine
        wait_for(
            f"{site} down",
            lambda: watch.states()[site] == "down",
            config.gap_s + config.poll_s + 1.0,
        )
        others = {s: state for s, state in watch.states().items() if s != site}
        assert set(others.values()) == {"up"}
        view = watch.view(site)
        assert "no probe" in view.reason or "không nhận được" in view.reason
        assert view.router_reachable is True  # only the WAN is cut: the router still answers
    finally:
        fault(lab, site, "--clear")
    cleared = time.time()
    wait_for(f"{site} back up", lambda: watch.states()[site] == "up", config.clean_s + 10)
    [back] = [e for e in watch.engine.events(cut) if e.site == site and e.to_state == "up"]
    assert back.t - cleared >= config.clean_s - 0.5  # hysteresis: not before a clean window
    incident = next(i for i in watch.engine.store.incidents(cut) if i.site == site)
    assert incident.state == "down" and incident.restored_at is not None
    assert incident.time_to_detect_s <= config.gap_s + config.poll_s + 1.0


def test_a_district_cut_whole_is_one_shared_line_incident_not_a_page_per_site(lab, watch):
    """The district's site and its commune share the district's line: cut both, and the board
    shows them `upstream` with the line as the reason, one incident for the line."""
    config = watch.engine.config.watch
    line = [s for s in lab.plan.sites if s.slug == lab.sites[1] or s.parent == lab.sites[1]]
    assert len(line) == 2, line  # generated_sites(3): the province, a district, its commune
    wait_for("every site up", all_up(watch), 30)
    cut = time.time()
    for site in line:
        fault(lab, site.slug, "--down")
    try:
        wait_for(
            "the district's line upstream",
            lambda: all(watch.states()[s.slug] == "upstream" for s in line),
            config.gap_s + config.poll_s + 5.0,
        )
        assert watch.states()[lab.sites[0]] == "up"
        assert "shared line" in watch.view(line[1].slug).reason or "đường truyền chung" in (
            watch.view(line[1].slug).reason
        )
        incidents = [(i.site, i.state) for i in watch.engine.store.incidents(cut)]
        assert (f"uplink:{lab.sites[1]}", "upstream") in incidents
        assert not [i for i in incidents if i[1] == "down"], incidents  # no site paged
    finally:
        for site in line:
            fault(lab, site.slug, "--clear")
    wait_for("the line back up", all_up(watch), config.clean_s + 10)
    key = f"uplink:{lab.sites[1]}"
    wait_for(
        "the line's incident closed after its clean window",
        lambda: all(i.restored_at for i in watch.engine.store.incidents(cut) if i.site == key),
        config.clean_s + 5,
    )
    lines = [i for i in watch.engine.store.incidents(cut) if i.site == key]
    assert len(lines) == 1, lines  # one incident for the line, however it came back


def test_killed_client_flags_the_site(lab, watch):
    site = lab.sites[2]
    wait_for("every site up", all_up(watch), 30)
    stop_client(lab, site)
    try:
        wait_for(f"{site} flags its client", lambda: watch.view(site).client_running is False, 5)
        view = watch.view(site)
        assert view.state.value == "degraded"
        assert "client" in view.reason or "phần mềm hội nghị" in view.reason
        assert {s: st for s, st in watch.states().items() if s != site} == {
            s: "up" for s in lab.sites if s != site
        }
    finally:
        start_client(lab, site)
    wait_for(f"{site} client running again", lambda: watch.view(site).client_running, 5)


def test_loss_5_percent_is_degraded_with_the_measured_loss(lab, watch):
    site = lab.sites[0]
    wait_for(f"{site} up", lambda: watch.states()[site] == "up", 30)
    fault(lab, site, "--loss", "5")
    try:
        wait_for(f"{site} degraded", lambda: watch.states()[site] == "degraded", 30)
        # The 30-s window fills: the measured loss approaches 5 % (150 probes: binomial spread).
        wait_for("a full window", lambda: (watch.view(site).loss_ratio or 0) >= 0.02, 30)
        view = watch.view(site)
        assert 0.01 < view.loss_ratio < 0.15, view
        assert "5" in view.reason or "%" in view.reason
    finally:
        fault(lab, site, "--clear")


def test_collector_stopped_is_every_site_upstream_and_one_incident(lab, watch):
    from confprov.watch.deploy import deploy

    wait_for("every site fresh", lambda: not watch.engine.stale, 10)
    start = time.time()
    stop_daemon(lab, "conference", COLLECTOR_PID)
    try:
        wait_for("every site upstream", lambda: set(watch.states().values()) == {"upstream"}, 10)
        assert watch.engine.stale
        incidents = watch.engine.store.incidents(start)
        assert [(i.site, i.state) for i in incidents if i.detected_at >= start] == [
            ("", "upstream")
        ]
        site_events = [e for e in watch.engine.events(start) if e.site and e.kind == "state"]
        assert site_events == []  # children are not paged one by one
    finally:
        again = deploy(lab.workspace)  # the collector is started again; nothing else changes
    assert again.ok and [h.host for h in again.changed_hosts] == ["conference-server"]
    wait_for("every site back", lambda: "upstream" not in watch.states().values(), 15)
    [incident] = [i for i in watch.engine.store.incidents(start) if i.site == ""]
    assert incident.restored_at is not None


def test_the_event_history_survives_a_restart_of_the_engine(lab, watch):
    from confprov.watch.engine import open_engine

    before = watch.engine.events()
    assert any(e.to_state == "down" for e in before)
    again = open_engine(lab.workspace)
    try:
        assert [e.id for e in again.events()][: len(before)] == [e.id for e in before]
        assert again.store.incidents()
    finally:
        again.store.close()
