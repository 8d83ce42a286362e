"""The verify roles: the reflector file is the package's (specs and defaults: tests/contracts)."""

from __future__ import annotations

from pathlib import Path

REPO = Path(__file__).resolve().parents[3]


def test_role_ships_the_packages_reflector():
    shipped = REPO / "roles" / "media_reflector" / "files" / "reflector.py"
    assert shipped.read_bytes() == (REPO / "confprov" / "verify" / "reflector.py").read_bytes()


def test_reflector_imports_nothing_from_confprov():
    text = (REPO / "confprov" / "verify" / "reflector.py").read_text()
    assert "import confprov" not in text and "from confprov" not in text
