"""The router_config role and module: one specification, documented as Ansible users expect.

What every role and plugin keeps (specs equal defaults, ansible-doc reads it) is in tests/contracts.
"""

from __future__ import annotations

import ast
from pathlib import Path

import yaml

REPO = Path(__file__).resolve().parents[3]
ROLE = REPO / "roles" / "router_config"
MODULE = REPO / "collections/ansible_collections/confprov/core/plugins/modules/router_config.py"


def _module_constants() -> dict[str, object]:
    tree = ast.parse(MODULE.read_text())
    out: dict[str, object] = {}
    for node in tree.body:
        if isinstance(node, ast.Assign) and isinstance(node.targets[0], ast.Name):
            try:
                out[node.targets[0].id] = ast.literal_eval(node.value)
            except ValueError:
                continue
    return out


def test_module_documents_what_its_code_accepts() -> None:
    consts = _module_constants()
    doc = yaml.safe_load(str(consts["DOCUMENTATION"]))
    yaml.safe_load(str(consts["EXAMPLES"]))
    ret = yaml.safe_load(str(consts["RETURN"]))
    assert set(ret) == {"routers", "failed_routers", "changed_routers"}
    # Every router suboption in the code is documented, and the password is no_log in both.
    code = consts["ROUTER_OPTIONS"]
    assert isinstance(code, dict)
    documented = doc["options"]["routers"]["suboptions"]
    assert set(code) == set(documented)
    assert code["password"]["no_log"] is True and documented["password"]["no_log"] is True
    # An honest statement of check and diff support.
    assert doc["attributes"]["check_mode"]["support"] == "full"
    assert doc["attributes"]["diff_mode"]["support"] == "full"
    assert "FRR" in doc["attributes"]["platform"]["description"]


def test_the_play_runs_every_task_of_the_role_once() -> None:
    """No per-router task, not even the role's argument check: one fork, one module start."""
    (play,) = yaml.safe_load((REPO / "playbooks" / "routers.yml").read_text())
    assert play["hosts"] == "routers"
    (task,) = play["tasks"]
    assert task["run_once"] is True
    assert task["ansible.builtin.include_role"]["apply"] == {"run_once": True}
    (module_task,) = yaml.safe_load((ROLE / "tasks" / "routers.yml").read_text())
    assert module_task["run_once"] is True
    assert "ansible_play_hosts" in module_task["confprov.core.router_config"]["routers"]
    main = yaml.safe_load((ROLE / "tasks" / "main.yml").read_text())
    assert [list(t)[1] for t in main] == ["ansible.builtin.import_tasks"]
