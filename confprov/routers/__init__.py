"""Site routers: candidate configs per platform, plan/push/rollback over netmiko, backups, checks.

``check_routers(workspace, limit=None) -> dict[str, RouterCheck]`` is the read-only check other
commands use (docs/routers.md).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from confprov.routers.check import RouterCheck, check_routers

__all__ = ["RouterCheck", "check_routers"]


def __getattr__(name: str) -> Any:
    # Lazy: `confprov --help` imports confprov.routers.cli, and must not pay for netmiko/Jinja2.
    if name in __all__:
        from confprov.routers import check

        return getattr(check, name)
    raise AttributeError(name)
