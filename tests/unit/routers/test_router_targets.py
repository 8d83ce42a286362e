"""confprov.core.router_targets: the routers of a play, from the inventory's one map or hostvars.

The map (``confprov_routers`` in group_vars/routers.yml) exists for speed; these tests hold it to
the same answer as every router's own host_vars, through real ansible-playbook runs.
"""

from __future__ import annotations

import importlib.util
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from ansible.errors import AnsibleFilterError

from confprov import vault
from confprov.exceptions import InputError
from confprov.routers.targets import (
    LOGIN_FALLBACK,
    NET_PASSWORD,
    NET_USERNAME,
    as_vars,
    login,
    workspace_routers,
)
from confprov.workspace import init_workspace, render_workspace_inventory

REPO = Path(__file__).resolve().parents[3]
BIN = Path(sys.executable).parent
FILTER = REPO / "collections/ansible_collections/confprov/core/plugins/filter/router_targets.py"

_spec = importlib.util.spec_from_file_location("router_targets_filter", FILTER)
assert _spec and _spec.loader
_filter = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(_filter)
router_targets = _filter.router_targets
_login_spec = importlib.util.spec_from_file_location(
    "router_login_filter", FILTER.with_name("router_login.py")
)
assert _login_spec and _login_spec.loader
_login_filter = importlib.util.module_from_spec(_login_spec)
_login_spec.loader.exec_module(_login_filter)

ROLE_TASKS = REPO / "roles" / "router_config" / "tasks" / "routers.yml"


def _play_text() -> str:
    """The role's own expression (read from its task file), and one through hostvars only."""
    (task,) = yaml.safe_load(ROLE_TASKS.read_text())
    expression = task["confprov.core.router_config"]["routers"]
    tasks = [
        {"name": "As the role builds it", "ansible.builtin.set_fact": {"from_role": expression}},
        {
            "name": "Through hostvars only",
            "ansible.builtin.set_fact": {
                "from_hostvars": "{{ ansible_play_hosts | confprov.core.router_targets("
                "hostvars, router_config_extra_config) }}"
            },
        },
        {
            "name": "Both",
            "ansible.builtin.copy": {
                "dest": "{{ out }}",
                "mode": "0600",
                "content": "{{ {'map': from_role, 'hostvars': from_hostvars} | to_json }}",
            },
        },
    ]
    for task_ in tasks:
        task_["run_once"] = True
    return yaml.safe_dump([{"hosts": "routers", "gather_facts": False, "tasks": tasks}])


def _play(
    ws: Path,
    tmp_path: Path,
    secrets: dict[str, object],
    *,
    render: bool = True,
    extra: dict[str, str] | None = None,
    password: str = "pw",
    args: tuple[str, ...] = (),
    env: dict[str, str] | None = None,
) -> subprocess.CompletedProcess[str]:
    if render:
        render_workspace_inventory(ws)
    (ws / "vault.yml").write_text(vault.encrypt(secrets, password))
    (tmp_path / "pass").write_text(password)
    (tmp_path / "play.yml").write_text(_play_text())
    return subprocess.run(
        [
            str(BIN / "ansible-playbook"),
            "-i",
            str(ws / "inventory"),
            str(tmp_path / "play.yml"),
            "-e",
            f"out={tmp_path / 'out.json'}",
            "-e",
            json.dumps({"router_config_extra_config": {"all": "x"} if extra is None else extra}),
            "-e",
            f"@{ws / 'vault.yml'}",
            "--vault-password-file",
            str(tmp_path / "pass"),
            *args,
        ],
        capture_output=True,
        text=True,
        check=False,
        cwd=REPO,
        env=env,
    )


@pytest.mark.ansible
def test_the_map_gives_what_every_routers_hostvars_give(
    small_workspace: Path, tmp_path: Path
) -> None:
    secrets = {
        "vault_router_username": "netops",
        "vault_router_password": "shared-Pw-1",
        "vault_router_passwords": {"cam-khe-rt": "own-Pw-2"},
    }
    proc = _play(small_workspace, tmp_path, secrets)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    out = json.loads((tmp_path / "out.json").read_text())
    assert out["map"] == out["hostvars"]
    by_host = {t["host"]: t for t in out["map"]}
    assert len(by_host) == 5
    assert by_host["cam-khe-rt"]["password"] == "own-Pw-2"
    assert by_host["sngv-rt"]["password"] == "shared-Pw-1"
    assert {t["username"] for t in out["map"]} == {"netops"}
    assert by_host["yen-tap.cam-khe-rt"]["site_name"] == "UBND xa Yen Tap"
    assert by_host["yen-tap.cam-khe-rt"]["extra_config"] == "x"
    # The map holds no secret: it is plain registry data in the rendered inventory.
    rendered = (small_workspace / "inventory" / "group_vars" / "routers.yml").read_text()
    assert "own-Pw-2" not in rendered and "shared-Pw-1" not in rendered


