"""Turns recorded Kubernetes resources into manifests, in an order `kubectl apply` accepts."""

from __future__ import annotations

import re
from typing import Any

import yaml

from .engine import Recorded, Run, is_secret_value

# Helm's install order: what others reference comes first.
_KIND_ORDER = [
    "Namespace", "NetworkPolicy", "ResourceQuota", "LimitRange", "PodDisruptionBudget", "ServiceAccount",
    "Secret", "ConfigMap", "StorageClass", "PersistentVolume", "PersistentVolumeClaim",
    "CustomResourceDefinition", "ClusterRole", "ClusterRoleBinding", "Role", "RoleBinding", "Service",
    "DaemonSet", "Pod", "ReplicaSet", "Deployment", "HorizontalPodAutoscaler", "StatefulSet", "Job",
    "CronJob", "IngressClass", "Ingress", "APIService",
]
_PLACEHOLDER = re.compile(r"\[(?:secret|generated):[^\]]*\]")


def _rank(kind: str) -> int:
    return _KIND_ORDER.index(kind) if kind in _KIND_ORDER else len(_KIND_ORDER)


def _mask(value: Any) -> Any:
    """Keep the shape of a secret value and show what is ours to show.

    Offline, every secret value is one of our placeholders (`[secret:<key>]` for secret config,
    `[generated:<name>]` for generated passwords, offline/stackfile.py and mock_outputs.py), so a
    document built around one (the worker's config.yaml, redis.conf, a REDIS_URL) is shown whole:
    a reviewer reads it with only the secret values standing in as placeholders. A secret string with
    no placeholder (a mocked kubeconfig, a token) is masked whole.
    """
    if isinstance(value, dict):
        return {k: _mask(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_mask(v) for v in value]
    if isinstance(value, str) and _PLACEHOLDER.search(value):
        return value
    return "[secret]"


def _clean(value: Any) -> Any:
    """Secrets become placeholders; integral floats (the wire has only doubles) become ints."""
    if is_secret_value(value):
        return _mask(value.get("value"))
    if isinstance(value, dict):
        return {k: _clean(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_clean(v) for v in value]
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value


def is_kubernetes_object(resource: Recorded) -> bool:
    return resource.custom and resource.type.startswith("kubernetes:") and not resource.type.startswith(
        "kubernetes:providers:"
    ) and "apiVersion" in resource.inputs and "kind" in resource.inputs and not is_patch(resource)


def is_patch(resource: Recorded) -> bool:
    """A server-side-apply patch of an object something else created (e.g. a StatefulSet's claim)."""
    return resource.type.startswith("kubernetes:") and resource.type.endswith("Patch")


def patches(run: Run) -> list[dict[str, Any]]:
    """The partial objects Patch resources apply, in a stable order (not part of `manifests`)."""
    objects = [_clean(r.inputs) for r in run.resources if r.custom and is_patch(r)]
    return sorted(objects, key=lambda o: (o["kind"], o["metadata"].get("namespace", ""), o["metadata"]["name"]))


def manifests(run: Run) -> list[dict[str, Any]]:
    objects = [_clean(r.inputs) for r in run.resources if is_kubernetes_object(r)]
    # Registration order is asynchronous; sort by kind, then namespace and name, so the same
    # stack always renders byte for byte the same (diffs in pull requests show real changes only).
    ordered = sorted(objects, key=lambda o: (_rank(o["kind"]), o["kind"], o["metadata"].get("namespace", ""),
                                             o["metadata"]["name"]))
    return [canonical_object(obj) for obj in ordered]


# Top-level fields in the order people read a manifest; everything else sorted.
_HEAD = ("apiVersion", "kind", "metadata")


def canonical(value: Any) -> Any:
    """Every mapping with its keys sorted: maps reach the program through protobuf Structs, whose key
    order differs between protobuf releases and processes, so the program chooses the order itself.
    Lists keep their order: it is the program's and carries meaning (env, containers, rules)."""
    if isinstance(value, dict):
        return {k: canonical(value[k]) for k in sorted(value)}
    if isinstance(value, list):
        return [canonical(v) for v in value]
    return value


def canonical_object(obj: dict[str, Any]) -> dict[str, Any]:
    head = {k: canonical(obj[k]) for k in _HEAD if k in obj}
    return {**head, **{k: canonical(obj[k]) for k in sorted(obj) if k not in head}}


class _ReadableDumper(yaml.SafeDumper):
    """Multi-line strings (config files, scripts, dashboards) as literal blocks, the way people write them;
    PyYAML falls back to a quoted scalar where a block cannot hold the text exactly."""


def _represent_str(dumper: yaml.SafeDumper, value: str) -> yaml.ScalarNode:
    return dumper.represent_scalar("tag:yaml.org,2002:str", value, style="|" if "\n" in value else None)


_ReadableDumper.add_representer(str, _represent_str)


def to_yaml(objects: list[dict[str, Any]]) -> str:
    return yaml.dump_all(objects, Dumper=_ReadableDumper, sort_keys=False, default_flow_style=False)
