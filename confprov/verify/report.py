"""Rendering a verification: terminal summary, JSON (schema in docs/verify.md) and JUnit XML.

One ``Report`` holds what every format needs (the run, its sites, district names, language,
the stored history for trends); the HTML page is in ``confprov.verify.html``, spreadsheets and
Prometheus text in ``confprov.verify.exports``.
"""

from __future__ import annotations

import datetime as dt
import io
import json
import socket
import xml.etree.ElementTree as ET
from collections import Counter
from dataclasses import asdict, dataclass, field
from typing import TYPE_CHECKING, Any

from confprov import cliargs
from confprov.cliargs import STATE_STYLE
from confprov.config import Thresholds
from confprov.domain import LEVELS
from confprov.verify import windows as win
from confprov.verify.evaluate import SiteResult, sort_checks
from confprov.verify.labels import heading, label
from confprov.verify.store import Change, RunInfo, SitePoint

if TYPE_CHECKING:
    from rich.console import Console

# 2: a check's "level" became "severity" (issue #17); checks loss_15s, burst_200ms, mos, room.
SCHEMA = "confprov-verify/2"


@dataclass(kw_only=True)
class Report:
    run: RunInfo
    sites: list[SiteResult]
    province: str = ""
    district_names: dict[str, str] = field(default_factory=dict)
    lang: str = "vi"
    # The latest state of every site of the province when the run covered only some of them.
    province_sites: list[SiteResult] | None = None
    # Each site's stored runs, oldest first (the HTML trend); empty when not loaded.
    history: dict[str, list[SitePoint]] = field(default_factory=dict)
    # The thresholds the run was judged with (the HTML marks them on its charts), when known.
    limits: Thresholds | None = None

    @property
    def ready(self) -> int:
        return sum(s.ready for s in self.sites)

    @property
    def not_ready(self) -> list[SiteResult]:
        return [s for s in self.sites if not s.ready]

    def district_of(self, site: SiteResult) -> str:
        if not site.district:
            return label(self.lang, "no_district")
        return self.district_names.get(site.district, site.district)

    def group_of(self, site: SiteResult) -> str:
        """The group a site is counted and charted in: every grouped view goes through here.

        Today its district; when the registry gains an optional ``group``, only this changes.
        """
        return self.district_of(site)

    def by_level(self, sites: list[SiteResult] | None = None) -> dict[str, tuple[int, int]]:
        sites = self.sites if sites is None else sites
        total, ready = Counter(s.level for s in sites), Counter(s.level for s in sites if s.ready)
        return {lv: (ready[lv], total[lv]) for lv in LEVELS if total[lv]}

    def by_district(self) -> dict[str, tuple[int, int]]:
        total = Counter(self.group_of(s) for s in self.sites)
        ready = Counter(self.group_of(s) for s in self.sites if s.ready)
        return {d: (ready[d], total[d]) for d in sorted(total)}


def print_terminal(report: Report, console: Console, *, quiet: bool = False) -> None:
    """The summary an organiser reads, with rich tables (widths of Vietnamese text right).

    Colour only when the console has it (confprov.cliargs decides: terminal, NO_COLOR,
    --no-color); -q prints the first line only.
    """
    from rich.markup import escape

    lang, t = report.lang, report.run
    total, ready = len(report.sites), report.ready
    color = STATE_STYLE["pass" if ready == total else "fail"]
    console.print(
        f"{escape(label(lang, 'title'))} ({label(lang, 'run')} {t.id}, "
        f"{escape(label(lang, t.scope))}): [{color}]{ready}/{total} {label(lang, 'ready')}[/]"
    )
    if quiet:
        return
    for title, rows in (
        (heading(lang, "by_level"), {label(lang, k): v for k, v in report.by_level().items()}),
        (heading(lang, "by_district"), report.by_district()),
    ):
        table = cliargs.table(
            title, [heading(lang, "name"), label(lang, "ready")], right=[label(lang, "ready")]
        )
        for name, (r, n) in rows.items():
            style = STATE_STYLE["pass" if r == n else "fail"]
            table.add_row(escape(name), f"[{style}]{r}/{n}[/]")
        console.print(table)
    if report.province_sites is not None:
        every = report.province_sites
        console.print(
            f"{label(lang, 'province_state')}: {sum(s.ready for s in every)}/{len(every)} "
            f"{label(lang, 'ready')}"
        )
    red = report.not_ready
    for line in win.terminal_lines(report.sites, lang):
        console.print(escape(line))
    if not red:
        console.print(f"[{STATE_STYLE['pass']}]{escape(label(lang, 'all_ready'))}[/]")
        return
    console.print(f"[{STATE_STYLE['fail']}]{escape(label(lang, 'red_sites'))} ({len(red)}):[/]")
    for site in red:
        console.print(f"  {escape(site.site)} ({escape(site.name)}):")
        for v in sort_checks(site.failing):
            console.print(
                f"    [{STATE_STYLE[v.severity]}]{escape(label(lang, v.check))}[/] "
                f"\\[{escape(v.host)}]: {escape(v.reason)}",
                soft_wrap=True,
            )


def terminal(report: Report, width: int = 100) -> str:
    """The terminal summary as plain text (no colour): what print_terminal shows."""
    from rich.console import Console

    buffer = io.StringIO()
    print_terminal(report, Console(file=buffer, width=width, no_color=True, color_system=None))
    return "\n".join(line.rstrip() for line in buffer.getvalue().splitlines())


def site_json(site: SiteResult) -> dict[str, Any]:
    return {
        "site": site.site,
        "name": site.name,
        "level": site.level,
        "district": site.district,
        "ready": site.ready,
        "status": site.status,
        "reason": site.reason(),
        "checks": [asdict(v) for v in sort_checks(site.checks)],
    }