@pytest.mark.ansible
def test_the_role_reads_the_map_not_each_routers_hostvars(
    small_workspace: Path, tmp_path: Path
) -> None:
    """A hand edit of a router's host_vars (rendered, "do not edit") is not what the role uses."""
    render_workspace_inventory(small_workspace)
    host_vars = small_workspace / "inventory" / "host_vars" / "sngv-rt.yml"
    host_vars.write_text(host_vars.read_text().replace("198.19.6.1", "198.19.99.99"))
    secrets = {"vault_router_username": "netops", "vault_router_password": "shared-Pw-1"}
    proc = _play(small_workspace, tmp_path, secrets, render=False)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    out = json.loads((tmp_path / "out.json").read_text())
    role = {t["host"]: t for t in out["map"]}
    direct = {t["host"]: t for t in out["hostvars"]}
    assert direct["sngv-rt"]["wan_gateway"] == "198.19.99.99"
    assert role["sngv-rt"]["wan_gateway"] == "198.19.6.1"


@pytest.mark.ansible
def test_a_router_without_any_password_in_the_vault_is_named(
    small_workspace: Path, tmp_path: Path
) -> None:
    proc = _play(
        small_workspace,
        tmp_path,
        {"vault_router_username": "netops", "vault_router_passwords": {"cam-khe-rt": "pw-only"}},
    )
    assert proc.returncode != 0
    # Every router without one is named in the one error, with where to set it.
    assert "4 problem(s)" in proc.stdout and "sngv-rt: no password" in proc.stdout
    assert " cam-khe-rt: no password" not in proc.stdout  # it has its own
    assert "vault_router_password" in proc.stdout


SITE = {
    "address": "198.18.0.27",
    "platform": "frr",
    "site_name": "UBND huyen Cam Khe",
    "wan_interface": "wan",
    "wan_gateway": "198.18.8.1",
}


def test_hosts_outside_the_map_are_read_from_their_hostvars() -> None:
    hostvars = {
        "extra-rt": {
            "ansible_host": "198.18.1.2",
            "confprov_router_platform": "cisco_ios",
            "confprov_site_name_ascii": "Extra",
            "confprov_router_wan_interface": "Gi0/0",
            "confprov_router_wan_gateway": "198.18.1.1",
            "confprov_router_username": "u2",
            "confprov_router_password": "p2",
        }
    }
    out = router_targets(
        ["cam-khe-rt", "extra-rt"],
        hostvars,
        {"extra-rt": "ntp server 198.18.32.10"},
        routers={"cam-khe-rt": SITE},
        username="u1",
        password="p1",
    )
    assert out[0] == {
        "host": "cam-khe-rt",
        **SITE,
        "username": "u1",
        "password": "p1",
        "extra_config": "",
    }
    assert out[1]["platform"] == "cisco_ios" and out[1]["password"] == "p2"
    assert out[1]["extra_config"] == "ntp server 198.18.32.10"


def test_an_incomplete_map_entry_is_named() -> None:
    partial = {k: v for k, v in SITE.items() if k != "wan_gateway"}
    with pytest.raises(AnsibleFilterError, match=r"cam-khe-rt.*wan_gateway"):
        router_targets(
            ["cam-khe-rt"], {}, routers={"cam-khe-rt": partial}, username="u", password="p"
        )


@pytest.mark.parametrize("example", ["starter", "phu-tho"])
def test_the_filter_gives_what_the_api_gives(example: str, tmp_path: Path) -> None:
    """One definition of a router target: the role's filter (through ansible-playbook) and the
    API that `routers check`, `trust` and verify use give the same routers, values and
    credentials, in the same order."""
    ws = init_workspace(tmp_path / "ws", example)
    secrets = {
        "vault_router_username": "netops",
        "vault_router_password": "shared-Pw-1",
        "vault_router_passwords": {},
    }
    (ws / "vault.yml").write_text(vault.encrypt(secrets, vault.read_password(ws)))
    api, _ = workspace_routers(ws)
    secrets["vault_router_passwords"] = {api[0].host: "own-Pw-2"}
    (ws / "vault.yml").write_text(vault.encrypt(secrets, vault.read_password(ws)))
    api, _ = workspace_routers(ws)
    assert api[0].password == "own-Pw-2" and len({t.platform for t in api}) >= 1
    proc = _play(ws, tmp_path, secrets, extra={})
    assert proc.returncode == 0, proc.stdout + proc.stderr
    out = json.loads((tmp_path / "out.json").read_text())
    by_api = sorted((as_vars(t) for t in api), key=lambda t: t["host"])
    assert sorted(out["map"], key=lambda t: t["host"]) == by_api
    assert sorted(out["hostvars"], key=lambda t: t["host"]) == by_api


# The vault's router variables in each combination a workspace can hold.
VAULTS = {
    "pair": {"vault_router_username": "netops", "vault_router_password": "shared-Pw-1"},
    "no username": {"vault_router_password": "shared-Pw-1"},
    "username only": {"vault_router_username": "netops"},
    "none": {},
}


