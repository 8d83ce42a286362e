"""Thresholds and verdicts: what the check module measured, judged pass, warn or fail.

The module on each endpoint only measures; judging happens here, in one place, so the
thresholds of ``confprov.yml`` apply the same way to every run and a stored run can be read
again. Every verdict carries the measured value, the threshold and a reason a technician can
act on. A site is ready when none of its checks (endpoints and router) fails; a warning is a
site that works now but sits close to a limit.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from typing import Any

from confprov.config import Thresholds

SEVERITIES = (
    "pass",
    "warn",
    "fail",
    "skip",
    "unmeasured",
)  # unmeasured: Windows (verify/windows.py)
# Beyond this fraction of its limit (but within it) a value is a warning: little margin left.
WARN_FRACTION = 0.8
# Order in which checks are shown: the first failing one is usually the cause of the rest.
CHECK_ORDER = (
    "ssh",
    "gateway",
    "route",
    "dns",
    "sip_port",
    "sip_options",
    "sip_register",
    "rtt",
    "jitter",
    "loss",
    "bandwidth",
    "reorder",
    "loss_15s",
    "burst_200ms",
    "mos",
    "clock",
    "client_version",
    "client_config",
    "room",
    "router",
)


@dataclass(frozen=True, kw_only=True)
class Verdict:
    host: str
    check: str
    severity: str  # one of SEVERITIES
    value: float | str | None = None
    unit: str = ""
    threshold: str = ""
    reason: str = ""

    def value_text(self) -> str:
        if self.value is None:
            return ""
        if isinstance(self.value, float):
            return f"{self.value:g} {self.unit}".strip()
        return f"{self.value} {self.unit}".strip()


@dataclass(kw_only=True)
class SiteResult:
    site: str
    name: str
    level: str  # province, district, commune, department
    district: str
    checks: list[Verdict] = field(default_factory=list)
    previous_run: int | None = None  # set when the state comes from an earlier run
    seconds: float = 0.0  # how long its endpoint checks took (JUnit's time), 0 when unknown

    @property
    def ready(self) -> bool:
        return not self.failing

    @property
    def failing(self) -> list[Verdict]:
        return [v for v in self.checks if v.severity == "fail"]

    @property
    def warnings(self) -> list[Verdict]:
        return [v for v in self.checks if v.severity == "warn"]

    @property
    def status(self) -> str:
        return "fail" if self.failing else "warn" if self.warnings else "pass"

    def reason(self) -> str:
        """The failing checks in one line: what a technician reads first."""
        return "; ".join(f"{v.check}: {v.reason}" for v in self.failing)


def _functional(host: str, item: dict[str, Any], threshold: str) -> Verdict:
    ok = item.get("ok")
    values = item.get("values") or {}
    value = values.get("rtt_ms")
    return Verdict(
        host=host,
        check=item["name"],
        severity="skip" if ok is None else "pass" if ok else "fail",
        value=float(value) if isinstance(value, int | float) else None,
        unit="ms" if value is not None else "",
        threshold=threshold,
        reason=str(item.get("detail", "")),
    )


def _limit(  # noqa: PLR0917 - one call per measured quantity, read in order
    host: str,
    check: str,
    value: float,
    limit: float,
    unit: str,
    what: str,
    *,
    at_least: bool = False,
) -> Verdict:
    """pass / warn (within WARN_FRACTION of the limit) / fail, with the reason in words."""
    if at_least:
        severity = "fail" if value < limit else "pass"  # the profile's rate sits just above it
        threshold = f"≥ {limit:g} {unit}"
    else:
        severity = "fail" if value > limit else "warn" if value > limit * WARN_FRACTION else "pass"
        threshold = f"≤ {limit:g} {unit}"
    word = {"pass": "within", "warn": "close to", "fail": "beyond"}[severity]
    reason = f"{what} {value:g} {unit}, {word} the limit ({threshold})"
    return Verdict(
        host=host,
        check=check,
        severity=severity,
        value=round(value, 2),
        unit=unit,
        threshold=threshold,
        reason=reason,
    )


def media_verdicts(host: str, item: dict[str, Any], limits: Thresholds) -> list[Verdict]:
    """Round trip, jitter, loss, bandwidth, reordering, short windows and MOS from the probe."""
    from confprov.verify import quality

    names = ("rtt", "jitter", "loss", "bandwidth", "reorder", "loss_15s", "burst_200ms", "mos")
    if item.get("ok") is None:
        why = str(item.get("detail", ""))
        return [Verdict(host=host, check=n, severity="skip", reason=why) for n in names]
    v = item.get("values") or {}
    sent, received = v.get("sent", 0), v.get("received", 0)
    loss = _limit(host, "loss", float(v.get("loss_pct", 100.0)), limits.loss_pct, "%", "loss")
    loss = replace(loss, reason=f"{loss.reason}: {received} of {sent} packets came back")
    windows = quality.window_verdicts(host, v, limits)
    if not received:
        reason = str(item.get("detail", "no packet came back"))
        unmeasured = "not measured: no packet came back"
        return [
            Verdict(
                host=host,
                check="rtt",
                severity="fail",
                unit="ms",
                threshold=f"≤ {limits.rtt_ms:g} ms",
                reason=reason,
            ),
            Verdict(host=host, check="jitter", severity="skip", reason=unmeasured),
            loss,
            Verdict(
                host=host,
                check="bandwidth",
                severity="fail",
                value=0.0,
                unit="kbit/s",
                threshold=f"≥ {limits.bandwidth_kbps} kbit/s",
                reason=reason,
            ),
            Verdict(host=host, check="reorder", severity="skip", reason=unmeasured),
            *windows,
            Verdict(host=host, check="mos", severity="skip", reason=unmeasured),
        ]
    median, p95 = float(v["rtt_median_ms"]), float(v["rtt_p95_ms"])
    rtt = _limit(host, "rtt", median, limits.rtt_ms, "ms", "round trip (median)")
    if rtt.severity == "pass" and p95 > limits.rtt_ms:
        rtt = replace(
            rtt,
            severity="warn",
            reason=f"round trip median {median:g} ms, but p95 {p95:g} ms beyond "
            f"{limits.rtt_ms:g} ms",
        )
    else:
        rtt = replace(rtt, reason=f"{rtt.reason}; p95 {p95:g} ms")
    bitrate = v.get("bitrate_kbps")
    bandwidth = _limit(
        host,
        "bandwidth",
        float(v["throughput_kbps"]),
        float(limits.bandwidth_kbps),
        "kbit/s",
        f"media throughput (sent at {bitrate} kbit/s)",
        at_least=True,
    )
    reorder = quality.reorder_verdict(host, float(v.get("reordered_pct", 0.0)), limits)
    jitter = _limit(
        host, "jitter", float(v["jitter_ms"]), limits.jitter_ms, "ms", "jitter (RFC 3550)"
    )
    mos = quality.mos_verdict(host, v, limits)
    return [rtt, jitter, loss, bandwidth, reorder, *windows, mos]


def clock_verdict(host: str, item: dict[str, Any], limits: Thresholds) -> Verdict:
    if item.get("ok") is None:
        return Verdict(
            host=host, check="clock", severity="skip", reason=str(item.get("detail", ""))
        )
    offset = float((item.get("values") or {}).get("offset_ms", 0.0))
    verdict = _limit(host, "clock", abs(offset), limits.clock_offset_ms, "ms", "clock offset")
    return replace(
        verdict,
        value=round(offset, 2),
        threshold=f"|offset| {verdict.threshold}",
        reason=f"clock {offset:+g} ms from the conference side "
        f"({verdict.threshold.lstrip('≤ ')} allowed):"
        + (" set up NTP on the endpoint" if verdict.severity != "pass" else " fine"),
    )


_FUNCTIONAL = {
    "gateway": "answers",
    "route": "conference network reachable",
    "dns": "name resolves",
    "sip_port": "signalling port answers",
    "sip_options": "2xx",
    "sip_register": "2xx",
    "client_version": "pinned version installed",
    "client_config": "account of this site",
}


def endpoint_verdicts(host: str, result: dict[str, Any], limits: Thresholds) -> list[Verdict]:
    """Judge one endpoint's module result (its ``checks`` list)."""
    out: list[Verdict] = []
    for item in result.get("checks", []):
        name = item.get("name", "")
        if name == "media":
            out.extend(media_verdicts(host, item, limits))
        elif name == "clock":
            out.append(clock_verdict(host, item, limits))
        elif name in _FUNCTIONAL:
            out.append(_functional(host, item, _FUNCTIONAL[name]))
    return out


def host_failure(host: str, status: str, message: str) -> Verdict:
    """An endpoint whose checks could not run at all (SSH down, module error)."""
    if status == "unreachable":
        reason = f"endpoint not reachable over SSH (management network): {message}"
        return Verdict(
            host=host, check="ssh", severity="fail", threshold="reachable", reason=reason
        )
    return Verdict(
        host=host,
        check="ssh",
        severity="fail",
        threshold="check module ran",
        reason=f"checks could not run: {message}",
    )


def sort_checks(verdicts: Iterable[Verdict]) -> list[Verdict]:
    order = {name: i for i, name in enumerate(CHECK_ORDER)}
    return sorted(verdicts, key=lambda v: (v.host, order.get(v.check, len(order))))
