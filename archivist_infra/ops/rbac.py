"""`ops rbac`: the Roles every verb needs, from the API calls it makes (audit D11: the old README's list 403'd).

One table, `RULES`, says for each verb which resources it reads or changes and how; the verbs'
modules are the source (every `ops.core/apps/batch/autoscaling/custom` call, the service proxy of
qdrant-drain and scale, Velero's objects in `velero`). tests/apiserver/test_ops_rbac.py runs each verb
as a ServiceAccount bound to exactly its rules, so a call added without its rule fails there.

Nothing here is cluster-scoped: the namespace check (context.require_namespace) falls back to the
namespace's `default` ServiceAccount when `get namespaces` is not granted, and `ops status` reads the
kubelet's volume usage (nodes/proxy, cluster-scoped) only where it may.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import yaml

from .velero import VELERO_NS


@dataclass(frozen=True)
class Rule:
    group: str  # "" is the core group
    resource: str
    verbs: tuple[str, ...]
    velero: bool = False  # in namespace `velero` rather than the stack's


def _r(group: str, resource: str, *verbs: str, velero: bool = False) -> Rule:
    return Rule(group, resource, tuple(verbs), velero)


# Every verb but restore first checks that the stack's namespace exists (context.require_namespace).
NAMESPACE_CHECK = (_r("", "serviceaccounts", "list"),)
FIND_WORKLOAD = (_r("apps", "deployments", "list"), _r("apps", "statefulsets", "list"), _r("batch", "cronjobs", "list"))
# Qdrant's REST API through the API server: GET -> get, POST -> create, DELETE -> delete on services/proxy.
QDRANT_READ = (_r("", "services/proxy", "get"),)

RULES: dict[str, tuple[Rule, ...]] = {
    "status": (*FIND_WORKLOAD, _r("", "pods", "list"), _r("batch", "jobs", "list"),
               _r("autoscaling", "horizontalpodautoscalers", "list"), _r("", "persistentvolumeclaims", "list"),
               _r("", "events", "list"), _r("keda.sh", "scaledobjects", "list")),
    "logs": (*FIND_WORKLOAD, _r("", "pods", "list"), _r("", "pods/log", "get"), _r("batch", "jobs", "get")),
    "scale": (_r("autoscaling", "horizontalpodautoscalers", "list", "patch"), _r("apps", "deployments", "get"),
              _r("apps", "statefulsets", "get"), _r("keda.sh", "scaledobjects", "list", "patch"), *QDRANT_READ),
    "restart": (*FIND_WORKLOAD, _r("apps", "deployments", "patch"), _r("apps", "statefulsets", "get", "patch")),
    # The port-forward upgrade is authorized as `create` (and `get` for the WebSocket GET of newer clients).
    "port-forward": (_r("", "services", "get"), _r("", "pods", "list"), _r("", "pods/portforward", "get", "create")),
    "top": (_r("", "pods", "list"), _r("metrics.k8s.io", "pods", "list")),
    "upload": (_r("apps", "deployments", "list"), _r("batch", "cronjobs", "list"),
               _r("", "persistentvolumeclaims", "get"), _r("", "pods", "create", "get", "list", "delete"),
               _r("", "pods/exec", "get", "create")),
    "process": (_r("batch", "cronjobs", "list"), _r("apps", "deployments", "list"),
                _r("batch", "jobs", "list", "get", "create")),
    "backup": (_r("velero.io", "schedules", "get", "list", velero=True),
               _r("velero.io", "backups", "create", "get", velero=True)),
    "qdrant-drain": (_r("", "services/proxy", "get", "create", "delete"),),
    # The stack's Gemini key from Secret archivist-secrets (not with --key-from-env, which needs no cluster).
    "models": (_r("", "secrets", "get"),),
    # --into: the addresses to rewrite are read from the source namespace, the modifiers written to velero.
    "restore": (_r("velero.io", "schedules", "list", velero=True),
                _r("velero.io", "backups", "get", "list", velero=True),
                _r("velero.io", "restores", "create", "get", velero=True),
                _r("", "configmaps", "create", velero=True),
                _r("apps", "statefulsets", "list"), _r("apps", "deployments", "list"), _r("", "configmaps", "list")),
}
ROLE = "archivist-ops"


def rules_for(verbs: list[str]) -> list[Rule]:
    """The rules of `verbs`, merged per (namespace, group, resource), in a stable order."""
    merged: dict[tuple[bool, str, str], set[str]] = {}
    for verb in verbs:
        extra = NAMESPACE_CHECK if verb != "restore" else ()
        for rule in (*extra, *RULES[verb]):
            merged.setdefault((rule.velero, rule.group, rule.resource), set()).update(rule.verbs)
    order = ("get", "list", "watch", "create", "patch", "update", "delete")
    return [Rule(g, r, tuple(sorted(v, key=order.index)), vel) for (vel, g, r), v in sorted(merged.items())]


def _role(name: str, namespace: str, rules: list[Rule]) -> dict[str, Any]:
    grouped: dict[tuple[str, tuple[str, ...]], list[str]] = {}
    for rule in rules:
        grouped.setdefault((rule.group, rule.verbs), []).append(rule.resource)
    return {"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "Role",
            "metadata": {"name": name, "namespace": namespace},
            "rules": [{"apiGroups": [g], "resources": sorted(res), "verbs": list(v)}
                      for (g, v), res in sorted(grouped.items())]}


def roles(namespace: str, verbs: list[str], name: str = ROLE) -> list[dict[str, Any]]:
    """The Role in the stack's namespace and, when a verb needs it, the Role in `velero`."""
    rules = rules_for(verbs)
    out = []
    local = [r for r in rules if not r.velero]
    if local:
        out.append(_role(name, namespace, local))
    remote = [r for r in rules if r.velero]
    if remote:
        out.append(_role(f"{name}-{namespace}", VELERO_NS, remote))
    return out


def bindings(role_objects: list[dict[str, Any]], subject: dict[str, str]) -> list[dict[str, Any]]:
    return [{"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "RoleBinding",
             "metadata": {"name": r["metadata"]["name"], "namespace": r["metadata"]["namespace"]},
             "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "Role", "name": r["metadata"]["name"]},
             "subjects": [subject]} for r in role_objects]


def rbac(namespace: str, verbs: list[str] | None, *, group: str, as_json: bool) -> str:
    chosen = verbs or list(RULES)
    unknown = [v for v in chosen if v not in RULES]
    if unknown:
        from .errors import OpsError

        raise OpsError(f"unknown verb(s) {', '.join(unknown)}: choose from {', '.join(RULES)}")
    made = roles(namespace, chosen)
    docs = made + bindings(made, {"apiGroup": "rbac.authorization.k8s.io", "kind": "Group", "name": group})
    if as_json:
        import json

        return json.dumps({"apiVersion": "v1", "kind": "List", "items": docs}, indent=2)
    head = (f"# Roles for `ops {' / '.join(chosen)}` on namespace {namespace}; apply with `kubectl apply -f -`.\n"
            f"# Bound to group {group}: change the subjects to your users or ServiceAccount.\n")
    return head + yaml.safe_dump_all(docs, sort_keys=False)
