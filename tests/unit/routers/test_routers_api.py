"""The router_config module is a thin adapter over confprov.routers.api: same input, same JSON.

Here no router is contacted: the routers' host keys are not pinned, so every router is refused
before any connection (the engine's first step), and the module's JSON, run as Ansible runs it
(its own process, its arguments from a file), must equal the API's for the same input. The lab
test (tests/lab/test_routers.py) compares them on the lab's real FRR routers.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

from confprov.routers import api
from confprov.routers.render import Conference
from confprov.routers.settings import RouterSettings
from confprov.routers.targets import from_vars

REPO = Path(__file__).resolve().parents[3]
MODULE = REPO / "collections/ansible_collections/confprov/core/plugins/modules/router_config.py"


def run_module(args: dict[str, Any], tmp_path: Path, *, check: bool = False) -> dict[str, Any]:
    """The module in its own Python process, as Ansible starts it: its arguments from a file."""
    path = tmp_path / "args.json"
    path.write_text(json.dumps({"ANSIBLE_MODULE_ARGS": {**args, "_ansible_check_mode": check}}))
    path.chmod(0o600)
    proc = subprocess.run(
        [sys.executable, str(MODULE), str(path)],
        capture_output=True,
        text=True,
        check=False,
        cwd=tmp_path,
    )
    path.unlink()
    assert proc.stdout.strip(), proc.stderr
    return dict(json.loads(proc.stdout))


def comparable(result: dict[str, Any]) -> dict[str, Any]:
    """The result without what Ansible adds (invocation, failed) and the measured seconds."""
    out = {k: v for k, v in result.items() if k not in ("invocation", "failed")}
    out["routers"] = {
        h: {k: v for k, v in r.items() if k != "seconds"} for h, r in out["routers"].items()
    }
    return out


def module_args(tmp_path: Path, routers: list[dict[str, Any]], **extra: Any) -> dict[str, Any]:
    return {
        "routers": routers,
        "conference": {"network": "198.18.32.0/24", "server": "198.18.32.10", "port": 5060},
        "workspace": str(tmp_path),
        "known_hosts": str(tmp_path / "known_hosts"),
        **extra,
    }


def api_json(args: dict[str, Any], *, check: bool = False) -> dict[str, Any]:
    results = api.apply(
        args.get("action", "push"),
        [from_vars(r) for r in args["routers"]],
        Conference.from_vars(args["conference"]),
        RouterSettings(workers=args.get("workers", 50)),
        workspace=Path(args["workspace"]),
        known_hosts=Path(args["known_hosts"]),
        check=check,
    )
    return api.result_json(results)


ROUTERS = [
    {
        "host": f"r{i}-rt",
        "address": f"198.18.0.{20 + i}",
        "platform": platform,
        "site_name": "UBND xa Yen Tap",
        "wan_interface": "wan",
        "wan_gateway": "198.18.8.1",
        "username": "netops",
        "password": "not-a-Secret-9",
        "extra_config": "",
    }
    for i, platform in enumerate(("frr", "cisco_ios", "juniper_junos"))
]


def test_module_json_equals_the_apis_for_the_same_input(tmp_path: Path) -> None:
    (tmp_path / "known_hosts").write_text("")
    args = module_args(tmp_path, ROUTERS, workers=2, fail_on_router_error=False)
    for check in (False, True):
        module = run_module(args, tmp_path, check=check)
        assert comparable(module) == comparable(api_json(args, check=check))
        assert module["failed_routers"] == sorted(r["host"] for r in ROUTERS)
        assert "no pinned host key" in module["routers"]["r0-rt"]["message"]
        assert "not-a-Secret-9" not in json.dumps(module)


def test_module_fails_naming_each_router_as_the_api_does(tmp_path: Path) -> None:
    (tmp_path / "known_hosts").write_text("")
    args = module_args(tmp_path, ROUTERS[:1])
    module = run_module(args, tmp_path)
    assert module["failed"] is True
    assert module["msg"] == api_json(args)["msg"]
    assert module["msg"].startswith("1 router(s) failed: r0-rt: no pinned host key")


def test_module_refuses_bad_settings_as_the_api_does(tmp_path: Path) -> None:
    args = module_args(tmp_path, ROUTERS[:1], audio_ports=[1, 2, 3])
    module = run_module(args, tmp_path)
    assert module["failed"] is True and "audio_ports: give two ports" in module["msg"]
