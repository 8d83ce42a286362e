"""confprov.yml's `watch:` section: defaults defined once, every problem named with its line."""

from __future__ import annotations

import pytest

from confprov.config import Watch, parse_config
from confprov.exceptions import InputError
from confprov.watch.probe import MIN_SIZE

BASE = "conference: {server: a, sip_domain: b}\n"


def test_defaults_when_absent() -> None:
    assert parse_config(BASE, "confprov.yml").watch == Watch()
    assert Watch().gap_s == 2.5 and Watch().clean_s == 10.0


def test_values_are_read_and_ints_become_floats() -> None:
    watch = parse_config(BASE + "watch:\n  gap_s: 2\n  probe_rate: 10\n", "c.yml").watch
    assert watch.gap_s == 2.0 and isinstance(watch.gap_s, float) and watch.probe_rate == 10.0


def test_every_problem_is_reported_with_file_line_and_key() -> None:
    text = BASE + "watch:\n  gap_s: -1\n  probe_bytes: 20\n  query_port: 70000\n  gapp_s: 2\n"
    with pytest.raises(InputError) as err:
        parse_config(text, "ws/confprov.yml")
    message = str(err.value)
    assert "ws/confprov.yml:3: watch.gap_s: must be positive" in message
    assert f"ws/confprov.yml:4: watch.probe_bytes: must be {MIN_SIZE}-1400" in message
    assert "ws/confprov.yml:5: watch.query_port: must be a port number" in message
    assert "ws/confprov.yml:6: watch.gapp_s: unknown key" in message


def test_poll_slower_than_the_gap_is_refused() -> None:
    with pytest.raises(InputError, match=r"watch\.poll_s: must not exceed watch\.gap_s"):
        parse_config(BASE + "watch: {gap_s: 1, poll_s: 2, probe_rate: 5}\n", "c.yml")


def test_shared_uplink_takes_true_or_false_only() -> None:
    assert Watch().shared_uplink is True
    watch = parse_config(BASE + "watch:\n  shared_uplink: false\n", "c.yml").watch
    assert watch.shared_uplink is False
    with pytest.raises(InputError, match=r"c\.yml:3: watch\.shared_uplink: must be true or false"):
        parse_config(BASE + "watch:\n  shared_uplink: 1\n", "c.yml")
