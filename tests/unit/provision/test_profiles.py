"""Client profiles as data: what each shipped profile installs and the files it renders."""

from __future__ import annotations

import pytest

from confprov.exceptions import InputError
from confprov.provision.profiles import available, load_profile, parse_profile

SITE = {
    "conference_client_site_name": "UBND xã Yên Tập",
    "conference_client_sip_user": "yen-tap.cam-khe",
    "conference_client_sip_password": "S1p-pass-Qx7",
    "conference_client_sip_domain": "hoinghi.example",
    "conference_client_server": "198.18.32.10",
    "conference_client_port": 5060,
    "conference_client_transport": "udp",
    "conference_client_home": "/home/conf",
}


def test_shipped_profiles_include_baresip_and_a_desktop_client() -> None:
    assert {"baresip", "linphone"} <= set(available())
    for name in available():
        profile = load_profile(name)
        assert profile.name == name
        assert profile.packages and profile.default_version
        assert not set(profile.packages) & set(profile.conflicts)


def test_baresip_installs_the_debian_softphone_at_the_pinned_version() -> None:
    profile = load_profile("baresip")
    assert profile.packages == ("baresip-core",)
    assert profile.version("") == "1.0.0-4+b3"
    assert profile.version("1.0.0-4") == "1.0.0-4"
    assert "linphone-desktop" in profile.conflicts
    assert profile.smoke_test.argv[0] == profile.binary == "/usr/bin/baresip"


def test_baresip_account_holds_the_site_account_and_vietnamese_name() -> None:
    files = load_profile("baresip").render(SITE)
    account = files[".baresip/accounts"]
    assert (
        '"UBND xã Yên Tập" <sip:yen-tap.cam-khe@hoinghi.example;transport=udp>;'
        "auth_pass=S1p-pass-Qx7;" in account
    )
    assert 'outbound="sip:198.18.32.10:5060;transport=udp"' in account
    assert "sip_listen              0.0.0.0:5060" in files[".baresip/config"]
    autostart = files[".config/autostart/confprov-conference-client.desktop"]
    assert "Exec=/usr/bin/baresip -f /home/conf/.baresip" in autostart
    assert "Name=Điểm cầu UBND xã Yên Tập" in autostart


def test_only_the_account_file_is_secret_and_private() -> None:
    for name in available():
        profile = load_profile(name)
        for f in profile.files:
            holds_password = "conference_client_sip_password" in f.content
            assert f.secret == holds_password, (name, f.path)
            if f.secret:
                assert f.mode == "0600", (name, f.path)


def test_linphone_renders_proxy_identity_and_credentials() -> None:
    profile = load_profile("linphone")
    assert profile.packages == ("linphone-desktop",)
    rc = profile.render(SITE)[".config/linphone/linphonerc"]
    assert "reg_proxy=<sip:198.18.32.10:5060;transport=udp>" in rc
    assert 'reg_identity="UBND xã Yên Tập" <sip:yen-tap.cam-khe@hoinghi.example>' in rc
    assert "username=yen-tap.cam-khe\npasswd=S1p-pass-Qx7\ndomain=hoinghi.example" in rc
    assert (
        "Exec=/usr/bin/linphone"
        in profile.render(SITE)[".config/autostart/confprov-conference-client.desktop"]
    )


def test_profile_vars_carry_everything_the_role_reads() -> None:
    data = load_profile("baresip").as_vars()
    assert set(data) == {
        "name", "packages", "default_version", "conflicts", "binary", "smoke_test", "dirs", "files",
    }  # fmt: skip
    assert data["smoke_test"] == {
        "argv": ["/usr/bin/baresip", "-h"],
        "rc": 254,
        "shows_version": True,
    }
    assert all(set(f) == {"path", "mode", "content", "secret"} for f in data["files"])


def test_unknown_profile_names_the_known_ones() -> None:
    with pytest.raises(InputError) as err:
        load_profile("zoom")
    assert "client.profile" in str(err.value)
    assert "baresip" in str(err.value) and "linphone" in str(err.value)


BAD = """
name: x
packages: [Bad_Name]
default_version: "1"
binary: /usr/bin/x
smoke_test: {argv: [/usr/bin/x]}
conflicts: []
dirs: []
colour: blue
files:
  - {path: /etc/abs, mode: "0644", content: "x", secret: false}
  - {path: ok, mode: "644", content: "x", secret: false}
  - {path: ok2, mode: "0644", content: "{{ conference_client_pasword }}", secret: true}
  - {path: ok3, mode: "0644", content: "x"}
"""


def test_a_bad_profile_lists_every_problem_by_field() -> None:
    with pytest.raises(InputError) as err:
        parse_profile(BAD, "bad.yml")
    fields = {p.field for p in err.value.problems}
    assert fields == {
        "colour", "packages", "files[0].path", "files[1].mode", "files[2].content",
        "files[3].secret",
    }  # fmt: skip
    assert "conference_client_pasword" in str(err.value)
