"""What provision reports of Windows endpoints: the room survey as far as stock facts reach, and
what --check would change, read from the run's own job events."""

from __future__ import annotations

import json
from pathlib import Path

from confprov.provision import survey
from confprov.provision.run import would_change

LINUX = {
    "site": "cam-khe",
    "site_name": "UBND huyện Cẩm Khê",
    "cameras": [],
    "displays": [{"name": "HDMI-A-1", "connected": True}],
    "audio": [{"name": "PCH", "playback": True, "capture": True}],
}
# What playbooks/provision.yml's Windows play saves (stock facts only).
WINDOWS = {
    "site": "so-khoa-hoc-va-cong-nghe",
    "site_name": "Sở Khoa học và Công nghệ",
    "os": "Microsoft Windows 11 Pro 10.0.22631.0",
    "model": "ThinkPad T14",
    "cpu": {"model": "Intel(R) Core(TM) i5-1245U", "cores": 10},
    "memory_mb": 16384,
    "devices_surveyed": False,
    "cameras": [],
    "displays": [],
    "audio": [],
}


def test_a_windows_room_is_not_reported_as_lacking_devices_nobody_read() -> None:
    summary = survey.summarise({"cam-khe": LINUX, "so-khoa-hoc-va-cong-nghe": WINDOWS})
    assert summary.lacking["camera"] == ["UBND huyện Cẩm Khê"]  # read, and really missing
    assert summary.not_surveyed == ["Sở Khoa học và Công nghệ"]
    assert all("Sở Khoa học" not in names for names in summary.lacking.values())
    assert "  1 site(s) with devices not surveyed (Windows): Sở Khoa học và Công nghệ" in (
        summary.lines()
    )


def test_check_mode_lists_what_windows_modules_would_change(tmp_path: Path) -> None:
    events = tmp_path / "artifacts" / "ansible" / "job_events"
    events.mkdir(parents=True)

    def event(n: int, kind: str, action: str, res: dict, task: str) -> None:
        data = {"host": "so-khoa", "task": task, "task_action": action, "res": res}
        (events / f"{n}.json").write_text(json.dumps({"event": kind, "event_data": data}))

    install = "Install the client MSI at its pinned version (idempotent by ProductCode)"
    event(1, "runner_on_ok", "ansible.windows.win_package", {"changed": True}, install)
    policies = "Set the client's registry policies and autostart"
    event(
        2,
        "runner_item_on_ok",
        "ansible.windows.win_regedit",
        {"changed": True, "_ansible_item_label": "HKLM:\\SOFTWARE\\Policies\\Zoom\\x"},
        policies,
    )
    event(
        3,
        "runner_item_on_ok",
        "ansible.windows.win_regedit",
        {"changed": False, "_ansible_item_label": "HKLM:\\SOFTWARE\\y"},
        policies,
    )
    event(
        4, "runner_on_ok", "ansible.windows.win_regedit", {"changed": True, "results": []}, policies
    )
    event(5, "runner_on_ok", "ansible.builtin.set_fact", {"changed": True}, "Note the survey")
    assert would_change(tmp_path) == {
        "so-khoa": sorted([install, f"{policies}: HKLM:\\SOFTWARE\\Policies\\Zoom\\x"])
    }
