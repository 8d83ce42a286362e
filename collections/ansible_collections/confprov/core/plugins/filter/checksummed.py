"""confprov.core.checksummed: wanted files as confprov.core.endpoint_state compares them."""

from __future__ import annotations

import hashlib
from typing import Any

from ansible.errors import AnsibleFilterError

DOCUMENTATION = r"""
name: checksummed
short_description: Replace each wanted file's content by its SHA-256
version_added: "0.1.0"
description:
  - Takes the files a role writes (C(path), C(content), C(mode), optional C(owner)) and returns
    them with C(sha256) in place of C(content) (and without C(secret)), so a state read sends
    no file content, and no secret a file holds, to the endpoint.
positional: _input
options:
  _input:
    description: Files, each with C(path), C(content) and C(mode).
    type: list
    elements: dict
    required: true
"""

EXAMPLES = r"""
files: "{{ my_files | confprov.core.checksummed }}"
"""

RETURN = r"""
_value: {description: The files with C(sha256) instead of C(content)., type: list, elements: dict}
"""


def checksummed(files: list[dict[str, Any]]) -> list[dict[str, Any]]:
    out = []
    for item in files:
        if not isinstance(item, dict) or "path" not in item or "content" not in item:
            raise AnsibleFilterError("checksummed: every file needs path and content")
        text = str(item["content"]).encode("utf-8", "surrogateescape")
        kept = {k: v for k, v in item.items() if k not in ("content", "secret")}
        out.append({**kept, "sha256": hashlib.sha256(text).hexdigest()})
    return out


class FilterModule:
    def filters(self) -> dict[str, Any]:
        return {"checksummed": checksummed}
