"""HorizontalPodAutoscaler (autoscaling/v2) with the guide's scaling behaviour.

Scale up fast: the larger of +N % or +N pods per period. Scale down slowly: at most N %
per period, after a stabilization window, so a short lull does not drop capacity.
"""

from __future__ import annotations

import pulumi
import pulumi_kubernetes as k8s

from ..config.settings import Autoscaling
from .context import TierContext
from .pods import Spec


def behavior(scaling: Autoscaling, *, scale_down: bool = True) -> Spec:
    """`scale_down=False`: the autoscaler may only add pods (stores whose pods hold data, e.g. Qdrant peers)."""
    spec: Spec = {
        "scale_up": {
            "stabilization_window_seconds": 0,
            "select_policy": "Max",
            "policies": [
                {"type": "Percent", "value": scaling.scale_up_percent, "period_seconds": scaling.scale_up_period_seconds},
                {"type": "Pods", "value": scaling.scale_up_pods, "period_seconds": scaling.scale_up_period_seconds},
            ],
        },
        "scale_down": {
            "stabilization_window_seconds": scaling.scale_down_stabilization_seconds,
            "select_policy": "Min",
            "policies": [
                {"type": "Percent", "value": scaling.scale_down_percent,
                 "period_seconds": scaling.scale_down_period_seconds},
            ],
        },
    }
    if not scale_down:
        spec["scale_down"] = {"select_policy": "Disabled"}
    return spec


def metrics(scaling: Autoscaling) -> list[Spec]:
    return [
        {"type": "Resource", "resource": {"name": resource, "target": {"type": "Utilization", "average_utilization": pct}}}
        for resource, pct in (("cpu", scaling.cpu_percent), ("memory", scaling.memory_percent))
    ]


def autoscaler(parent: pulumi.Resource, ctx: TierContext, app: str, scaling: Autoscaling, *,
               target: tuple[str, str, pulumi.Input[str]], scale_down: bool = True,
               before_update: list[pulumi.ResourceHook] | None = None) -> k8s.autoscaling.v2.HorizontalPodAutoscaler:
    api_version, kind, name = target
    return k8s.autoscaling.v2.HorizontalPodAutoscaler(
        f"{app}-hpa",
        metadata={"name": app, "namespace": ctx.namespace, "labels": ctx.labels(app, "autoscaler")},
        spec={
            "scale_target_ref": {"api_version": api_version, "kind": kind, "name": name},
            "min_replicas": scaling.min_replicas,
            "max_replicas": scaling.max_replicas,
            "metrics": metrics(scaling),
            "behavior": behavior(scaling, scale_down=scale_down),
        },
        opts=ctx.opts(parent, before_update=before_update),
    )
