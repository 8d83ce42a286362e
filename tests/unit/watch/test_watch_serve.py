"""`confprov watch serve` and `watch status` as processes, on i11's real engine, fed by a fake
collector on 127.0.0.1.

Why a fake collector: it serves the collector's JSON (the engine's only input besides router
checks) with exactly the ages and measures a test needs, with no lab; the engine, the board,
uvicorn and the CLI are the real ones. The registry has no routers, so the engine checks none
(no connection to any address but loopback).
"""

from __future__ import annotations

import csv
import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.request
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
import yaml

CONFPROV = [sys.executable, "-m", "confprov"]
TIME_FIELDS = ("since", "last_reply_age_s", "last_reply_at")  # each engine's own clock


class Collector:
    """Answers GET /v1/sites as the watch collector does, with the report a test sets."""

    def __init__(self) -> None:
        self.ages: dict[str, float] = {}  # endpoint host -> seconds since its last probe
        self.hosts: dict[str, tuple[str, ...]] = {}  # site -> its endpoint hosts
        self.started = time.time()
        collector = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                body = json.dumps(collector.report()).encode()
                self.send_response(200)
                self.send_header("content-type", "application/json")
                self.send_header("content-length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.port = self.server.server_address[1]
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def report(self) -> dict[str, Any]:
        return {
            "collector": {"uptime_s": time.time() - self.started},
            "sites": {
                host: {
                    "age_s": age,
                    "rtt_ms": 12.5,
                    "jitter_ms": 1.5,
                    "loss_ratio": 0.0,
                    "client_running": True,
                    "sip_ok": True,
                }
                for host, age in self.ages.items()
            },
        }


@pytest.fixture
def collector() -> Iterator[Collector]:
    c = Collector()
    yield c
    c.server.shutdown()
    c.server.server_close()


@pytest.fixture
def workspace(small_workspace: Path, collector: Collector) -> Path:
    config = yaml.safe_load((small_workspace / "confprov.yml").read_text())
    config["conference"]["management_address"] = "127.0.0.1"
    config["watch"] = {"query_port": collector.port, "poll_s": 0.2, "gap_s": 2, "clean_s": 1}
    (small_workspace / "confprov.yml").write_text(yaml.safe_dump(config, allow_unicode=True))
    path = small_workspace / "sites.csv"
    with path.open(newline="", encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    for row in rows:  # no routers: the engine must not try any address beyond loopback
        for key in ("router", "router_platform", "router_wan_interface", "router_wan_gateway"):
            row[key] = ""
    with path.open("w", newline="", encoding="utf-8") as fh:
        writer = csv.DictWriter(fh, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    from confprov.workspace import load

    for site in load(small_workspace).registry.sites:
        collector.hosts[site.slug] = site.endpoint_hosts
        for host in site.endpoint_hosts:
            collector.ages[host] = 0.1
    return small_workspace


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def get(url: str) -> Any:
    with urllib.request.urlopen(url, timeout=10) as r:
        return json.loads(r.read())


def wait_until(check: Any, timeout: float = 30) -> Any:
    deadline = time.monotonic() + timeout
    while True:
        try:
            value = check()
            if value:
                return value
        except OSError:
            pass
        if time.monotonic() > deadline:
            raise TimeoutError("condition never met")
        time.sleep(0.1)  # polling a condition with a deadline


def start_serve(workspace: Path, port: int) -> subprocess.Popen[str]:
    env = {**os.environ, "CONFPROV_WORKSPACE": ""}
    return subprocess.Popen(
        [*CONFPROV, "watch", "serve", "-w", str(workspace), "--port", str(port)],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env=env,
    )


def stop(proc: subprocess.Popen[str]) -> str:
    proc.send_signal(signal.SIGINT)
    out, _ = proc.communicate(timeout=20)
    return out


def strip(doc: dict[str, Any]) -> dict[str, Any]:
    return {
        **doc,
        "sites": [{k: v for k, v in s.items() if k not in TIME_FIELDS} for s in doc["sites"]],
    }


def status(workspace: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*CONFPROV, "watch", "status", "-w", str(workspace), "--json"],
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_status_json_equals_the_api_and_restart_keeps_the_incident(
    workspace: Path, collector: Collector
) -> None:
    port = free_port()
    base = f"http://127.0.0.1:{port}/"
    proc = start_serve(workspace, port)
    try:
        wait_until(lambda: (d := get(base + "api/sites"))["up"] == d["measurable"])
        one = status(workspace)
        assert one.returncode == 0, one.stderr
        assert strip(json.loads(one.stdout)) == strip(get(base + "api/sites"))
        # One site stops answering: down on the API, then `status` says so and exits 1.
        lost = next(iter(collector.hosts))
        for host in collector.hosts[lost]:
            collector.ages[host] = 30.0
        site = wait_until(
            lambda: [s for s in get(base + "api/sites")["sites"] if s["state"] == "down"]
        )[0]
        assert site["site"] == lost
        two = status(workspace)
        assert two.returncode == 1
        assert strip(json.loads(two.stdout)) == strip(get(base + "api/sites"))
    finally:
        out = stop(proc)
    assert proc.returncode == 0, out
    # Restarted: the incident and its events are still there.
    proc = start_serve(workspace, port)
    try:
        events = wait_until(lambda: get(base + "api/events"))
        downs = [e for e in events if e["site"] == site["site"] and e["to_state"] == "down"]
        assert downs, events
    finally:
        stop(proc)
    report = subprocess.run(
        [*CONFPROV, "watch", "report", "-w", str(workspace), "--json", "-"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert report.returncode == 0, report.stderr
    incidents = json.loads(report.stdout)["incidents"]
    assert [i["site"] for i in incidents] == [site["site"]]
    assert incidents[0]["time_to_detect_s"] >= 2  # the gap: no reply for more than 2 s


def test_status_without_a_collector_is_stale_and_exits_1(
    workspace: Path, collector: Collector
) -> None:
    collector.server.shutdown()
    collector.server.server_close()
    result = status(workspace)
    assert result.returncode == 1
    assert "collector 127.0.0.1" in result.stderr
    assert json.loads(result.stdout)["stale"] is True


def test_status_bad_workspace_exits_2(tmp_path: Path) -> None:
    result = subprocess.run(
        [*CONFPROV, "watch", "status", "-w", str(tmp_path)], capture_output=True, text=True
    )
    assert result.returncode == 2
    assert "confprov.yml" in result.stderr
