"""Shared fixtures: the real program run through Pulumi's mock engine, once per stack."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from archivist_infra.__main__ import run_stack
from archivist_infra.offline import engine
from archivist_infra.offline.render import manifests
from archivist_infra.offline.stackfile import StackConfig
from archivist_infra.program import main as program_main

ROOT = Path(__file__).resolve().parent.parent

VALID_IMAGES = {
    "worker": "registry.example.com/archivist/worker:1.0.0",
    "search": "registry.example.com/archivist/search:1.0.0",
    "graph": "registry.example.com/archivist/graph:1.0.0",
}


# Kinds of custom resources the stacks render: kubernetes-validate ships only built-in schemas, so
# these are checked against their vendored CRDs (tests/crds) by the apiserver suite instead.
CRD_KINDS = frozenset({
    "HTTPRoute", "Gateway", "GatewayClass", "HealthCheckPolicy", "EnvoyProxy", "BackendTrafficPolicy",
    "SecurityPolicy", "GCPBackendPolicy",
    "ClusterIssuer", "Certificate", "Schedule", "VolumeSnapshotClass", "ExternalSecret", "SecretStore",
    "ScaledObject", "PodMonitor", "Probe", "PrometheusRule", "PodMonitoring", "ClusterRules",
})


def stack_config(config: dict[str, Any], *, secrets: dict[str, str] | None = None, stack: str = "test") -> StackConfig:
    """A StackConfig as the engine would pass it: `config` keys without the `archivist:` prefix."""
    values = {f"archivist:{k}": v if isinstance(v, str) else json.dumps(v) for k, v in config.items()}
    secret_values = {"geminiApiKey": "[secret:archivist:geminiApiKey]"} if secrets is None else secrets
    for key, value in secret_values.items():
        values[f"archivist:{key}"] = value
    return StackConfig(project="archivist", stack=stack, values=values,
                       secret_keys=[f"archivist:{k}" for k in secret_values])


def run_config(config: dict[str, Any], **kwargs: Any) -> engine.Run:
    return engine.run(stack_config(config, **kwargs), program_main)


@pytest.fixture(scope="session")
def dev_run() -> engine.Run:
    return run_stack("dev")


@pytest.fixture(scope="session")
def prod_run() -> engine.Run:
    return run_stack("prod")


@pytest.fixture(scope="session")
def dev_objects(dev_run: engine.Run) -> list[dict[str, Any]]:
    return manifests(dev_run)


@pytest.fixture(scope="session")
def prod_objects(prod_run: engine.Run) -> list[dict[str, Any]]:
    return manifests(prod_run)


@pytest.fixture
def run() -> Callable[..., engine.Run]:
    return run_config


def find(objects: list[dict[str, Any]], kind: str, name: str) -> dict[str, Any]:
    matches = [o for o in objects if o["kind"] == kind and o["metadata"]["name"] == name]
    assert len(matches) == 1, f"{len(matches)} {kind} named {name}"
    return matches[0]


def pod_spec(obj: dict[str, Any]) -> dict[str, Any]:
    return obj["spec"]["template"]["spec"]


def env_of(container: dict[str, Any]) -> dict[str, Any]:
    """Env var name -> literal value, or ('secret'|'config'|'field', key)."""
    out: dict[str, Any] = {}
    for item in container.get("env", []):
        source = item.get("valueFrom")
        if source is None:
            out[item["name"]] = item["value"]
        elif "secretKeyRef" in source:
            out[item["name"]] = ("secret", source["secretKeyRef"]["key"])
        elif "configMapKeyRef" in source:
            out[item["name"]] = ("config", source["configMapKeyRef"]["key"])
        else:
            out[item["name"]] = ("field", source["fieldRef"]["fieldPath"])
    return out
