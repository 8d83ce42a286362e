"""Windows endpoints in a verification: what stock modules measured, judged; the rest said so.

The ``windows_check`` role reads, with stock ansible.windows modules only, the installed version
of the pinned client, the site's file and (TCP/TLS transports) whether the SIP port opens; its
``set_fact`` result is read back from the run's ansible-runner events like the Linux module's.
The media path, SIP dialogues and clock need confprov's probe, which runs on Python: on Windows
they get the distinct severity ``unmeasured`` ("not measured on Windows"), which is neither a pass
nor a failure, so a Windows site whose measurable checks pass is ready and ``verify`` exits 0.

The Linux verdict logic stays in ``evaluate.py``; the hooks into it, ``run.py`` and the reports
are one or two lines each.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from confprov import runner
from confprov.config import Config
from confprov.exceptions import InputError
from confprov.verify.evaluate import CHECK_ORDER, SiteResult, Verdict
from confprov.windows import connection_of

UNMEASURED = "unmeasured"
FACT = "windows_check_result"
REASON = "not measured on Windows: needs confprov's probe (Python), not a stock module"
# What Windows checks (verdicts below): everything else the Linux path judges (the probe's
# network, SIP, media and clock checks) is unmeasured; room and router are judged per site.
MEASURED = ("ssh", "sip_port", "client_version", "client_config")
PROBE_CHECKS = tuple(c for c in CHECK_ORDER if c not in (*MEASURED, "room", "router"))


@dataclass
class Findings:
    """What a verify run knows of its Windows endpoints."""

    pinned: dict[str, str] = field(default_factory=dict)  # the windows_check role's variables
    why_unpinned: str = ""  # why the pinned version is unknown (no MSI in the folder, ...)
    results: dict[str, dict[str, Any]] = field(default_factory=dict)  # host -> windows_check fact


def pinned(workspace: Path, config: Config) -> Findings:
    """The pinned ProductCode and version, from the MSI in the package folder, read as
    provisioning reads it, so both commands agree on what "pinned" means."""
    from confprov.provision import windows as winprov

    try:
        plan = winprov.plan(workspace, config)
    except InputError as exc:
        return Findings(why_unpinned="; ".join(str(p) for p in exc.problems))
    package = plan.package
    return Findings(
        {
            "windows_check_product_code": package.product_code if package else "",
            "windows_check_version": package.product_version if package else "",
        }
    )


def results(run_dir: Path) -> dict[str, dict[str, Any]]:
    """The windows_check fact per host, from the run's ansible-runner events."""
    out: dict[str, dict[str, Any]] = {}
    for task in runner.task_results(run_dir):
        facts = task.res.get("ansible_facts") or {}
        if task.status in ("ok", "changed") and not task.item and FACT in facts:
            out[task.host] = facts[FACT]
    return out


def verdicts(host: str, site: str, findings: Findings, config: Config) -> list[Verdict]:
    """Judge one Windows endpoint: reached, client version, site file, SIP port; the rest
    ``unmeasured``."""
    result = findings.results[host]
    connection = connection_of(config, host, site)
    out = [
        Verdict(
            host=host,
            check="ssh",
            severity="pass",
            value=None,
            unit="",
            threshold="reachable",
            reason=f"reached over {connection}",
        )
    ]
    out.append(_version(host, result, findings.pinned, findings.why_unpinned))
    got = str(result.get("site", ""))
    if got == site:
        out.append(
            Verdict(
                host=host,
                check="client_config",
                severity="pass",
                value=None,
                unit="",
                threshold="site file of this site",
                reason=f"site file names {site}",
            )
        )
    else:
        reason = (
            f"site file names {got!r}, not {site!r}: provision this endpoint again"
            if result.get("site_file")
            else "site file missing: run confprov provision"
        )
        out.append(
            Verdict(
                host=host,
                check="client_config",
                severity="fail",
                value=None,
                unit="",
                threshold="site file of this site",
                reason=reason,
            )
        )
    out.append(_sip_port(host, result, config))
    out.extend(
        Verdict(host=host, check=name, severity=UNMEASURED, reason=REASON) for name in PROBE_CHECKS
    )
    return out


