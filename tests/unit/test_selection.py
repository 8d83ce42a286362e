"""One `--limit` for provision, verify and routers: what each spec selects, and what it refuses."""

from __future__ import annotations

from pathlib import Path

import pytest

from confprov.cli import main
from confprov.exceptions import InputError
from confprov.registry import Registry
from confprov.routers.targets import router_hosts
from confprov.runner import NothingToRetry
from confprov.selection import select
from confprov.workspace import load


@pytest.fixture
def registry(small_workspace: Path) -> Registry:
    return load(small_workspace).registry


def slugs(registry: Registry, *limits: str) -> set[str]:
    return {s.slug for s in select(registry, limits).sites}


@pytest.mark.parametrize(
    ("spec", "expected"),
    [
        ("yen-tap.cam-khe-rt", {"yen-tap.cam-khe"}),  # a router's host name
        ("198.18.3.1", {"yen-tap.cam-khe"}),  # a router's address
        ("198.18.1.12", {"trung-tam-hoi-nghi-tinh"}),  # an endpoint's address
        ("pc-ngoai-vu.lan", {"sngv"}),  # an endpoint's (DNS) address
        ("site_yen_tap_cam_khe", {"yen-tap.cam-khe"}),  # inventory groups, as Ansible names them
        ("district_cam_khe", {"cam-khe", "yen-tap.cam-khe", "cam-khe.cam-khe"}),
        ("level_department", {"so-khoa-hoc-va-cong-nghe", "sngv"}),
        ("sngv,district:cam-khe", {"sngv", "cam-khe", "yen-tap.cam-khe", "cam-khe.cam-khe"}),
        ("Yên Tập", {"yen-tap.cam-khe"}),  # a name without "UBND xã"
    ],
)
def test_every_form_selects_its_sites(registry: Registry, spec: str, expected: set[str]) -> None:
    assert slugs(registry, spec) == expected


def test_no_limit_is_every_site_in_registry_order(registry: Registry) -> None:
    chosen = select(registry)
    assert chosen.groups == ()
    assert [s.slug for s in chosen.sites] == [s.slug for s in registry.sites]


def test_a_bad_part_of_a_comma_list_is_named(registry: Registry) -> None:
    with pytest.raises(InputError) as err:
        select(registry, ["sngv,nowhere"])
    assert "nowhere: no such site" in str(err.value)
    assert err.value.exit_code == 2


def test_routers_take_the_router_of_each_selected_site(registry: Registry) -> None:
    # The department level holds a site without a router (Sở Khoa học…): passed over.
    assert router_hosts(registry, ["level:department"]) == ["sngv-rt"]
    assert router_hosts(registry, ["cam-khe"]) == ["cam-khe-rt"]
    with pytest.raises(InputError, match="none of the 1 site"):
        router_hosts(registry, ["so-khoa-hoc-va-cong-nghe"])


@pytest.mark.parametrize(
    "argv",
    [
        ["verify", "--limit", "district:nowhere"],
        ["provision", "--limit", "district:nowhere"],
        ["routers", "plan", "--limit", "district:nowhere"],
        ["routers", "check", "--limit", "district:nowhere"],
        ["routers", "backups", "--limit", "district:nowhere"],
    ],
)
def test_every_command_refuses_the_same_bad_limit_the_same_way(
    small_workspace: Path, argv: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    assert main([*argv, "-w", str(small_workspace)]) == 2
    err = capsys.readouterr().err
    assert "district:nowhere: no such district (known: cam-khe (UBND huyện Cẩm Khê))" in err
    assert not (small_workspace / "runs").exists()
    assert not (small_workspace / "inventory").exists()


def _last_push(workspace: Path, failed: list[str]) -> None:
    """A stand-in for an earlier `routers push` run's summary.json (what --retry-failed reads)."""
    import json

    run = workspace / "runs" / "20261126-120000-routers-push"
    run.mkdir(parents=True)
    hosts = {h: {"status": "unreachable"} for h in failed}
    (run / "summary.json").write_text(json.dumps({"action": "routers-push", "hosts": hosts}))


def test_retry_failed_keeps_the_limit(small_workspace: Path) -> None:
    """--retry-failed with --limit: the routers that failed last time inside the limit only.

    Only the refusal is run here (a run would reach for routers no lab serves); the run itself is
    in tests/lab/test_routers.py (test_a_refused_line_reverts_that_router_only).
    """
    from confprov.routers.run import run_routers

    _last_push(small_workspace, ["sngv-rt", "cam-khe-rt"])
    with pytest.raises(NothingToRetry, match="no failed sites among those --limit selects") as e:
        run_routers(small_workspace, "push", limits=["yen-tap.cam-khe"], retry_failed=True)
    assert e.value.exit_code == 0  # as provision and verify: nothing to retry is success
    assert not (small_workspace / "inventory").exists()


def test_backups_of_a_router_gone_from_the_registry_are_still_listed(
    small_workspace: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    kept = small_workspace / "backups" / "old-site-rt"
    kept.mkdir(parents=True)
    (kept / "20261120-101500.cfg").write_text("hostname old-site-rt\n")
    assert main(["routers", "backups", "-w", str(small_workspace), "--limit", "old-site-rt"]) == 0
    assert "old-site-rt: 1 backup(s)" in capsys.readouterr().out
