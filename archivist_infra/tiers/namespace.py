"""The namespace every Archivist object lives in, with Pod Security "restricted" enforced."""

from __future__ import annotations

import pulumi
import pulumi_kubernetes as k8s

from ..platforms.target import ClusterTarget

_PSS = {f"pod-security.kubernetes.io/{mode}": "restricted" for mode in ("enforce", "audit", "warn")}
_PSS_VERSION = {f"pod-security.kubernetes.io/{mode}-version": "latest" for mode in ("enforce", "audit", "warn")}


class ArchivistNamespace(pulumi.ComponentResource):
    name: pulumi.Output[str]

    def __init__(self, name: str, *, namespace: str, target: ClusterTarget, protect: bool,
                 data_hooks: pulumi.ResourceHookBinding | None = None,
                 opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("archivist:namespace:ArchivistNamespace", name, None, opts)
        ns = k8s.core.v1.Namespace(
            f"{name}-namespace",
            metadata={
                "name": namespace,
                "labels": {**_PSS, **_PSS_VERSION, "app.kubernetes.io/part-of": "archivist"},
            },
            # Deleting the namespace deletes every claim in it: in production, Pulumi refuses to.
            opts=target.options(parent=self, protect=protect, depends_on=list(target.ready), hooks=data_hooks,
                                delete_before_replace=True),  # a fixed name: see TierContext.opts
        )
        self.resource = ns
        self.name = ns.metadata.name
        self.register_outputs({"name": self.name})
