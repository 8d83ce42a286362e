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
    """The module's literal constants; a name of an earlier one inside a later one is resolved."""
    tree = ast.parse(MODULE.read_text())
    out: dict[str, object] = {}

    class Resolve(ast.NodeTransformer):
        def visit_Name(self, node: ast.Name) -> ast.AST:
            if node.id in out:
                return ast.parse(repr(out[node.id]), mode="eval").body
            return node

    for node in tree.body:
        if isinstance(node, ast.Assign) and isinstance(node.targets[0], ast.Name):
            try:
                out[node.targets[0].id] = ast.literal_eval(Resolve().visit(node.value))
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


# --------------------------------------------------------------------------- one settings object
# confprov/routers/settings.py defines every default of a router run once; the role's defaults,
# its argument specs, the module's argument spec and DOCUMENTATION, and the CLI's options are
# copies Ansible or argparse must read without confprov: each is held equal to it here.


def _plain(value: object) -> object:
    return list(value) if isinstance(value, tuple) else value


def test_the_roles_defaults_are_the_settings_defaults() -> None:
    from confprov.routers.settings import DEFAULTS, ROLE_PREFIX, SHARED

    defaults = yaml.safe_load((ROLE / "defaults" / "main.yml").read_text())
    specs = yaml.safe_load((ROLE / "meta" / "argument_specs.yml").read_text())
    options = specs["argument_specs"]["main"]["options"]
    for name in SHARED:
        assert defaults[ROLE_PREFIX + name] == _plain(getattr(DEFAULTS, name)), name
        assert options[ROLE_PREFIX + name]["default"] == defaults[ROLE_PREFIX + name], name


def test_the_modules_argument_spec_and_doc_are_the_settings_defaults() -> None:
    from confprov.routers.settings import DEFAULTS, SHARED

    consts = _module_constants()
    spec = consts["ARGUMENT_SPEC"]
    assert isinstance(spec, dict)
    doc = yaml.safe_load(str(consts["DOCUMENTATION"]))["options"]
    for name in SHARED:
        assert spec[name]["default"] == _plain(getattr(DEFAULTS, name)), name
    assert set(doc) == set(spec)
    for name, option in spec.items():
        assert doc[name].get("default") == option.get("default"), name
        assert doc[name]["type"] == option["type"], name


def test_the_clis_options_are_the_settings_defaults() -> None:
    from confprov.cli import build_parser
    from confprov.routers.settings import DEFAULTS

    parser = build_parser()
    for command in ("plan", "push", "rollback"):
        args = parser.parse_args(["routers", command])
        assert args.workers == DEFAULTS.workers
        assert args.connect_timeout == DEFAULTS.connect_timeout
        assert args.command_timeout == DEFAULTS.command_timeout
        assert args.confirm_minutes == DEFAULTS.confirm_minutes
        assert args.no_session_logs is (not DEFAULTS.session_logs)


def test_engine_and_check_derive_from_the_settings() -> None:
    import inspect

    from confprov.routers import check, engine
    from confprov.routers.device import Timeouts
    from confprov.routers.render import Conference
    from confprov.routers.settings import DEFAULTS, RouterSettings

    opts = engine.Options(workspace=Path("."), known_hosts=Path("k"))
    assert opts == engine.Options.of(DEFAULTS, workspace=Path("."), known_hosts=Path("k"))
    assert Timeouts() == Timeouts.of(DEFAULTS)
    assert inspect.signature(check.check_routers).parameters["workers"].default == DEFAULTS.workers
    assert (Conference().audio_ports, Conference().video_ports) == (
        DEFAULTS.audio_ports,
        DEFAULTS.video_ports,
    )
    # keyword-only, frozen
    import dataclasses

    import pytest

    with pytest.raises(TypeError):
        RouterSettings(10)  # type: ignore[misc]
    with pytest.raises(dataclasses.FrozenInstanceError):
        DEFAULTS.workers = 1  # type: ignore[misc]
