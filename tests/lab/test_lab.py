"""The shared 3-site lab: SSH, routers, isolation, the route that matters, faults."""

from __future__ import annotations

import re
import time

import pytest

from confprov.lab.system import lab_unavailable

if (_reason := lab_unavailable()) is not None:
    pytest.skip(_reason, allow_module_level=True)

pytestmark = pytest.mark.lab


def ping_loss(lab, site: int, target: str, count: int, interval: str = "0.01") -> float:
    out = lab.ssh(
        lab.endpoint(site), f"ping -q -n -c {count} -i {interval} -W 1 {target} || true"
    ).stdout
    match = re.search(r"([\d.]+)% packet loss", out)
    assert match, out
    return float(match.group(1))


def wait_for(what: str, check, timeout: float = 10.0) -> None:
    """Poll ``check()`` until it is true (a route reaching the kernel takes a moment)."""
    deadline = time.monotonic() + timeout
    while not check():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"


def has_conference_route(lab, site: int) -> bool:
    routes = lab.run(f"{lab.site(site).slug}-rt", ["ip", "-4", "route", "show"]).stdout
    return any(line.startswith(lab.plan.conf_net) for line in routes.splitlines())


def vtysh_route(lab, site: int, present: bool) -> None:
    """Add or remove the route to the conference network by hand, as the routers push would."""
    route = f"ip route {lab.plan.conf_net} {lab.plan.conf_wan}"
    command = route if present else f"no {route}"
    lab.run(f"{lab.site(site).slug}-rt", ["vtysh", "-c", "configure terminal", "-c", command])
    wait_for(f"route {present=}", lambda: has_conference_route(lab, site) == present)


def test_workspace_is_complete_and_valid(lab):
    from confprov.config import load_config
    from confprov.registry import load_registry
    from confprov.vault import decrypt, read_password

    ws = lab.workspace
    for name in (
        "confprov.yml",
        "sites.csv",
        "vault.yml",
        ".vault-pass",
        "id_ed25519",
        "known_hosts",
    ):
        assert (ws / name).exists(), name
    assert (ws / ".vault-pass").stat().st_mode & 0o777 == 0o600
    config = load_config(ws)
    assert config.conference.server == lab.conference_server
    registry = load_registry(ws / "sites.csv")
    assert [s.slug for s in registry.sites] == lab.sites
    assert {s.router_platform for s in registry.sites} == {"frr"}
    vault = decrypt(ws / "vault.yml", read_password(ws))
    assert set(vault) == {
        "vault_router_username",
        "vault_router_password",
        "vault_router_passwords",
        "vault_sip_passwords",
    }
    assert set(vault["vault_sip_passwords"]) == set(lab.sites)
    known = (ws / "known_hosts").read_text().splitlines()
    assert len(known) == 2 * len(lab.sites) + 1
    assert len({line.split()[2] for line in known}) == len(known), "host keys must differ"


def test_ssh_to_each_endpoint_with_strict_host_keys(lab):
    for i, slug in enumerate(lab.sites):
        out = lab.ssh(lab.endpoint(i), "hostname; sudo -n id -u; python3 -c 'print(1)'").stdout
        assert out.split() == [slug, "0", "1"]


def test_endpoints_have_no_conference_client(lab):
    res = lab.ssh(lab.endpoint(0), "command -v baresip || dpkg -s baresip", check=False)
    assert res.returncode != 0


def test_conference_host_answers_sip(lab):
    assert lab.ssh(lab.conference, "hostname", user="root").returncode == 0
    probe = (
        "import socket\n"
        "s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); s.settimeout(3)\n"
        f"srv = '{lab.conference_server}'\n"
        "msg = (f'OPTIONS sip:{srv} SIP/2.0\\r\\nVia: SIP/2.0/UDP {srv}:5099;branch=z9hG4bK1\\r\\n'"
        " f'From: <sip:t@{srv}>;tag=1\\r\\nTo: <sip:{srv}>\\r\\nCall-ID: 1@t\\r\\n'"
        " 'CSeq: 1 OPTIONS\\r\\nMax-Forwards: 70\\r\\nContent-Length: 0\\r\\n\\r\\n')\n"
        "s.bind((srv, 5099)); s.sendto(msg.encode(), (srv, 5060))\n"
        "print(s.recv(2000).decode().splitlines()[0])\n"
    )
    out = lab.run("conference", ["python3", "-c", probe]).stdout
    assert out.startswith("SIP/2.0 200"), out


def test_netmiko_drives_each_router(lab):
    from netmiko import ConnectHandler

    from confprov.vault import decrypt, read_password

    vault = decrypt(lab.workspace / "vault.yml", read_password(lab.workspace))
    for i, slug in enumerate(lab.sites):
        conn = ConnectHandler(
            device_type="cisco_ios",
            host=lab.router(i),
            username=vault["vault_router_username"],
            password=vault["vault_router_password"],
            ssh_config_file=None,
            system_host_keys=False,
            alt_host_keys=True,
            alt_key_file=str(lab.workspace / "known_hosts"),
        )
        try:
            assert "directly connected, wan" in conn.send_command("show ip route")
            conn.send_config_set(["interface wan", " description pytest-wan"])
            conn.save_config()
            assert "description pytest-wan" in conn.send_command("show running-config")
        finally:
            conn.disconnect()
        saved = lab.run(f"{slug}-rt", ["cat", "/etc/frr/frr.conf"]).stdout
        assert "description pytest-wan" in saved


