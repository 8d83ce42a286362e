"""Issue #13 item 1: nothing from a registry or confprov.yml reaches a client config, an
inventory or a comment line as anything but data (the rules: confprov/domain.py)."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
import yaml

from confprov import domain
from confprov.config import parse_config
from confprov.exceptions import InputError
from confprov.inventory import groups_of, render_files
from confprov.provision.profiles import load_profile
from confprov.registry import load_registry
from confprov.workspace import load
from tests.unit.test_registry import GOOD, HEADER, one, problems

# --------------------------------------------------------------------------- SIP client configs


@pytest.mark.parametrize(
    "name",
    [
        'UBND xã "Yên" Tập',
        "UBND xã Yên Tập <sip:evil@198.18.9.9>",
        "UBND xã Yên Tập;auth_pass=x",
        "UBND xã Yên Tập\\",
    ],
)
def test_a_name_that_would_change_the_sip_account_line_is_refused(
    tmp_path: Path, name: str
) -> None:
    cell = '"' + name.replace('"', '""') + '"'
    found = problems(tmp_path, HEADER + GOOD + f",{cell},department,,198.18.5.11,,\n")
    one(found, 6, "name", "SIP account line")


def test_a_name_with_a_line_break_is_refused(tmp_path: Path) -> None:
    found = problems(tmp_path, HEADER + GOOD + ',"Sở\nregint=1",department,,198.18.5.11,,\n')
    assert any(p.field == "name" and "line break" in p.message for p in found), found


# baresip's accounts line: "display" <sip:user@domain;uri-params>;account-params
_BARESIP = re.compile(r'^"(?P<display>[^"]*)" <(?P<uri>[^>]*)>(?P<params>.*)$')


@pytest.mark.parametrize("profile", ["baresip", "linphone"])
def test_every_allowed_name_stays_the_display_name(profile: str) -> None:
    """The hardest name ``check`` lets through (Vietnamese, quotes of another kind, & ( ) , / :
    + ' and =) is one display name: the account's address and parameters are the ones confprov
    wrote. The oracle is the account line's grammar (RFC 3261 name-addr), not confprov's code."""
    name = "UBND xã Yên Tập (cũ) & 'A' = “B”, 1/2: +84 \u2039x\u203a «y» #1"
    assert domain.sip_display_error(name) is None
    values = {
        "conference_client_site_name": name,
        "conference_client_sip_user": "yen-tap",
        "conference_client_sip_password": "pw",
        "conference_client_sip_domain": "hoinghi.example",
        "conference_client_server": "198.18.32.10",
        "conference_client_port": 5060,
        "conference_client_transport": "udp",
        "conference_client_home": "/home/conf",
    }
    files = load_profile(profile).render(values)
    if profile == "baresip":
        (line,) = [x for x in files[".baresip/accounts"].splitlines() if not x.startswith("#")]
        parsed = _BARESIP.match(line)
        assert parsed, line
        assert parsed["display"] == name
        assert parsed["uri"] == "sip:yen-tap@hoinghi.example;transport=udp"
        assert parsed["params"].split(";")[1:3] == [
            "auth_pass=pw",
            'outbound="sip:198.18.32.10:5060',
        ]
    else:
        rc = files[".config/linphone/linphonerc"]
        (line,) = [x for x in rc.splitlines() if x.startswith("reg_identity=")]
        parsed = _BARESIP.match(line.removeprefix("reg_identity="))
        assert parsed, line
        assert (parsed["display"], parsed["uri"], parsed["params"]) == (
            name,
            "sip:yen-tap@hoinghi.example",
            "",
        )


# --------------------------------------------------------------------------- confprov.yml

CONFIG = "conference:\n  server: 198.19.255.10\n  sip_domain: hoinghi.example\n"


@pytest.mark.parametrize(
    "text,key,line",
    [
        (
            CONFIG.replace("hoinghi.example", "\"{{ lookup('pipe', 'id') }}\""),
            "conference.sip_domain",
            3,
        ),
        (CONFIG + "province: '{% if 1 %}x{% endif %}'\n", "province", 4),
        (CONFIG + "client:\n  version: '{# x #}'\n", "client.version", 5),
    ],
)
def test_template_markers_in_confprov_yml_are_refused(text: str, key: str, line: int) -> None:
    with pytest.raises(InputError) as info:
        parse_config(text, "ws/confprov.yml")
    (problem,) = info.value.problems
    assert (problem.file, problem.line, problem.field) == ("ws/confprov.yml", line, key)
    assert "template markers" in problem.message
    assert domain.template_error("{{") == problem.message  # the registry's rule, one definition


# --------------------------------------------------------------------------- reserved names


@pytest.mark.parametrize(
    "row,field,words",
    [
        ("conference-server,Hội trường,department,,198.18.5.11,,", "id", "conference side"),
        ("localhost,Máy chủ,department,,198.18.5.11,,", "id", "controller itself"),
        (",Routers,department,,198.18.5.11,,", "name", "inventory group 'routers'"),
        ("all,Tất cả,department,,198.18.5.11,,", "id", "every host"),
    ],
)
def test_reserved_inventory_names_are_refused(
    tmp_path: Path, row: str, field: str, words: str
) -> None:
    one(problems(tmp_path, HEADER + GOOD + row + "\n"), 6, field, words)


def test_reserved_names_cover_every_fixed_inventory_name(small_workspace: Path) -> None:
    """Every group confprov names without a prefix, and the conference host, is reserved."""
    loaded = load(small_workspace)
    fixed = {g.name for g in groups_of(loaded.registry, loaded.config) if "_" not in g.name}
    assert fixed == set(domain.INVENTORY_GROUPS)
    assert fixed | {domain.CONFERENCE_HOST} <= set(domain.RESERVED_HOSTS)


# --------------------------------------------------------------------------- addresses


@pytest.mark.parametrize(
    "rows,line,field",
    [
        # IPv6 written two ways, two sites
        (",Sở A,department,,2001:db8::11,,\n,Sở B,department,,2001:DB8:0:0::11,,\n", 7, "endpoint"),
        # the same endpoint twice in one site
        (",Sở A,department,,198.18.5.11 198.18.5.11,,\n", 6, "endpoint"),
        # a site's router equal to its endpoint
        (",Sở A,department,,198.18.5.11,198.18.5.11,frr\n", 6, "router"),
        # a host name in two cases
        (",Sở A,department,,pc.example,,\n,Sở B,department,,PC.example.,,\n", 7, "endpoint"),
    ],
)
def test_addresses_compare_as_addresses(tmp_path: Path, rows: str, line: int, field: str) -> None:
    one(problems(tmp_path, HEADER + GOOD + rows), line, field, "duplicate address")


@pytest.mark.parametrize(
    "address,words",
    [
        ("127.0.0.1", "loopback"),
        ("::1", "loopback"),
        ("::ffff:127.0.0.2", "loopback"),
        ("0.0.0.0", "unspecified"),
        ("::", "unspecified"),
        ("224.0.0.1", "multicast"),
        ("ff02::1", "multicast"),
        ("255.255.255.255", "broadcast"),
        ("169.254.10.1", "link-local"),
        ("fe80::1", "link-local"),
        ("localhost", "localhost"),
        ("db.localhost", "localhost"),
    ],
)
@pytest.mark.parametrize("column", ["endpoint", "router"])
def test_addresses_that_are_not_a_device_are_refused(
    tmp_path: Path, address: str, words: str, column: str
) -> None:
    row = (
        f",Sở A,department,,{address},,"
        if column == "endpoint"
        else f",Sở A,department,,198.18.5.11,{address},frr"
    )
    one(problems(tmp_path, HEADER + GOOD + row + "\n"), 6, column, words)


def test_lab_and_documentation_addresses_are_taken(tmp_path: Path) -> None:
    path = tmp_path / "sites.csv"
    path.write_text(HEADER + GOOD + ",Sở A,department,,2001:db8::5 10.0.0.5,198.19.5.1,frr\n")
    assert len(load_registry(path).sites) == 5


# --------------------------------------------------------------------------- file names


def test_a_registry_file_name_cannot_inject_inventory_lines(small_workspace: Path) -> None:
    """A registry named with a line break (and a template marker) is written into the comments
    of hosts.yml and every host's file: each stays one comment line; the YAML reads the same."""
    evil = "sites\nall: {vars: {ansible_host: 198.18.9.9}}\n{{ x }}.csv"
    (small_workspace / evil).write_bytes((small_workspace / "sites.csv").read_bytes())
    loaded = load(small_workspace)
    plain = render_files(small_workspace, loaded.registry, loaded.config)
    registry = load_registry(small_workspace / evil)
    files = render_files(small_workspace, registry, loaded.config)
    assert set(files) == set(plain)
    for rel, text in files.items():
        assert yaml.safe_load(text) == yaml.safe_load(plain[rel]), rel
        assert "{{ x }}" not in text
        assert len(text.splitlines()) == len(plain[rel].splitlines()), rel


# --------------------------------------------------------------------------- spreadsheets


def test_a_formula_like_name_is_text_in_the_written_workbook(tmp_path: Path) -> None:
    """``init --xlsx`` writes the registry as a workbook: a name beginning with a formula
    character is a text cell (Excel never evaluates it) and reads back as the same name."""
    import openpyxl

    from confprov.spreadsheet import write_workbook

    header = HEADER.strip().split(",")
    name = "=HYPERLINK(A1)&SUM(1,2) Sở A"
    rows = [r.split(",") for r in GOOD.splitlines()] + [
        ["", name, "department", "", "198.18.5.11", "", ""],
        ["", "+84 Sở B", "department", "", "198.18.6.11", "", ""],
    ]
    write_workbook(tmp_path / "sites.xlsx", header, rows, "Sites")
    sheet = openpyxl.load_workbook(tmp_path / "sites.xlsx")["Sites"]
    cells = [sheet.cell(row=row, column=2) for row in (6, 7)]
    assert [(c.value, c.data_type) for c in cells] == [(name, "s"), ("+84 Sở B", "s")]
    names = [s.name for s in load_registry(tmp_path / "sites.xlsx").sites]
    assert names[-2:] == [name, "+84 Sở B"]


def test_a_workspace_path_with_template_markers_is_refused(small_workspace: Path) -> None:
    """Its path goes into the inventory's variables (known_hosts, the SSH key), which Ansible
    templates again: a folder named like a Jinja expression would run on the controller."""
    odd = small_workspace.parent / "{{ lookup('pipe', 'id') }}"
    small_workspace.rename(odd)
    with pytest.raises(InputError) as info:
        load(odd)
    assert "template markers" in str(info.value)
