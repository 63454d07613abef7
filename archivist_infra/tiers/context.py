"""What every tier needs to know about where and how it is deployed."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pulumi

from ..platforms.target import ClusterTarget


@dataclass(frozen=True)
class TierContext:
    namespace: pulumi.Output[str]
    target: ClusterTarget
    protect: bool  # production: data-bearing resources cannot be deleted by accident
    spread_across_nodes: bool
    data_hooks: pulumi.ResourceHookBinding | None = None  # see data_guard.py
    part_of: str = "archivist"

    def opts(self, parent: pulumi.Resource, *, data: bool = False,
             before_update: list[pulumi.ResourceHook] | None = None, **kwargs: Any) -> pulumi.ResourceOptions:
        """Options for a child Kubernetes resource; `data=True` marks it as holding data.

        `before_update`: hooks that may refuse an update (a skipped Qdrant minor, a peer removed undrained),
        bound beside the data guard's `before_delete`.
        """
        extra: dict[str, Any] = dict(kwargs)
        if data:
            # Data-bearing objects have fixed names, so a replacement can only delete first. Saying so
            # makes the engine run the before_delete data guard before anything else; left to itself,
            # pulumi-kubernetes plans create-before-delete, which server-side apply turns into a field
            # conflict on the live object and the guard never speaks (found by tests/engine).
            extra.setdefault("delete_before_replace", True)
        if data and self.protect:
            extra["protect"] = True
        before_delete = list(self.data_hooks.before_delete or []) if data and self.data_hooks is not None else []
        if before_delete or before_update:
            extra["hooks"] = pulumi.ResourceHookBinding(before_delete=before_delete or None,
                                                        before_update=list(before_update or []) or None)
        return self.target.options(parent=parent, **extra)

    def labels(self, app: str, component: str) -> dict[str, str]:
        return {
            "app.kubernetes.io/name": app,
            "app.kubernetes.io/component": component,
            "app.kubernetes.io/part-of": self.part_of,
            "app.kubernetes.io/managed-by": "pulumi",
        }

    @staticmethod
    def selector(app: str) -> dict[str, str]:
        return {"app.kubernetes.io/name": app, "app.kubernetes.io/part-of": "archivist"}
