"""The HTML report: one self-contained page (no external file, script or font).

The count, tables per level and group, charts drawn in the page as inline SVG (ready / not
ready by group, the distribution of round trip, jitter and loss across sites, each site's trend
over the stored runs), and every site in a table that filters as one types, sorts by any column
and opens each site's checks. This module computes every number and coordinate; the Jinja2
template (autoescaped, so registry text never becomes markup) only lays them out, and the
small script only hides, shows and reorders rows. A print stylesheet fits it on A4.
"""

from __future__ import annotations

import math
from typing import Any

from confprov import pages
from confprov.verify import windows as win
from confprov.verify.evaluate import SiteResult, sort_checks
from confprov.verify.exports import measured
from confprov.verify.labels import heading, label
from confprov.verify.report import Report

_ENV = pages.environment("confprov.verify")
# (check, measured column, unit) of the distribution charts.
HISTOGRAMS = (("rtt", "rtt_ms", "ms"), ("jitter", "jitter_ms", "ms"), ("loss", "loss_pct", "%"))
BINS = 8
BAR_W, LABEL_W, CHART_H = 220, 170, 120


def _nice_step(span: float, bins: int) -> float:
    """A round bin width (1, 2 or 5 times a power of ten) covering ``span`` in ``bins``."""
    raw = max(span / bins, 1e-9)
    power = 10 ** math.floor(math.log10(raw))
    return float(next(m * power for m in (1, 2, 5, 10) if m * power >= raw))


def histogram(values: list[float], limit: float | None) -> dict[str, Any]:
    """Bins of equal, round width from 0 (the limit inside the range when there is one)."""
    top = max([*values, limit or 0.0, 1e-9])
    step = _nice_step(top * 1.0001, BINS)
    counts = [0] * BINS
    for value in values:
        # Rounded first: 0.6 / 0.2 is 2.9999999999999996, and 0.6 belongs to the bin from 0.6.
        counts[min(BINS - 1, math.floor(round(max(0.0, value) / step, 9)))] += 1
    width, bar = 40 + BINS * 28, 24
    peak = max(counts) or 1
    bins = []
    for i, count in enumerate(counts):
        h = round((CHART_H - 20) * count / peak, 1)
        bins.append(
            {
                "count": count,
                "x": 20 + i * 28,
                "y": round(CHART_H - 14 - h, 1),
                "w": bar,
                "h": h,
                "low": f"{i * step:g}",
                "label": f"{i * step:g} to {(i + 1) * step:g}",
            }
        )
    limit_x = None if limit is None else round(20 + 28 * min(BINS, limit / step), 1)
    return {"bins": bins, "width": width, "height": CHART_H, "limit_x": limit_x}


def _trend(report: Report, site: SiteResult) -> dict[str, Any] | None:
    points = report.history.get(site.site, [])
    if not points:
        return None
    rtts = [p.values.get("rtt") for p in points]
    known = [r for r in rtts if r is not None]
    top = max(known) if known else 1.0
    step = 12
    out = []
    for i, (point, rtt) in enumerate(zip(points, rtts, strict=True)):
        y = 12.0 if rtt is None else round(21 - 18 * rtt / (top or 1.0), 1)
        text = ", ".join(f"{k} {v:g}" for k, v in sorted(point.values.items()))
        state = label(report.lang, "ready" if point.ready else "not_ready")
        out.append(
            {
                "x": 4 + i * step,
                "y": y,
                "ready": point.ready,
                "run": point.run_id,
                "text": f"{point.started[:16]} {state}" + (f"; {text}" if text else ""),
            }
        )
    line = " ".join(f"{p['x']},{p['y']}" for p, r in zip(out, rtts, strict=True) if r is not None)
    return {
        "points": out,
        "line": line if len(known) > 1 else "",
        "width": 8 + step * max(1, len(out) - 1),
        "title": f"{label(report.lang, 'rtt')}: {len(points)} {label(report.lang, 'run')}",
    }


