"""Finding the stack's workloads by the names a user types (`archivist-worker`, `worker`, `neo4j`)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from .context import Ops
from .errors import OpsError

KINDS = ("Deployment", "StatefulSet", "CronJob")


@dataclass(frozen=True)
class Workload:
    kind: str
    name: str
    obj: Any  # the typed client object

    @property
    def selector(self) -> str:
        """A label selector for its pods."""
        if self.kind == "CronJob":
            labels = (self.obj.spec.job_template.spec.template.metadata.labels or {})
        else:
            labels = self.obj.spec.selector.match_labels or {}
        return ",".join(f"{k}={v}" for k, v in sorted(labels.items()))


def list_workloads(ops: Ops) -> list[Workload]:
    ns = ops.namespace
    found = [Workload("Deployment", d.metadata.name, d) for d in ops.apps.list_namespaced_deployment(ns).items]
    found += [Workload("StatefulSet", s.metadata.name, s) for s in ops.apps.list_namespaced_stateful_set(ns).items]
    found += [Workload("CronJob", c.metadata.name, c) for c in ops.batch.list_namespaced_cron_job(ns).items]
    return found


def find_workload(ops: Ops, name: str, kinds: tuple[str, ...] = KINDS) -> Workload:
    """`name` exactly, or `archivist-<name>` (so `worker` finds `archivist-worker`)."""
    workloads = [w for w in list_workloads(ops) if w.kind in kinds]
    for candidate in (name, f"archivist-{name}"):
        for w in workloads:
            if w.name == candidate:
                return w
    names = ", ".join(sorted(w.name for w in workloads)) or "none"
    what = "/".join(kinds)
    raise OpsError(f"no {what} '{name}' in namespace {ops.namespace} (there: {names})")


def pods_of(ops: Ops, workload: Workload) -> list[Any]:
    selector = workload.selector
    if not selector:
        return []
    pods = ops.core.list_namespaced_pod(ops.namespace, label_selector=selector).items
    return sorted(pods, key=lambda p: p.metadata.name)
