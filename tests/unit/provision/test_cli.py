"""`confprov provision` refuses bad input with exit 2, naming it, before writing anything."""

from __future__ import annotations

from pathlib import Path

import pytest

from confprov.cli import main


def nothing_written(ws: Path) -> bool:
    return not any((ws / name).exists() for name in ("inventory", "runs", "mirror", "survey"))


def test_unknown_limit_exits_2_naming_what_exists(
    small_workspace: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code = main(["provision", "-w", str(small_workspace), "--limit", "district:Thanh Ba"])
    assert code == 2
    err = capsys.readouterr().err
    assert "district:Thanh Ba: no such district (known: cam-khe (UBND huyện Cẩm Khê))" in err
    assert nothing_written(small_workspace)


def test_retry_without_an_earlier_run_exits_2(
    small_workspace: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["provision", "-w", str(small_workspace), "--retry-failed"]) == 2
    assert "no earlier 'provision' run to retry" in capsys.readouterr().err
    assert nothing_written(small_workspace)


def test_a_windows_endpoint_without_its_msi_is_refused_before_anything_runs(
    small_workspace: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Windows endpoints are provisioned now: with no MSI in the package folder the run names
    the folder and the file it looks for, and nothing is written or served."""
    code = main(["provision", "-w", str(small_workspace), "--limit", "so-khoa-hoc-va-cong-nghe"])
    assert code == 2
    err = capsys.readouterr().err
    assert str(small_workspace / "packages" / "windows") in err
    assert "no Webex MSI (Webex*.msi) at any version" in err
    assert nothing_written(small_workspace)


@pytest.mark.parametrize(
    "argv", [["--forks", "0"], ["--json", "no-such-dir/run.json"], ["--forks", "x"]]
)
def test_bad_flags_exit_2(small_workspace: Path, argv: list[str]) -> None:
    try:
        code = main(["provision", "-w", str(small_workspace), *argv])
    except SystemExit as exc:  # argparse's own usage errors
        code = int(exc.code or 0)
    assert code == 2
    assert nothing_written(small_workspace)


def test_unknown_profile_in_config_is_bad_input(
    small_workspace: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = small_workspace / "confprov.yml"
    config.write_text(config.read_text() + "client:\n  profile: zoom\n")
    assert main(["mirror", "-w", str(small_workspace)]) == 2
    err = capsys.readouterr().err
    assert "client.profile" in err and "unknown client profile 'zoom'" in err
    assert nothing_written(small_workspace)
