"""A rehearsal day on a shipped example at full size, each command timed (root).

    sudo .venv/bin/python bench/example_day.py --example phu-tho-2025 --name pt25

`lab up --example` (the lab and its workspace), then the commands a team runs before a session,
in order, as an operator types them: `check`, `inventory`, `routers plan`, `provision`,
`routers push`, `reflector --deploy`, `verify` (and `verify --failed-only` when some site is not
ready). Prints one JSON document: each step's exit code and seconds, verify's summary, the load
average before and after. The lab is taken down at the end (also on failure) unless `--keep`.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

CONFPROV = [sys.executable, "-m", "confprov"]


def step(name: str, argv: list[str], out: dict[str, Any], timeout: float = 7200) -> dict[str, Any]:
    started = time.monotonic()
    proc = subprocess.run(argv, capture_output=True, text=True, timeout=timeout, check=False)
    took = round(time.monotonic() - started, 1)
    out["steps"].append({"step": name, "exit": proc.returncode, "seconds": took})
    print(f"{name}: exit {proc.returncode} in {took} s", file=sys.stderr, flush=True)
    if proc.returncode not in (0, 1):
        sys.stderr.write(proc.stdout[-2000:] + proc.stderr[-2000:])
        raise SystemExit(f"{name} failed (exit {proc.returncode})")
    return {"stdout": proc.stdout, "code": proc.returncode}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--example", default="phu-tho-2025")
    parser.add_argument("--name", default="day")
    parser.add_argument("--keep", action="store_true")
    args = parser.parse_args()
    out: dict[str, Any] = {"example": args.example, "steps": [], "load_before": os.getloadavg()}
    folder = Path(tempfile.mkdtemp(prefix="confprov-day-"))
    ws = folder / "ws"
    w = ["-w", str(ws)]
    try:
        step("lab up", [*CONFPROV, "lab", "up", "--name", args.name,
                        "--example", args.example, *w], out)  # fmt: skip
        step("check", [*CONFPROV, "check", *w], out)
        step("inventory", [*CONFPROV, "inventory", *w], out)
        step("routers plan", [*CONFPROV, "routers", "plan", *w], out)
        step("provision", [*CONFPROV, "provision", *w], out)
        step("routers push", [*CONFPROV, "routers", "push", *w], out)
        step("reflector --deploy", [*CONFPROV, "reflector", "--deploy", *w], out)
        verify = step("verify", [*CONFPROV, "verify", *w, "--json", "-"], out)
        out["verify"] = json.loads(verify["stdout"])["summary"]
        if verify["code"] == 1:
            again = step("verify --failed-only", [*CONFPROV, "verify", *w, "--failed-only",
                                                 "--json", "-"], out)  # fmt: skip
            out["verify_failed_only"] = json.loads(again["stdout"])["summary"]
    finally:
        if not args.keep:
            subprocess.run([*CONFPROV, "lab", "down", "--name", args.name], check=False)
    out["load_after"] = os.getloadavg()
    out["machine"] = {"cpus": os.cpu_count(), "platform": platform.platform()}
    print(json.dumps(out, indent=2, ensure_ascii=False))
    return 0


if __name__ == "__main__":
    sys.exit(main())
