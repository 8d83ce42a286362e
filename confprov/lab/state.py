"""Where a lab keeps what it made, so `lab down` can undo it, even after a crash.

Each lab has a folder ``/var/lib/confprov/labs/<name>/`` holding ``meta.json`` (slot, workspace),
``plan.json`` (addresses) and ``journal.jsonl``: one line per thing the lab creates (a namespace, a
link, a bridge, an nft table, a process, a folder), appended and flushed **before** the thing is
created. `down` walks the journal and removes whatever of it still exists, so a half-done `up`
is undone as well as a finished one.
"""

from __future__ import annotations

import fcntl
import json
import os
import shutil
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from confprov.exceptions import InputError
from confprov.lab.plan import SLOTS, LabPlan

LABS_DIR = Path("/var/lib/confprov/labs")
KINDS = ("netns", "link", "nft", "pid", "dir", "workspace")


@dataclass(frozen=True)
class Entry:
    kind: str
    value: str


class LabState:
    def __init__(self, name: str, root: Path = LABS_DIR) -> None:
        self.name = name
        self.dir = root / name

    @property
    def journal(self) -> Path:
        return self.dir / "journal.jsonl"

    @property
    def hosts_dir(self) -> Path:
        return self.dir / "hosts"

    def exists(self) -> bool:
        return self.dir.exists()

    def record(self, entries: Iterable[Entry]) -> None:
        """Append entries and flush them to disk before the caller creates what they name."""
        lines = "".join(json.dumps({"kind": e.kind, "value": e.value}) + "\n" for e in entries)
        with self.journal.open("a") as fh:
            fh.write(lines)
            fh.flush()
            os.fsync(fh.fileno())

    def entries(self) -> list[Entry]:
        if not self.journal.exists():
            return []
        out = []
        for line in self.journal.read_text().splitlines():
            try:
                data = json.loads(line)
            except json.JSONDecodeError:
                continue  # a line cut short by a crash
            out.append(Entry(str(data["kind"]), str(data["value"])))
        return out

    def write_json(self, name: str, data: Any) -> None:
        tmp = self.dir / f".{name}.tmp"
        tmp.write_text(json.dumps(data, indent=1, ensure_ascii=False) + "\n")
        tmp.replace(self.dir / name)

    def read_json(self, name: str) -> Any:
        path = self.dir / name
        if not path.exists():
            return None
        return json.loads(path.read_text())

    def meta(self) -> dict[str, Any]:
        data = self.read_json("meta.json")
        return data if isinstance(data, dict) else {}

    def plan(self) -> LabPlan | None:
        data = self.read_json("plan.json")
        return LabPlan.from_dict(data) if isinstance(data, dict) else None

    def remove(self) -> None:
        shutil.rmtree(self.dir, ignore_errors=True)


def all_labs(root: Path = LABS_DIR) -> list[str]:
    if not root.exists():
        return []
    return sorted(p.name for p in root.iterdir() if p.is_dir() and not p.name.startswith("."))


@contextmanager
def labs_lock(root: Path = LABS_DIR) -> Iterator[None]:
    """Serialise slot allocation between concurrent `lab up` runs."""
    root.mkdir(parents=True, exist_ok=True)
    with (root / ".lock").open("w") as fh:
        fcntl.flock(fh, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(fh, fcntl.LOCK_UN)


def claim(name: str, root: Path = LABS_DIR) -> tuple[LabState, int]:
    """Create the lab's state folder and pick a free address slot; refuse an existing name."""
    with labs_lock(root):
        state = LabState(name, root)
        if state.exists():
            raise InputError(
                f"lab {name!r} exists already (state {state.dir}): see `confprov lab status "
                f"--name {name}`, or remove it with `confprov lab down --name {name}`"
            )
        used = set()
        for other in all_labs(root):
            slot = LabState(other, root).meta().get("slot")
            if isinstance(slot, int):
                used.add(slot)
        free = [s for s in range(SLOTS) if s not in used]
        if not free:
            raise InputError(
                f"{SLOTS} labs exist already ({', '.join(all_labs(root))}): take one down first"
            )
        state.dir.mkdir(parents=True)
        state.write_json("meta.json", {"name": name, "slot": free[0], "phase": "claimed"})
        return state, free[0]
