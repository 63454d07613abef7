"""`graph STACK --inputs`: what each resource is registered with, secrets masked, plus ignoreChanges and hooks."""

from __future__ import annotations

import json
from typing import Any

import pytest

from archivist_infra.__main__ import main
from archivist_infra.offline import engine
from archivist_infra.offline.graph import SECRET, graph, shown_inputs
from archivist_infra.offline.mock_outputs import MOCK_CA


@pytest.fixture(scope="module")
def prod_inputs(prod_run: engine.Run) -> dict[str, dict[str, Any]]:
    return {r["name"]: r for r in graph(prod_run, inputs=True)["resources"]}


def test_graph_without_the_flag_is_unchanged(prod_run: engine.Run) -> None:
    plain = graph(prod_run)["resources"]
    assert all(set(r) == {"type", "name", "parent", "dependsOn", "provider", "protect"} for r in plain)


def test_cloud_resources_show_what_they_are_created_with(prod_inputs: dict[str, dict[str, Any]]) -> None:
    cluster = prod_inputs["cluster-cluster"]
    assert cluster["inputs"]["privateClusterConfig"]["enablePrivateNodes"] is True
    assert cluster["inputs"]["deletionProtection"] is True
    workload = prod_inputs["cluster-workload"]
    assert workload["ignoreChanges"] == ["initialNodeCount"]
    assert isinstance(workload["inputs"]["initialNodeCount"], int)  # 1, not the wire's 1.0


def test_secrets_are_masked_at_any_depth(prod_inputs: dict[str, dict[str, Any]]) -> None:
    provider = prod_inputs["cluster-k8s"]["inputs"]
    assert provider["kubeconfig"] == SECRET
    text = json.dumps(prod_inputs)
    assert MOCK_CA not in text  # the CA sits only inside the secret kubeconfig
    assert "[secret:archivist:geminiApiKey]" not in text and "mock-gcp-access-token" not in text
    nested = shown_inputs({"a": [{"b": {engine.rpc._special_sig_key: engine.SECRET_SIG, "value": "x"}}]})
    assert nested == {"a": [{"b": SECRET}]}


def test_hooks_are_listed_per_kind(prod_inputs: dict[str, dict[str, Any]]) -> None:
    assert prod_inputs["neo4j-statefulset"]["hooks"] == {"before_delete": ["archivist-data-guard"]}
    assert prod_inputs["cluster-vpc"]["hooks"] == {}


def test_cli_flag_prints_inputs(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["graph", "dev", "--inputs"]) == 0
    data = json.loads(capsys.readouterr().out)
    namespace = next(r for r in data["resources"] if r["type"] == "kubernetes:core/v1:Namespace")
    assert namespace["inputs"]["metadata"]["name"] == "archivist"
    assert "ignoreChanges" in namespace and "hooks" in namespace


@pytest.mark.parametrize("stack", ["eks", "aks"])
def test_every_cloud_example_graphs_with_inputs_and_no_credential(stack: str, capsys: pytest.CaptureFixture[str]) -> None:
    from tests.conftest import ROOT

    assert main(["graph", stack, "--config-file", str(ROOT / "examples" / "stacks" / f"{stack}.yaml"), "--inputs"]) == 0
    text = capsys.readouterr().out
    data = json.loads(text)
    assert any(r["ignoreChanges"] for r in data["resources"])
    for leaked in ("[mock-ecr-password]", "[mock-acr-refresh-token]", "[mock-entra-access-token]", "PLACEHOLDER"):
        assert leaked not in text
