"""The `ops` command line: every verb listed, the stack's namespace and context, one-line errors."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from archivist_infra.__main__ import main
from archivist_infra.ops.cli import VERBS
from archivist_infra.ops.context import stack_target
from archivist_infra.ops.errors import OpsError

ROOT = Path(__file__).resolve().parents[2]
# The list (issue 12 "ops", issue 11 backup/restore, issue 17 models).
REQUIRED_VERBS = ("status", "logs", "scale", "restart", "port-forward", "top", "upload", "process", "backup", "restore",
                  "qdrant-drain", "models")


def test_ops_help_lists_every_verb() -> None:
    out = subprocess.run([sys.executable, "-m", "archivist_infra", "ops", "--help"], cwd=ROOT,
                         capture_output=True, text=True, check=True).stdout
    for verb in REQUIRED_VERBS:
        assert f"    {verb}" in out, verb
    assert set(VERBS) == set(REQUIRED_VERBS)


def test_every_verb_takes_the_stack_and_json_output(capsys: pytest.CaptureFixture[str]) -> None:
    for verb in REQUIRED_VERBS:
        with pytest.raises(SystemExit) as done:
            main(["ops", verb, "--help"])
        assert done.value.code == 0
        text = capsys.readouterr().out
        assert "stack" in text and "--output {text,json}" in text and "--kubeconfig" in text and "--context" in text


def test_the_dev_stack_names_its_namespace_and_kind_context() -> None:
    target = stack_target("dev", None, ROOT)
    dev = yaml.safe_load((ROOT / "Pulumi.dev.yaml").read_text())["config"]
    assert target.namespace == dev["archivist:namespace"]
    assert target.context == dev["archivist:cluster"]["context"]


def test_a_cloud_stack_leaves_the_context_to_the_kubeconfig(tmp_path: Path) -> None:
    target = stack_target("prod", None, ROOT)
    assert target.platform != "local" and target.context is None
    assert target.namespace == "archivist"


def test_unknown_stack_is_one_line_exit_2(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["ops", "status", "nosuch"]) == 2
    err = capsys.readouterr().err
    assert err == "error: unknown stack 'nosuch': no Pulumi.nosuch.yaml (stacks here: dev, prod)\n"
    with pytest.raises(OpsError):
        stack_target("nosuch", None, ROOT)


def test_bad_stack_config_is_one_line_exit_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    stack = yaml.safe_load((ROOT / "Pulumi.dev.yaml").read_text())
    stack["config"]["archivist:namespace"] = "Not_A_Label"
    bad = tmp_path / "Pulumi.bad.yaml"
    bad.write_text(yaml.safe_dump(stack))
    assert main(["ops", "status", "bad", "--config-file", str(bad)]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: stack bad: ") and "archivist:namespace" in err and err.count("\n") == 1


def test_missing_context_is_one_line_exit_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    kubeconfig = tmp_path / "kubeconfig"
    kubeconfig.write_text(yaml.safe_dump({"apiVersion": "v1", "kind": "Config", "clusters": [], "users": [],
                                          "contexts": [], "current-context": ""}))
    assert main(["ops", "status", "dev", "--kubeconfig", str(kubeconfig)]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: cannot use context 'kind-archivist'") and err.count("\n") == 1
