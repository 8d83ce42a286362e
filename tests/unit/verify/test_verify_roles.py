"""The verify roles: argument specs and defaults agree; the reflector file is the package's."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

REPO = Path(__file__).resolve().parents[3]


# connection_check's spec is entry point `check`, validated once per play by its tasks/main.yml
# (a `main` spec would cost one validation task per endpoint).
@pytest.mark.parametrize(
    ("role", "entry"), [("connection_check", "check"), ("media_reflector", "main")]
)
def test_argument_specs_match_defaults(role, entry):
    root = REPO / "roles" / role
    defaults = yaml.safe_load((root / "defaults" / "main.yml").read_text())
    spec = yaml.safe_load((root / "meta" / "argument_specs.yml").read_text())
    options = spec["argument_specs"][entry]["options"]
    assert set(options) == set(defaults)
    for name, option in options.items():
        assert name.startswith(f"{role}_")
        assert option["default"] == defaults[name], name


def test_role_ships_the_packages_reflector():
    shipped = REPO / "roles" / "media_reflector" / "files" / "reflector.py"
    assert shipped.read_bytes() == (REPO / "confprov" / "verify" / "reflector.py").read_bytes()


def test_reflector_imports_nothing_from_confprov():
    text = (REPO / "confprov" / "verify" / "reflector.py").read_text()
    assert "import confprov" not in text and "from confprov" not in text
