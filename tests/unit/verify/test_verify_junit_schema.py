"""The JUnit file against the schemas CI servers validate with (shipped in ./schemas).

jenkins-junit-10.xsd: the Jenkins xUnit plugin's model of Maven Surefire's format;
ant-junit.xsd: the Apache Ant JUnit task's format (the stricter one: one outcome per case,
properties first, time and timestamp required, no time zone). Both are written from the
published schemas named in their headers; lxml (libxml2) validates.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from lxml import etree
from verify_samples import sample_run, sample_sites, windows_site

from confprov.verify.evaluate import SiteResult
from confprov.verify.report import Report, junit_text

SCHEMAS = Path(__file__).parent / "schemas"


def sites_with_a_windows_site() -> list[SiteResult]:
    sites = sample_sites()
    sites[2].seconds = 6.25
    return [*sites, windows_site()]


def junit(sites: list[SiteResult]) -> bytes:
    report = Report(
        run=sample_run(), sites=sites, province="Tỉnh Thử", district_names={"cam-khe": "Cẩm Khê"}
    )
    return junit_text(report).encode("utf-8")


@pytest.mark.parametrize("schema", ["jenkins-junit-10.xsd", "ant-junit.xsd"])
def test_junit_is_valid_against_the_schema(schema):
    xsd = etree.XMLSchema(etree.parse(str(SCHEMAS / schema)))
    document = etree.fromstring(junit(sites_with_a_windows_site()))
    assert xsd.validate(document), xsd.error_log


@pytest.mark.parametrize("schema", ["jenkins-junit-10.xsd", "ant-junit.xsd"])
def test_the_schemas_do_reject_what_ci_servers_reject(schema):
    """A case without time (the old file's fault) fails Ant's schema; a bad suite time both."""
    xsd = etree.XMLSchema(etree.parse(str(SCHEMAS / schema)))
    document = etree.fromstring(junit(sample_sites()))
    document.find("testsuite").set("time", "nine seconds")
    assert not xsd.validate(document)


def test_times_timestamp_hostname_and_skipped_sites():
    root = etree.fromstring(junit(sites_with_a_windows_site()))
    assert root.tag == "testsuites"
    suites = root.findall("testsuite")
    assert {s.get("time") for s in suites} == {"9.000"}  # the run, 07:00:00 to 07:00:09
    assert {s.get("timestamp") for s in suites} == {"2026-11-26T07:00:00"}  # UTC, no zone
    assert all(s.get("hostname") for s in suites)
    cases = {c.get("name"): c for s in suites for c in s.findall("testcase")}
    assert cases["xa.cam-khe (UBND xã Xà)"].get("time") == "6.250"
    windows = cases["so-tu-phap (Sở Tư pháp <&>)"]
    assert windows_site().ready
    assert windows.find("skipped") is None and windows.find("failure") is None  # measured: pass
    media = cases["so-tu-phap: media path (Windows)"]  # unmeasured: its own case, skipped
    assert media.find("failure") is None
    message = media.find("skipped").get("message")
    assert message.startswith("not measured on Windows") and "rtt" in message and "mos" in message
    assert sum(int(s.get("failures")) for s in suites) == 1  # only the sample's red site
    assert sum(int(s.get("skipped")) for s in suites) == 1
    assert sum(int(s.get("tests")) for s in suites) == len(cases)
