"""The one PodDisruptionBudget shape every replicated workload uses.

One pod down at a time keeps the guide's availability; `maxUnavailable` (never
`minAvailable` equal to the replica count) and evicting unhealthy pods regardless mean
a node drain is never blocked, not even by a crash-looping pod.
"""

from __future__ import annotations

import pulumi
import pulumi_kubernetes as k8s

from .context import TierContext


def disruption_budget(parent: pulumi.Resource, ctx: TierContext, app: str,
                      labels: dict[str, str]) -> k8s.policy.v1.PodDisruptionBudget:
    return k8s.policy.v1.PodDisruptionBudget(
        f"{app}-pdb",
        metadata={"name": app, "namespace": ctx.namespace, "labels": labels},
        spec={
            "max_unavailable": 1,
            "selector": {"match_labels": ctx.selector(app)},
            "unhealthy_pod_eviction_policy": "AlwaysAllow",
        },
        opts=ctx.opts(parent),
    )