def _site(report: Report, site: SiteResult) -> dict[str, Any]:
    lang = report.lang
    group = report.group_of(site)
    state = label(lang, "ready") if site.ready else label(lang, "not_ready")
    reason = "; ".join(f"{label(lang, v.check)}: {v.reason}" for v in sort_checks(site.failing))
    reason = "; ".join(filter(None, (reason, win.note(site, lang))))
    search = " ".join([site.site, site.name, label(lang, site.level), group, state, reason])
    return {
        "site": site.site,
        "name": site.name,
        "level": label(lang, site.level),
        "group": group,
        "status": site.status,
        "ready": int(site.ready),
        "state": state,
        "reason": reason,
        "search": search.lower(),
        "checks": [
            {
                "check": label(lang, v.check),
                "host": v.host,
                "severity": v.severity,
                "state": label(lang, v.severity),
                "value": v.value_text(),
                "threshold": v.threshold,
                "reason": v.reason,
            }
            for v in sort_checks(site.checks)
        ],
        "trend": _trend(report, site),
    }


def _groups(report: Report) -> dict[str, Any]:
    rows = report.by_district()
    most = max((n for _r, n in rows.values()), default=1)
    bars = [
        {
            "name": name,
            "ready": ready,
            "total": total,
            "y": 4 + 22 * i,
            "ready_w": round(BAR_W * ready / most, 1),
            "red_w": round(BAR_W * (total - ready) / most, 1),
        }
        for i, (name, (ready, total)) in enumerate(rows.items())
    ]
    return {
        "bars": bars,
        "left": LABEL_W,
        "width": LABEL_W + BAR_W + 60,
        "height": 8 + 22 * len(bars),
    }


def html_page(report: Report) -> str:
    """The page; each distribution marks its limit when the report carries the thresholds."""
    lang = report.lang
    limits: dict[str, float] = {}
    if report.limits is not None:
        limits = {
            "rtt": report.limits.rtt_ms,
            "jitter": report.limits.jitter_ms,
            "loss": report.limits.loss_pct,
        }
    values = [measured(s) for s in report.sites]
    histograms = []
    for check, column, unit in HISTOGRAMS:
        got = [v[column] for v in values if v[column] is not None]
        numbers = [float(x) for x in got if x is not None]
        histograms.append(
            {
                "check": check,
                "title": label(lang, check),
                "unit": unit,
                "count": len(numbers),
                "limit": limits.get(check),
                **histogram(numbers, limits.get(check)),
            }
        )
    t = {
        key: label(lang, key)
        for key in (
            "run",
            "generated",
            "ready",
            "not_ready",
            "filter",
            "only_not_ready",
            "details",
            "sites",
            "charts",
            "mos_note",
        )
    }
    t |= {
        "scope": label(lang, report.run.scope),
        "name": heading(lang, "name"),
        "by_district": heading(lang, "by_district"),
        "threshold": heading(lang, "threshold"),
    }
    columns = [
        {"title": heading(lang, c), "sortable": c not in ("reason", "trend")}
        for c in ("site", "name", "level", "district", "status", "reason", "trend")
    ]
    levels = {label(lang, lv): c for lv, c in report.by_level().items()}
    counts = [
        {"title": heading(lang, title), "key": key, "rows": rows}
        for title, key, data in (
            ("by_level", "level", levels),
            ("by_district", "district", report.by_district()),
        )
        for rows in [[{"name": n, "ready": r, "total": tot} for n, (r, tot) in data.items()]]
    ]
    return _ENV.get_template("report.html.j2").render(
        lang=lang,
        title=f"{label(lang, 'title')}: {report.province}".rstrip(": "),
        t=t,
        run=report.run,
        ready=report.ready,
        total=len(report.sites),
        counts=counts,
        groups=_groups(report),
        histograms=histograms,
        columns=columns,
        check_heads=[
            heading(lang, k) for k in ("check", "host", "status", "value", "threshold", "reason")
        ],
        sites=[_site(report, s) for s in report.sites],
    )
