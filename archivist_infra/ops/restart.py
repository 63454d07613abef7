"""`ops restart`: a rolling restart, as `kubectl rollout restart` does it.

It sets `kubectl.kubernetes.io/restartedAt` on the pod template; the Deployment or StatefulSet
controller then replaces the pods within its rollout strategy (maxSurge/maxUnavailable for a
Deployment, one pod at a time for a StatefulSet).
The annotation is not in the stack's config, so `pulumi up` leaves it alone.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from .context import FIELD_MANAGER, Ops
from .errors import OpsError
from .workloads import find_workload

RESTARTED_AT = "kubectl.kubernetes.io/restartedAt"


def _single_replica_stores(ops: Ops, workloads: list[Any]) -> list[str]:
    """StatefulSets with one replica: a restart stops the store until its pod is back (no second copy serves)."""
    names = []
    for w in workloads:
        if w.kind == "StatefulSet":
            sts = ops.apps.read_namespaced_stateful_set(w.name, ops.namespace)
            if (sts.spec.replicas if sts.spec.replicas is not None else 1) <= 1:
                names.append(w.name)
    return names


def restart(ops: Ops, names: list[str], *, yes: bool = False, now: datetime | None = None) -> int:
    stamp = (now or datetime.now(UTC)).strftime("%Y-%m-%dT%H:%M:%SZ")
    workloads = [find_workload(ops, n, ("Deployment", "StatefulSet")) for n in names]
    if not workloads:
        raise OpsError("name at least one Deployment or StatefulSet to restart")
    alone = _single_replica_stores(ops, workloads)
    if alone and not yes:
        ops.out.say(f"plan: restart {', '.join(f'{w.kind} {w.name}' for w in workloads)}. {', '.join(alone)} "
                    "run(s) a single pod: the store is unavailable until its pod is back, and its clients see "
                    "errors meanwhile. Nothing changed; run again with --yes to do it.")
        if ops.out.json:
            ops.out.emit({"restart": [w.name for w in workloads], "singleReplica": alone, "done": False})
        return 0
    body = {"spec": {"template": {"metadata": {"annotations": {RESTARTED_AT: stamp}}}}}
    done: list[dict[str, Any]] = []
    for w in workloads:
        if w.kind == "Deployment":
            ops.apps.patch_namespaced_deployment(w.name, ops.namespace, body, field_manager=FIELD_MANAGER)
        else:
            ops.apps.patch_namespaced_stateful_set(w.name, ops.namespace, body, field_manager=FIELD_MANAGER)
        done.append({"kind": w.kind, "name": w.name, "restartedAt": stamp})
    if ops.out.json:
        ops.out.emit(done)
    else:
        for d in done:
            ops.out.console.print(f"{d['kind']} {d['name']}: rolling restart requested at {stamp} "
                                  "(follow it with `ops status`)")
    return 0
