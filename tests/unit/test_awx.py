"""The AWX-ready project (docs/awx.md): collections/requirements.yml derived from the content,
execution-environment.yml through the real `ansible-builder create`, `confprov export-vars` (the
commands' own variables, no secret), every play loading the vault, the SIP credential type's
injector against what the inventory reads, the verify play's verdict filter.

AWX itself cannot run here (no container engine, no AWX): the files it reads are tested with the
tools that read them (ansible-builder, Jinja2's sandbox as AWX renders injectors, ansible-playbook).
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
import tomllib
import zipfile
from pathlib import Path
from typing import Any

import pytest
import yaml
from jinja2.sandbox import ImmutableSandboxedEnvironment

from confprov import paths, vault
from confprov.cli import main
from confprov.config import Thresholds
from confprov.inventory import render_files
from confprov.workspace import init_workspace, load

REPO = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent
REQUIREMENTS = REPO / "collections" / "requirements.yml"
EE = REPO / "execution-environment.yml"
CREDENTIAL_TYPE = REPO / "awx" / "credential_types" / "confprov_sip.yml"
# What ships with ansible-core or in this repository: never a requirement.
OWN = {"ansible.builtin", "ansible.legacy", "confprov.core"}
NAMED_BY_VALUE = {
    "ansible_connection",
    "ansible_shell_type",
    "ansible_become_method",
    "role",
    "name",
    "action",
    "module",
    "strategy",
}
FQCN = re.compile(r"^([a-z0-9_]+\.[a-z0-9_]+)\.[a-z0-9_]+$")
# A filter, test or lookup by its full name inside a template: `| ns.coll.name`, `is ns.coll.x`,
# lookup('ns.coll.name', ...).
IN_TEMPLATE = re.compile(
    r"(?:\|\s*|\bis\s+(?:not\s+)?|lookup\(\s*['\"]|query\(\s*['\"])([a-z0-9_]+\.[a-z0-9_]+)\.[a-z0-9_]+"
)


def _content_files() -> list[Path]:
    """Every YAML file of the plays and roles (wherever confprov.paths puts them) and the
    inventory templates (connection plugins of Windows endpoints)."""
    playbooks = paths.playbook("verify.yml").parent
    files = [*playbooks.rglob("*.yml"), *paths.roles_path().rglob("*.yml")]
    files += (REPO / "confprov" / "templates" / "inventory").glob("*.j2")
    return [f for f in files if "molecule" not in f.parts]  # the tests' own plays


def _collections_used() -> set[str]:
    found: set[str] = set()

    def walk(node: Any, key: str = "") -> None:
        if isinstance(node, dict):
            for name, value in node.items():
                if isinstance(name, str) and (match := FQCN.match(name)):  # a module's task
                    found.add(match.group(1))
                walk(value, str(name))
        elif isinstance(node, list):
            for value in node:
                walk(value, key)
        elif isinstance(node, str):
            found.update(IN_TEMPLATE.findall(node))
            # A plugin or role named as a value: ansible_connection: ns.coll.psrp, a role's name.
            if key in NAMED_BY_VALUE and (match := FQCN.match(node.strip())):
                found.add(match.group(1))

    for path in _content_files():
        text = path.read_text(encoding="utf-8")
        if path.suffix == ".j2":
            found.update(IN_TEMPLATE.findall(text))
            continue
        for document in yaml.safe_load_all(text):
            walk(document)
    return found - OWN


def test_requirements_list_exactly_the_collections_the_content_uses() -> None:
    used = _collections_used()
    assert "ansible.windows" in used  # the derivation sees the Windows roles' modules
    listed = yaml.safe_load(REQUIREMENTS.read_text())["collections"]
    assert {c["name"] for c in listed} == used


def test_requirements_pin_the_version_the_tests_run() -> None:
    """The collection versions confprov's own setup installs (and its tests use) are the ones
    an AWX project or the execution environment gets."""
    sys.path.insert(0, str(REPO / "scripts"))
    try:
        import install_collections
    finally:
        sys.path.pop(0)
    listed = {
        c["name"]: c["version"] for c in yaml.safe_load(REQUIREMENTS.read_text())["collections"]
    }
    tested = {name.replace("/", "."): v for name, v in install_collections.COLLECTIONS.items()}
    assert listed == tested


def _pyproject_pins() -> dict[str, str]:
    data = tomllib.loads((REPO / "pyproject.toml").read_text())
    pins = {}
    for requirement in data["project"]["dependencies"]:
        name = re.split(r"[<>=!~ \[]", requirement, maxsplit=1)[0]
        pins[name] = requirement.replace(" ", "")
    return pins


def test_execution_environment_takes_pyprojects_pins() -> None:
    ee = yaml.safe_load(EE.read_text())
    assert ee["version"] == 3
    deps = ee["dependencies"]
    pins = _pyproject_pins()
    assert deps["ansible_core"]["package_pip"] == pins["ansible-core"]
    assert deps["ansible_runner"]["package_pip"] == pins["ansible-runner"]
    assert pins["netmiko"] in deps["python"]
    assert (REPO / deps["galaxy"]).resolve() == REQUIREMENTS
    assert (REPO / deps["system"]).is_file()
    # The interpreter satisfies the project's requires-python.
    needed = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]["requires-python"]
    have = re.search(r"python(3\.\d+)$", deps["python_interpreter"]["python_path"])
    assert have is not None and needed == ">=3.11"
    assert tuple(map(int, have.group(1).split("."))) >= (3, 11)


def test_ansible_builder_create_writes_the_build_context(tmp_path: Path) -> None:
    """The real ansible-builder turns the file into a build context (building the image needs
    podman or docker, which this machine lacks): the Containerfile installs the pinned
    ansible-core and ansible-runner, the collections and the confprov wheel."""
    project = tmp_path / "project"
    (project / "collections").mkdir(parents=True)
    for rel in ("execution-environment.yml", "bindep.txt", "collections/requirements.yml"):
        (project / rel).write_bytes((REPO / rel).read_bytes())
    # An older wheel left in dist/ (a previous build): never the one the image installs.
    (project / "dist").mkdir()
    (project / "dist" / "confprov-0.0.1-py3-none-any.whl").write_bytes(b"stale")
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "wheel",
            "--no-deps",
            "--no-build-isolation",
            "-q",
            "-w",
            str(project / "dist"),
            str(REPO),
        ],
        check=True,
        timeout=300,
    )
    context = tmp_path / "context"
    proc = subprocess.run(
        [
            str(BIN / "ansible-builder"),
            "create",
            "-f",
            str(project / "execution-environment.yml"),
            "-c",
            str(context),
            "--output-filename",
            "Containerfile",
        ],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    containerfile = (context / "Containerfile").read_text()
    pins = _pyproject_pins()
    refs = re.search(r'ARG ANSIBLE_INSTALL_REFS="([^"]*)"', containerfile)
    assert refs is not None and refs.group(1).split() == [
        pins["ansible-core"],
        pins["ansible-runner"],
    ]
    assert (
        "ansible-galaxy collection install" in containerfile
        and "-r requirements.yml" in containerfile
    )
    import confprov

    named = f"confprov-{confprov.__version__}-py3-none-any.whl"  # the version's one place
    assert f"/tmp/confprov/{named}" in containerfile
    build = context / "_build"
    assert (build / "requirements.yml").read_text() == REQUIREMENTS.read_text()
    python_deps = (build / "requirements.txt").read_text()
    assert pins["netmiko"] in python_deps.split()
    # Windows endpoints over PSRP / WinRM (docs/windows.md) need their connection's library.
    assert re.search(r"^pypsrp\b", python_deps, re.M) and re.search(
        r"^pywinrm\b", python_deps, re.M
    )
    system = (build / "bindep.txt").read_text()
    assert "openssh-clients" in system
    assert re.search(r"^sshpass \[platform:rpm\]", system, re.M)  # Machine credential passwords
    (wheel,) = (build / "confprov").glob("confprov-*.whl")
    assert wheel.name == named
    names = set(zipfile.ZipFile(wheel).namelist())
    assert any(n.endswith("plugins/inventory/registry.py") for n in names)
    assert any(n.endswith("plugins/filter/not_ready.py") for n in names)
    assert any(n.endswith("playbooks/verify.yml") for n in names)


def test_every_play_loads_the_vault_itself() -> None:
    """vars_files, so an AWX Vault credential (or --vault-password-file) decrypts it; its path
    is the inventory's confprov_vault_file, the workspace's vault.yml."""
    plays = sorted(paths.playbook("verify.yml").parent.glob("*.yml"))
    assert len(plays) >= 7
    for path in plays:
        for play in yaml.safe_load(path.read_text()):
            files = play.get("vars_files") or []
            assert any("confprov_vault_file" in str(f) for f in files), (path.name, play["name"])


def test_the_inventory_names_the_workspaces_vault_only_when_it_exists(
    small_workspace: Path,
) -> None:
    """A named vault that is missing fails the play, so the inventory names only a vault that
    is there; the inventory plugin renders the same files, so it follows the same rule."""
    loaded = load(small_workspace)
    files = render_files(small_workspace, loaded.registry, loaded.config)
    assert "confprov_vault_file" not in yaml.safe_load(files["group_vars/all.yml"])
    (small_workspace / vault.VAULT_FILE).write_text("$ANSIBLE_VAULT;1.1;AES256\n")
    files = render_files(small_workspace, loaded.registry, loaded.config)
    all_vars = yaml.safe_load(files["group_vars/all.yml"])
    assert all_vars["confprov_vault_file"] == str(small_workspace / vault.VAULT_FILE)


def _ansible_playbook(tmp_path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """Plain ansible-playbook as an AWX job runs it: no confprov command, nothing of the
    operator's environment; the checkout's collection and Python package (not an installed
    copy), HOME in the test's folder."""
    return subprocess.run(
        [str(BIN / "ansible-playbook"), *args],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
        env={
            "PATH": str(BIN) + ":/usr/bin:/bin",
            "PYTHONPATH": str(REPO),
            "ANSIBLE_COLLECTIONS_PATH": str(paths.collections_path()),
            "ANSIBLE_NOCOLOR": "1",
            "HOME": str(tmp_path),
        },
    )