def to_json(report: Report) -> dict[str, Any]:
    return {
        "schema": SCHEMA,
        "province": report.province,
        "run": asdict(report.run),
        "summary": {
            "sites": len(report.sites),
            "ready": report.ready,
            "not_ready": len(report.not_ready),
            "by_level": {lv: {"ready": r, "sites": n} for lv, (r, n) in report.by_level().items()},
            "by_district": {
                d: {"ready": r, "sites": n} for d, (r, n) in report.by_district().items()
            },
        },
        "sites": [site_json(s) for s in report.sites],
    }


def nothing_json(province: str, note: str) -> dict[str, Any]:
    """The JSON of a verify that had nothing to do (``--failed-only``, every site ready): the
    same schema with no run and no sites, and a ``note`` saying why, so a pipe still parses."""
    return {
        "schema": SCHEMA,
        "province": province,
        "run": None,
        "summary": {"sites": 0, "ready": 0, "not_ready": 0, "by_level": {}, "by_district": {}},
        "sites": [],
        "note": note,
    }


def json_text(report: Report) -> str:
    return json.dumps(to_json(report), ensure_ascii=False, indent=2) + "\n"


def _utc_naive(stamp: str) -> str:
    """ISO 8601 in UTC without a zone: the Ant schema's timestamp allows none."""
    try:
        when = dt.datetime.fromisoformat(stamp)
    except ValueError:
        return "1970-01-01T00:00:00"
    if when.tzinfo is not None:
        when = when.astimezone(dt.UTC).replace(tzinfo=None)
    return when.isoformat(timespec="seconds")


def _seconds(run: RunInfo) -> float:
    try:
        spent = dt.datetime.fromisoformat(run.finished) - dt.datetime.fromisoformat(run.started)
    except ValueError:
        return 0.0
    return max(0.0, spent.total_seconds())


def junit_text(report: Report) -> str:
    """JUnit XML valid against both schemas CI servers check: Jenkins xUnit's junit-10.xsd
    (Maven Surefire's format) and the Apache Ant JUnit task's (tests/unit/verify/schemas).

    ``testsuites`` root; one ``testsuite`` per group with id, package, timestamp (UTC, no
    zone), hostname and time; one ``testcase`` per site with its time and at most one outcome
    (Ant allows one): ``failure`` naming each failing check with value and threshold, or
    and for a site with checks not measured on Windows a second case, "<site>: media path
    (Windows)", ``skipped`` naming them. Every check's line is in the suite's ``system-out`` (Ant
    allows no output per case).
    """
    run_time = _seconds(report.run)
    groups: dict[str, list[SiteResult]] = {}
    for site in report.sites:
        groups.setdefault(report.group_of(site), []).append(site)
    # Ant's schema allows no attribute on testsuites: totals are on each suite.
    root = ET.Element("testsuites")
    host = socket.gethostname() or "localhost"
    for index, (group, sites) in enumerate(sorted(groups.items())):
        suite = ET.SubElement(
            root,
            "testsuite",
            name=f"{report.province} / {group}".strip(" /") or "-",
            tests=str(len(sites) + sum(win.junit_skip(s) is not None for s in sites)),
            failures=str(sum(not s.ready for s in sites)),
            errors="0",
            skipped=str(sum(win.junit_skip(s) is not None for s in sites)),
            time=f"{run_time:.3f}",
            timestamp=_utc_naive(report.run.started),
            hostname=host,
            id=str(index),
            package="confprov.verify",
        )
        props = ET.SubElement(suite, "properties")
        for name, value in (
            ("run", str(report.run.id)),
            ("scope", report.run.scope),
            ("province", report.province),
        ):
            ET.SubElement(props, "property", name=name, value=value)
        out: list[str] = []
        for site in sites:
            case = ET.SubElement(
                suite,
                "testcase",
                classname=f"{site.level}.{site.district or 'none'}",
                name=f"{site.site} ({site.name})",
                time=f"{site.seconds:.3f}",
            )
            if site.failing:
                checks = ", ".join(sorted({v.check for v in site.failing}))
                failure = ET.SubElement(
                    case, "failure", message=f"not ready: {checks}", type="not_ready"
                )
                failure.text = "\n".join(
                    f"{v.check} [{v.host}]: {v.value_text() or '-'} "
                    f"(threshold {v.threshold or '-'}): {v.reason}"
                    for v in sort_checks(site.failing)
                )
            skip = win.junit_skip(site)
            if skip is not None:
                # Not measured on Windows: a case of its own, skipped, so it never reads as a pass.
                extra = ET.SubElement(
                    suite,
                    "testcase",
                    classname=case.get("classname", ""),
                    name=skip[0],
                    time="0.000",
                )
                ET.SubElement(extra, "skipped", message=skip[1])
            out += [
                f"{site.site}: {v.check} [{v.host}] {v.severity}: {v.reason}"
                for v in sort_checks(site.checks)
            ]
        ET.SubElement(suite, "system-out").text = "\n".join(out)
        ET.SubElement(suite, "system-err").text = ""
    ET.indent(root)
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(root, encoding="unicode") + "\n"


def changes_text(changes: list[Change], since: int, lang: str) -> str:
    lines = [f"{label(lang, 'changes')} {since}:"]
    if not changes:
        lines.append(f"  {label(lang, 'no_changes')}")
    for c in changes:
        what = (
            label(lang, "first_verified")
            if c.before is None
            else label(lang, "became_ready")
            if c.after
            else label(lang, "no_longer_ready")
        )
        state = label(lang, "ready") if c.after else f"{label(lang, 'not_ready')}: {c.reason}"
        lines.append(f"  {c.site} ({c.name}): {what} ({state})")
    return "\n".join(lines)
