"""Invented provider outputs: every secret is a visible placeholder, every table entry answers."""

from __future__ import annotations

import base64

import yaml

from archivist_infra.offline.mock_outputs import CALLS, COMPUTED, call_outputs, computed_outputs

SECRET_FIELDS = {"password", "accessToken", "authorizationToken", "result", "token"}


def _secrets(value: object, key: str = "") -> list[str]:
    if isinstance(value, dict):
        return [s for k, v in value.items() for s in _secrets(v, k)]
    if isinstance(value, list):
        return [s for v in value for s in _secrets(v, key)]
    return [str(value)] if key in SECRET_FIELDS else []


def test_invented_secrets_are_placeholders() -> None:
    found = [s for token in CALLS for s in _secrets(call_outputs(token, {"name": "x"}))]
    found += [s for token in COMPUTED for s in _secrets(computed_outputs(token, "x", {}))]
    assert found and all(s.startswith("[") and s.endswith("]") for s in found)
    # the AKS user kubeconfig of an Entra cluster carries no credential at all: only the exec plugin
    listed = call_outputs("azure-native:containerservice:listManagedClusterUserCredentials", {})
    kubeconfig = yaml.safe_load(base64.b64decode(listed["kubeconfigs"][0]["value"]))
    user = kubeconfig["users"][0]["user"]
    assert set(user) == {"exec"} and user["exec"]["command"] == "kubelogin"


def test_unknown_tokens_answer_empty() -> None:
    assert call_outputs("nope:index:nothing", {}) == {} and computed_outputs("nope:index:Nothing", "n", {}) == {}


def test_image_digest_follows_build_inputs() -> None:
    a = computed_outputs("docker-build:index:Image", "w", {"tags": ["r/w:1"], "push": True, "context": {"location": "/a"}})
    b = computed_outputs("docker-build:index:Image", "w", {"tags": ["r/w:1"], "push": True, "context": {"location": "/b"}})
    assert a["digest"] != b["digest"] and a["ref"] == f"r/w@{a['digest']}"
