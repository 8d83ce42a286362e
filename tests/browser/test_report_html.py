"""The HTML report in real headless Chromium: it opens, shows the counts, filters and sorts."""

from __future__ import annotations

import pytest

from confprov.verify.evaluate import SiteResult, Verdict
from confprov.verify.html import html_page
from confprov.verify.report import Report
from confprov.verify.store import RunInfo

VISIBLE_ROWS = "Array.from(document.querySelectorAll('#sites-body > tr')).filter(r => !r.hidden)"


def sites() -> list[SiteResult]:
    def site(slug, name, level, district, *verdicts):
        return SiteResult(
            site=slug, name=name, level=level, district=district, checks=list(verdicts)
        )

    return [
        site(
            "tinh",
            "Trung tâm Hội nghị tỉnh",
            "province",
            "",
            Verdict(host="tinh", check="route", severity="pass"),
        ),
        site(
            "cam-khe",
            "UBND huyện Cẩm Khê",
            "district",
            "cam-khe",
            Verdict(host="cam-khe", check="route", severity="pass"),
        ),
        site(
            "yen-tap.cam-khe",
            "UBND xã Yên Tập",
            "commune",
            "cam-khe",
            Verdict(
                host="yen-tap.cam-khe",
                check="loss",
                severity="fail",
                value=10.4,
                unit="%",
                threshold="≤ 1 %",
                reason="loss 10.4 %, beyond the limit (≤ 1 %)",
            ),
        ),
        site(
            "so-tai-chinh",
            "Sở Tài chính",
            "department",
            "",
            Verdict(
                host="so-tai-chinh",
                check="client_version",
                severity="fail",
                value=None,
                unit="",
                threshold="pinned",
                reason="client missing",
            ),
        ),
    ]


def write_page(tmp_path, lang="vi"):
    run = RunInfo(
        id=3,
        started="2026-11-26T07:00:00+00:00",
        finished="2026-11-26T07:00:09+00:00",
        scope="all",
        run_dir="",
        sites=4,
        ready=2,
    )
    page = tmp_path / "report.html"
    page.write_text(
        html_page(
            Report(
                run=run,
                sites=sites(),
                province="Tỉnh Thử",
                district_names={"cam-khe": "UBND huyện Cẩm Khê"},
                lang=lang,
            )
        )
    )
    return page.as_uri()


def test_page_opens_and_shows_the_counts(browser, tmp_path):
    browser.open(write_page(tmp_path))
    assert browser.js("document.getElementById('summary').innerText") == "2/4 sẵn sàng"
    assert browser.js(f"{VISIBLE_ROWS}.length") == 4
    levels = browser.js("document.body.innerText")
    assert "Theo cấp" in levels and "Theo huyện" in levels
    assert "UBND huyện Cẩm Khê\t1/2" in levels


def test_typing_in_the_filter_narrows_the_table(browser, tmp_path):
    browser.open(write_page(tmp_path, "en"))
    browser.type_text("#filter", "cẩm khê")
    browser.wait_for("document.getElementById('shown').textContent === '2'")
    names = browser.js(f"{VISIBLE_ROWS}.map(r => r.cells[0].textContent)")
    assert names == ["cam-khe", "yen-tap.cam-khe"]
    # Filtering on a reason finds the site a technician looks for.
    browser.js("document.getElementById('filter').value = ''")
    browser.type_text("#filter", "client missing")
    browser.wait_for("document.getElementById('shown').textContent === '1'")
    assert browser.js(f"{VISIBLE_ROWS}[0].cells[0].textContent") == "so-tai-chinh"


def test_only_not_ready_and_sorting(browser, tmp_path):
    browser.open(write_page(tmp_path, "en"))
    browser.js("document.getElementById('only-red').click()")
    assert browser.js(f"{VISIBLE_ROWS}.map(r => r.cells[0].textContent)") == [
        "yen-tap.cam-khe",
        "so-tai-chinh",
    ]
    browser.js("document.getElementById('only-red').click()")
    browser.js("document.querySelectorAll('th.sortable')[0].click()")  # by site, ascending
    order = browser.js(f"{VISIBLE_ROWS}.map(r => r.cells[0].textContent)")
    assert order == sorted(order)
    browser.js("document.querySelectorAll('th.sortable')[0].click()")  # again: descending
    assert browser.js(f"{VISIBLE_ROWS}.map(r => r.cells[0].textContent)") == sorted(
        order, reverse=True
    )


def test_site_details_show_measured_values(browser, tmp_path):
    browser.open(write_page(tmp_path, "en"))
    browser.js("document.querySelectorAll('#sites-body details')[2].open = true")
    text = browser.js("document.querySelectorAll('#sites-body details')[2].innerText")
    assert "Packet loss" in text and "10.4 %" in text and "≤ 1 %" in text


