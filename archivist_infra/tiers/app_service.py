"""One Archivist service: Deployment, Service, autoscaler and disruption budget.

The autoscaler owns the replica count, so the Deployment never sets `replicas` and
`pulumi up` never fights the HPA. Rollouts surge one new pod before an old one goes
(maxUnavailable 0), and the disruption budget allows one pod down at a time: the guide's
availability without ever blocking a node drain.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import pulumi
import pulumi_kubernetes as k8s

from ..config.settings import AppSettings
from ..endpoint import Endpoint, service_host
from .autoscaling import autoscaler
from .context import TierContext
from .disruption import disruption_budget
from .pods import Spec, container_security, pod_security, probes, resources, spread
from .volume_growth import TEMPLATE_SIZE_PATH, claim_patches


@dataclass(frozen=True)
class AppServiceArgs:
    settings: AppSettings
    image: pulumi.Input[str]
    env: list[Spec]
    config_checksum: pulumi.Input[str]
    volumes: list[Spec] = field(default_factory=list)
    volume_mounts: list[Spec] = field(default_factory=list)
    init_containers: list[Spec] = field(default_factory=list)
    args: list[str] | None = None  # arguments to the image's entrypoint (None: the image's CMD)
    # A per-replica persistent volume (name -> (size, class)): the service runs as a StatefulSet then. At most
    # one: its claims grow in place through claim patches (volume_growth.py TEMPLATE_SIZE_PATH).
    claim_templates: dict[str, tuple[str, str | None]] = field(default_factory=dict)
    cpu_autoscaler: bool = True  # False: something else (KEDA's ScaledObject) owns the replica count
    annotations: dict[str, str] = field(default_factory=dict)  # on the workload object (e.g. Reloader's)
    # Resources the workload waits for (the pre-flight Jobs, tiers/preflight.py): Pulumi creates it after them.
    depends_on: list[pulumi.Resource] = field(default_factory=list)


class AppService(pulumi.ComponentResource):
    endpoint: Endpoint | None

    def __init__(self, name: str, ctx: TierContext, args: AppServiceArgs,
                 opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("archivist:apps:AppService", name, None, opts)
        s = args.settings
        app = f"archivist-{s.name}"
        labels = ctx.labels(app, s.name)
        selector = ctx.selector(app)

        account = k8s.core.v1.ServiceAccount(
            f"{app}-sa",
            metadata={"name": app, "namespace": ctx.namespace, "labels": labels},
            automount_service_account_token=False,  # no Archivist service calls the Kubernetes API
            opts=ctx.opts(self),
        )
        container: Spec = {
            "name": s.name,
            "image": args.image,
            "image_pull_policy": "IfNotPresent",
            "env": args.env,
            "resources": resources(s.resources),
            "security_context": container_security(read_only_root=True),
            "volume_mounts": [*args.volume_mounts, {"name": "tmp", "mount_path": "/tmp"}],
            **probes(s.health),
        }
        if args.args is not None:
            container["args"] = args.args
        if s.port is not None:
            container["ports"] = [{"name": "http", "container_port": s.port}]
        volumes = [*args.volumes, {"name": "tmp", "empty_dir": {"size_limit": "1Gi"}}]
        for init in args.init_containers:
            init.setdefault("security_context", container_security(read_only_root=True))
            init.setdefault("resources", resources(s.resources))

        template: Spec = {
            "metadata": {
                "labels": {**labels, **selector},
                "annotations": {"archivist.dev/config-checksum": args.config_checksum},
            },
            "spec": {
                "service_account_name": account.metadata.name,
                "automount_service_account_token": False,
                "security_context": pod_security(s.run_as_user),
                "enable_service_links": False,
                "termination_grace_period_seconds": 60,
                "init_containers": args.init_containers,
                "containers": [container],
                "volumes": volumes,
                **spread(selector, enabled=ctx.spread_across_nodes),
            },
        }
        self.kind = "StatefulSet" if args.claim_templates else "Deployment"
        if args.claim_templates:
            claims: list[Spec] = []
            for claim, (size, storage_class) in sorted(args.claim_templates.items()):
                claim_spec: Spec = {"access_modes": ["ReadWriteOnce"], "resources": {"requests": {"storage": size}}}
                if storage_class:
                    claim_spec["storage_class_name"] = storage_class
                # A per-replica disk is a store's disk to the backups: Velero's volume policy snapshots claims
                # labelled component=store (backup/__init__.py `volume_policy`).
                claim_labels = {**labels, "app.kubernetes.io/component": "store"}
                claims.append({"metadata": {"name": claim, "labels": claim_labels}, "spec": claim_spec})
            self.workload: k8s.apps.v1.Deployment | k8s.apps.v1.StatefulSet = k8s.apps.v1.StatefulSet(
                f"{app}-statefulset",
                metadata={"name": app, "namespace": ctx.namespace, "labels": labels,
                          **({"annotations": args.annotations} if args.annotations else {})},
                spec={
                    "selector": {"match_labels": selector},
                    "service_name": app,
                    # Replicas are interchangeable: start and stop them together, not one by one.
                    "pod_management_policy": "Parallel",
                    "update_strategy": {"type": "RollingUpdate"},
                    # A replica's volume outlives a scale-down and comes back with the replica.
                    "persistent_volume_claim_retention_policy": {"when_deleted": "Retain", "when_scaled": "Retain"},
                    "revision_history_limit": 5,
                    "template": template,
                    "volume_claim_templates": claims,
                },
                # Its index claims hold data like a store's: protected in production, guarded against a
                # replacing change, and grown in place (the API server refuses any claim-template change).
                opts=ctx.opts(self, data=True,
                              ignore_changes=["spec.replicas", TEMPLATE_SIZE_PATH], depends_on=args.depends_on),
            )
            (claim, (size, _class)), = args.claim_templates.items()  # one per-replica volume (TEMPLATE_SIZE_PATH)
            self.claim_patches = claim_patches(self, ctx, app=app, template=claim, size=size,
                                               ordinals=s.autoscaling.min_replicas, depends_on=[self.workload])
        else:
            self.workload = k8s.apps.v1.Deployment(
                f"{app}-deployment",
                metadata={"name": app, "namespace": ctx.namespace, "labels": labels,
                          **({"annotations": args.annotations} if args.annotations else {})},
                spec={
                    "selector": {"match_labels": selector},
                    "strategy": {"type": "RollingUpdate", "rolling_update": {"max_unavailable": 0, "max_surge": 1}},
                    "revision_history_limit": 5,
                    "template": template,
                },
                # The HPA owns spec.replicas; the Deployment leaves it unset and Pulumi ignores drift there.
                opts=ctx.opts(self, ignore_changes=["spec.replicas"], depends_on=args.depends_on),
            )
        self.deployment = self.workload

        self.endpoint = None
        if s.port is not None:
            service = k8s.core.v1.Service(
                f"{app}-service",
                metadata={"name": app, "namespace": ctx.namespace, "labels": labels},
                spec={"type": "ClusterIP", "selector": selector,
                      "ports": [{"name": "http", "port": s.port, "target_port": "http"}]},
                opts=ctx.opts(self),
            )
            self.service_name: pulumi.Output[str] = service.metadata.name
            self.endpoint = Endpoint(service_host(service.metadata.name, ctx.namespace), s.port, "http")

        self.hpa = autoscaler(self, ctx, app, s.autoscaling,
                              target=("apps/v1", self.kind, self.workload.metadata.name)
                              ) if args.cpu_autoscaler else None
        self.pdb = disruption_budget(self, ctx, app, labels)
        self.register_outputs({"url": self.endpoint.url if self.endpoint else None})
