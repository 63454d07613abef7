"""A cluster that already exists in the user's kubeconfig (kind, minikube, Docker Desktop, k3d).

No cloud SDK here. Storage uses the cluster's own default class unless config names one:
kind's `standard` (local-path, WaitForFirstConsumer) and minikube's `standard` (hostpath)
are the right choice on one node, and creating classes for a provisioner that may not
exist would only produce claims that never bind.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from decimal import Decimal

import pulumi
import pulumi_kubernetes as k8s

from ..capacity.figures import AS_REQUESTED, NodeBounds, StorageBilling
from ..config.quantity import GI
from ..config.reader import ConfigReader
from .common import StorageClassConfig, parse_node_shape, parse_storage_classes
from .target import ClusterTarget, StorageClasses

DISTRIBUTIONS = ("kind", "minikube", "docker-desktop", "other")
_CONTEXT = re.compile(r"^[\w.@:/-]+$")
# A developer laptop's share for the cluster; only used for the capacity figures.
_DEFAULT_NODE = (Decimal(4), Decimal(8) * GI)


@dataclass(frozen=True)
class LocalSettings:
    context: str | None  # None: the kubeconfig's current context
    distribution: str  # how images reach the node (kind needs `kind load`, minikube its docker-env)
    storage_classes: StorageClassConfig
    node_shape: tuple[Decimal, Decimal]


def parse(reader: ConfigReader) -> LocalSettings:
    context = reader.string("context", "", pattern=_CONTEXT, hint="a context name from `kubectl config get-contexts`") or None
    distribution = reader.choice("distribution", "other", DISTRIBUTIONS)
    # Either figure may be given alone; the other keeps the laptop default.
    shape = parse_node_shape(reader, "local", {"local": _DEFAULT_NODE}, "nodeCpu") or _DEFAULT_NODE
    settings = LocalSettings(context=context, distribution=distribution,
                             storage_classes=parse_storage_classes(reader), node_shape=shape)
    reader.reject_unknown()
    return settings


def node_machine(settings: LocalSettings) -> tuple[Decimal, Decimal]:
    return settings.node_shape


def has_spot_pool(settings: LocalSettings) -> bool:
    return False  # a local cluster has no interruptible capacity to move work to


def storage_billing(settings: LocalSettings) -> StorageBilling:
    return AS_REQUESTED


class LocalCluster(pulumi.ComponentResource):
    target: ClusterTarget

    def __init__(self, name: str, settings: LocalSettings, *, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("archivist:cluster:LocalCluster", name, None, opts)
        provider = None
        if settings.context:
            # An explicit provider pins the context, so switching `kubectl` context cannot redirect a deploy.
            provider = k8s.Provider(f"{name}-k8s", context=settings.context, opts=pulumi.ResourceOptions(parent=self))
        classes = settings.storage_classes
        self.target = ClusterTarget(
            platform="local",
            provider=provider,
            storage=StorageClasses(read_write_once=classes.read_write_once, read_write_many=classes.read_write_many),
        )
        self.register_outputs({"context": settings.context or ""})


def build(name: str, settings: LocalSettings, *, node_bounds: NodeBounds, protect: bool) -> ClusterTarget:
    # node_bounds/protect: a local cluster has no node pools, and nothing here is worth protecting.
    return LocalCluster(name, settings).target
