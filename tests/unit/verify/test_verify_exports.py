"""The spreadsheet (openpyxl reads it back), the CSV and the Prometheus text (its own parser)."""

from __future__ import annotations

import calendar
import csv
import io

from openpyxl import load_workbook
from prometheus_client.parser import text_string_to_metric_families
from verify_samples import sample_run, sample_sites, windows_site

from confprov.verify.exports import csv_text, neutralise, prom_text, xlsx_bytes
from confprov.verify.report import Report

EVIL = '=HYPERLINK("http://198.18.0.1","x")'


def report(lang="en"):
    sites = sample_sites()
    sites[1].name = EVIL  # registry text that a spreadsheet would run as a formula
    return Report(
        run=sample_run(),
        sites=sites,
        province="Tỉnh Thử",
        district_names={"cam-khe": "UBND huyện Cẩm Khê"},
        lang=lang,
    )


def test_neutralise_every_formula_start():
    for start in ("=", "+", "-", "@", "\t", "\r"):
        assert neutralise(f"{start}1+1") == f"'{start}1+1"
    assert neutralise("UBND xã Xà") == "UBND xã Xà"


def test_xlsx_has_a_row_per_site_and_a_summary(tmp_path):
    path = tmp_path / "r.xlsx"
    path.write_bytes(xlsx_bytes(report()))
    book = load_workbook(path)  # not read-only: data_type is needed
    assert book.sheetnames == ["sites", "summary"]
    rows = list(book["sites"].iter_rows(values_only=True))
    assert rows[0][:7] == ("Site", "Name", "Level", "District", "Status", "severity", "Reason")
    assert [r[0] for r in rows[1:]] == ["tinh", "cam-khe", "xa.cam-khe"]
    red = rows[3]
    assert red[4] == "not ready" and red[5] == "fail"
    assert red[6].startswith("loss: loss 10.5 %")
    assert red[rows[0].index("loss_pct")] == 10.5
    evil = book["sites"]["B3"]
    assert evil.data_type == "s" and evil.value == "'" + EVIL  # text, never a formula
    summary = list(book["summary"].iter_rows(values_only=True))
    assert ("Level", "commune", 0, 1) in summary
    assert ("District", "UBND huyện Cẩm Khê", 1, 2) in summary


def test_csv_neutralises_and_parses():
    rows = list(csv.reader(io.StringIO(csv_text(report()))))
    assert len(rows) == 4
    assert rows[2][1] == "'" + EVIL
    assert rows[3][rows[0].index("loss_pct")] == "10.5"


def test_prometheus_text_parses_with_prometheus_client():
    families = {f.name: f for f in text_string_to_metric_families(prom_text(report()))}
    ready = {s.labels["site"]: s.value for s in families["confprov_site_ready"].samples}
    assert ready == {"tinh": 1.0, "cam-khe": 1.0, "xa.cam-khe": 0.0}
    loss = families["confprov_site_loss_ratio"].samples
    assert [(s.labels["site"], s.value) for s in loss] == [("xa.cam-khe", 0.105)]
    jitter = families["confprov_site_jitter_seconds"].samples[0]
    assert jitter.value == 0.025
    failed = {
        (s.labels["site"], s.labels["check"]): s.value
        for s in families["confprov_site_check_failed"].samples
    }
    assert failed[("xa.cam-khe", "client_version")] == 1.0
    assert failed[("cam-khe", "jitter")] == 0.0
    assert families["confprov_verify_sites_ready"].samples[0].value == 2.0
    stamp = families["confprov_verify_last_run_timestamp_seconds"].samples[0].value
    assert stamp == calendar.timegm((2026, 11, 26, 7, 0, 9))  # the run's finish, UTC


def test_prometheus_never_reads_not_measured_on_windows_as_passed():
    rep = Report(run=sample_run(), sites=[windows_site()], province="Tỉnh Thử", district_names={})
    families = {f.name: f for f in text_string_to_metric_families(prom_text(rep))}
    failed = {s.labels["check"]: s.value for s in families["confprov_site_check_failed"].samples}
    blind = {s.labels["check"]: s.value for s in families["confprov_site_check_unmeasured"].samples}
    assert failed["client_version"] == 0.0 and failed["sip_port"] == 0.0  # measured, passed
    assert "rtt" not in failed and "mos" not in failed  # no 0 that reads as "passed"
    assert blind["rtt"] == blind["mos"] == 1.0
    assert not set(failed) & set(blind)
