# Copyright: confprov developers. Apache License 2.0 (see LICENSE).
"""Documentation of the action plugin site_survey_save (plugins/action/site_survey_save.py).

The work is done by the action plugin on the controller; this file only holds what ansible-doc
shows, as Ansible's own action plugins (debug, template) keep theirs in a module file.
"""

from __future__ import annotations

DOCUMENTATION = r"""
---
module: site_survey_save
short_description: Save surveys as <dir>/<name>.json on the controller
description:
  - Either one survey (O(name) and O(data)) or many at once (O(records)), for a run_once task
    that saves every endpoint's survey in one go.
options:
  dir: {description: Controller folder (created if missing)., type: str, required: true}
  name: {description: File name without .json., type: str}
  data: {description: What to save., type: dict}
  records: {description: File name (without .json) to what to save., type: dict}
version_added: "0.1.0"
attributes:
  action: {support: full}
  check_mode: {support: full}
  diff_mode: {support: none}
  idempotent: {support: full}
  platform: {platforms: all, details: Runs on the controller only (an action plugin).}
"""

EXAMPLES = r"""
- name: Save every endpoint's survey in one task on the controller
  confprov.core.site_survey_save:
    dir: "{{ site_survey_dir }}"
    records: "{{ ansible_play_hosts | confprov.core.survey_records(hostvars, result='state') }}"
  run_once: true
"""

RETURN = r"""
written:
  description: The file names (without .json) whose content changed (or would, in check mode).
  type: list
  elements: str
  returned: always
path:
  description: The one file written to, when a single survey was given (O(name), O(data)).
  type: str
  returned: when O(records) is not given
"""
