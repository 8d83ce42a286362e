"""The watch board with 298 sites in real headless Chromium: first full render and update rate.

    .venv/bin/python bench/watch_board.py --runs 5 --seconds 10

The board (confprov.watch.app under a real uvicorn on 127.0.0.1) shows i11's real engine over the
298 sites of the Phú Thọ example, fed synthetic collector reports (tests/watch_synthetic.py,
EngineFeed): the page's cost does not depend on where the numbers come from, and a synthetic
feed changes every site at a chosen rate on a 2-core machine (the engine's detection on real
agents is measured on the lab by bench/watch.py). Each run:

- **first full render**: a fresh tab loads the page; time from navigation start to the first
  frame painted after the page's script applied every site (``window.board.painted_ms``);
  baseline in the same run: the same HTML with its script removed (what the browser needs just to
  lay out 298 tiles), to its load event;
- **updates**: a feeder thread gives the engine a collector reading 5 times a second in which
  every site's round trip changes by 1 ms (every tile's text changes), and once a second one more
  site goes silent (the one before replies again), for ``--seconds``; the page counts the frames
  it applied per second, and the time from the reading that made a site ``down`` to the tile's
  new colour in the DOM (CDP polls).

Medians over ``--runs``. Prints a Markdown table for docs/benchmarks.md.
"""

from __future__ import annotations

import argparse
import os
import platform
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT / "tests" / "browser"), str(ROOT / "tests")]

from conftest import CHROMIUM, FLAGS, Browser  # noqa: E402  (tests/browser/conftest.py)
from test_watch_board import served  # noqa: E402
from watch_synthetic import EngineFeed  # noqa: E402

from confprov.watch.app import Board  # noqa: E402


