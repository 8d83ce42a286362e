"""Bounded YAML: every YAML confprov reads refuses alias bombs, recursive aliases, non-scalar keys
and unknown tags with exit 2 and the line, and never builds the expansion."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from confprov import vault, yamlutil
from confprov.cli import main


def laughs(levels: int = 9, width: int = 9) -> str:
    """The classic "billion laughs": ``width ** levels`` strings from a few dozen nodes."""
    lines = [f"l0: &l0 [{', '.join(['lol'] * width)}]"]
    lines += [f"l{i}: &l{i} [{', '.join([f'*l{i - 1}'] * width)}]" for i in range(1, levels + 1)]
    return "\n".join(lines) + "\n"


BAD = {
    "billion laughs": (laughs(), "aliases expand to"),
    "recursive alias in a list": ("a: &a [1, *a]\n", "recursive alias"),
    "recursive alias in a mapping": ("&a {x: {y: *a}}\n", "recursive alias"),
    "list as a key": ("? [1, 2]\n: x\n", "a key must be a plain value"),
    "mapping as a key": ("{a: 1}: x\n", "a key must be a plain value"),
    "python tag": ("a: !!python/object/apply:os.system [echo]\n", "is not allowed"),
    "set tag": ("a: !!set {x, y}\n", "is not allowed"),
    "local tag": ("a: !vault |\n  abc\n", "is not allowed"),
    "tag on a mapping": ("a: !!omap [{x: 1}]\n", "is not allowed"),
    "merge key": ("base: &b {x: 1}\nother:\n  <<: *b\n", "merge keys"),
}


@pytest.mark.parametrize("text,message", BAD.values(), ids=BAD.keys())
def test_bounded_loader_refuses(text: str, message: str) -> None:
    with pytest.raises(yaml.YAMLError, match=message) as caught:
        yamlutil.load_with_lines(text)
    assert caught.value.problem_mark is not None  # type: ignore[attr-defined]


def test_an_alias_used_a_few_times_and_plain_types_still_load() -> None:
    data, lines = yamlutil.load_with_lines(
        "a: &x {port: 5060}\nb: *x\nn: null\nf: 1.5\nt: true\nd: 2026-11-29\ns: !!str 12\n"
    )
    assert data["b"] == {"port": 5060} and data["s"] == "12" and data["n"] is None
    assert lines["b"] == 2


def test_deep_nesting_is_refused_not_a_crash() -> None:
    with pytest.raises(yaml.YAMLError):
        yamlutil.safe_load("a: " + "[" * 3000 + "]" * 3000 + "\n")


@pytest.mark.parametrize("text,message", BAD.values(), ids=BAD.keys())
def test_check_exits_2_naming_the_line_for_a_bad_confprov_yml(
    small_workspace: Path, capsys: pytest.CaptureFixture[str], text: str, message: str
) -> None:
    cfg = small_workspace / "confprov.yml"
    cfg.write_text(cfg.read_text() + "\n" + text.replace("\n", "\n  ").join(["x_bomb:\n  ", ""]))
    assert main(["check", "-w", str(small_workspace)]) == 2
    err = capsys.readouterr().err
    assert "confprov.yml" in err and message in err, err


def test_check_exits_2_for_a_bomb_in_a_yaml_registry(
    small_workspace: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    cfg = small_workspace / "confprov.yml"
    cfg.write_text(cfg.read_text() + "registry: sites.yml\n")
    (small_workspace / "sites.yml").write_text(laughs() + "sites: []\n")
    assert main(["check", "-w", str(small_workspace)]) == 2
    err = capsys.readouterr().err
    assert "sites.yml:1" in err and "aliases expand to" in err, err


def test_a_decrypted_vault_is_bounded_and_its_lines_never_quoted(tmp_path: Path) -> None:
    path = tmp_path / "vault.yml"
    # Encrypt raw text (vault.encrypt dumps a mapping): a recursive alias beside a secret.
    from ansible.constants import DEFAULT_VAULT_ID_MATCH
    from ansible.parsing.vault import VaultLib, VaultSecret

    lib = VaultLib([(DEFAULT_VAULT_ID_MATCH, VaultSecret(b"pw"))])
    path.write_bytes(lib.encrypt("secret: s3cr3t-value\nloop: &a [*a]\n"))
    with pytest.raises(vault.InputError) as caught:
        vault.decrypt(path, "pw")
    assert caught.value.problems[0].line == 2
    assert "s3cr3t" not in str(caught.value)
