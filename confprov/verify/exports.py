"""A verification as the organisers' spreadsheet (xlsx, CSV) and as Prometheus text.

Organisers work in Excel: one sheet of sites (status, reason, measured values) and one summary
per level and per group. Registry text (site names, reasons) goes into cells as text only:
a leading ``=``, ``+``, ``-``, ``@``, tab or carriage return would make Excel or LibreOffice
read it as a formula (OWASP "CSV injection"), so such text gets a leading apostrophe, in the
xlsx and in the CSV alike, and xlsx cells are typed as strings. The Prometheus text follows
the node_exporter textfile collector's format, written by prometheus_client itself.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
from typing import Any

from confprov.verify import windows as win
from confprov.verify.evaluate import SiteResult
from confprov.verify.labels import heading, label
from confprov.verify.report import Report

FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
# Measured values per site, worst endpoint: (column, check, unit); MOS is "worst" as the lowest.
MEASURES = (
    ("rtt_ms", "rtt", "ms"),
    ("jitter_ms", "jitter", "ms"),
    ("loss_pct", "loss", "%"),
    ("loss_15s_pct", "loss_15s", "%"),
    ("burst_200ms_pct", "burst_200ms", "%"),
    ("bandwidth_kbps", "bandwidth", "kbit/s"),
    ("mos_estimate", "mos", ""),
    ("clock_offset_ms", "clock", "ms"),
)


def neutralise(text: str) -> str:
    """Text that a spreadsheet would take for a formula, made plain text."""
    return "'" + text if text.startswith(FORMULA_START) else text


def measured(site: SiteResult) -> dict[str, float | None]:
    """The site's worst endpoint value of each measure (None when not measured)."""
    out: dict[str, float | None] = {}
    for column, check, _unit in MEASURES:
        values = [
            float(v.value)
            for v in site.checks
            if v.check == check and isinstance(v.value, int | float)
        ]
        if not values:
            out[column] = None
        elif check in ("mos", "bandwidth"):
            out[column] = min(values)
        elif check == "clock":
            out[column] = max(values, key=abs)
        else:
            out[column] = max(values)
    return out


def site_rows(report: Report) -> tuple[list[str], list[list[Any]]]:
    """Header and one row per site: what both the xlsx and the CSV hold."""
    lang = report.lang
    head = [
        heading(lang, "site"),
        heading(lang, "name"),
        heading(lang, "level"),
        heading(lang, "district"),
        heading(lang, "status"),
        "severity",
        heading(lang, "reason"),
        *[column for column, _check, _unit in MEASURES],
    ]
    rows: list[list[Any]] = []
    for site in report.sites:
        values = measured(site)
        rows.append(
            [
                site.site,
                site.name,
                label(lang, site.level),
                report.group_of(site),
                label(lang, "ready") if site.ready else label(lang, "not_ready"),
                site.status,
                site.reason(),
                *[values[column] for column, _check, _unit in MEASURES],
            ]
        )
    return head, rows


def csv_text(report: Report) -> str:
    head, rows = site_rows(report)
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(head)
    for row in rows:
        writer.writerow(
            ["" if v is None else neutralise(v) if isinstance(v, str) else v for v in row]
        )
    return buffer.getvalue()


