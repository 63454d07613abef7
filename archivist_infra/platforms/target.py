"""What every platform hands to the Kubernetes tiers: where to deploy and with what storage.

The tiers never ask which platform they run on; they take a `ClusterTarget`. That keeps
cloud SDK imports inside the platform module that needs them.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

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
class CloudContext:
    """What a feature needs to create its own cloud resources (buckets, secret-manager entries, DNS
    records, IAM) next to the cluster, and to give a Kubernetes ServiceAccount a cloud identity
    without static keys (GKE Workload Identity, EKS IRSA, AKS workload identity federation)."""

    platform: str  # gke | eks | aks
    region: str  # GCP region or zone's region, AWS region, Azure location
    cluster_name: pulumi.Output[str]
    # Cloud resources of a feature depend on these (the cluster, its pools): identity bindings
    # to a cluster's OIDC issuer or workload pool cannot exist before it does.
    depends_on: list[pulumi.Resource] = field(default_factory=list)
    # An explicit cloud provider the feature's cloud resources must use (EKS pins its region on one).
    provider: pulumi.ProviderResource | None = None
    project: str | None = None  # GKE: project id; workload pool `<project>.svc.id.goog`
    oidc_provider_arn: pulumi.Output[str] | None = None  # EKS: the IAM OIDC provider for IRSA
    oidc_issuer_url: pulumi.Output[str] | None = None  # EKS and AKS: the cluster's OIDC issuer URL
    resource_group: pulumi.Output[str] | None = None  # AKS: the resource group the stack works in
    # GKE: the enablement of each Google API the stack uses (platforms/gcp_apis.py), by API name.
    apis: Mapping[str, pulumi.Resource] = field(default_factory=dict)

    def needs(self, *apis: str) -> list[pulumi.Resource]:
        """What a resource calling these Google APIs must depend on. GKE only; an API missing from the
        stack's list is a programming error caught at build time (add it in gcp_apis.required_apis)."""
        if self.platform != "gke":
            return []
        missing = [a for a in apis if a not in self.apis]
        if missing:
            raise ValueError(f"{', '.join(missing)} not enabled by this stack: add to gcp_apis.required_apis")
        return [self.apis[a] for a in apis]

    @property
    def workload_pool(self) -> str | None:
        return f"{self.project}.svc.id.goog" if self.project else None


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
    cloud: CloudContext | None = None  # None on `local`: no cloud account to create resources in
    interruptible: dict[str, Any] | None = None  # pod-spec fields (tolerations, affinity) for the spot pool

    def options(self, **kwargs: object) -> pulumi.ResourceOptions:
        """Options that route a Kubernetes resource to this cluster."""
        opts = pulumi.ResourceOptions(**kwargs)  # type: ignore[arg-type]
        if self.provider is not None:
            opts = pulumi.ResourceOptions.merge(opts, pulumi.ResourceOptions(providers={"kubernetes": self.provider}))
        return opts