def _vault_play(tmp_path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    """The plays' own vars_files entry (verify.yml's) in a local play that shows vault_probe."""
    (entry,) = yaml.safe_load(paths.playbook("verify.yml").read_text())[0]["vars_files"]
    play = tmp_path / "vault-play.yml"
    play.write_text(
        yaml.safe_dump(
            [
                {
                    "name": "Vault",
                    "hosts": "localhost",
                    "gather_facts": False,
                    "vars_files": [entry],
                    "tasks": [
                        {
                            "name": "Show",
                            "ansible.builtin.debug": {
                                "msg": "probe={{ vault_probe | default('none') }}"
                            },
                        }
                    ],
                }
            ]
        )
    )
    return _ansible_playbook(tmp_path, "-i", "localhost,", "-c", "local", str(play), *args)


@pytest.mark.ansible
def test_a_named_vault_that_is_missing_fails_the_play(tmp_path: Path) -> None:
    """ansible-core skips a missing vars_files file silently: a job would run on without its
    secrets. Named and missing is an error naming the path; unset or empty is no vault."""
    missing = tmp_path / "nope" / "vault.yml"
    proc = _vault_play(tmp_path, "-e", f"confprov_vault_file={missing}")
    assert proc.returncode != 0 and str(missing) in proc.stdout + proc.stderr
    assert "no such file" in proc.stdout + proc.stderr
    for args in ((), ("-e", "confprov_vault_file=")):
        proc = _vault_play(tmp_path, *args)
        assert proc.returncode == 0 and "probe=none" in proc.stdout, proc.stdout + proc.stderr
    (tmp_path / "pw").write_text("s3cret-pw\n")
    clear = tmp_path / "vault.yml"
    clear.write_text("vault_probe: opened\n")
    subprocess.run(
        [
            str(BIN / "ansible-vault"),
            "encrypt",
            "--vault-password-file",
            str(tmp_path / "pw"),
            str(clear),
        ],
        check=True,
        capture_output=True,
        timeout=60,
        env={"PATH": str(BIN) + ":/usr/bin:/bin", "HOME": str(tmp_path)},
    )
    proc = _vault_play(
        tmp_path,
        "-e",
        f"confprov_vault_file={clear}",
        "--vault-password-file",
        str(tmp_path / "pw"),
    )
    assert proc.returncode == 0 and "probe=opened" in proc.stdout, proc.stdout + proc.stderr


def test_export_vars_writes_the_plays_variables_and_no_secret(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from confprov.watch.deploy import ensure_key

    ws = init_workspace(tmp_path / "ws", example="phu-tho")
    key = ensure_key(ws).read_text().strip()
    assert main(["export-vars", "-w", str(ws)]) == 0
    out = ws / "play-vars.yml"
    text = out.read_text(encoding="utf-8")
    data = yaml.safe_load(text)
    # Each play's variables are there (the ones its playbook says confprov computes).
    for name in (
        "confprov_client_profile",
        "connection_check_client_version",
        "router_config_workers",
        "confprov_watch",
        "confprov_watch_client_process",
    ):
        assert name in data, name
    assert data["router_config_workers"] == 50 and "router_config_action" not in data
    err = capsys.readouterr().err
    assert "package_source.url is empty" in err  # what a run without confprov still needs
    from confprov.verify.run import probe_limit

    # The verify job's forks: the cap `confprov verify` puts on its probes (one rule).
    assert f"forks {probe_limit(load(ws).config)} or fewer" in err
    secrets = vault.decrypt(ws / "vault.yml", vault.read_password(ws))
    values = [secrets["vault_router_password"], *secrets["vault_sip_passwords"].values()]
    assert values and not any(v in text for v in values)
    assert vault.read_password(ws) not in text and key not in text
    assert not any(name.startswith("vault_") for name in data)
    # The workspace's inventory source for the plugin, written once, then left as it is.
    source = ws / "sites.confprov.yml"
    assert yaml.safe_load(source.read_text()) == {"plugin": "confprov.core.registry"}
    source.write_text("plugin: confprov.core.registry\nworkspace: .\n")
    assert main(["export-vars", "-w", str(ws)]) == 0
    assert "workspace: ." in source.read_text()


def test_export_vars_says_windows_endpoints_need_the_msis_urls(
    small_workspace: Path, build_msi: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    """The default Windows profile installs an MSI that only `confprov provision` serves: an
    exported run gets no URL for it, and export-vars says so (windows_client's first check
    would otherwise fail every Windows endpoint). The small registry has one Windows site."""
    build_msi(small_workspace / "packages" / "windows" / "Webex.msi")
    assert main(["export-vars", "-w", str(small_workspace), "--out", "-"]) == 0
    captured = capsys.readouterr()
    data = yaml.safe_load(captured.out)
    assert data["confprov_windows_package"]["file"] == "Webex.msi"
    assert data["confprov_windows_package_urls"] == {}
    assert "Webex.msi" in captured.err and "confprov_windows_package_urls" in captured.err


@pytest.mark.ansible
def test_play_vars_given_as_awx_launch_variables_are_not_rendered(tmp_path: Path) -> None:
    """docs/awx.md's rule, pinned: the client profile's file contents hold Jinja2 that Ansible
    renders from a template's own variables (here a vars file, `-e @FILE`), but not from
    variables AWX marks `!unsafe` (launch-time, workflow node, survey), where conference_client's
    own check refuses them."""
    install = paths.playbook("verify.yml").parents[1] / "roles/conference_client/tasks/install.yml"
    (check,) = [
        task
        for task in yaml.safe_load(install.read_text())
        if "did not render" in task.get("name", "")
    ]
    play = [{"name": "Profile", "hosts": "localhost", "gather_facts": False, "tasks": [check]}]
    (tmp_path / "play.yml").write_text(yaml.safe_dump(play))
    content = "server={{ confprov_site }}\n"
    (tmp_path / "trusted.yml").write_text(
        yaml.safe_dump(
            {
                "confprov_site": "cam-khe",
                "conference_client_profile": {"files": [{"content": content}]},
            }
        )
    )
    # As AWX writes launch-time extra variables: every string tagged !unsafe.
    (tmp_path / "unsafe.yml").write_text(
        "confprov_site: cam-khe\nconference_client_profile:\n"
        f"  files: [{{content: !unsafe {json.dumps(content)}}}]\n"
    )

    def run(var_file: str) -> subprocess.CompletedProcess[str]:
        play, extra = str(tmp_path / "play.yml"), f"@{tmp_path / var_file}"
        return _ansible_playbook(tmp_path, "-i", "localhost,", "-c", "local", play, "-e", extra)

    trusted = run("trusted.yml")
    assert trusted.returncode == 0, trusted.stdout + trusted.stderr
    unsafe = run("unsafe.yml")
    assert unsafe.returncode == 2 and "still hold Jinja2 markers" in unsafe.stdout, unsafe.stdout


def test_export_vars_to_stdout_and_bad_workspace(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    ws = init_workspace(tmp_path / "ws")
    assert main(["export-vars", "-w", str(ws), "--out", "-"]) == 0
    assert yaml.safe_load(capsys.readouterr().out)["connection_check_client_package"]
    (ws / "confprov.yml").write_text("conference: {server: ''}\nnot_a_key: 1\n")
    assert main(["export-vars", "-w", str(ws), "--out", str(tmp_path / "v.yml")]) == 2
    assert "not_a_key" in capsys.readouterr().err
    assert not (tmp_path / "v.yml").exists()


def test_commands_pass_what_export_vars_writes(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """One place: `confprov verify`, `watch deploy` and `routers push` hand their plays the
    very variables export-vars writes (plus only what belongs to the one run)."""
    from confprov import runner
    from confprov.playvars import export_vars
    from confprov.routers import run as routers_run
    from confprov.verify import run as verify_run
    from confprov.watch import deploy as watch_deploy

    ws = init_workspace(tmp_path / "ws")
    exported = export_vars(ws).variables
    passed: dict[str, dict[str, Any]] = {}

    class Stop(Exception):
        pass

    def capture(workspace: Path, playbook: str, **kwargs: Any) -> Any:
        passed[playbook] = kwargs.get("extra_vars") or {}
        raise Stop

    monkeypatch.setattr(verify_run, "run_playbook", capture)
    monkeypatch.setattr(verify_run, "router_verdicts", lambda *_: {})
    monkeypatch.setattr(watch_deploy, "run_playbook", capture)
    monkeypatch.setattr(runner, "run_playbook", capture)  # routers call it through the module
    for call in (
        lambda: verify_run.verify(ws, check_routers=False),
        lambda: watch_deploy.deploy(ws),
        lambda: routers_run.run_routers(ws, "push"),
    ):
        with pytest.raises(Stop):
            call()
    assert passed["verify.yml"].pop(verify_run.FAIL_NOT_READY) is False  # the CLI judges itself
    # What one push alone has: its action, and its stop, progress and session-log paths.
    one_run = {"action", "backup", "stop_file", "progress_file", "session_log_dir"}
    for name in one_run:
        passed["routers.yml"].pop(f"router_config_{name}")
    for playbook, given in passed.items():
        assert given and all(exported[k] == v for k, v in given.items()), playbook


def _injector_vars(inputs: dict[str, str]) -> dict[str, Any]:
    """The credential type's extra_vars as AWX renders them: each value a template in Jinja2's
    sandbox over the credential's inputs."""
    spec = yaml.safe_load(CREDENTIAL_TYPE.read_text())
    env = ImmutableSandboxedEnvironment()
    return {
        key: env.from_string(value).render(**inputs)
        for key, value in spec["injectors"]["extra_vars"].items()
    }


def test_sip_credential_type_injects_the_variables_the_inventory_reads(tmp_path: Path) -> None:
    spec = yaml.safe_load(CREDENTIAL_TYPE.read_text())
    fields = {f["id"]: f for f in spec["inputs"]["fields"]}
    assert all(f.get("secret") for f in fields.values())
    assert set(spec["inputs"]["required"]) <= set(fields)
    injected = set(spec["injectors"]["extra_vars"])
    # What the inventory's SIP password reads (the roles take it as conference_client_sip_password
    # and the check module's sip_password) ...
    ws = init_workspace(tmp_path / "ws")
    loaded = load(ws)
    files = render_files(ws, loaded.registry, loaded.config)
    host = next(rel for rel in files if rel.startswith("host_vars/") and "-rt" not in rel)
    reference = yaml.safe_load(files[host])["confprov_sip_password"]
    assert set(re.findall(r"\bvault_\w+", reference)) == injected
    # ... and the SIP names of the vault confprov writes.
    secrets = vault.decrypt(ws / "vault.yml", vault.read_password(ws))
    assert {k for k in secrets if "sip" in k} == injected
    # Every input an injector uses exists.
    used = set(re.findall(r"\{\{\s*(\w+)", " ".join(spec["injectors"]["extra_vars"].values())))
    assert used <= set(fields)


def _show_sip_passwords(
    ws: Path, tmp_path: Path, text: str, hosts: list[str]
) -> subprocess.CompletedProcess[str]:
    """The injector given ``text`` as AWX renders it, to a play through the inventory plugin,
    with this checkout's confprov (PYTHONPATH) where the plugin and filters import it."""
    injected = _injector_vars({"sip_passwords": text})
    (tmp_path / "extra.json").write_text(json.dumps(injected))
    source = ws / "sites.confprov.yml"
    source.write_text("plugin: confprov.core.registry\n")
    play = tmp_path / "play.yml"
    play.write_text(
        yaml.safe_dump(
            [
                {
                    "name": "Show",
                    "hosts": "endpoints",
                    "gather_facts": False,
                    "tasks": [
                        {
                            "name": "Password",
                            "ansible.builtin.debug": {"var": "confprov_sip_password"},
                        }
                    ],
                }
            ]
        )
    )
    extra = f"@{tmp_path / 'extra.json'}"
    return _ansible_playbook(
        tmp_path, "-i", str(source), str(play), "-e", extra, "--limit", ",".join(hosts)
    )


@pytest.mark.ansible
def test_sip_credential_reaches_the_endpoint_variable(tmp_path: Path) -> None:
    """The injector's text, given to a play as AWX gives extra variables, resolves each
    endpoint's confprov_sip_password through the inventory plugin, no vault loaded; every
    password as typed, where YAML 1.1 typing would make 0123 83, yes true, 12:30 750 and null
    none, and a quoted " #" stays (unquoted, YAML would cut it: refused, naming the line)."""
    ws = init_workspace(tmp_path / "ws", example="phu-tho")
    loaded = load(ws)
    # The typed ones and two more (the play is limited to them: the province has ~150).
    hosts = [h for s in loaded.registry.sites for h in s.endpoint_hosts][:7]
    typed = {"0123": "0123", "yes": "yes", "12:30": "12:30", "null": "null", "'a #b'": "a #b"}
    assert len(hosts) > len(typed)
    passwords = {h: f"pw-{i}-x'y: z" for i, h in enumerate(hosts)}
    lines = []
    for host, (raw, meant) in zip(hosts, typed.items(), strict=False):
        lines.append(f"{host}: {raw}")  # as an operator types it into AWX
        passwords[host] = meant
    rest = {h: passwords[h] for h in hosts[len(typed) :]}
    text = "\n".join(lines) + "\n" + yaml.safe_dump(rest, allow_unicode=True)
    proc = _show_sip_passwords(ws, tmp_path, text, hosts)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    for host, password in passwords.items():
        assert f'"confprov_sip_password": {json.dumps(password)}' in proc.stdout, host
    cut = f"{hosts[0]}: Zq7 #tail\n"
    proc = _show_sip_passwords(ws, tmp_path, cut, hosts[:1])
    out = proc.stdout + proc.stderr
    assert proc.returncode != 0 and f"line 1 ({hosts[0]})" in out and "quote it" in out
    assert "Zq7" not in out  # the secret is not in the error
    proc = _show_sip_passwords(ws, tmp_path, "- Zq7-list\n", hosts[:1])
    out = proc.stdout + proc.stderr
    assert proc.returncode != 0 and "must be a mapping of host name to password" in out
    assert "Zq7" not in out


@pytest.mark.parametrize("value", [{"ep1": 83}, {"ep1": ""}, "ep1:\n", 'ep1: ""\n'])
def test_sip_passwords_refuse_an_empty_or_typed_password_by_either_route(value: object) -> None:
    """A vault edited by hand (`ep1: 0123`: Ansible reads 83) or an empty entry would register
    with a wrong password on the day: refused, naming the host, never the value."""
    from ansible.errors import AnsibleFilterError

    sys.path.insert(0, str(paths.collections_path()))
    try:
        from ansible_collections.confprov.core.plugins.filter.sip_passwords import sip_passwords
    finally:
        sys.path.pop(0)
    with pytest.raises(AnsibleFilterError, match=r"ep1: vault_sip_passwords\[ep1\]") as caught:
        sip_passwords(value, "ep1")
    assert "83" not in str(caught.value)
    assert sip_passwords({"ep1": "0123", "ep2": 83}, "ep1") == {"ep1": "0123", "ep2": 83}


def test_not_ready_filter_judges_as_verify_does(small_workspace: Path) -> None:
    """The verify play's verdict: the thresholds as the inventory carries them, judged by
    confprov's own evaluate (a lossy endpoint fails, a healthy one passes)."""
    sys.path.insert(0, str(paths.collections_path()))
    try:
        from ansible_collections.confprov.core.plugins.filter.not_ready import not_ready
    finally:
        sys.path.pop(0)
    from tests.unit.verify.test_verify_evaluate import media

    loaded = load(small_workspace)
    files = render_files(small_workspace, loaded.registry, loaded.config)
    thresholds = yaml.safe_load(files["group_vars/all.yml"])["confprov_thresholds"]
    assert Thresholds(**thresholds) == loaded.config.thresholds
    assert not_ready({"checks": [media()]}, "h", thresholds) == []
    why = not_ready({"checks": [media(loss_pct=10.2, received=701)]}, "h", thresholds)
    assert len(why) == 1 and why[0].startswith("loss: ") and "10.2 %" in why[0]
    # No result at all: what confprov verify says of an endpoint whose checks could not run.
    from confprov.verify.evaluate import host_failure

    failure = host_failure("h", "failed", "no check result from the endpoint")
    assert not_ready({}, "h", thresholds) == [f"{failure.check}: {failure.reason}"]


@pytest.mark.ansible
@pytest.mark.parametrize(
    ("result", "rc", "said"),
    [
        ({"skipped": True, "skip_reason": "Conditional result was False"}, 0, "skipping"),
        ({}, 2, "not ready: ssh: checks could not run: no check result"),
    ],
)
def test_the_verdict_play_skips_a_skipped_check_and_fails_a_missing_one(
    tmp_path: Path, small_workspace: Path, result: dict[str, Any], rc: int, said: str
) -> None:
    """verify.yml's own verdict task, on a local host: a check that was skipped is not judged
    (a --check or conditional run must not fail every endpoint), a missing result fails."""
    loaded = load(small_workspace)
    files = render_files(small_workspace, loaded.registry, loaded.config)
    thresholds = yaml.safe_load(files["group_vars/all.yml"])["confprov_thresholds"]
    verdict = yaml.safe_load(paths.playbook("verify.yml").read_text())[1]
    play = {
        "name": "Verdict",
        "hosts": "localhost",
        "gather_facts": False,
        "tasks": verdict["tasks"],
    }
    (tmp_path / "play.yml").write_text(yaml.safe_dump([play]))
    extra = {"connection_check_result": result, "confprov_thresholds": thresholds}
    (tmp_path / "extra.json").write_text(json.dumps(extra))
    play_file, extra_file = str(tmp_path / "play.yml"), f"@{tmp_path / 'extra.json'}"
    proc = _ansible_playbook(
        tmp_path, "-i", "localhost,", "-c", "local", play_file, "-e", extra_file
    )
    assert proc.returncode == rc and said in proc.stdout, proc.stdout + proc.stderr
