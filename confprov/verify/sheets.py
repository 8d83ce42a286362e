"""Operator sheets: one printable A4 page per site, in Vietnamese (or English).

Operators at 300 sites were trained by hand; a page taped beside the laptop says what they
need on the day: the site and its laptop(s), how to start and check the client, the conference
address, whom to call on site and which technician, and the latest readiness result with its
date. HTML always (one file per site and one with every site, a page each); PDF when a headless
Chromium is present, printed by Chromium itself from that HTML.
"""

from __future__ import annotations

import shutil
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from confprov import pages, safefile
from confprov.exceptions import ConfprovError, InputError, Problem
from confprov.verify.labels import label

ALL_SITES = "all.html"
PDF_NAME = "sheets.pdf"
CHROMIUM_NAMES = ("chromium", "chromium-browser", "google-chrome")
# Headless printing without the sandbox (root in CI), with no network or profile side effects.
CHROMIUM_FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-pdf-header-footer",
)
PRINT_TIMEOUT_S = 180

TEXT = {
    "vi": {
        "title": "Phiếu hướng dẫn điểm cầu",
        "site": "Điểm cầu",
        "level": "Cấp",
        "district": "Huyện",
        "laptops": "Máy tính hội nghị",
        "host": "Tên máy",
        "address": "Địa chỉ quản lý",
        "user": "Tài khoản đăng nhập",
        "start": "Khởi động phần mềm hội nghị",
        "start_steps": [
            "Bật máy tính, đăng nhập tài khoản {user}.",
            "Phần mềm {client} tự khởi động khi đăng nhập.",
            "Nếu không thấy phần mềm: mở Terminal và gõ {binary}",
        ],
        "check": "Kiểm tra trước phiên họp",
        "check_steps": [
            "Phần mềm báo tài khoản {account} đã đăng ký (OK).",
            "Camera có hình, loa nghe rõ, micro thu tiếng "
            "(màn hình: {display}; âm thanh: {audio}).",
            "Gọi thử vào phòng họp {room} ít nhất 30 phút trước giờ họp.",
        ],
        "conference": "Phòng họp trực tuyến",
        "server": "Máy chủ hội nghị",
        "contact": "Người phụ trách tại điểm cầu",
        "technician": "Kỹ thuật viên hỗ trợ",
        "none": "(chưa có)",
        "latest": "Kết quả kiểm tra gần nhất",
        "ready": "SẴN SÀNG",
        "not_ready": "CHƯA SẴN SÀNG",
        "never": "chưa kiểm tra",
        "run": "lần chạy",
    },
    "en": {
        "title": "Operator sheet",
        "site": "Site",
        "level": "Level",
        "district": "District",
        "laptops": "Conference laptop(s)",
        "host": "Host",
        "address": "Management address",
        "user": "Login account",
        "start": "Starting the conference client",
        "start_steps": [
            "Switch the laptop on and log in as {user}.",
            "The {client} starts by itself at login.",
            "If it does not: open a terminal and type {binary}",
        ],
        "check": "Checks before the session",
        "check_steps": [
            "The client shows the account {account} as registered (OK).",
            "Camera shows a picture, speakers are clear, microphones pick up voices "
            "(display: {display}; audio: {audio}).",
            "Test-call the conference room {room} at least 30 minutes before the session.",
        ],
        "conference": "Conference room",
        "server": "Conference server",
        "contact": "On-site contact",
        "technician": "Technician to call",
        "none": "(none given)",
        "latest": "Latest readiness check",
        "ready": "READY",
        "not_ready": "NOT READY",
        "never": "not checked yet",
        "run": "run",
    },
}

_ENV = pages.environment("confprov.verify")


@dataclass(frozen=True)
class SheetsResult:
    html: list[Path]
    pdf: Path | None
    note: str = ""

    def to_json(self) -> dict[str, Any]:
        return {
            "html": [str(p) for p in self.html],
            "pdf": str(self.pdf) if self.pdf else None,
            "note": self.note,
        }


def find_chromium() -> str | None:
    return next((found for n in CHROMIUM_NAMES if (found := shutil.which(n))), None)


