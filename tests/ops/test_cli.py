"""The `ops` command line: every verb listed, the stack's namespace and context, one-line errors."""

from __future__ import annotations

import stat
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

from archivist_infra.__main__ import main
from archivist_infra.ops.cli import VERBS
from archivist_infra.ops.context import StackTarget, stack_kubeconfig, stack_target
from archivist_infra.ops.errors import OpsError

ROOT = Path(__file__).resolve().parents[2]
# The list (issue 12 "ops", issue 11 backup/restore, issue 17 models, issue 19 rbac).
REQUIRED_VERBS = ("status", "logs", "scale", "restart", "port-forward", "top", "upload", "process", "backup", "restore",
                  "qdrant-drain", "models", "rbac")


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


# -- which cluster: a cloud stack's own kubeconfig, never the current context (audit D9) ---------------

def _target(platform: str) -> StackTarget:
    return StackTarget(stack="prod", namespace="archivist", context=None, platform=platform)


@pytest.fixture
def pulumi_on_path(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A `pulumi` on PATH (its answers come from the test's runner, never from this file)."""
    fake = tmp_path / "bin" / "pulumi"
    fake.parent.mkdir()
    fake.write_text("#!/bin/sh\nexit 99\n")
    fake.chmod(0o755)
    monkeypatch.setenv("PATH", f"{fake.parent}:/usr/bin:/bin")


def test_a_cloud_stack_reads_its_own_kubeconfig_output(tmp_path: Path, pulumi_on_path: None) -> None:
    asked: list[list[str]] = []

    def run(cmd: list[str], **_: Any) -> subprocess.CompletedProcess[str]:
        asked.append(cmd)
        return subprocess.CompletedProcess(cmd, 0, "apiVersion: v1\nclusters: []\n", "")

    path = stack_kubeconfig(_target("gke"), None, tmp_path, run=run)
    assert path is not None and "clusters" in path.read_text()
    assert stat.S_IMODE(path.stat().st_mode) == 0o600  # it may hold credentials
    assert asked[0][1:] == ["stack", "output", "kubeconfig", "--show-secrets", "--stack", "prod"]


def test_a_cloud_stack_without_its_kubeconfig_is_refused_not_sent_to_the_current_context(
        tmp_path: Path, pulumi_on_path: None) -> None:
    def run(cmd: list[str], **_: Any) -> subprocess.CompletedProcess[str]:
        return subprocess.CompletedProcess(cmd, 255, "", "error: no stack named 'prod' found")

    with pytest.raises(OpsError, match="never falls back to the current context"):
        stack_kubeconfig(_target("eks"), None, tmp_path, run=run)


def test_a_cloud_stack_without_the_pulumi_cli_is_refused_with_the_command(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))
    with pytest.raises(OpsError, match="pulumi stack output kubeconfig --show-secrets --stack prod"):
        stack_kubeconfig(_target("aks"), None, tmp_path)


def test_local_stacks_and_an_explicit_kubeconfig_are_used_as_given(tmp_path: Path) -> None:
    def run(*_: Any, **__: Any) -> Any:
        raise AssertionError("pulumi must not be asked")

    assert stack_kubeconfig(_target("local"), None, tmp_path, run=run) is None
    given = tmp_path / "k"
    assert stack_kubeconfig(_target("aks"), given, tmp_path, run=run) == given
