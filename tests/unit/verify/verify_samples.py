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
        run_id, "2026-11-26T07:00:00+00:00", "2026-11-26T07:00:09+00:00", scope, "/r", 3, 2
    )
