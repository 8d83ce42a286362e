"""The HTML report in real headless Chromium: it opens, shows the counts, filters and sorts."""

from __future__ import annotations

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
    run = RunInfo(3, "2026-11-26T07:00:00+00:00", "2026-11-26T07:00:09+00:00", "all", "", 4, 2)
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