@pytest.mark.parametrize(
    ("secrets", "user", "password", "env", "want"),
    [
        (VAULTS["pair"], "awx", "m-pw", {NET_USERNAME: "n", NET_PASSWORD: "n-pw"}, "vault"),
        (VAULTS["no username"], "awx", "m-pw", {NET_USERNAME: "n"}, "connection variables"),
        (VAULTS["no username"], None, None, {NET_USERNAME: "n", NET_PASSWORD: "n-pw"}, "ANSIBLE"),
        (VAULTS["none"], None, None, {}, ""),
    ],
)
def test_one_source_gives_both_username_and_password(
    secrets: dict[str, str], user: str | None, password: str | None, env: dict[str, str], want: str
) -> None:
    """Username and password always from one source: never the vault's username with a Network
    credential's password, nor ansible_user with ANSIBLE_NET_PASSWORD."""
    chosen = login(secrets, user=user, password=password, env=env)
    assert chosen.source.startswith(want)
    pairs = {
        "vault": ("netops", "shared-Pw-1"),
        "connection variables": ("awx", "m-pw"),
        NET_USERNAME: ("n", "n-pw"),
        "": (None, None),
    }
    assert (chosen.username, chosen.password) == pairs[chosen.source]
    # A username without its own source's password is not completed from another source.
    assert login({"vault_router_username": "netops"}, env=env).password is None
    # A source counts only whole: a Machine credential with a key (ansible_user, no password)
    # does not hide a complete Network credential; alone, its username is refused for want of
    # a password (build: "no password"), never completed from elsewhere.
    net = {NET_USERNAME: "n", NET_PASSWORD: "n-pw"}
    assert (login({}, user="awx", env=net).username, login({}, user="awx", env=net).password) == (
        "n",
        "n-pw",
    )
    assert (login({}, user="awx", env={}).username, login({}, user="awx", env={}).password) == (
        "awx",
        None,
    )
    # Without the fallback (confprov's own runs) only the vault counts.
    assert login(secrets, user=user, password=password, env=env, fallback=False).source in (
        "vault",
        "",
    )


@pytest.mark.parametrize("text", ["false", "no", "0", "off", False])
def test_the_fallback_switched_off_in_text_is_off(text: object) -> None:
    """`-e confprov_router_login_fallback=false` (key=value) or an AWX survey's text answer is a
    string: it must switch the fallback off as the JSON false of confprov's runs does."""
    chosen = _login_filter.router_login({}, user="netadmin", password="m-pw", fallback=text)
    assert chosen["source"] == "" and chosen["username"] is None
    with pytest.raises(AnsibleFilterError, match=LOGIN_FALLBACK):
        _login_filter.router_login({}, user="netadmin", password="m-pw", fallback="maybe")


def test_an_empty_router_password_is_no_password_for_push_and_checks_alike() -> None:
    """vault_router_passwords {r1: ""}: not a login with an empty password (push) where the
    router checks said "no password": one rule, the router's empty entry is none."""
    from confprov.routers.targets import TargetProblems, build

    chosen = login({"vault_router_username": "netops", "vault_router_passwords": {"r1": ""}})
    assert chosen.passwords == {}
    site = {
        "address": "198.18.0.9",
        "platform": "frr",
        "site_name": "A",
        "wan_interface": "eth0",
        "wan_gateway": "198.18.0.1",
    }
    with pytest.raises(TargetProblems, match="r1: no password"):
        build(["r1"], {"r1": site}, username="netops", passwords={"r1": ""})


@pytest.mark.ansible
@pytest.mark.parametrize("combination", sorted(VAULTS))
def test_the_cli_play_and_the_router_checks_agree_on_the_login(
    combination: str, tmp_path: Path
) -> None:
    """With the operator's ANSIBLE_REMOTE_USER (ansible_user to every play) and Network variables
    in the environment, a play run as confprov runs it (the fallback off) logs in exactly as
    `confprov verify`'s router checks (workspace_routers) do, or both refuse naming the vault's
    missing variable."""
    ws = init_workspace(tmp_path / "ws", "starter")
    secrets = VAULTS[combination]
    env = {
        **os.environ,
        "ANSIBLE_REMOTE_USER": "operator",
        NET_USERNAME: "net-user",
        NET_PASSWORD: "net-Pw",
    }
    proc = _play(
        ws,
        tmp_path,
        secrets,
        extra={},
        password=vault.read_password(ws),
        args=("-e", json.dumps({LOGIN_FALLBACK: False})),
        env=env,
    )
    try:
        api, _ = workspace_routers(ws)
    except InputError as exc:
        refused = str(exc)
        assert proc.returncode != 0, proc.stdout
        assert "operator" not in proc.stdout and "net-user" not in proc.stdout
        if "vault_router_username" not in secrets:
            assert "vault_router_username" in refused
            assert "no router username: set vault_router_username" in proc.stdout
        else:
            assert "vault_router_password" in refused and "no password" in proc.stdout
        return
    assert proc.returncode == 0, proc.stdout + proc.stderr
    out = json.loads((tmp_path / "out.json").read_text())
    by_api = sorted((as_vars(t) for t in api), key=lambda t: t["host"])
    assert sorted(out["map"], key=lambda t: t["host"]) == by_api
    assert {t["username"] for t in out["map"]} == {"netops"}
