"""The watch roles: specs agree with defaults, files are the package's, units are valid systemd,
and the key stays out of every command line the roles build."""

from __future__ import annotations

import shlex
import shutil
import subprocess
from pathlib import Path

import jinja2
import pytest
import yaml

from confprov.config import Watch

REPO = Path(__file__).resolve().parents[3]
ROLES = ("watch_agent", "watch_collector")


@pytest.mark.parametrize("role", ROLES)
def test_the_key_is_never_logged(role):
    """Specs agree with defaults in tests/contracts; the watch key is the roles' own secret."""
    options = yaml.safe_load((REPO / "roles" / role / "meta" / "argument_specs.yml").read_text())[
        "argument_specs"
    ]["main"]["options"]
    assert options[f"{role}_key"].get("no_log") is True


def test_role_defaults_equal_confprov_yml_defaults():
    """The roles' own defaults are the ones confprov.yml's watch section defines."""
    agent = yaml.safe_load((REPO / "roles/watch_agent/defaults/main.yml").read_text())
    collector = yaml.safe_load((REPO / "roles/watch_collector/defaults/main.yml").read_text())
    watch = Watch()
    assert agent["watch_agent_port"] == collector["watch_collector_port"] == watch.collector_port
    assert collector["watch_collector_query_port"] == watch.query_port
    assert agent["watch_agent_rate"] == watch.probe_rate
    assert agent["watch_agent_size"] == watch.probe_bytes
    assert agent["watch_agent_sip_interval_s"] == watch.sip_interval_s
    assert collector["watch_collector_window_s"] == watch.window_s
    assert collector["watch_collector_reset_s"] == watch.gap_s


@pytest.mark.parametrize("role", ROLES)
def test_roles_ship_the_packages_files(role):
    probe = REPO / "roles" / role / "files" / "probe.py"
    assert probe.read_bytes() == (REPO / "confprov/watch/probe.py").read_bytes()
    text = probe.read_text()
    assert "import confprov" not in text and "from confprov" not in text


def unit_text(role: str) -> str:
    root = REPO / "roles" / role
    values = yaml.safe_load((root / "defaults" / "main.yml").read_text())
    env = jinja2.Environment(undefined=jinja2.StrictUndefined)
    env.filters["quote"] = shlex.quote
    role_vars = yaml.safe_load((root / "vars" / "main.yml").read_text())
    # vars/main.yml builds the command from these three; Ansible's templating is not needed.
    values[f"{role}_command"] = [
        values[f"{role}_python"],
        values[f"{role}_path"],
        *role_vars[f"{role}_args"],
    ]
    name = "agent" if role == "watch_agent" else "collector"
    template = (root / "templates" / f"confprov-watch-{name}.service.j2").read_text()
    return env.from_string(template).render(ansible_managed="test", **values)


@pytest.mark.parametrize("role", ROLES)
def test_unit_hands_the_config_over_as_a_credential(role):
    text = unit_text(role)
    exec_start = next(line for line in text.splitlines() if line.startswith("ExecStart="))
    assert exec_start.endswith("--config %d/config")
    assert "key" not in exec_start
    assert "LoadCredential=config:/etc/confprov/" in text
    assert "WantedBy=multi-user.target" in text  # enabled: starts again after a reboot


@pytest.mark.skipif(shutil.which("systemd-analyze") is None, reason="no systemd-analyze here")
@pytest.mark.parametrize("role", ROLES)
def test_unit_is_valid_for_systemd(role, tmp_path):
    name = "agent" if role == "watch_agent" else "collector"
    unit = tmp_path / f"confprov-watch-{name}.service"
    unit.write_text(unit_text(role))
    result = subprocess.run(
        ["systemd-analyze", "verify", str(unit)], capture_output=True, text=True, check=False
    )
    problems = [line for line in result.stderr.splitlines() if unit.name in line]
    assert problems == [], result.stderr