def test_router_refuses_a_wrong_password(lab):
    import paramiko

    client = paramiko.SSHClient()
    client.load_host_keys(str(lab.workspace / "known_hosts"))
    client.set_missing_host_key_policy(paramiko.RejectPolicy())
    with pytest.raises(paramiko.AuthenticationException):
        client.connect(
            lab.router(0),
            username="netops",
            password="not-the-password",
            look_for_keys=False,
            allow_agent=False,
            timeout=10,
        )
    client.close()


def test_hosts_are_isolated(lab):
    lab.ssh(lab.endpoint(0), "echo mine > /tmp/only-here")
    assert lab.ssh(lab.endpoint(0), "cat /tmp/only-here").stdout.strip() == "mine"
    assert lab.ssh(lab.endpoint(1), "test -e /tmp/only-here", check=False).returncode == 1
    other = lab.site(1)
    # Neither over management nor over the site networks does one endpoint reach another.
    assert ping_loss(lab, 0, other.endpoint_mgmt, 2, "0.2") == 100.0
    assert ping_loss(lab, 0, other.endpoint_lan, 2, "0.2") == 100.0


def test_conference_unreachable_until_a_route_is_pushed(lab):
    target = lab.conference_server
    assert not has_conference_route(lab, 1)
    assert ping_loss(lab, 1, target, 2, "0.2") == 100.0
    vtysh_route(lab, 1, present=True)
    try:
        assert ping_loss(lab, 1, target, 3, "0.2") == 0.0
    finally:
        vtysh_route(lab, 1, present=False)
    assert ping_loss(lab, 1, target, 2, "0.2") == 100.0


@pytest.fixture
def routed_site(lab):
    from confprov.lab.faults import clear

    vtysh_route(lab, 2, present=True)
    yield 2
    clear(lab.site(2))
    vtysh_route(lab, 2, present=False)


def fault(lab, *args: str) -> None:
    import argparse

    from confprov.lab.cli import _cmd_fault  # the CLI path, as an operator uses it

    ns = argparse.Namespace(
        name=lab.name, site=lab.sites[2], loss=None, rate=None, down=False, clear=False
    )
    for arg in args:
        key, _, value = arg.partition("=")
        setattr(ns, key, {"loss": float, "rate": int}.get(key, bool)(value or True))
    assert _cmd_fault(ns) == 0


def test_fault_loss_is_seen_by_ping(lab, routed_site):
    target = lab.conference_server
    assert ping_loss(lab, routed_site, target, 50) == 0.0
    fault(lab, "loss=30")
    loss = ping_loss(lab, routed_site, target, 400, "0.005")
    assert 18.0 <= loss <= 42.0, loss
    fault(lab, "clear")
    assert ping_loss(lab, routed_site, target, 50) == 0.0


def test_fault_rate_limits_throughput(lab, routed_site):
    server = lab.conference_server
    receiver = (
        "import socket, time\n"
        f"s = socket.create_server(('{server}', 5999)); print('listening', flush=True)\n"
        "c, _ = s.accept(); n = 0; t0 = None\n"
        "while (b := c.recv(65536)):\n"
        "    t0 = t0 or time.monotonic(); n += len(b)\n"
        "print(n * 8 / 1000 / (time.monotonic() - t0))\n"
    )
    sender = (
        "import socket\n"
        f"c = socket.create_connection(('{server}', 5999)); c.sendall(b'x' * 300000); c.close()\n"
    )
    import subprocess

    def kbps() -> float:
        from confprov.lab.containers import exec_command
        from confprov.lab.state import LabState

        cmd = exec_command(
            LabState(lab.name).entries(), lab.plan.conf_ns, ["python3", "-c", receiver]
        )
        recv = subprocess.Popen(cmd, stdout=subprocess.PIPE, text=True)
        assert recv.stdout is not None
        assert recv.stdout.readline().strip() == "listening"
        lab.ssh(lab.endpoint(routed_site), f'python3 -c "{sender}"')
        out, _ = recv.communicate(timeout=60)
        return float(out.strip())

    unlimited = kbps()
    fault(lab, "rate=1000")
    limited = kbps()
    assert limited < 1300, limited
    assert limited > 500, limited
    assert unlimited > 5 * limited, (unlimited, limited)


def test_fault_down_and_clear(lab, routed_site):
    target = lab.conference_server
    fault(lab, "down")
    assert ping_loss(lab, routed_site, target, 3, "0.2") == 100.0
    fault(lab, "clear")
    deadline = time.monotonic() + 5
    while ping_loss(lab, routed_site, target, 2, "0.2") != 0.0:
        assert time.monotonic() < deadline, "clear did not restore the WAN"


def test_status_reports_the_lab(lab):
    from confprov.lab.lab import status

    st = status(lab.name)
    assert st.phase == "up"
    assert st.running == st.hosts == 7
    assert str(lab.workspace) == st.workspace
