"""Room surveys saved by the site_survey role (``<workspace>/survey/<host>.json``), summarised.

The summary counts sites, not laptops: a site lacks a camera when none of its endpoints has one.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

SURVEY_DIR = "survey"
# What a conference room needs, each with the test on one endpoint's survey.
NEEDS: dict[str, tuple[str, Any]] = {
    "camera": ("without a camera", lambda s: bool(s.get("cameras"))),
    "display": (
        "without a connected display",
        lambda s: any(d.get("connected") for d in s.get("displays", [])),
    ),
    "microphone": (
        "without an audio input",
        lambda s: any(a.get("capture") for a in s.get("audio", [])),
    ),
    "speaker": (
        "without an audio output",
        lambda s: any(a.get("playback") for a in s.get("audio", [])),
    ),
}


@dataclass(kw_only=True)
class SurveySummary:
    sites: int = 0
    lacking: dict[str, list[str]] = field(default_factory=dict)  # need -> site names
    unreadable: list[str] = field(default_factory=list)
    # Sites whose devices no survey read (Windows: stock facts hold no camera, audio or display).
    not_surveyed: list[str] = field(default_factory=list)

    def rows(self) -> list[tuple[str, list[str]]]:
        """``(what the sites lack, their names)`` for each finding: the lines and the table."""
        out = [
            (words, self.lacking[need])
            for need, (words, _) in NEEDS.items()
            if self.lacking.get(need)
        ]
        if self.not_surveyed:
            out.append(("with devices not surveyed (Windows)", self.not_surveyed))
        return out

    def lines(self) -> list[str]:
        if not self.sites:
            return ["survey: no site surveyed yet"]
        out = [f"survey: {self.sites} site(s) surveyed"]
        for words, names in self.rows():
            out.append(f"  {len(names)} site(s) {words}: {_first(names)}")
        out.extend(f"  unreadable survey file: {name}" for name in self.unreadable)
        return out

    def to_json(self) -> dict[str, Any]:
        return {
            "sites": self.sites,
            "lacking": self.lacking,
            "unreadable": self.unreadable,
            "not_surveyed": self.not_surveyed,
        }


def _first(names: list[str], shown: int = 5) -> str:
    return ", ".join(names[:shown]) + (" …" if len(names) > shown else "")


def load(workspace: Path, hosts: Iterable[str] | None = None) -> dict[str, dict[str, Any]]:
    """Survey of each host (of ``hosts`` when given), read from the workspace."""
    folder = workspace / SURVEY_DIR
    wanted = set(hosts) if hosts is not None else None
    out: dict[str, dict[str, Any]] = {}
    if not folder.is_dir():
        return out
    for path in sorted(folder.glob("*.json")):
        if wanted is not None and path.stem not in wanted:
            continue
        try:
            out[path.stem] = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, json.JSONDecodeError):
            out[path.stem] = {}
    return out


def summarise(surveys: dict[str, dict[str, Any]]) -> SurveySummary:
    by_site: dict[str, list[dict[str, Any]]] = {}
    names: dict[str, str] = {}
    summary = SurveySummary()
    for host, data in sorted(surveys.items()):
        if not data:
            summary.unreadable.append(host)
            continue
        site = str(data.get("site") or host)
        by_site.setdefault(site, []).append(data)
        names[site] = str(data.get("site_name") or site)
    summary.sites = len(by_site)
    # A site none of whose endpoints had its devices read lacks nothing known: it is listed apart.
    unread = {site for site, found in by_site.items()
              if all(s.get("devices_surveyed") is False for s in found)}  # fmt: skip
    summary.not_surveyed = sorted(names[site] for site in unread)
    for need, (_, has) in NEEDS.items():
        summary.lacking[need] = sorted(
            names[site]
            for site, found in by_site.items()
            if site not in unread and not any(has(s) for s in found)
        )
    return summary
