"""/metrics: the snapshot in Prometheus' format, read back by prometheus_client's own parser;
the alert rules checked and unit-tested by promtool against the names a real scrape has."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from dataclasses import replace
from pathlib import Path

import pytest
from prometheus_client.parser import text_string_to_metric_families

from confprov.watch import metrics
from confprov.watch.engine import Engine
from confprov.watch.model import SiteState
from confprov.watch.store import Store

from .test_engine import CONFIG, SITES, Clock, report

REPO = Path(__file__).resolve().parents[3]
RULES = REPO / "confprov" / "watch" / "prometheus" / "alerts.yml"
RULE_TESTS = Path(__file__).parent / "promtool" / "alerts_test.yml"


@pytest.fixture
def scrape(tmp_path) -> dict[str, dict[tuple, float]]:
    clock = Clock()
    store = Store(tmp_path / "watch.sqlite")
    # One district: its shared line is in the scrape (0 while fine).
    sites = [replace(s, uplink="d1", uplink_name="District 1") for s in SITES]
    engine = Engine(CONFIG, sites, store, clock=clock)
    for _ in range(3):
        clock.t += 0.5
        engine.tick(
            report({"s0": 0.2, "s1": 0.2}, s1={"loss_ratio": 0.05, "rtt_ms": 42.0}), clock.t
        )
    clock.t += 4  # s2 never heard of: down after the gap
    engine.tick(report({"s0": 0.2, "s1": 0.2}, s1={"loss_ratio": 0.05, "rtt_ms": 42.0}), clock.t)
    out: dict[str, dict[tuple, float]] = {}
    text = metrics.render(engine).decode()
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            out.setdefault(sample.name, {})[tuple(sorted(sample.labels.items()))] = sample.value
    store.close()
    out["_now"] = {(): clock.t}
    return out


def value(scrape, metric: str, **labels: str) -> float:
    return scrape[metric][tuple(sorted(labels.items()))]


def test_per_site_measures_in_base_units(scrape) -> None:
    now = scrape["_now"][()]
    assert value(scrape, "confprov_watch_site_last_reply_timestamp_seconds", site="s0") == (
        pytest.approx(now - 0.2)
    )
    assert value(scrape, "confprov_watch_site_round_trip_seconds", site="s1") == 0.042
    assert value(scrape, "confprov_watch_site_jitter_seconds", site="s0") == 0.001
    assert value(scrape, "confprov_watch_site_loss_ratio", site="s1") == 0.05
    assert ("site", "s2") not in dict(scrape["confprov_watch_site_loss_ratio"])  # never measured
    assert value(scrape, "confprov_watch_site_client_running", site="s0") == 1


def test_state_is_a_labelled_gauge_one_per_site(scrape) -> None:
    states = scrape["confprov_watch_site_state"]
    current = {dict(k)["site"]: dict(k)["state"] for k, v in states.items() if v == 1}
    assert current == {"s0": "up", "s1": "degraded", "s2": "down"}
    assert len(states) == 3 * len(SiteState)  # every state present, 0 where not current
    assert value(scrape, "confprov_watch_sites", state="down") == 1
    assert value(scrape, "confprov_watch_stale") == 0
    assert (
        value(
            scrape,
            "confprov_watch_site_info",
            site="s1",
            name="Site 1",
            district="d1",
            level="commune",
        )
        == 1
    )


def test_alert_rules_use_only_names_the_scrape_has(scrape) -> None:
    used = set(re.findall(r"confprov_watch_[a-z_]+", RULES.read_text()))
    assert used and used <= set(scrape), used - set(scrape)


# scripts/setup.sh unpacks promtool into the virtualenv; one on PATH serves as well.
VENV_BIN = str(Path(sys.executable).parent)
PROMTOOL = shutil.which("promtool") or shutil.which("promtool", path=VENV_BIN)


@pytest.mark.skipif(
    PROMTOOL is None,
    reason="promtool not found (scripts/setup.sh unpacks it from Debian's prometheus package)",
)
def test_alert_rules_pass_promtool() -> None:
    assert PROMTOOL is not None
    subprocess.run([PROMTOOL, "check", "rules", str(RULES)], check=True, capture_output=True)
    result = subprocess.run(
        [PROMTOOL, "test", "rules", RULE_TESTS.name],
        cwd=RULE_TESTS.parent,
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stdout + result.stderr
