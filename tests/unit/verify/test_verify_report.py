"""Terminal, JSON, JUnit and HTML renderings of one run, in Vietnamese and English."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET

from verify_samples import sample_run, sample_sites

from confprov.verify.html import html_page
from confprov.verify.report import SCHEMA, Report, json_text, junit_text, terminal


def report(lang="en"):
    return Report(
        run=sample_run(),
        sites=sample_sites(),
        province="Tỉnh Thử",
        district_names={"cam-khe": "UBND huyện Cẩm Khê"},
        lang=lang,
    )


def test_terminal_counts_by_level_and_district_and_names_red_sites():
    text = terminal(report())
    assert "2/3 ready" in text.splitlines()[0]
    assert any(line.split() == ["commune", "0/1"] for line in text.splitlines())
    assert "UBND huyện Cẩm Khê" in text and "1/2" in text
    assert "xa.cam-khe (UBND xã Xà):" in text
    assert "Packet loss [xa.cam-khe]: loss 10.5 %, beyond the limit" in text
    assert "Client installed [xa.cam-khe]: client missing" in text


def test_terminal_in_vietnamese():
    text = terminal(report("vi"))
    assert "2/3 sẵn sàng" in text
    assert "Chưa sẵn sàng (1):" in text
    assert "Mất gói" in text


def test_json_follows_the_documented_schema():
    data = json.loads(json_text(report()))
    assert data["schema"] == SCHEMA
    assert data["summary"] == {
        "sites": 3,
        "ready": 2,
        "not_ready": 1,
        "by_level": {
            "province": {"ready": 1, "sites": 1},
            "district": {"ready": 1, "sites": 1},
            "commune": {"ready": 0, "sites": 1},
        },
        "by_district": {
            "(no district)": {"ready": 1, "sites": 1},
            "UBND huyện Cẩm Khê": {"ready": 1, "sites": 2},
        },
    }
    red = data["sites"][2]
    assert red["ready"] is False and red["status"] == "fail"
    assert red["checks"][0] == {
        "host": "xa.cam-khe",
        "check": "loss",
        "severity": "fail",
        "value": 10.5,
        "unit": "%",
        "threshold": "≤ 1 %",
        "reason": "loss 10.5 %, beyond the limit",
    }


def test_junit_one_case_per_site_failures_name_checks():
    root = ET.fromstring(junit_text(report()))
    assert root.tag == "testsuites"
    suites = root.findall("testsuite")
    assert sum(int(s.get("tests")) for s in suites) == 3
    assert sum(int(s.get("failures")) for s in suites) == 1
    cases = [c for suite in root.findall("testsuite") for c in suite.findall("testcase")]
    cases.sort(key=lambda c: c.get("name"))  # suites are per group: (no district), Cẩm Khê
    assert len(cases) == 3
    failure = cases[2].find("failure")
    assert failure is not None
    assert failure.get("message") == "not ready: client_version, loss"
    assert "loss [xa.cam-khe]: 10.5 % (threshold ≤ 1 %)" in failure.text
    assert cases[0].find("failure") is None


def test_html_is_self_contained_and_escapes_names():
    sites = sample_sites()
    sites[0].name = "<script>alert(1)</script>"
    page = html_page(
        Report(run=sample_run(), sites=sites, province="Tỉnh", district_names={}, lang="vi")
    )
    assert "<script>alert(1)</script>" not in page
    assert "&lt;script&gt;" in page
    assert 'src="http' not in page and 'href="http' not in page
    assert '<span id="count-ready">2</span>' in page


def test_terminal_tables_align_vietnamese_by_display_width():
    """Names typed on a Mac arrive decomposed (NFD: letters + combining marks): the count column
    still lines up, as rich measures display cells, not code points."""
    import unicodedata

    from rich.cells import cell_len

    sites = sample_sites()
    for site in sites:
        site.district = "cam-khe"
    sites[0].district = "thanh-ba"
    names = {
        "cam-khe": unicodedata.normalize("NFD", "UBND huyện Cẩm Khê"),
        "thanh-ba": "Thanh Ba",
    }
    text = terminal(
        Report(run=sample_run(), sites=sites, province="Tỉnh", district_names=names, lang="vi")
    )
    rows = [line for line in text.splitlines() if line.startswith((names["cam-khe"], "Thanh"))]
    assert len(rows) == 2, text
    assert cell_len(rows[0]) == cell_len(rows[1])  # the counts end in the same column
    assert len(rows[0]) != len(rows[1])  # though not after the same number of code points


def test_histogram_bins_a_value_on_a_bin_edge_into_the_bin_it_starts():
    from confprov.verify.html import histogram

    bins = {b["label"]: b["count"] for b in histogram([0.6, 0.3], 1.0)["bins"]}
    # 0.6 / 0.2 is 2.9999999999999996 in floating point: 0.6 still belongs to "0.6 to 0.8".
    assert (bins["0.2 to 0.4"], bins["0.4 to 0.6"], bins["0.6 to 0.8"]) == (1, 0, 1)