def xlsx_bytes(report: Report) -> bytes:
    """Sheet "sites" (one row per site) and "summary" (ready/total per level and per group)."""
    from openpyxl import Workbook
    from openpyxl.styles import Font, PatternFill

    head, rows = site_rows(report)
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.title = "sites"

    def put(ws: Any, row: int, values: list[Any]) -> None:
        for col, value in enumerate(values, start=1):
            cell = ws.cell(row=row, column=col)
            if isinstance(value, str):
                cell.value = neutralise(value)
                cell.data_type = "s"  # text, never a formula, whatever it starts with
            else:
                cell.value = value

    put(sheet, 1, head)
    for cell in sheet[1]:
        cell.font = Font(bold=True)
    red = PatternFill("solid", fgColor="FFDDDD")
    for index, row in enumerate(rows, start=2):
        put(sheet, index, row)
        if row[5] == "fail":
            sheet.cell(row=index, column=5).fill = red
    sheet.freeze_panes = "A2"
    sheet.auto_filter.ref = sheet.dimensions

    summary = book.create_sheet("summary")
    lang = report.lang
    put(summary, 1, ["kind", heading(lang, "name"), label(lang, "ready"), label(lang, "sites")])
    line = 2
    for kind, counts in (
        (heading(lang, "level"), {label(lang, k): v for k, v in report.by_level().items()}),
        (heading(lang, "district"), report.by_district()),
    ):
        for name, (ready, total) in counts.items():
            put(summary, line, [kind, name, ready, total])
            line += 1
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def prom_text(report: Report) -> str:
    """The run as Prometheus text for node_exporter's textfile collector.

    One gauge per measure, labelled by site (and host for endpoint values); seconds and ratios
    in base units, as Prometheus' naming conventions ask.
    """
    from prometheus_client import CollectorRegistry, Gauge, generate_latest

    registry = CollectorRegistry()
    site_labels = ["site", "level", "group"]
    ready = Gauge("confprov_site_ready", "1 when the site is ready", site_labels, registry=registry)
    failing = Gauge(
        "confprov_site_check_failed",
        "1 when the check fails on any endpoint of the site",
        ["site", "check"],
        registry=registry,
    )
    unmeasured = Gauge(
        "confprov_site_check_unmeasured",
        "1 when no endpoint of the site measured the check (not measured on Windows)",
        ["site", "check"],
        registry=registry,
    )
    scale = {"ms": 1e-3, "%": 1e-2, "kbit/s": 1e3, "": 1.0}
    names = {
        "rtt": ("confprov_site_rtt_seconds", "median round trip to the reflector"),
        "jitter": ("confprov_site_jitter_seconds", "RFC 3550 interarrival jitter"),
        "loss": ("confprov_site_loss_ratio", "probe packets lost"),
        "loss_15s": ("confprov_site_loss_15s_ratio", "worst loss over any 15 s"),
        "burst_200ms": ("confprov_site_burst_200ms_ratio", "worst loss over any 200 ms"),
        "bandwidth": ("confprov_site_bandwidth_bits_per_second", "media throughput"),
        "mos": ("confprov_site_mos_estimate", "estimated MOS (E-model, simplified)"),
    }
    gauges = {
        check: Gauge(name, text, ["site", "host"], registry=registry)
        for check, (name, text) in names.items()
    }
    for site in report.sites:
        ready.labels(site.site, site.level, report.group_of(site)).set(int(site.ready))
        # A check no endpoint measured (Windows) gets no failed series, which would read 0 =
        # passed, but its own: confprov_site_check_unmeasured 1.
        blind = set(win.unmeasured_checks(site))
        for check in sorted({v.check for v in site.checks}):
            if check in blind:
                unmeasured.labels(site.site, check).set(1)
                continue
            bad = any(v.check == check and v.severity == "fail" for v in site.checks)
            failing.labels(site.site, check).set(int(bad))
        for v in site.checks:
            if v.check in gauges and isinstance(v.value, int | float):
                gauges[v.check].labels(site.site, v.host).set(
                    float(v.value) * scale.get(v.unit, 1.0)
                )
    Gauge("confprov_verify_sites", "sites in the run", registry=registry).set(len(report.sites))
    Gauge("confprov_verify_sites_ready", "ready sites in the run", registry=registry).set(
        report.ready
    )
    Gauge("confprov_verify_run_id", "the results store's id of the run", registry=registry).set(
        report.run.id
    )
    finished = dt.datetime.fromisoformat(report.run.finished).timestamp()
    Gauge(
        "confprov_verify_last_run_timestamp_seconds",
        "when the run finished (Unix time)",
        registry=registry,
    ).set(finished)
    return generate_latest(registry).decode("utf-8")
