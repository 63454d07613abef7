"""One StatefulSet with its Services: the shape every store shares.

Each replica gets its own volume from a claim template, so a rolling update or a second
replica never fights over one ReadWriteOnce volume (the original ran Qdrant and Redis as
Deployments on a single claim). Claims are kept when the StatefulSet is deleted or
scaled down, and the claim template is the one part Pulumi must never change in place:
volumes grow through claim patches instead (volume_growth.py).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

import pulumi
import pulumi_kubernetes as k8s

from ..config.settings import Resources, Volume
from .context import TierContext
from .pods import Spec, container_security, pod_security, resources, spread
from .volume_growth import TEMPLATE_SIZE_PATH, claim_patches

_DATA_VOLUME = "data"


@dataclass(frozen=True)
class StoreSpec:
    app: str  # also the Service and StatefulSet name
    image: str
    ports: dict[str, int]  # port name -> container port (all exposed by the client Service)
    resources: Resources
    volume: Volume
    volume_class: str | None  # resolved storage class (None: cluster default)
    mount_path: str
    uid: int
    probes: Spec
    env: list[Spec] = field(default_factory=list)
    command: list[str] | None = None
    args: list[str] | None = None
    replicas: int | None = 1  # None: an autoscaler owns the count
    parallel: bool = False  # pods start together (clustered stores whose peers find each other)
    read_only_root: bool = True
    scratch: dict[str, str] = field(default_factory=dict)  # emptyDir name -> mount path
    grace_seconds: int = 60
    client_ports: tuple[str, ...] | None = None  # ports on the client Service (default: all)
    min_replicas: int = 1  # with replicas=None: the ordinals that always exist (their claims are grown in place)
    # Labels on the claim template. Any change to the template replaces the StatefulSet, which the
    # data guard refuses: a store puts facts here whose change must not happen in place (Kafka's quorum).
    claim_labels: dict[str, str] = field(default_factory=dict)
    scratch_sizes: dict[str, str] = field(default_factory=dict)  # emptyDir name -> sizeLimit (default 1Gi)
    extra_volumes: list[Spec] = field(default_factory=list)  # further pod volumes (e.g. a second claim)
    extra_mounts: list[Spec] = field(default_factory=list)
    pod_annotations: Mapping[str, pulumi.Input[str]] = field(default_factory=dict)
    # `before_update` hooks of the StatefulSet: they see the running stack's inputs and may refuse (Qdrant).
    update_hooks: tuple[pulumi.ResourceHook, ...] = ()


class StoreWorkload:
    """The Kubernetes objects of one store, created as children of `parent`."""

    def __init__(self, parent: pulumi.Resource, ctx: TierContext, spec: StoreSpec) -> None:
        labels = ctx.labels(spec.app, "store")
        selector = ctx.selector(spec.app)
        ports: list[Spec] = [{"name": n, "port": p, "target_port": p} for n, p in spec.ports.items()]
        client_ports: list[Spec] = [p for p in ports if spec.client_ports is None or p["name"] in spec.client_ports]

        # Peers and the StatefulSet's stable pod names (<app>-0.<app>-headless) need a headless Service.
        self.headless = k8s.core.v1.Service(
            f"{spec.app}-headless",
            metadata={"name": f"{spec.app}-headless", "namespace": ctx.namespace, "labels": labels},
            spec={
                "cluster_ip": "None",
                "selector": selector,
                "ports": ports,
                # Clustered stores must resolve peers before they are ready, or the first pod waits forever.
                "publish_not_ready_addresses": True,
            },
            opts=ctx.opts(parent),
        )
        self.service = k8s.core.v1.Service(
            f"{spec.app}-service",
            metadata={"name": spec.app, "namespace": ctx.namespace, "labels": labels},
            spec={"type": "ClusterIP", "selector": selector, "ports": client_ports},
            opts=ctx.opts(parent),
        )

        volume_mounts = [{"name": _DATA_VOLUME, "mount_path": spec.mount_path}]
        volumes: list[Spec] = []
        for name, path in spec.scratch.items():
            volume_mounts.append({"name": name, "mount_path": path})
            volumes.append({"name": name, "empty_dir": {"size_limit": spec.scratch_sizes.get(name, "1Gi")}})
        volume_mounts += spec.extra_mounts
        volumes += spec.extra_volumes

        container: Spec = {
            "name": spec.app,
            "image": spec.image,
            "image_pull_policy": "IfNotPresent",
            "ports": [{"name": n, "container_port": p} for n, p in spec.ports.items()],
            "env": spec.env,
            "resources": resources(spec.resources),
            "security_context": container_security(read_only_root=spec.read_only_root),
            "volume_mounts": volume_mounts,
            **spec.probes,
        }
        if spec.command is not None:
            container["command"] = spec.command
        if spec.args is not None:
            container["args"] = spec.args

        claim: Spec = {
            "metadata": {"name": _DATA_VOLUME, "labels": {**labels, **spec.claim_labels}},
            "spec": {
                "access_modes": ["ReadWriteOnce"],
                "resources": {"requests": {"storage": spec.volume.size}},
            },
        }
        if spec.volume_class:
            claim["spec"]["storage_class_name"] = spec.volume_class

        sts_spec: Spec = {
            "service_name": self.headless.metadata.name,
            "selector": {"match_labels": selector},
            "pod_management_policy": "Parallel" if spec.parallel else "OrderedReady",
            "update_strategy": {"type": "RollingUpdate"},
            # Volumes outlive the StatefulSet and its scale-downs: data is deleted by people, not by rollouts.
            "persistent_volume_claim_retention_policy": {"when_deleted": "Retain", "when_scaled": "Retain"},
            "template": {
                "metadata": {"labels": {**labels, **selector},
                             **({"annotations": dict(spec.pod_annotations)} if spec.pod_annotations else {})},
                "spec": {
                    "service_account_name": spec.app,
                    "automount_service_account_token": False,
                    "security_context": pod_security(spec.uid),
                    "termination_grace_period_seconds": spec.grace_seconds,
                    "enable_service_links": False,
                    "containers": [container],
                    "volumes": volumes,
                    **spread(selector, enabled=ctx.spread_across_nodes),
                },
            },
            "volume_claim_templates": [claim],
        }
        if spec.replicas is not None:
            sts_spec["replicas"] = spec.replicas

        self.service_account = k8s.core.v1.ServiceAccount(
            f"{spec.app}-sa",
            metadata={"name": spec.app, "namespace": ctx.namespace, "labels": labels},
            automount_service_account_token=False,
            opts=ctx.opts(parent),
        )
        # The API server refuses to update a claim template; the size it was created with stays, and a
        # bigger size reaches the claims through patches (volume_growth.py).
        ignore = [TEMPLATE_SIZE_PATH]
        if spec.replicas is None:
            # The autoscaler owns the replica count; never let `pulumi up` reset it.
            ignore.append("spec.replicas")
        self.statefulset = k8s.apps.v1.StatefulSet(
            f"{spec.app}-statefulset",
            metadata={"name": spec.app, "namespace": ctx.namespace, "labels": labels},
            spec=sts_spec,
            opts=ctx.opts(
                parent,
                data=True,
                before_update=list(spec.update_hooks),
                depends_on=[self.service_account],
                # Claim templates are immutable: a change replaces the StatefulSet. Its name is fixed, so
                # the replacement deletes first (ctx.opts, data=True): create-before-delete fails on the
                # live object with a server-side-apply conflict on spec.volumeClaimTemplates (real engine,
                # tests/engine), and deleting first lets the data guard's before_delete hook refuse it.
                ignore_changes=ignore,
            ),
        )
        ordinals = spec.replicas if spec.replicas is not None else spec.min_replicas
        self.claim_patches = claim_patches(parent, ctx, app=spec.app, template=_DATA_VOLUME, size=spec.volume.size,
                                           ordinals=ordinals, depends_on=[self.statefulset])
