"""The board on the lab: `confprov watch serve` as a process over the real engine, agents and
collector (deployed by `watch deploy`), driven from real headless Chromium.

- a site whose router lost its conference route (removed by hand in vtysh) goes down; "re-push
  router" clicked on the board runs `routers push --limit SITE` and brings it back, a second
  click meanwhile is told the push is running (409), and the event log keeps who, when, result;
- restarting `watch serve` keeps that incident and its events;
- bound to the lab's controller address (beyond loopback) it refuses requests without the token.

Stand-in, as in tests/lab/test_watch.py (whose helpers this file reuses): the conference client
is a process named like the client, since the watch only looks for its process.
Everything is undone at the end: routes and descriptions removed, agents and collector stopped.
"""

from __future__ import annotations

import base64
import importlib.util
import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from confprov.lab.system import lab_unavailable

if (_reason := lab_unavailable()) is not None:
    pytest.skip(_reason, allow_module_level=True)

from test_routers import unpush
from test_watch import (
    AGENT_PID,
    COLLECTOR_PID,
    conference_route,
    start_client,
    stop_client,
    stop_daemon,
    wait_for,
)

pytestmark = pytest.mark.lab

_spec = importlib.util.spec_from_file_location(
    "browser_conftest", Path(__file__).resolve().parent.parent / "browser" / "conftest.py"
)
assert _spec is not None and _spec.loader is not None
_browser_conftest = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(_browser_conftest)
browser = _browser_conftest.browser  # the real headless Chromium fixture of tests/browser

TECHNICIAN = "Kỹ thuật viên Hà"
TOKEN = "lab-board-token-0123456789abcdef"


@pytest.fixture(scope="module")
def board_deployed(lab) -> Iterator[None]:
    """Routes to the conference network, stand-in clients, the watch deployed by the CLI."""
    for site in lab.sites:
        conference_route(lab, site, add=True)
        start_client(lab, site)
    deployed = subprocess.run(
        [sys.executable, "-m", "confprov", "watch", "deploy", "-w", str(lab.workspace)],
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert deployed.returncode == 0, deployed.stdout + deployed.stderr
    assert "watch-deploy" in deployed.stdout
    try:
        yield
    finally:
        for site in lab.sites:
            stop_client(lab, site)
            stop_daemon(lab, site, AGENT_PID)
            lab.run(site, ["rm", "-f", "/etc/confprov/watch-agent.json"], check=False)
            unpush(lab, site)
        stop_daemon(lab, "conference", COLLECTOR_PID)
        lab.run("conference", ["rm", "-f", "/etc/confprov/watch-collector.json"], check=False)


def free_port(host: str) -> int:
    with socket.socket() as s:
        s.bind((host, 0))
        return s.getsockname()[1]


class Serve:
    """`confprov watch serve` as an operator runs it, stopped with Ctrl-C (SIGINT)."""

    def __init__(self, workspace: Path, bind: str = "127.0.0.1", env: dict[str, str] | None = None):
        self.host, self.port = bind, free_port(bind)
        self.url = f"http://{bind}:{self.port}/"
        self.proc = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "confprov",
                "watch",
                "serve",
                "-w",
                str(workspace),
                "--bind",
                bind,
                "--port",
                str(self.port),
            ],
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            env={**os.environ, **(env or {})},
        )
        wait_for("the board answers", self._answers, 30)

    def _answers(self) -> bool:
        assert self.proc.poll() is None, self.proc.communicate()[0]
        try:
            urllib.request.urlopen(self.url + "api/sites", timeout=2).close()
        except urllib.error.HTTPError:
            return True  # it answers (401 when a token is needed)
        except OSError:
            return False
        return True

    def get(self, path: str) -> Any:
        with urllib.request.urlopen(self.url + path, timeout=10) as r:
            return json.loads(r.read())

    def states(self) -> dict[str, str]:
        return {s["site"]: s["state"] for s in self.get("api/sites")["sites"]}

    def stop(self) -> str:
        self.proc.send_signal(signal.SIGINT)
        out, _ = self.proc.communicate(timeout=30)
        assert self.proc.returncode == 0, out
        return out


def test_repush_router_from_the_board_brings_the_site_back_audited(lab, board_deployed, browser):
    site = lab.sites[1]
    serve = Serve(lab.workspace)
    try:
        wait_for("every site up", lambda: set(serve.states().values()) == {"up"}, 60)
        conference_route(lab, site, add=False)  # removed by hand, as an operator might
        wait_for(f"{site} down", lambda: serve.states()[site] == "down", 15)
        browser.open(serve.url)
        browser.wait_for("document.body.dataset.ready === '1'")
        tile = f"document.getElementById('site-{site}')"
        browser.wait_for(f"{tile}.className === 'site st-down'")
        browser.type_text("#who", TECHNICIAN)
        button = f"{tile}.querySelector('button[data-action=router]')"
        clicked = time.time()
        browser.js(f"{button}.click()")
        browser.wait_for(f"{tile}.querySelector('.run').className === 'run running'")
        browser.js(f"{button}.click()")  # a second click while the push runs
        browser.wait_for(
            f"{tile}.querySelector('.run').textContent.includes('already running')"
            f" || {tile}.querySelector('.run').className !== 'run running'"
        )
        wait_for(f"{site} up again", lambda: serve.states()[site] == "up", 120)
        browser.wait_for(f"{tile}.className === 'site st-up'", 30)
        actions = [e for e in serve.get(f"api/events?since={clicked - 1}") if e["kind"] == "action"]
        assert [(e["site"], e["who"]) for e in actions] == [(site, TECHNICIAN)] * 2, actions
        assert actions[0]["text"] == "router: started"
        assert actions[1]["text"].startswith("router: ok: routers-push: 1 routers: 1 changed"), (
            actions
        )
        assert clicked - 1 <= actions[0]["t"] <= actions[1]["t"]
        assert (
            lab.plan.conf_net
            in lab.run(f"{site}-rt", ["vtysh", "-c", "show running-config"]).stdout
        )
    finally:
        serve.stop()
    # Restarted: the incident and the audited actions are still there.
    serve = Serve(lab.workspace)
    try:
        events = serve.get(f"api/events?since={clicked - 60}")
        assert any(e["site"] == site and e["to_state"] == "down" for e in events), events
        assert sum(e["kind"] == "action" and e["site"] == site for e in events) == 2
    finally:
        serve.stop()


