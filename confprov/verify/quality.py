"""How a call would feel: short-window loss, reordering and an estimated MOS from the media probe.

An average over the whole probe hides bursts; Microsoft Teams states its network requirements
over short windows ("< 1 % loss during any 15 s interval", "< 10 % during any 200 ms"), and the
endpoint module measures exactly those (``loss_15s_pct``, ``burst_200ms_pct``). The estimated
MOS is the ITU-T G.107 E-model in the simplification of Cole and Rosenbluth (ACM CCR 31(2),
2001) with G.113's packet-loss robustness for G.711 with loss concealment: informative only,
a warning below ``thresholds.mos_min`` when that is set, never a failure.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from confprov.config import Thresholds
from confprov.verify.evaluate import Verdict

# E-model constants (G.107 defaults; G.113 Appendix I for G.711 with packet loss concealment).
R0 = 93.2  # the basic signal-to-noise ratio with every other default of G.107
IE_G711 = 0.0  # equipment impairment of G.711
BPL_G711 = 25.1  # packet-loss robustness of G.711 with PLC
PACKETISATION_MS = 20.0  # one 20 ms audio frame before the first packet leaves
JITTER_BUFFER_FACTOR = 2.0  # a jitter buffer of twice the measured jitter


@dataclass(frozen=True, kw_only=True)
class MosEstimate:
    """The estimate with every input, so a report can show how it was reached."""

    mos: float
    r: float
    one_way_ms: float  # estimated mouth-to-ear delay
    rtt_ms: float
    jitter_ms: float
    loss_pct: float

    def text(self) -> str:
        return (
            f"estimated MOS {self.mos:.2f} (E-model R {self.r:.1f}; one-way delay "
            f"{self.one_way_ms:g} ms = round trip {self.rtt_ms:g}/2 + 2 x jitter "
            f"{self.jitter_ms:g} + {PACKETISATION_MS:g}; loss {self.loss_pct:g} %, G.711 with PLC)"
        )


def r_to_mos(r: float) -> float:
    """G.107 Annex B: the R factor as a mean opinion score (1 to 4.5)."""
    if r <= 0:
        return 1.0
    if r >= 100:
        return 4.5
    return 1 + 0.035 * r + 7e-6 * r * (r - 60) * (100 - r)


def estimate_mos(rtt_ms: float, jitter_ms: float, loss_pct: float) -> MosEstimate:
    """Simplified E-model: R = R0 - Id(d) - Ie,eff(loss), all other impairments at defaults.

    The probe measures the round trip only (the reflector's clock is not trusted for one-way
    figures), so the one-way delay is half the round trip plus a jitter buffer of twice the
    jitter plus one packetisation frame. Id after Cole & Rosenbluth: 0.024 d + 0.11 (d - 177.3)
    above 177.3 ms. Ie,eff = Ie + (95 - Ie) · Ppl / (Ppl + Bpl) with loss taken as random.
    """
    one_way = rtt_ms / 2 + JITTER_BUFFER_FACTOR * jitter_ms + PACKETISATION_MS
    delay = 0.024 * one_way + (0.11 * (one_way - 177.3) if one_way > 177.3 else 0.0)
    loss = max(0.0, loss_pct)
    equipment = IE_G711 + (95 - IE_G711) * loss / (loss + BPL_G711)
    r = R0 - delay - equipment
    return MosEstimate(
        mos=round(r_to_mos(r), 2),
        r=round(r, 1),
        one_way_ms=round(one_way, 1),
        rtt_ms=round(rtt_ms, 2),
        jitter_ms=round(jitter_ms, 2),
        loss_pct=round(loss, 2),
    )


def _window(
    host: str, check: str, value: Any, *, limit: float, limits: Thresholds, what: str, window: Any
) -> Verdict:
    if not isinstance(value, int | float):
        return Verdict(
            host=host, check=check, severity="skip",
            reason="not measured: the endpoint's check module predates short windows",
        )  # fmt: skip
    beyond = float(value) > limit
    severity = "pass" if not beyond else "warn" if check in limits.warn_only else "fail"
    span = f"{float(window):g} s" if isinstance(window, int | float) else what
    word = "beyond" if beyond else "within"
    note = " (warning only in this profile)" if beyond and severity == "warn" else ""
    return Verdict(
        host=host,
        check=check,
        severity=severity,
        value=round(float(value), 2),
        unit="%",
        threshold=f"≤ {limit:g} %",
        reason=f"worst loss over {what} ({span} used): {float(value):g} %, {word} the limit "
        f"(≤ {limit:g} %){note}",
    )


def window_verdicts(host: str, values: dict[str, Any], limits: Thresholds) -> list[Verdict]:
    """Worst loss over any 15 s and over any 200 ms of the probe."""
    return [
        _window(
            host,
            "loss_15s",
            values.get("loss_15s_pct"),
            limit=limits.loss_15s_pct,
            limits=limits,
            what="any 15 s",
            window=values.get("loss_15s_window_s"),
        ),
        _window(
            host,
            "burst_200ms",
            values.get("burst_200ms_pct"),
            limit=limits.burst_200ms_pct,
            limits=limits,
            what="any 200 ms",
            window=values.get("burst_200ms_window_s"),
        ),
    ]


def reorder_verdict(host: str, reorder_pct: float, limits: Thresholds) -> Verdict:
    """Jitter buffers reorder; much reordering hints at a bad path (fails under `strict`)."""
    beyond = reorder_pct > limits.reorder_pct
    severity = "pass" if not beyond else "warn" if "reorder" in limits.warn_only else "fail"
    only = " (warning only)" if "reorder" in limits.warn_only else ""
    return Verdict(
        host=host,
        check="reorder",
        severity=severity,
        value=reorder_pct,
        unit="%",
        threshold=f"≤ {limits.reorder_pct:g} %{only}",
        reason=f"{reorder_pct:g} % of packets arrived out of order",
    )


def mos_verdict(host: str, values: dict[str, Any], limits: Thresholds) -> Verdict:
    """The estimate, labelled as one; a warning only below ``mos_min`` when that is set."""
    est = estimate_mos(
        float(values["rtt_median_ms"]), float(values["jitter_ms"]), float(values["loss_pct"])
    )
    low = limits.mos_min > 0 and est.mos < limits.mos_min
    return Verdict(
        host=host,
        check="mos",
        severity="warn" if low else "pass",
        value=est.mos,
        unit="",
        threshold=f"≥ {limits.mos_min:g} (warning only)" if limits.mos_min else "informative",
        reason=est.text() + (f"; below {limits.mos_min:g}" if low else ""),
    )
