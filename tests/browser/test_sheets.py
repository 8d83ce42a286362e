"""Operator sheets printed by real headless Chromium: one A4 page per site, with its text."""

from __future__ import annotations

import shutil

import pytest
from pypdf import PdfReader

from confprov.cli import main
from confprov.verify import store
from confprov.verify.evaluate import SiteResult, Verdict

A4_POINTS = (595, 842)  # 210 x 297 mm


@pytest.fixture
def chromium():
    found = shutil.which("chromium")
    if found is None:
        pytest.skip("chromium not installed (Debian package chromium; scripts/setup.sh has it)")
    return found


def test_sheets_print_one_a4_page_per_site_with_its_text(small_workspace, tmp_path, chromium):
    from confprov.workspace import load

    config = small_workspace / "confprov.yml"
    config.write_text(
        config.read_text() + "support:\n  name: Phạm Kỹ Thuật\n  phone: 0912 345 678\n"
    )
    sites = load(small_workspace).registry.sites
    red = sites[1]
    store.save_run(
        small_workspace,
        [
            SiteResult(
                site=red.slug,
                name=red.name,
                level=red.level,
                district=red.district,
                checks=[Verdict(host=red.slug, check="loss", severity="fail", reason="loss 5 %")],
            )
        ],
        started="2026-11-28T08:30:00+00:00",
        scope="limit",
        run_dir="",
    )
    out = tmp_path / "sheets"
    assert main(["sheets", "-w", str(small_workspace), "--out", str(out), "--pdf"]) == 0
    pdf = PdfReader(out / "sheets.pdf")
    assert len(pdf.pages) == len(sites)
    for page in pdf.pages:
        assert tuple(round(float(x)) for x in page.mediabox[2:]) == A4_POINTS
    texts = [" ".join(p.extract_text().split()) for p in pdf.pages]
    for site, text in zip(sites, texts, strict=True):
        assert site.name in text and site.slug in text
        assert "Phạm Kỹ Thuật · 0912 345 678" in text
        assert site.contact_name in text
    assert "CHƯA SẴN SÀNG · 2026-11-28 08:30 UTC" in texts[1]
    assert "loss: loss 5 %" in texts[1]
    assert "chưa kiểm tra" in texts[0]
    assert (out / f"{sites[0].slug}.html").is_file()


def test_sheets_in_english_html_only(small_workspace, tmp_path, capsys):
    out = tmp_path / "sheets"
    argv = ["sheets", "-w", str(small_workspace), "--out", str(out), "--lang", "en", "--json", "-"]
    assert main(argv) == 0
    import json

    written = json.loads(capsys.readouterr().out)
    assert written["pdf"] is None and len(written["html"]) == 7  # 6 sites and all.html
    page = (out / "all.html").read_text()
    assert "Operator sheet" in page and "Technician to call" in page
    assert page.count('class="sheet"') == 6


def test_the_pdf_is_not_written_through_a_planted_link(small_workspace, tmp_path, chromium):
    """Links planted at the PDF's path and at the fixed temporary name Chromium once printed
    to (`.sheets.pdf.tmp`): neither is followed, the files they point to are untouched."""
    out = tmp_path / "sheets"
    out.mkdir()
    victims = {
        name: tmp_path / f"victim-{i}.txt"
        for i, name in enumerate(("sheets.pdf", ".sheets.pdf.tmp"))
    }
    for name, victim in victims.items():
        victim.write_text("keep me\n")
        (out / name).symlink_to(victim)
    assert main(["sheets", "-w", str(small_workspace), "--out", str(out), "--pdf", "-q"]) == 0
    assert all(v.read_text() == "keep me\n" for v in victims.values())
    assert not (out / "sheets.pdf").is_symlink()
    assert len(PdfReader(out / "sheets.pdf").pages) == 6
