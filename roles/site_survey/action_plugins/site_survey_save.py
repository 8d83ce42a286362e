"""Write one endpoint's survey as JSON on the controller, inside Ansible's own worker.

A delegated ``copy`` would start a module process on the controller for every endpoint (on a
30-site lab that was the costliest task of a no-change rerun); this writes the file directly.
"""

from __future__ import annotations

import json
import os
import tempfile

from ansible.errors import AnsibleActionFail
from ansible.plugins.action import ActionBase

DOCUMENTATION = r"""
---
action: site_survey_save
short_description: Save a survey as <dir>/<name>.json on the controller
options:
  dir: {description: Controller folder (created if missing)., type: str, required: true}
  name: {description: File name without .json., type: str, required: true}
  data: {description: What to save., type: dict, required: true}
attributes:
  check_mode: {support: full}
  idempotent: {support: full}
"""


class ActionModule(ActionBase):
    TRANSFERS_FILES = False
    _requires_connection = False

    def run(self, tmp=None, task_vars=None):
        result = super().run(tmp, task_vars)
        args = self._task.args
        folder, name, data = args.get("dir"), args.get("name"), args.get("data")
        if not folder or not name or not isinstance(data, dict) or "/" in name:
            raise AnsibleActionFail("site_survey_save needs dir, name (no '/') and data (a mapping)")
        path = os.path.join(folder, name + ".json")
        text = json.dumps(data, indent=4, sort_keys=True, ensure_ascii=False) + "\n"
        try:
            with open(path, encoding="utf-8") as fh:
                same = fh.read() == text
        except OSError:
            same = False
        result.update(changed=not same, path=path)
        if same or self._task.check_mode:
            return result
        os.makedirs(folder, mode=0o755, exist_ok=True)
        fd, tmp_path = tempfile.mkstemp(dir=folder, prefix="." + name, suffix=".tmp")
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(text)
        os.chmod(tmp_path, 0o644)
        os.replace(tmp_path, path)
        return result