def measured_sites() -> list[SiteResult]:
    """Six sites in two districts with round trip, jitter and loss measured."""

    def media(slug, rtt, jitter, loss, severity="pass"):
        return [
            Verdict(host=slug, check="rtt", severity="pass", value=rtt, unit="ms"),
            Verdict(host=slug, check="jitter", severity="pass", value=jitter, unit="ms"),
            Verdict(host=slug, check="loss", severity=severity, value=loss, unit="%"),
        ]

    rows = [
        ("a.cam-khe", "cam-khe", 12.0, 1.0, 0.0, "pass"),
        ("b.cam-khe", "cam-khe", 48.0, 3.5, 5.2, "fail"),
        ("c.cam-khe", "cam-khe", 95.0, 12.0, 0.4, "pass"),
        ("a.thanh-ba", "thanh-ba", 20.0, 2.0, 0.0, "pass"),
        ("b.thanh-ba", "thanh-ba", 22.0, 2.5, 10.0, "fail"),
        ("tinh", "", 8.0, 0.5, 0.0, "pass"),
    ]
    return [
        SiteResult(
            site=slug,
            name=slug.upper(),
            level="commune" if district else "province",
            district=district,
            checks=media(slug, rtt, jitter, loss, severity),
        )
        for slug, district, rtt, jitter, loss, severity in rows
    ]


def test_charts_agree_with_the_table_and_print_hides_the_controls(browser, tmp_path):
    from confprov.config import Thresholds
    from confprov.verify.store import SitePoint

    history = {
        "b.cam-khe": [
            SitePoint(run_id=1, started="2026-11-20T07:00:00", ready=True, values={"rtt": 30.0}),
            SitePoint(run_id=2, started="2026-11-24T07:00:00", ready=False, values={"rtt": 60.0}),
            SitePoint(run_id=3, started="2026-11-26T07:00:00", ready=False, values={"rtt": 48.0}),
        ]
    }
    run = RunInfo(
        id=3,
        started="2026-11-26T07:00:00+00:00",
        finished="2026-11-26T07:00:09+00:00",
        scope="all",
        run_dir="",
        sites=6,
        ready=4,
    )
    page = tmp_path / "charts.html"
    report = Report(
        run=run,
        sites=measured_sites(),
        province="Tỉnh Thử",
        district_names={"cam-khe": "Cẩm Khê", "thanh-ba": "Thanh Ba"},
        lang="en",
        history=history,
        limits=Thresholds(),
    )
    page.write_text(html_page(report))
    browser.open(page.as_uri())
    # Ready / not ready by district: each bar says what the district table says, and draws it.
    bars = browser.js(
        "Array.from(document.querySelectorAll('#chart-groups .group-bar')).map(g => ({"
        " name: g.dataset.group, ready: +g.dataset.ready, total: +g.dataset.total,"
        " green: g.querySelector('.ready-bar').getBBox().width,"
        " red: g.querySelector('.red-bar').getBBox().width,"
        ' table: document.querySelector(`td[data-district="${g.dataset.group}"]`).textContent'
        "}))"
    )
    assert [b["name"] for b in bars] == ["(no district)", "Cẩm Khê", "Thanh Ba"]
    for bar in bars:
        assert bar["table"] == f"{bar['ready']}/{bar['total']}"
        assert bar["green"] / (bar["green"] + bar["red"]) == pytest.approx(
            bar["ready"] / bar["total"], abs=0.01
        )
    # Distributions: every site with a value is counted once, in the bin its value falls in.
    for check, label_text in (("rtt", "Round trip"), ("jitter", "Jitter"), ("loss", "Packet loss")):
        table_values = browser.js(
            "Array.from(document.querySelectorAll('#sites-body details tr')).filter("
            f" r => r.cells[0].textContent === {label_text!r}).map("
            " r => parseFloat(r.cells[3].textContent))"
        )
        bins = browser.js(
            f"Array.from(document.querySelectorAll('#chart-{check} rect.hist-bar')).map(r => ({{"
            " count: +r.dataset.count, range: r.querySelector('title').textContent,"
            " height: r.getBBox().height}))"
        )
        assert sum(b["count"] for b in bins) == len(table_values) == 6
        for b in bins:
            low, high = (float(x) for x in b["range"].split(" ")[0:3:2])
            assert b["count"] == sum(low <= v < high for v in table_values), (check, b)
        tallest = max(bins, key=lambda b: b["count"])
        for b in bins:
            assert b["height"] == pytest.approx(
                tallest["height"] * b["count"] / tallest["count"], abs=0.2
            )
    # The trend of a site over its stored runs: one point per run, red where it was not ready.
    dots = browser.js(
        "Array.from(document.querySelectorAll('#sites-body tr')).find("
        " r => r.cells[0].textContent === 'b.cam-khe').querySelectorAll('svg.trend circle')"
        ".length"
    )
    assert dots == 3
    # Print: the filter controls are hidden.
    browser.send("Emulation.setEmulatedMedia", media="print")
    assert browser.js("getComputedStyle(document.getElementById('controls')).display") == "none"
