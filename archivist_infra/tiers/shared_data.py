"""The volume the workers share for papers, LaTeX and reports (ReadWriteMany)."""

from __future__ import annotations

import pulumi
import pulumi_kubernetes as k8s

from ..config.settings import SharedDataSettings
from .context import TierContext
from .pods import Spec


class SharedData(pulumi.ComponentResource):
    claim_name: pulumi.Output[str]

    def __init__(self, name: str, ctx: TierContext, settings: SharedDataSettings, *, storage_class: str | None,
                 opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("archivist:storage:SharedData", name, None, opts)
        spec: Spec = {
            "access_modes": [settings.access_mode],
            "resources": {"requests": {"storage": settings.size}},
        }
        if storage_class:
            spec["storage_class_name"] = storage_class
        claim = k8s.core.v1.PersistentVolumeClaim(
            f"{name}-claim",
            metadata={
                "name": "archivist-data",
                "namespace": ctx.namespace,
                "labels": ctx.labels("archivist-data", "storage"),
                # Binding waits for the first worker on WaitForFirstConsumer classes; don't hold `up` on it.
                "annotations": {"pulumi.com/skipAwait": "true"},
            },
            spec=spec,
            opts=ctx.opts(self, data=True),
        )
        self.claim_name = claim.metadata.name
        self.register_outputs({"claim_name": self.claim_name})
