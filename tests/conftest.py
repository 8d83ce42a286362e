from __future__ import annotations

import shutil
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
DATA = REPO / "tests" / "unit" / "data"


@pytest.fixture
def small_workspace(tmp_path: Path) -> Path:
    """A workspace holding the small test registry and its confprov.yml."""
    ws = tmp_path / "ws"
    ws.mkdir()
    shutil.copyfile(DATA / "confprov.yml", ws / "confprov.yml")
    shutil.copyfile(DATA / "sites.csv", ws / "sites.csv")
    return ws
