"""Rendering a verification: terminal summary, JSON (schema in docs/verify.md) and JUnit XML.

One ``Report`` holds what every format needs (the run, its sites, district names, language);
the HTML page is in ``confprov.verify.html``.
"""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from collections import Counter
from dataclasses import asdict, dataclass, field
from typing import Any

from confprov.domain import LEVELS
from confprov.verify.evaluate import SiteResult, sort_checks
from confprov.verify.labels import heading, label
from confprov.verify.store import Change, RunInfo

SCHEMA = "confprov-verify/1"


@dataclass
class Report:
    run: RunInfo
    sites: list[SiteResult]
    province: str = ""
    district_names: dict[str, str] = field(default_factory=dict)
    lang: str = "vi"
    # The latest state of every site of the province when the run covered only some of them.
    province_sites: list[SiteResult] | None = None

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

    def by_level(self, sites: list[SiteResult] | None = None) -> dict[str, tuple[int, int]]:
        sites = self.sites if sites is None else sites
        total, ready = Counter(s.level for s in sites), Counter(s.level for s in sites if s.ready)
        return {lv: (ready[lv], total[lv]) for lv in LEVELS if total[lv]}

    def by_district(self) -> dict[str, tuple[int, int]]:
        total = Counter(self.district_of(s) for s in self.sites)
        ready = Counter(self.district_of(s) for s in self.sites if s.ready)
        return {d: (ready[d], total[d]) for d in sorted(total)}


def terminal(report: Report) -> str:
    lang = report.lang
    t = report.run
    lines = [
        f"{label(lang, 'title')} ({label(lang, 'run')} {t.id}, {label(lang, t.scope)}): "
        f"{report.ready}/{len(report.sites)} {label(lang, 'ready')}",
        f"  {heading(lang, 'by_level')}:",
    ]
    lines += [f"    {label(lang, lv):<12} {r}/{n}" for lv, (r, n) in report.by_level().items()]
    lines.append(f"  {heading(lang, 'by_district')}:")
    lines += [f"    {d:<32} {r}/{n}" for d, (r, n) in report.by_district().items()]
    if report.province_sites is not None:
        every = report.province_sites
        ready = sum(s.ready for s in every)
        lines.append(
            f"  {label(lang, 'province_state')}: {ready}/{len(every)} {label(lang, 'ready')}"
        )
    red = report.not_ready
    if not red:
        lines.append(label(lang, "all_ready"))
    else:
        lines.append(f"{label(lang, 'red_sites')} ({len(red)}):")
        for site in red:
            lines.append(f"  {site.site} ({site.name}):")
            lines += [
                f"    {label(lang, v.check)} [{v.host}]: {v.reason}"
                for v in sort_checks(site.failing)
            ]
    return "\n".join(lines)


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


def json_text(report: Report) -> str:
    return json.dumps(to_json(report), ensure_ascii=False, indent=2) + "\n"


def junit_text(report: Report) -> str:
    """One test case per site; a failure names each failing check with its measured value."""
    suite = ET.Element(
        "testsuite",
        name=f"confprov verify {report.province}".strip(),
        tests=str(len(report.sites)),
        failures=str(len(report.not_ready)),
        errors="0",
        skipped="0",
        timestamp=report.run.started,
    )
    for site in report.sites:
        case = ET.SubElement(
            suite,
            "testcase",
            classname=f"{site.level}.{site.district or 'none'}",
            name=f"{site.site} ({site.name})",
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
        out = [f"{v.check} [{v.host}] {v.level}: {v.reason}" for v in sort_checks(site.checks)]
        ET.SubElement(case, "system-out").text = "\n".join(out)
    ET.indent(suite)
    return (
        '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(suite, encoding="unicode") + "\n"
    )


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
