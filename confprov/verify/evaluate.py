"""Thresholds and verdicts: what the check module measured, judged pass, warn or fail.

The module on each endpoint only measures; judging happens here, in one place, so the
thresholds of ``confprov.yml`` apply the same way to every run and a stored run can be read
again. Every verdict carries the measured value, the threshold and a reason a technician can
act on. A site is ready when none of its checks (endpoints and router) fails; a warning is a
site that works now but sits close to a limit.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from confprov.config import Thresholds

LEVELS = ("pass", "warn", "fail", "skip", "unmeasured")  # unmeasured: Windows (verify/windows.py)
# Beyond this fraction of its limit (but within it) a value is a warning: little margin left.
WARN_FRACTION = 0.8
# Reordering never stops a call (jitter buffers reorder), but much of it hints at a bad path.
REORDER_WARN_PCT = 1.0
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
    "clock",
    "client_version",
    "client_config",
    "router",
)


@dataclass(frozen=True)
class Verdict:
    host: str
    check: str
    level: str  # one of LEVELS
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


@dataclass
class SiteResult:
    site: str
    name: str
    level: str  # province, district, commune, department
    district: str
    checks: list[Verdict] = field(default_factory=list)
    previous_run: int | None = None  # set when the state comes from an earlier run

    @property
    def ready(self) -> bool:
        return not self.failing

    @property
    def failing(self) -> list[Verdict]:
        return [v for v in self.checks if v.level == "fail"]

    @property
    def warnings(self) -> list[Verdict]:
        return [v for v in self.checks if v.level == "warn"]

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
    level = "skip" if ok is None else "pass" if ok else "fail"
    return Verdict(
        host,
        item["name"],
        level,
        float(value) if isinstance(value, int | float) else None,
        "ms" if value is not None else "",
        threshold,
        str(item.get("detail", "")),
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
        level = "fail" if value < limit else "pass"  # the profile's rate sits just above it
        threshold = f"≥ {limit:g} {unit}"
    else:
        level = "fail" if value > limit else "warn" if value > limit * WARN_FRACTION else "pass"
        threshold = f"≤ {limit:g} {unit}"
    word = {"pass": "within", "warn": "close to", "fail": "beyond"}[level]
    reason = f"{what} {value:g} {unit}, {word} the limit ({threshold})"
    return Verdict(host, check, level, round(value, 2), unit, threshold, reason)


def media_verdicts(host: str, item: dict[str, Any], limits: Thresholds) -> list[Verdict]:
    """Round trip, jitter, loss, bandwidth and reordering from the media probe."""
    names = ("rtt", "jitter", "loss", "bandwidth", "reorder")
    if item.get("ok") is None:
        return [Verdict(host, n, "skip", reason=str(item.get("detail", ""))) for n in names]
    v = item.get("values") or {}
    sent, received = v.get("sent", 0), v.get("received", 0)
    loss = _limit(host, "loss", float(v.get("loss_pct", 100.0)), limits.loss_pct, "%", "loss")
    loss = Verdict(
        host,
        "loss",
        loss.level,
        loss.value,
        "%",
        loss.threshold,
        f"{loss.reason}: {received} of {sent} packets came back",
    )
    if not received:
        reason = str(item.get("detail", "no packet came back"))
        return [
            Verdict(host, "rtt", "fail", None, "ms", f"≤ {limits.rtt_ms:g} ms", reason),
            Verdict(host, "jitter", "skip", reason="not measured: no packet came back"),
            loss,
            Verdict(
                host,
                "bandwidth",
                "fail",
                0.0,
                "kbit/s",
                f"≥ {limits.bandwidth_kbps} kbit/s",
                reason,
            ),
            Verdict(host, "reorder", "skip", reason="not measured: no packet came back"),
        ]
    median, p95 = float(v["rtt_median_ms"]), float(v["rtt_p95_ms"])
    rtt = _limit(host, "rtt", median, limits.rtt_ms, "ms", "round trip (median)")
    if rtt.level == "pass" and p95 > limits.rtt_ms:
        rtt = Verdict(
            host,
            "rtt",
            "warn",
            rtt.value,
            "ms",
            rtt.threshold,
            f"round trip median {median:g} ms, but p95 {p95:g} ms beyond {limits.rtt_ms:g} ms",
        )
    else:
        rtt = Verdict(
            host, "rtt", rtt.level, rtt.value, "ms", rtt.threshold, f"{rtt.reason}; p95 {p95:g} ms"
        )
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
    reorder_pct = float(v.get("reordered_pct", 0.0))
    reorder = Verdict(
        host,
        "reorder",
        "warn" if reorder_pct > REORDER_WARN_PCT else "pass",
        reorder_pct,
        "%",
        f"≤ {REORDER_WARN_PCT:g} % (warning only)",
        f"{reorder_pct:g} % of packets arrived out of order",
    )
    jitter = _limit(
        host, "jitter", float(v["jitter_ms"]), limits.jitter_ms, "ms", "jitter (RFC 3550)"
    )
    return [rtt, jitter, loss, bandwidth, reorder]


def clock_verdict(host: str, item: dict[str, Any], limits: Thresholds) -> Verdict:
    if item.get("ok") is None:
        return Verdict(host, "clock", "skip", reason=str(item.get("detail", "")))
    offset = float((item.get("values") or {}).get("offset_ms", 0.0))
    verdict = _limit(host, "clock", abs(offset), limits.clock_offset_ms, "ms", "clock offset")
    return Verdict(
        host,
        "clock",
        verdict.level,
        round(offset, 2),
        "ms",
        f"|offset| {verdict.threshold}",
        f"clock {offset:+g} ms from the conference side ({verdict.threshold.lstrip('≤ ')} allowed):"
        + (" set up NTP on the endpoint" if verdict.level != "pass" else " fine"),
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
        return Verdict(host, "ssh", "fail", None, "", "reachable", reason)
    return Verdict(
        host, "ssh", "fail", None, "", "check module ran", f"checks could not run: {message}"
    )


def sort_checks(verdicts: Iterable[Verdict]) -> list[Verdict]:
    order = {name: i for i, name in enumerate(CHECK_ORDER)}
    return sorted(verdicts, key=lambda v: (v.host, order.get(v.check, len(order))))
