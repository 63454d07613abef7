"""Every object the stacks render, with the External Secrets and KEDA objects among them, applied
to a real kube-apiserver that serves the vendored CRDs (tests/crds/external-secrets-v2.9.0,
tests/crds/keda-v2.20.2): the server's schema validation, not ours, accepts them unchanged."""

from __future__ import annotations

import copy
import json
from typing import Any

import pytest

from archivist_infra.__main__ import run_stack
from archivist_infra.offline.render import manifests
from tests.conftest import ROOT

from .kube import Cluster

STACKS = {"dev": None, "prod": None, "eks": ROOT / "examples/stacks/eks.yaml", "aks": ROOT / "examples/stacks/aks.yaml"}
CUSTOM = ("ExternalSecret", "SecretStore", "ScaledObject")
CLUSTER_SCOPED = ("Namespace", "StorageClass", "ClusterRole", "ClusterRoleBinding", "CustomResourceDefinition")


@pytest.fixture(scope="module")
def rendered() -> dict[str, list[dict[str, Any]]]:
    return {name: manifests(run_stack(name, path)) for name, path in STACKS.items()}


def _into(objects: list[dict[str, Any]], namespace: str) -> list[dict[str, Any]]:
    """The stack's objects moved into a test namespace (the Namespace object itself is the test's).

    StorageClasses are cluster-scoped and immutable, and each cloud's differ under the same name:
    they get the namespace as a suffix, and the claims follow."""
    classes = {o["metadata"]["name"] for o in objects if o["kind"] == "StorageClass"}
    text = json.dumps([o for o in objects if o["kind"] != "Namespace"])
    for name in classes:
        text = text.replace(f'"storageClassName": "{name}"', f'"storageClassName": "{name}-{namespace}"')
    out = []
    for obj in json.loads(text):
        if obj["kind"] == "StorageClass":
            obj["metadata"]["name"] = f"{obj['metadata']['name']}-{namespace}"
        if obj["kind"] not in CLUSTER_SCOPED:
            obj["metadata"]["namespace"] = namespace
        out.append(obj)
    return out


def _contains(got: Any, want: Any) -> bool:
    """`got` holds everything in `want` (the server may add defaults, never drop or change a field)."""
    if isinstance(want, dict):
        return isinstance(got, dict) and all(k in got and _contains(got[k], v) for k, v in want.items())
    if isinstance(want, list):
        return isinstance(got, list) and len(got) == len(want) and all(_contains(g, w) for g, w in zip(got, want, strict=True))
    return bool(got == want)


@pytest.mark.parametrize("stack", list(STACKS))
def test_server_accepts_every_rendered_object_and_keeps_the_custom_resources_intact(
        cluster: Cluster, rendered: dict[str, list[dict[str, Any]]], stack: str) -> None:
    ns = cluster.create_namespace(f"sk-{stack}")
    objects = _into(rendered[stack], ns)
    result = cluster.apply(objects)
    assert result.ok, result.stderr
    assert not [w for w in result.warnings if "unknown field" in w], result.warnings
    custom = [o for o in objects if o["kind"] in CUSTOM]
    kinds = {o["kind"] for o in custom}
    assert "ScaledObject" in kinds  # every checked-in stack runs Kafka with 3 partitions
    assert ({"ExternalSecret", "SecretStore"} <= kinds) == (stack != "dev")
    for obj in custom:
        stored = cluster.get(obj["kind"].lower() + "." + obj["apiVersion"].split("/")[0], obj["metadata"]["name"],
                             namespace=ns)
        assert _contains(stored["spec"], obj["spec"]), f"{obj['kind']} changed by the server: {stored['spec']}"


def test_server_enforces_the_vendored_schemas(cluster: Cluster, rendered: dict[str, list[dict[str, Any]]]) -> None:
    """The CRDs are really in force: values our objects never carry are refused by the server."""
    ns = cluster.create_namespace("sk-bad")
    objects = {o["kind"]: o for o in _into(rendered["prod"], ns) if o["kind"] in CUSTOM}
    bad_scaled = copy.deepcopy(objects["ScaledObject"])
    bad_scaled["spec"]["minReplicaCount"] = "two"
    bad_external = copy.deepcopy(objects["ExternalSecret"])
    bad_external["spec"]["target"]["creationPolicy"] = "Sometimes"
    bad_store = copy.deepcopy(objects["SecretStore"])
    bad_store["spec"]["provider"]["gcpsm"]["auth"]["workloadIdentity"]["serviceAccountRef"] = {}
    for bad in (bad_scaled, bad_external, bad_store):
        result = cluster.apply([bad])
        assert not result.ok, f"{bad['kind']} accepted"
