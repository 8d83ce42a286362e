"""The one router API: targets + conference + settings in, one result per router out.

Every caller goes through here or through ``engine.run`` beneath it: the ``router_config`` module
(a thin adapter: its parameters become the arguments of :func:`apply`, its JSON result is
:func:`result_json`), ``routers check`` and verify (``check_routers``), ``trust``. A test holds
the module's JSON equal to this API's for the same input (tests/unit/routers/test_routers_api.py,
tests/lab/test_routers.py).
"""

from __future__ import annotations

import contextlib
import json
import threading
from collections.abc import Callable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import Any

from confprov import safefile
from confprov.routers import engine
from confprov.routers.engine import RouterResult
from confprov.routers.render import Conference, RouterTarget
from confprov.routers.settings import SHARED, RouterSettings
from confprov.routers.targets import from_vars

MODULE_ACTIONS = ("push", "rollback", "check")


def apply(
    action: str,
    targets: Sequence[RouterTarget],
    conference: Conference,
    settings: RouterSettings,
    *,
    workspace: Path,
    known_hosts: Path,
    session_dir: Path | None = None,
    backup: str = "",
    check: bool = False,
    stop: Callable[[], bool] | None = None,
    on_result: Callable[[RouterResult], None] | None = None,
) -> dict[str, RouterResult]:
    """Push, roll back or check ``targets`` (``check``: plan only, change nothing).

    ``stop`` (see ``engine.run``): once true, routers not yet started are left alone.
    """
    if action not in MODULE_ACTIONS:
        raise ValueError(action)
    if check and action == "push":
        action = "plan"
    elif check and action == "rollback":
        action = "rollback-plan"
    conference = Conference(
        **{
            **{k: getattr(conference, k) for k in Conference.__dataclass_fields__},
            "audio_ports": settings.audio_ports,
            "video_ports": settings.video_ports,
        }
    )
    opts = engine.Options.of(
        settings, workspace=workspace, known_hosts=known_hosts, session_dir=session_dir
    )
    jobs = [engine.Job(t, backup=backup or None) for t in targets]
    return engine.run(action, jobs, conference, opts, stop=stop, on_result=on_result)


def result_json(results: Mapping[str, RouterResult]) -> dict[str, Any]:
    """What the module returns (its RETURN plus Ansible's changed/diff/msg)."""
    routers = {host: r.to_json() for host, r in results.items()}
    failed = sorted(h for h, r in results.items() if r.failed)
    changed = sorted(h for h, r in results.items() if r.changed)
    prepared = "\n".join(
        f"--- {host} ({r.platform}, {r.address})\n{r.diff}" for host, r in results.items() if r.diff
    )
    out: dict[str, Any] = {
        "changed": bool(changed),
        "routers": routers,
        "failed_routers": failed,
        "changed_routers": changed,
        "diff": {"prepared": prepared} if prepared else {},
        "msg": f"{len(results)} routers: {len(changed)} changed, {len(failed)} failed",
    }
    if failed:
        reasons = "; ".join(f"{h}: {results[h].message}" for h in failed[:20])
        out["msg"] = f"{len(failed)} router(s) failed: {reasons}"
    return out


PROGRESS_KEYS = ("host", "status")  # one JSON line per router, as it ends


@contextlib.contextmanager
def _progress(path: Path | None) -> Iterator[Callable[[RouterResult], None] | None]:
    """Each router's end as one JSON line in ``path`` (``confprov routers`` reads it while the
    play runs: a progress with a total, though Ansible sees one task)."""
    if path is None:
        yield None
        return
    lock = threading.Lock()
    with safefile.append(path, 0o600) as fh:

        def write(result: RouterResult) -> None:
            line = json.dumps({k: getattr(result, k) for k in PROGRESS_KEYS}) + "\n"
            with lock:
                fh.write(line.encode())
                fh.flush()

        yield write


def from_module(params: Mapping[str, Any], *, check_mode: bool) -> dict[str, Any]:
    """The module's parameters as :func:`apply` takes them, and its JSON result."""
    settings = RouterSettings(**{k: params[k] for k in SHARED})
    stop_file = Path(params["stop_file"]) if params.get("stop_file") else None
    progress = Path(params["progress_file"]) if params.get("progress_file") else None
    with engine.stop_on_signals(stop_file) as stop, _progress(progress) as on_result:
        results = apply(
            params["action"],
            [from_vars(r) for r in params["routers"]],
            Conference.from_vars(params["conference"]),
            settings,
            workspace=Path(params["workspace"]),
            known_hosts=Path(params["known_hosts"]),
            session_dir=Path(params["session_log_dir"]) if params.get("session_log_dir") else None,
            backup=params.get("backup") or "",
            check=check_mode,
            stop=stop,
            on_result=on_result,
        )
    return result_json(results)