def restore(lab, site: str, action: str) -> subprocess.CompletedProcess[str]:
    """`confprov watch restore` as an operator types it."""
    return subprocess.run(
        [sys.executable, "-m", "confprov", "watch", "restore", "-w", str(lab.workspace),
         site, "--action", action, "--who", TECHNICIAN],
        capture_output=True, text=True, timeout=900, check=False,
    )  # fmt: skip


def client_pids(lab, site: str) -> list[str]:
    """PIDs (inside the lab host) of processes named exactly like the client."""
    found = lab.run(site, ["pgrep", "-x", "baresip"], check=False).stdout
    return found.split()


def test_restart_client_from_the_cli_starts_the_real_client_and_the_site_clears(
    lab, board_deployed
):
    """The stand-in client killed: the site flags it; `watch restore --action client` runs
    provision --limit SITE, then starts the real baresip; the agent sees it, the site is up."""
    site = lab.sites[2]
    serve = Serve(lab.workspace)
    try:
        wait_for("every site up", lambda: set(serve.states().values()) == {"up"}, 60)
        stop_client(lab, site)
        wait_for(
            f"{site} flags its client",
            lambda: _site(serve, site)["client_running"] is False,
            15,
        )
        assert serve.states()[site] == "degraded"
        started = time.time()
        done = restore(lab, site, "client")
        assert done.returncode == 0, done.stdout + done.stderr
        assert f"{site}: client: ok: provision" in done.stdout
        assert "started on" in done.stdout, done.stdout  # it was not running: started now
        assert client_pids(lab, site), "no baresip process on the endpoint"
        wait_for(
            f"{site} client seen running",
            lambda: _site(serve, site)["client_running"] is True,
            15,
        )
        wait_for(f"{site} up again", lambda: serve.states()[site] == "up", 30)
        actions = [e for e in serve.get(f"api/events?since={started - 1}") if e["kind"] == "action"]
        assert [(e["site"], e["who"], e["text"].split(":")[0]) for e in actions] == [
            (site, TECHNICIAN, "client")
        ] * 2, actions
        assert actions[1]["text"].startswith("client: ok: provision")
        # Again: the client runs, so nothing is started a second time.
        again = restore(lab, site, "client")
        assert again.returncode == 0 and "it was running" in again.stdout, again.stdout
    finally:
        for pid in client_pids(lab, site):  # the real client this test started
            lab.run(site, ["kill", pid], check=False)
        start_client(lab, site)
        serve.stop()


def test_reverify_from_the_cli_runs_verify_for_that_site_and_stores_it(lab, board_deployed):
    """`watch restore --action verify`: `verify --limit SITE` against the real site, its run
    stored with the site, the outcome audited with the run's id."""
    from confprov.verify.store import load_run

    site = lab.sites[1]
    done = restore(lab, site, "verify")
    assert done.returncode in (0, 1), done.stdout + done.stderr
    said = done.stdout.strip().splitlines()[-1]
    assert said.startswith(f"{site}: verify: "), done.stdout
    run_id = int(said.split("verify run ")[1].split(")")[0])
    stored = load_run(lab.workspace, run_id)
    assert [s.site for s in stored] == [site]
    assert ("ok: ready" in said) == all(s.ready for s in stored)


def _site(serve: Serve, site: str) -> dict[str, Any]:
    return next(s for s in serve.get("api/sites")["sites"] if s["site"] == site)


def test_beyond_loopback_every_request_needs_the_token(lab, board_deployed):
    address = lab.plan.controller_mgmt  # the controller's own address on the lab network
    serve = Serve(lab.workspace, bind=address, env={"CONFPROV_WATCH_TOKEN": TOKEN})
    try:
        for path in ("", "events", "api/sites", "api/events", "metrics"):
            with pytest.raises(urllib.error.HTTPError) as refused:
                urllib.request.urlopen(serve.url + path, timeout=10)
            assert refused.value.code == 401, path
        basic = base64.b64encode(f"ops:{TOKEN}".encode()).decode()
        request = urllib.request.Request(
            serve.url + "api/sites", headers={"Authorization": f"Basic {basic}"}
        )
        with urllib.request.urlopen(request, timeout=10) as answer:
            assert json.loads(answer.read())["total"] == len(lab.sites)
    finally:
        out = serve.stop()
    assert TOKEN not in out


def test_serve_beyond_loopback_without_a_token_refuses_to_start(lab):
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "confprov",
            "watch",
            "serve",
            "-w",
            str(lab.workspace),
            "--bind",
            lab.plan.controller_mgmt,
        ],
        capture_output=True,
        text=True,
        timeout=60,
        env={k: v for k, v in os.environ.items() if k != "CONFPROV_WATCH_TOKEN"},
    )
    assert result.returncode == 2
    assert "needs a token" in result.stderr and ".watch-token" in result.stderr