def _version(
    host: str, result: dict[str, Any], pinned: dict[str, str], why_unpinned: str
) -> Verdict:
    want = pinned.get("windows_check_version", "")
    threshold = f"= {want}" if want else "pinned version installed"

    def judged(severity: str, reason: str, value: str | None = None) -> Verdict:
        return Verdict(
            host=host,
            check="client_version",
            severity=severity,
            value=value,
            threshold=threshold,
            reason=reason,
        )

    if why_unpinned:
        return judged("fail", f"the pinned version is unknown: {why_unpinned}")
    if not pinned.get("windows_check_product_code"):
        return Verdict(
            host=host,
            check="client_version",
            severity="skip",
            reason="browser profile: nothing installed",
        )
    found = [str(v) for v in result.get("versions") or []]
    if want in found:
        return judged("pass", f"version {want} installed", want)
    if not found:
        code = pinned["windows_check_product_code"]
        return judged("fail", f"client missing: ProductCode {code} is not installed")
    reason = f"version {found[0]} installed, {want} pinned: run confprov provision"
    return judged("fail", reason, found[0])


def _sip_port(host: str, result: dict[str, Any], config: Config) -> Verdict:
    conf = config.conference
    target = f"{conf.server}:{conf.port}/{conf.transport}"
    if conf.transport == "udp":
        return Verdict(
            host=host, check="sip_port", severity=UNMEASURED, reason=f"{target}: {REASON} (UDP)"
        )
    port = result.get("sip_port") or {}
    if port.get("ok"):
        return Verdict(
            host=host,
            check="sip_port",
            severity="pass",
            value=None,
            unit="",
            threshold="connection opens",
            reason=f"{target}: connection opened",
        )
    detail = port.get("detail") or "no answer"
    return Verdict(
        host=host,
        check="sip_port",
        severity="fail",
        value=None,
        unit="",
        threshold="connection opens",
        reason=f"{target}: {detail}",
    )


def unmeasured_sites(sites: Iterable[SiteResult]) -> list[SiteResult]:
    return [s for s in sites if any(v.severity == UNMEASURED for v in s.checks)]


def unmeasured_checks(site: SiteResult) -> list[str]:
    """The checks of ``site`` no endpoint measured (every verdict of them ``unmeasured``)."""
    names = {v.check for v in site.checks}
    return [
        n
        for n in CHECK_ORDER
        if n in names and all(v.severity == UNMEASURED for v in site.checks if v.check == n)
    ]


def junit_skip(site: SiteResult) -> tuple[str, str] | None:
    """JUnit's extra case for a site with unmeasured checks: its name and skip message.

    "Unmeasured" is neither a pass nor a failure; as a skipped case CI shows it apart."""
    checks = [v.check for v in site.checks if v.severity == UNMEASURED]
    if not checks:
        return None
    names = ", ".join(n for n in CHECK_ORDER if n in checks)
    return f"{site.site}: media path (Windows)", f"{REASON}: {names}"


def terminal_lines(sites: Iterable[SiteResult], lang: str) -> list[str]:
    """The report's line about Windows sites: ready or not, their media path was not measured."""
    found = unmeasured_sites(sites)
    if not found:
        return []
    head = {"vi": "Chưa đo trên Windows (đường truyền media)", "en": "Not measured on Windows"}
    names = ", ".join(s.site for s in found[:10]) + (" …" if len(found) > 10 else "")
    return [f"{head.get(lang, head['en'])} ({len(found)}): {names}"]


def note(site: SiteResult, lang: str) -> str:
    """A short note for a site's row (HTML): empty unless something was not measured."""
    if not any(v.severity == UNMEASURED for v in site.checks):
        return ""
    return {"vi": "đường truyền media chưa đo (Windows)"}.get(
        lang, "media path not measured (Windows)"
    )
