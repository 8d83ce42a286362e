"""Write one endpoint's survey as JSON on the controller, inside Ansible's own worker.

A delegated ``copy`` would start a module process on the controller for every endpoint (on a
30-site lab that was the costliest task of a no-change rerun); this writes the file directly.
Its documentation (what `ansible-doc confprov.core.site_survey_save` shows) is the module file of
the same name, plugins/modules/site_survey_save.py, as for Ansible's own action plugins.
"""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path
from typing import Any

from ansible.errors import AnsibleActionFail
from ansible.plugins.action import ActionBase


class ActionModule(ActionBase):  # type: ignore[misc]  # Ansible's base is untyped
    TRANSFERS_FILES = False
    _requires_connection = False

    def run(self, tmp: Any = None, task_vars: dict[str, Any] | None = None) -> dict[str, Any]:
        result: dict[str, Any] = super().run(tmp, task_vars)
        args = self._task.args
        folder = args.get("dir")
        records = args.get("records") if "records" in args else {args.get("name"): args.get("data")}
        if not folder or not isinstance(records, dict):
            raise AnsibleActionFail(
                "site_survey_save needs dir and either name and data, or records"
            )
        for name, data in records.items():
            if not name or not isinstance(name, str) or "/" in name or not isinstance(data, dict):
                raise AnsibleActionFail(
                    "site_survey_save: every survey needs a file name (no '/') and a mapping, "
                    f"got {name!r}"
                )
        written = []
        for name, data in sorted(records.items()):
            if self._save(folder, name, data):
                written.append(name)
        result.update(changed=bool(written), written=written)
        if "records" not in args:
            result["path"] = str(Path(folder, args["name"] + ".json"))
        return result

    def _save(self, folder: str, name: str, data: dict[str, Any]) -> bool:
        """Write <folder>/<name>.json when its content changed; return whether it did (or would)."""
        path = Path(folder, name + ".json")
        text = json.dumps(data, indent=4, sort_keys=True, ensure_ascii=False) + "\n"
        try:
            if path.read_text(encoding="utf-8") == text:
                return False
        except OSError:
            pass
        if self._task.check_mode:
            return True
        Path(folder).mkdir(mode=0o755, parents=True, exist_ok=True)
        fd, tmp_name = tempfile.mkstemp(dir=folder, prefix="." + name, suffix=".tmp")
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(text)
        tmp_path = Path(tmp_name)
        tmp_path.chmod(0o644)
        tmp_path.replace(path)
        return True