def launch(profile: Path) -> Browser:
    import fcntl

    to_r, to_w = os.pipe()
    from_r, from_w = os.pipe()

    def child_fds() -> None:
        os.dup2(fcntl.fcntl(to_r, fcntl.F_DUPFD, 10), 3, inheritable=True)
        os.dup2(fcntl.fcntl(from_w, fcntl.F_DUPFD, 10), 4, inheritable=True)

    proc = subprocess.Popen(
        [CHROMIUM, *FLAGS, f"--user-data-dir={profile}", "about:blank"],
        preexec_fn=child_fds,  # noqa: PLW1509
        pass_fds=(3, 4),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    os.close(to_r)
    os.close(from_w)
    return Browser(proc, to_w, from_r)


def open_page(browser: Browser, url: str) -> None:
    """browser.open with a longer deadline: the machine may be shared and loaded."""
    target = browser.send("Target.createTarget", session=False, url="about:blank")["targetId"]
    browser.session = browser.send(
        "Target.attachToTarget", session=False, targetId=target, flatten=True
    )["sessionId"]
    browser.send("Page.enable")
    browser.send("Page.navigate", url=url)
    browser.wait_for(
        "document.readyState === 'complete' && !!document.getElementById('sites')", 120
    )


def cpu_s(browser: Browser) -> float:
    """CPU seconds (user + system) of the browser and every process under it, from /proc:
    what the page costs, hardly disturbed by other load on a shared machine (wall time is)."""
    tick = os.sysconf("SC_CLK_TCK")
    parents: dict[int, int] = {}
    cpu: dict[int, float] = {}
    for path in Path("/proc").iterdir():
        entry = path.name
        if not entry.isdigit():
            continue
        try:
            stat = (path / "stat").read_text()
        except OSError:
            continue
        fields = stat.rsplit(")", 1)[1].split()
        parents[int(entry)] = int(fields[1])
        cpu[int(entry)] = (int(fields[11]) + int(fields[12])) / tick
    ours = {browser.proc.pid}
    grew = True
    while grew:
        grew = False
        for pid, parent in parents.items():
            if parent in ours and pid not in ours:
                ours.add(pid)
                grew = True
    return sum(cpu.get(pid, 0.0) for pid in ours)


def feeder(feed: EngineFeed, stop: threading.Event, changes: list[tuple[str, float]]) -> None:
    sites = list(feed.engine.sites)
    tick = 0
    while not stop.wait(0.2):
        tick += 1
        for site in sites:
            feed.set(site, rtt_ms=20.0 + (tick % 2))
        if tick % 5 == 0:
            lost = sites[(tick // 5) % len(sites)]
            feed.set(sites[(tick // 5 - 1) % len(sites)], age_s=0.1)
            feed.set(lost, age_s=30.0)
        feed.clock.t = time.time()
        feed.tick(0)
        if tick % 5 == 0:
            changes.append((lost, time.monotonic()))


def one_run(
    browser: Browser, url: str, static_url: str, feed: EngineFeed, seconds: float
) -> dict[str, float]:
    open_page(browser, static_url)  # warm-up of both: a fresh browser's first load pays its start
    open_page(browser, url)
    open_page(browser, static_url)
    static_ms = browser.js("performance.getEntriesByType('navigation')[0].loadEventEnd")
    started = time.perf_counter()
    server0 = time.process_time()
    urllib.request.urlopen(url, timeout=30).read()
    server_cpu = (time.process_time() - server0) * 1000
    server_ms = (time.perf_counter() - started) * 1000
    cpu_before = cpu_s(browser)
    open_page(browser, url)
    browser.wait_for("window.board && window.board.painted_ms != null", 60)
    painted = browser.js("window.board.painted_ms")
    render_cpu = (cpu_s(browser) - cpu_before) * 1000
    count = browser.js("document.querySelectorAll('.site').length")
    assert count == len(feed.engine.sites), count
    stop = threading.Event()
    changes: list[tuple[str, float]] = []
    thread = threading.Thread(target=feeder, args=(feed, stop, changes))
    frames0 = browser.js("window.board.frames")
    cpu0 = cpu_s(browser)
    own0 = time.process_time()
    start = time.monotonic()
    thread.start()
    latencies = []
    seen = 0
    while time.monotonic() - start < seconds:
        if len(changes) > seen:
            site, at = changes[seen]
            seen += 1
            browser.wait_for(
                f"document.getElementById('site-{site}').className === 'site st-down'", 10
            )
            latencies.append((time.monotonic() - at) * 1000)
    stop.set()
    thread.join()
    frames = browser.js("window.board.frames") - frames0
    elapsed = time.monotonic() - start
    rate = frames / elapsed
    busy = cpu_s(browser) - cpu0
    own = time.process_time() - own0
    return {
        "static_ms": static_ms,
        "server_ms": server_ms,
        "render_ms": painted,
        "render_cpu_ms": render_cpu,
        "frame_cpu_ms": busy / max(frames, 1) * 1000,
        "page_core_pct": busy / elapsed * 100,
        "server_cpu_ms": server_cpu,
        "server_core_pct": own / elapsed * 100,
        "rate": rate,
        "latency_ms": statistics.median(latencies) if latencies else float("nan"),
        "latency_max_ms": max(latencies) if latencies else float("nan"),
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--seconds", type=float, default=10.0)
    args = parser.parse_args()
    tmp = Path(tempfile.mkdtemp(prefix="watch-board-bench-"))
    try:
        from confprov.workspace import init_workspace

        ws = init_workspace(tmp / "ws", example="phu-tho")
        results = []
        for run in range(args.runs):
            feed = EngineFeed(ws)
            feed.clock.t = time.time()
            feed.tick(0)
            board = Board(feed.engine, province="Phú Thọ", clock=feed.clock)
            with served(board) as url:
                page = urllib.request.urlopen(url, timeout=30).read().decode()
                static = re.sub(r"<script>.*?</script>", "", page, flags=re.S)
                (tmp / "static.html").write_text(static, encoding="utf-8")
                profile = tmp / f"profile{run}"
                profile.mkdir()
                browser = launch(profile)
                try:
                    results.append(
                        one_run(browser, url, (tmp / "static.html").as_uri(), feed, args.seconds)
                    )
                finally:
                    browser.send("Browser.close", session=False)
                    browser.proc.wait(10)
                    feed.close()
            print(
                f"run {run + 1}: " + ", ".join(f"{k} {v:.1f}" for k, v in results[-1].items()),
                flush=True,
            )
        med = {k: statistics.median(r[k] for r in results) for k in results[0]}
        runs = {
            k: ", ".join(
                f"{r[k]:.2f}"
                if k == "rate"
                else f"{r[k]:.1f}"
                if k.endswith("_pct")
                else f"{r[k]:.0f}"
                for r in results
            )
            for k in results[0]
        }
        load = os.getloadavg()
        print()
        print(
            f"Machine: {platform.machine()}, {os.cpu_count()} cores, {platform.python_version()}; "
            f"load average at the end {load[0]:.1f} / {load[1]:.1f} / {load[2]:.1f}; "
            f"{len(feed.engine.sites)} sites; {args.runs} runs of {args.seconds:g} s"
        )
        print()
        rows = [
            (
                "first full render (navigation → painted, every site applied)",
                "render_ms",
                "≤ 1000 ms",
            ),
            (
                "baseline: the same HTML without its script, from a file, to load event",
                "static_ms",
                "",
            ),
            (
                "of the render: the server's answer to GET / (engine snapshot, 298 tiles)",
                "server_ms",
                "",
            ),
            ("CPU of the browser (all its processes) for that render", "render_cpu_ms", ""),
            ("CPU of the server process for GET / (all its threads)", "server_cpu_ms", ""),
            ("CPU of the browser per frame applied", "frame_cpu_ms", ""),
            ("CPU of the browser while following the updates, % of one core", "page_core_pct", ""),
            (
                "CPU of this process (server, engine ticks, feeder, CDP), % of one core",
                "server_core_pct",
                "",
            ),
            ("frames applied per second (every round trip changing 5 times/s)", "rate", "≥ 1/s"),
            ("a state change on the Watch → tile recoloured, median", "latency_ms", ""),
            ("the same, worst of the run", "latency_max_ms", ""),
        ]
        print("| measure | median | runs | target |")
        print("| --- | ---: | --- | --- |")
        for what, key, target in rows:
            value = (
                f"{med[key]:.2f}"
                if key == "rate"
                else f"{med[key]:.1f} %"
                if key.endswith("_pct")
                else f"{med[key]:.0f} ms"
            )
            print(f"| {what} | {value} | {runs[key]} | {target} |")
        ratio = med["render_ms"] / med["static_ms"]
        print(f"| ratio: first full render / baseline | {ratio:.2f} | | |")
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
