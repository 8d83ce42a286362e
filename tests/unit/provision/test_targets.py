"""--limit SITE|district:NAME|level:LEVEL on the registry, and what it refuses."""

from __future__ import annotations

from pathlib import Path

import pytest

from confprov.exceptions import InputError
from confprov.provision.targets import resolve
from confprov.workspace import load


@pytest.fixture
def registry(small_workspace: Path):  # type: ignore[no-untyped-def]
    return load(small_workspace).registry


def test_no_limit_selects_every_endpoint_but_windows(registry) -> None:  # type: ignore[no-untyped-def]
    t = resolve(registry)
    assert t.groups == ()
    assert set(t.hosts) == {
        "trung-tam-hoi-nghi-tinh", "trung-tam-hoi-nghi-tinh-2", "cam-khe", "yen-tap.cam-khe",
        "cam-khe.cam-khe", "sngv",
    }  # fmt: skip
    assert t.windows == ("so-khoa-hoc-va-cong-nghe",)
    assert t.addresses["trung-tam-hoi-nghi-tinh-2"] == "198.18.1.12"


@pytest.mark.parametrize(
    ("spec", "group", "hosts"),
    [
        ("yen-tap.cam-khe", "site_yen_tap_cam_khe", {"yen-tap.cam-khe"}),
        ("UBND xã Yên Tập", "site_yen_tap_cam_khe", {"yen-tap.cam-khe"}),
        ("trung-tam-hoi-nghi-tinh-2", "site_trung_tam_hoi_nghi_tinh",
         {"trung-tam-hoi-nghi-tinh", "trung-tam-hoi-nghi-tinh-2"}),
        ("district:Cẩm Khê", "district_cam_khe", {"cam-khe", "yen-tap.cam-khe", "cam-khe.cam-khe"}),
        ("district:cam-khe", "district_cam_khe", {"cam-khe", "yen-tap.cam-khe", "cam-khe.cam-khe"}),
        ("district:UBND huyện Cẩm Khê", "district_cam_khe",
         {"cam-khe", "yen-tap.cam-khe", "cam-khe.cam-khe"}),
        ("level:commune", "level_commune", {"yen-tap.cam-khe", "cam-khe.cam-khe"}),
        ("level:xã", "level_commune", {"yen-tap.cam-khe", "cam-khe.cam-khe"}),
        ("sngv", "site_sngv", {"sngv"}),
    ],
)  # fmt: skip
def test_limit_maps_onto_inventory_groups(registry, spec: str, group: str, hosts: set[str]) -> None:  # type: ignore[no-untyped-def]
    t = resolve(registry, [spec])
    assert t.groups == (group,)
    assert set(t.hosts) == hosts


def test_department_level_reports_the_windows_endpoint_as_skipped(registry) -> None:  # type: ignore[no-untyped-def]
    t = resolve(registry, ["level:department"])
    assert t.hosts == ("sngv",)
    assert t.windows == ("so-khoa-hoc-va-cong-nghe",)


def test_unknown_limits_are_all_named_with_what_exists(registry) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(InputError) as err:
        resolve(registry, ["district:Hạ Hòa", "level:village", "yen-tapp"])
    text = str(err.value)
    assert "district:Hạ Hòa: no such district (known: cam-khe (UBND huyện Cẩm Khê))" in text
    assert "level:village: no such level (known: province, district, commune, department)" in text
    assert "yen-tapp: no such site" in text and "yen-tap.cam-khe" in text
    assert err.value.exit_code == 2


def test_retry_narrows_to_the_failed_hosts(registry) -> None:  # type: ignore[no-untyped-def]
    t = resolve(registry, ["district:cam-khe"], only_hosts=["yen-tap.cam-khe", "sngv"])
    assert t.hosts == ("yen-tap.cam-khe",)
