"""A LimitRange and a ResourceQuota for the namespace, sized from the workloads' demands.

The quota is the stack's own ceiling: everything at maximum replicas plus room for a
rolling update's surge pods, so autoscaling never hits it but a runaway (or a stranger's
deployment in the namespace) does. The LimitRange gives containers that forget their
resources a modest default, which the quota requires of every pod.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from decimal import Decimal

import pulumi
import pulumi_kubernetes as k8s

from ..capacity.demand import WorkloadDemand
from .context import TierContext

# Rollouts surge new pods before old ones go (maxSurge): a quarter on top of the maximum.
SURGE_HEADROOM = Decimal("1.25")
MI = Decimal(2**20)

# Containers that set nothing get 100m/128Mi requested and 500m/512Mi as limits: enough for
# a sidecar or a debug pod, too little to matter.


def cpu_text(cores: Decimal) -> str:
    return f"{math.ceil(cores * 1000)}m"


def bytes_text(size: Decimal) -> str:
    return f"{math.ceil(size / MI)}Mi"


@dataclass(frozen=True)
class QuotaPlan:
    requests_cpu: Decimal
    requests_memory: Decimal
    limits_cpu: Decimal
    limits_memory: Decimal
    pods: int
    claims: int
    storage: Decimal
    max_container_cpu: Decimal
    max_container_memory: Decimal

    def hard(self) -> dict[str, str]:
        return {
            "requests.cpu": cpu_text(self.requests_cpu),
            "requests.memory": bytes_text(self.requests_memory),
            "limits.cpu": cpu_text(self.limits_cpu),
            "limits.memory": bytes_text(self.limits_memory),
            "pods": str(self.pods),
            "persistentvolumeclaims": str(self.claims),
            "requests.storage": bytes_text(self.storage),
        }


def quota_plan(demands: list[WorkloadDemand]) -> QuotaPlan:
    """Sum of max replicas x per-replica figures, with surge headroom on compute.

    Claims get no headroom: StatefulSets replace pods in place and keep their claims, and a
    Deployment's shared claim is one object however many pods mount it.
    """
    def total(attr: str) -> Decimal:
        return sum((d.max_replicas * getattr(d, attr) for d in demands), Decimal(0)) * SURGE_HEADROOM

    claims = 0
    storage = Decimal(0)
    shared: dict[str, Decimal] = {}
    for d in demands:
        for v in d.volumes:
            if v.per_replica:
                claims += d.max_replicas
                storage += d.max_replicas * v.size_bytes
            else:
                shared[v.claim] = v.size_bytes  # one claim however many workloads mount it
    claims += len(shared)
    storage += sum(shared.values(), Decimal(0))
    return QuotaPlan(
        requests_cpu=total("cpu_request"),
        requests_memory=total("memory_request"),
        limits_cpu=total("cpu_limit"),
        limits_memory=total("memory_limit"),
        pods=math.ceil(sum(d.max_replicas for d in demands) * SURGE_HEADROOM),
        claims=claims,
        storage=storage,
        max_container_cpu=max((d.cpu_limit for d in demands), default=Decimal(1)),
        max_container_memory=max((d.memory_limit for d in demands), default=Decimal(2**30)),
    )


class NamespaceQuotas(pulumi.ComponentResource):
    def __init__(self, name: str, ctx: TierContext, demands: list[WorkloadDemand],
                 opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("archivist:security:NamespaceQuotas", name, None, opts)
        plan = quota_plan(demands)
        max_cpu, max_memory = plan.max_container_cpu, plan.max_container_memory
        # The API rejects a default above the max, so a small stack gets smaller defaults.
        default = {"cpu": cpu_text(min(Decimal("0.5"), max_cpu)), "memory": bytes_text(min(512 * MI, max_memory))}
        default_request = {"cpu": cpu_text(min(Decimal("0.1"), max_cpu)),
                           "memory": bytes_text(min(128 * MI, max_memory))}
        labels = {"app.kubernetes.io/part-of": ctx.part_of, "app.kubernetes.io/managed-by": "pulumi",
                  "app.kubernetes.io/component": "quota"}
        self.limit_range = k8s.core.v1.LimitRange(
            "limit-range",
            metadata={"name": "archivist-defaults", "namespace": ctx.namespace, "labels": labels},
            spec={"limits": [{
                "type": "Container",
                "default_request": default_request,
                "default": default,
                # The largest container the stack itself runs: anything bigger is not ours.
                "max": {"cpu": cpu_text(max_cpu), "memory": bytes_text(max_memory)},
            }]},
            opts=ctx.opts(self),
        )
        self.resource_quota = k8s.core.v1.ResourceQuota(
            "resource-quota",
            metadata={"name": "archivist-capacity", "namespace": ctx.namespace, "labels": labels},
            spec={"hard": plan.hard()},
            opts=ctx.opts(self),
        )
        self.plan = plan
        self.register_outputs({"hard": plan.hard()})
