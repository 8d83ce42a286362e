"""Windows profiles and the package folder: ProductCode and version read from wixl-built MSIs,
the folder served over real HTTP on 127.0.0.1 and what is served matching its checksum."""

from __future__ import annotations

import hashlib
import urllib.request
from pathlib import Path

import pytest

from confprov.cli import main
from confprov.config import parse_config
from confprov.exceptions import InputError
from confprov.provision import windows as winprov

CONFIG = """
conference: {server: 198.19.255.10, sip_domain: hoinghi.example}
windows: {profile: PROFILE, version: "VERSION", web_url: "WEB"}
"""


def config(profile: str = "webex", version: str = "", web: str = ""):  # type: ignore[no-untyped-def]
    text = CONFIG.replace("PROFILE", profile).replace("VERSION", version).replace("WEB", web)
    return parse_config(text, "confprov.yml")


def test_product_code_and_version_come_from_the_msi(build_msi, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    msi = build_msi(
        tmp_path / "Webex.msi",
        version="44.10.0.31126",
        code="{0A1B2C3D-1111-4222-8333-444455556666}",
    )
    package = winprov.read_msi(msi)
    assert package.product_code == "{0A1B2C3D-1111-4222-8333-444455556666}"
    assert package.product_version == "44.10.0.31126"
    assert package.product_name == "Webex"
    assert package.manufacturer == "Cisco Systems, Inc"
    assert package.sha256 == hashlib.sha256(msi.read_bytes()).hexdigest()


def test_the_pinned_version_chooses_among_several_msis(build_msi, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    folder = tmp_path / "ws" / "packages" / "windows"
    build_msi(
        folder / "Webex-44.10.msi",
        version="44.10.0.31126",
        code="{11111111-1111-4111-8111-111111111111}",
    )
    build_msi(
        folder / "Webex-45.1.msi",
        version="45.1.0.100",
        code="{22222222-2222-4222-8222-222222222222}",
    )
    plan = winprov.plan(tmp_path / "ws", config(version="45.1.0.100"))
    assert plan.package is not None
    assert (plan.package.file, plan.package.product_code) == (
        "Webex-45.1.msi",
        "{22222222-2222-4222-8222-222222222222}",
    )
    with pytest.raises(InputError) as unpinned:
        winprov.plan(tmp_path / "ws", config())
    assert "several Webex MSIs" in str(unpinned.value)
    assert "pin one in windows.version" in str(unpinned.value)
    with pytest.raises(InputError) as absent:
        winprov.plan(tmp_path / "ws", config(version="46.0"))
    text = str(absent.value)
    assert "no Webex MSI (Webex*.msi) at version 46.0" in text
    assert "Webex-44.10.msi (Webex 44.10.0.31126)" in text


def test_an_msi_of_another_product_is_refused_by_name(build_msi, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    folder = tmp_path / "ws" / "packages" / "windows"
    build_msi(folder / "Webex.msi", name="Some Other App")
    with pytest.raises(InputError) as exc:
        winprov.plan(tmp_path / "ws", config())
    assert "no Webex MSI" in str(exc.value)


def test_a_broken_msi_is_named(tmp_path: Path) -> None:
    folder = tmp_path / "ws" / "packages" / "windows"
    folder.mkdir(parents=True)
    (folder / "Webex.msi").write_bytes(b"not an msi")
    with pytest.raises(InputError) as exc:
        winprov.plan(tmp_path / "ws", config())
    assert str(folder / "Webex.msi") in str(exc.value)
    assert "not a readable MSI" in str(exc.value)


def test_the_browser_profile_needs_the_web_address_and_installs_nothing(tmp_path: Path) -> None:
    with pytest.raises(InputError) as exc:
        winprov.plan(tmp_path, config(profile="browser"))
    assert "windows.web_url" in str(exc.value)
    plan = winprov.plan(tmp_path, config(profile="browser", web="https://hop.example.vn/phong/1"))
    assert plan.package is None
    assert plan.play_vars({})["confprov_windows_package"] == {}


def test_the_package_folder_is_served_on_the_management_address_and_checksummed(  # type: ignore[no-untyped-def]
    build_msi, tmp_path: Path
) -> None:
    """Real HTTP on 127.0.0.1 (standing in for the controller's management address): what an
    endpoint downloads is byte for byte the MSI whose SHA-256 and ProductCode the play gets."""
    ws = tmp_path / "ws"
    build_msi(ws / "packages" / "windows" / "Webex.msi")
    plan = winprov.plan(ws, config())
    with winprov.served(winprov.package_folder(ws, config()), {"laptop": "127.0.0.1"}) as urls:
        assert urls == {"laptop": f"http://127.0.0.1:{winprov.PACKAGES_PORT}/"}
        play = plan.play_vars(urls)
        url = play["confprov_windows_package_urls"]["laptop"]
        with urllib.request.urlopen(url, timeout=5) as response:
            body = response.read()
    assert url.endswith("/Webex.msi")
    assert hashlib.sha256(body).hexdigest() == play["confprov_windows_package"]["sha256"]
    downloaded = tmp_path / "downloaded.msi"
    downloaded.write_bytes(body)
    assert (
        winprov.read_msi(downloaded).product_code
        == play["confprov_windows_package"]["product_code"]
    )
    # The server is gone with the block: nothing keeps listening after a run.
    with pytest.raises(OSError):
        urllib.request.urlopen(url, timeout=2)


@pytest.mark.parametrize(
    ("text", "field"),
    [
        ("kind: exe", "kind"),
        ("registry: [{path: 'HKCU:\\\\x', name: a, type: string, data: b}]", "registry[0].path"),
        ("registry: [{path: 'HKLM:\\\\x', name: a, type: text, data: b}]", "registry[0].type"),
        ("files: [{path: rel.txt, content: x, secret: false}]", "files[0].path"),
        (
            "files: [{path: 'C:\\\\x', content: '{{ password }}', secret: false}]",
            "files[0].content",
        ),
        ("colour: blue", "colour"),
    ],
)
def test_a_bad_profile_is_refused_naming_the_field(text: str, field: str) -> None:
    base = {
        "kind": "kind: msi",
        "registry": "registry: []",
        "files": "files: []",
    }
    key = text.split(":", 1)[0]
    base[key] = text
    source = "\n".join(
        ["name: t", "package: {file: 'T*.msi', product_name: T}", "arguments: []", *base.values()]
        + ([text] if key not in ("kind", "registry", "files") else [])
    )
    with pytest.raises(InputError) as exc:
        winprov.parse_windows_profile(source, "t.yml")
    assert any(p.field == field for p in exc.value.problems), exc.value.problems


def test_every_shipped_windows_profile_loads() -> None:
    assert winprov.available() == ["browser", "webex", "zoom"]
    for name in winprov.available():
        profile = winprov.load_windows_profile(name)
        assert profile.name == name


def test_an_unknown_windows_profile_exits_2_naming_the_known_ones(
    small_workspace: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    conf = small_workspace / "confprov.yml"
    conf.write_text(conf.read_text() + "windows: {profile: teams}\n")
    assert (
        main(["provision", "-w", str(small_workspace), "--limit", "so-khoa-hoc-va-cong-nghe"]) == 2
    )
    err = capsys.readouterr().err
    assert "unknown Windows client profile 'teams' (known: browser, webex, zoom)" in err


def test_a_profile_that_is_an_alias_bomb_is_bad_input_not_expanded() -> None:
    # Windows profiles are read with the same bounded YAML and key rules as the Linux ones.
    from confprov.exceptions import InputError
    from confprov.provision.windows import parse_windows_profile

    levels = ['a: &a ["x","x","x","x","x","x","x","x","x"]']
    for prev, name in zip("abcdef", "bcdefg", strict=True):
        levels.append(f"{name}: &{name} [" + ",".join([f"*{prev}"] * 9) + "]")
    with pytest.raises(InputError) as err:
        parse_windows_profile("\n".join(levels) + "\n", "bomb.yml")
    assert "bomb.yml" in str(err.value) and "aliases expand" in str(err.value)
