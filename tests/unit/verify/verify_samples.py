"""Sample verification results shared by the verify unit tests."""

from __future__ import annotations

from confprov.verify.evaluate import SiteResult, Verdict
from confprov.verify.store import RunInfo


def sample_sites() -> list[SiteResult]:
    ok = SiteResult(site="tinh", name="Trung tâm tỉnh", level="province", district="")
    ok.checks = [Verdict(host="tinh", check="route", severity="pass", reason="reachable")]
    warn = SiteResult(
        site="cam-khe", name="UBND huyện Cẩm Khê", level="district", district="cam-khe"
    )
    warn.checks = [
        Verdict(
            host="cam-khe",
            check="jitter",
            severity="warn",
            value=25.0,
            unit="ms",
            threshold="≤ 30 ms",
            reason="jitter 25 ms, close",
        )
    ]
    red = SiteResult(site="xa.cam-khe", name="UBND xã Xà", level="commune", district="cam-khe")
    red.checks = [
        Verdict(
            host="xa.cam-khe",
            check="loss",
            severity="fail",
            value=10.5,
            unit="%",
            threshold="≤ 1 %",
            reason="loss 10.5 %, beyond the limit",
        ),
        Verdict(
            host="xa.cam-khe",
            check="client_version",
            severity="fail",
            value=None,
            unit="",
            threshold="pinned",
            reason="client missing",
        ),
    ]
    return [ok, warn, red]


def sample_run(run_id: int = 1, scope: str = "all") -> RunInfo:
    return RunInfo(
        id=run_id,
        started="2026-11-26T07:00:00+00:00",
        finished="2026-11-26T07:00:09+00:00",
        scope=scope,
        run_dir="/r",
        sites=3,
        ready=2,
    )


CONF = "conference: {server: 198.18.32.10, sip_domain: conf.example, transport: tcp}\n"
# What the windows_check role reports for an endpoint whose measurable checks pass.
GOOD = {"versions": ["1.0"], "site_file": True, "site": "so-tu-phap", "sip_port": {"ok": True}}


def windows_site() -> SiteResult:
    """A Windows site as verify judges it (confprov.verify.windows.verdicts, not a stand-in)."""
    from confprov.config import parse_config
    from confprov.verify import windows as win

    findings = win.Findings(
        {"windows_check_product_code": "{X}", "windows_check_version": "1.0"},
        results={"so-tu-phap": GOOD},
    )
    config = parse_config(CONF, "confprov.yml")
    site = SiteResult(site="so-tu-phap", name="Sở Tư pháp <&>", level="department", district="")
    site.checks = win.verdicts("so-tu-phap", "so-tu-phap", findings, config)
    return site