def sheet_data(workspace: Path, lang: str) -> list[dict[str, Any]]:
    """What each sheet shows, from the registry, confprov.yml, the client profile and the
    results store (each site's latest state)."""
    from confprov.provision.profiles import load_profile
    from confprov.verify import store
    from confprov.workspace import load

    loaded = load(workspace)
    config, registry = loaded.config, loaded.registry
    text = TEXT[lang]
    profile = load_profile(config.client.profile)
    districts = {d.slug: d.name for d in registry.districts()}
    states = store.latest_states(workspace)
    runs = {r.id: r for r in store.runs(workspace)}
    conf = config.conference
    room = f"sip:{conf.room}@{conf.sip_domain}" if conf.room else conf.sip_domain
    support = config.support
    out = []
    for site in registry.sites:
        account = f"sip:{site.endpoint_hosts[0]}@{conf.sip_domain}"
        fill = {
            "user": site.endpoint_user or config.endpoint_user,
            "client": profile.description,
            "binary": profile.binary,
            "account": account,
            "display": ", ".join(site.display) or text["none"],
            "audio": site.audio or text["none"],
            "room": room,
        }
        state = states.get(site.slug)
        latest = None
        if state is not None:
            run_id, ready, reason = state
            info = runs.get(run_id)
            latest = {
                "ready": ready,
                "word": text["ready"] if ready else text["not_ready"],
                "reason": reason,
                "date": (info.started[:16].replace("T", " ") + " UTC") if info else "",
                "run": run_id,
            }
        out.append(
            {
                "slug": site.slug,
                "name": site.name,
                "level": label(lang, site.level),
                "district": districts.get(site.district, site.district) or "-",
                "laptops": [
                    {"host": h, "address": a, "os": site.endpoint_os}
                    for h, a in zip(site.endpoint_hosts, site.endpoints, strict=True)
                ],
                "user": fill["user"],
                "start": [s.format(**fill) for s in text["start_steps"]],
                "check": [s.format(**fill) for s in text["check_steps"]],
                "room": room,
                "server": f"{conf.server}:{conf.port} ({conf.transport.upper()})",
                "contact": " · ".join(x for x in (site.contact_name, site.contact_phone) if x)
                or text["none"],
                "technician": " · ".join(x for x in (support.name, support.phone) if x)
                or text["none"],
                "latest": latest,
            }
        )
    return out


def render(sites: list[dict[str, Any]], lang: str, title: str) -> str:
    return _ENV.get_template("sheets.html.j2").render(
        lang=lang, t=TEXT[lang], sites=sites, title=title
    )


def print_pdf(chromium: str, html: Path, pdf: Path) -> None:
    """Chromium prints the page (A4 from its @page rule) into ``pdf``, whole or not at all.

    Chromium writes into confprov's own temporary folder (a fixed name beside ``pdf`` could be
    a planted link, which Chromium would follow); ``safefile.replace`` then puts the bytes at
    ``pdf``.
    """
    with tempfile.TemporaryDirectory(prefix="confprov-chromium-") as profile:
        tmp = Path(profile) / "print" / "sheets.pdf"
        tmp.parent.mkdir()
        cmd = [
            chromium,
            *CHROMIUM_FLAGS,
            f"--user-data-dir={profile}",
            f"--print-to-pdf={tmp}",
            html.resolve().as_uri(),
        ]
        try:
            proc = subprocess.run(
                cmd, capture_output=True, text=True, timeout=PRINT_TIMEOUT_S, check=False
            )
        except subprocess.TimeoutExpired:
            raise ConfprovError(
                f"Chromium did not print {html} within {PRINT_TIMEOUT_S} s"
            ) from None
        if proc.returncode != 0 or not tmp.is_file() or tmp.stat().st_size == 0:
            tail = "\n".join(proc.stderr.strip().splitlines()[-5:])
            raise ConfprovError(f"Chromium could not print {html} (rc {proc.returncode}): {tail}")
        safefile.replace(pdf, tmp.read_bytes())


def write_sheets(
    workspace: Path, out: Path, *, lang: str | None = None, pdf: bool = False
) -> SheetsResult:
    """Write every site's sheet into ``out`` (made if missing; its parent must exist)."""
    from confprov.cliargs import write_atomic
    from confprov.workspace import load

    if not out.resolve().parent.is_dir():
        raise InputError([Problem(str(out), None, "--out", "its parent folder does not exist")])
    config = load(workspace).config
    chosen = lang or config.lang
    sites = sheet_data(workspace, chosen)
    out.mkdir(exist_ok=True)
    written = []
    for site in sites:
        path = out / f"{site['slug']}.html"
        write_atomic(path, render([site], chosen, f"{TEXT[chosen]['title']}: {site['name']}"))
        written.append(path)
    every = out / ALL_SITES
    title = f"{TEXT[chosen]['title']}: {config.province}".rstrip(": ")
    write_atomic(every, render(sites, chosen, title))
    written.append(every)
    if not pdf:
        return SheetsResult(written, None)
    chromium = find_chromium()
    if chromium is None:
        return SheetsResult(written, None, "no headless Chromium found: HTML only")
    target = out / PDF_NAME
    print_pdf(chromium, every, target)
    return SheetsResult(written, target)
