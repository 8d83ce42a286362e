"""Sample verification results shared by the verify unit tests."""

from __future__ import annotations

from confprov.verify.evaluate import SiteResult, Verdict
from confprov.verify.store import RunInfo


def sample_sites() -> list[SiteResult]:
    ok = SiteResult("tinh", "Trung tâm tỉnh", "province", "")
    ok.checks = [Verdict("tinh", "route", "pass", reason="reachable")]
    warn = SiteResult("cam-khe", "UBND huyện Cẩm Khê", "district", "cam-khe")
    warn.checks = [
        Verdict("cam-khe", "jitter", "warn", 25.0, "ms", "≤ 30 ms", "jitter 25 ms, close")
    ]
    red = SiteResult("xa.cam-khe", "UBND xã Xà", "commune", "cam-khe")
    red.checks = [
        Verdict("xa.cam-khe", "loss", "fail", 10.5, "%", "≤ 1 %", "loss 10.5 %, beyond the limit"),
        Verdict("xa.cam-khe", "client_version", "fail", None, "", "pinned", "client missing"),
    ]
    return [ok, warn, red]


def sample_run(run_id: int = 1, scope: str = "all") -> RunInfo:
    return RunInfo(
        run_id, "2026-11-26T07:00:00+00:00", "2026-11-26T07:00:09+00:00", scope, "/r", 3, 2
    )
