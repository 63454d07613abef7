"""What every platform hands to the Kubernetes tiers: where to deploy and with what storage.

The tiers never ask which platform they run on; they take a `ClusterTarget`. That keeps
cloud SDK imports inside the platform module that needs them.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import pulumi
import pulumi_kubernetes as k8s


@dataclass(frozen=True)
class StorageClasses:
    """Names of the classes claims use; None means the cluster's default class."""

    read_write_once: str | None
    read_write_many: str | None


@dataclass(frozen=True)
class Registry:
    """A container registry the program can push to."""

    # e.g. "us-central1-docker.pkg.dev/my-project/archivist"; images are "<url>/<name>".
    url: pulumi.Output[str]
    username: pulumi.Output[str]
    password: pulumi.Output[str]  # secret


@dataclass(frozen=True)
class ClusterTarget:
    platform: str
    # None only on `local` without an explicit context: the ambient kubeconfig is the user's choice there.
    provider: k8s.Provider | None
    storage: StorageClasses
    registry: Registry | None = None
    kubeconfig: pulumi.Output[str] | None = None  # secret
    # Resources the workloads must wait for beyond the provider itself (e.g. CSI add-ons, metrics-server).
    ready: list[pulumi.Resource] = field(default_factory=list)

    def options(self, **kwargs: object) -> pulumi.ResourceOptions:
        """Options that route a Kubernetes resource to this cluster."""
        opts = pulumi.ResourceOptions(**kwargs)  # type: ignore[arg-type]
        if self.provider is not None:
            opts = pulumi.ResourceOptions.merge(opts, pulumi.ResourceOptions(providers={"kubernetes": self.provider}))
        return opts
