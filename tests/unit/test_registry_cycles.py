"""Parent cycles: every site on a cycle is named, with a message of one short line, and the
check is linear (bench/registry_chain.py measures it; no timing here)."""

from __future__ import annotations

from pathlib import Path

import pytest

from confprov.exceptions import InputError, Problem
from confprov.registry import load_registry

HEADER = "id,name,level,parent,endpoint\n"


def _problems(tmp_path: Path, rows: list[str]) -> list[Problem]:
    path = tmp_path / "sites.csv"
    path.write_text(HEADER + "".join(rows), encoding="utf-8")
    with pytest.raises(InputError) as caught:
        load_registry(path)
    return caught.value.problems


def _address(i: int) -> str:
    return f"198.18.{i // 250}.{i % 250 + 1}"


def test_a_long_cycle_names_every_member_in_one_short_line(tmp_path: Path) -> None:
    n = 60
    rows = [",Trung tâm,province,,198.19.0.1\n"]
    # d0 → d1 → … → d59 → d0: a ring of departments, each the parent of the one before.
    rows += [f"d{i},Sở {i},department,d{(i + 1) % n},{_address(i)}\n" for i in range(n)]
    cycles = [p for p in _problems(tmp_path, rows) if "parent cycle" in p.message]
    assert sorted(p.line for p in cycles) == list(range(3, n + 3))
    first = next(p for p in cycles if p.line == 3)
    assert first.message.startswith("parent cycle: Sở 0 → Sở 1 → Sở 2")
    assert first.message.endswith("→ Sở 59 → Sở 0")
    assert "(54 more)" in first.message and len(first.message) < 200


def test_sites_leading_into_a_cycle_are_not_on_it(tmp_path: Path) -> None:
    rows = [
        ",Trung tâm,province,,198.19.0.1\n",
        "a,Sở A,department,b,198.18.0.1\n",
        "b,Sở B,department,c,198.18.0.2\n",
        "c,Sở C,department,b,198.18.0.3\n",  # b ↔ c; a only points into it
    ]
    cycles = {p.line: p.message for p in _problems(tmp_path, rows) if "cycle" in p.message}
    assert cycles == {
        4: "parent cycle: Sở B → Sở C → Sở B",
        5: "parent cycle: Sở C → Sở B → Sở C",
    }


def test_a_long_chain_without_a_cycle_has_no_cycle_problem(tmp_path: Path) -> None:
    n = 2000
    rows = [",Trung tâm,province,,198.19.0.1\n"]
    rows += [f"d{i},Sở {i},department,{f'd{i - 1}' if i else ''},{_address(i)}\n" for i in range(n)]
    found = _problems(tmp_path, rows)
    assert not [p for p in found if "cycle" in p.message]
    assert len(found) == n - 1  # each department but the first: its parent is not the province
