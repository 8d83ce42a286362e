"""The survey summary counts sites (not laptops) lacking a camera, display or audio."""

from __future__ import annotations

import json
from pathlib import Path

from confprov.provision import survey

CAMERA = [{"device": "/dev/video0", "name": "HD Webcam C920"}]
HDMI = [{"output": "HDMI-A-1", "connected": True, "best_mode": "1920x1080"}]
AUDIO = [{"card": 0, "id": "PCH", "name": "HDA Intel PCH", "playback": True, "capture": True}]


def write(ws: Path, host: str, site: str, **parts: object) -> None:
    folder = ws / "survey"
    folder.mkdir(exist_ok=True)
    data = {"host": host, "site": site, "site_name": f"Điểm {site}", "cameras": [],
            "displays": [], "audio": [], **parts}  # fmt: skip
    (folder / f"{host}.json").write_text(json.dumps(data, ensure_ascii=False))


def test_a_site_lacks_a_camera_only_when_none_of_its_endpoints_has_one(tmp_path: Path) -> None:
    write(tmp_path, "a", "a", cameras=CAMERA, displays=HDMI, audio=AUDIO)
    write(tmp_path, "b", "b")
    write(tmp_path, "b-2", "b", cameras=CAMERA)
    write(tmp_path, "c", "c", displays=[{**HDMI[0], "connected": False}])
    summary = survey.summarise(survey.load(tmp_path))
    assert summary.sites == 3
    assert summary.lacking["camera"] == ["Điểm c"]
    assert summary.lacking["display"] == ["Điểm b", "Điểm c"]
    lines = summary.lines()
    assert lines[0] == "survey: 3 site(s) surveyed"
    assert "  1 site(s) without a camera: Điểm c" in lines
    assert "  2 site(s) without a connected display: Điểm b, Điểm c" in lines


def test_only_the_hosts_asked_for_and_unreadable_files_named(tmp_path: Path) -> None:
    write(tmp_path, "a", "a", cameras=CAMERA)
    write(tmp_path, "b", "b")
    (tmp_path / "survey" / "broken.json").write_text("{")
    assert set(survey.load(tmp_path, ["a"])) == {"a"}
    summary = survey.summarise(survey.load(tmp_path))
    assert summary.unreadable == ["broken"]
    assert summary.lacking["camera"] == ["Điểm b"]


def test_no_survey_yet(tmp_path: Path) -> None:
    assert survey.summarise(survey.load(tmp_path)).lines() == ["survey: no site surveyed yet"]
