"""Assembles every tier from validated settings. Order comes from data flow, not from here:
each tier takes the typed outputs of the ones it needs, and Pulumi derives the rest."""

from __future__ import annotations

import dataclasses
import hashlib
from dataclasses import dataclass
from decimal import Decimal

import pulumi

from .backup import Backups, MetricsScrape
from .capacity.demands_from_settings import workload_demands
from .capacity.figures import Capacity
from .capacity.sizing import stack_capacity
from .config.backup import BackupSettings
from .config.gemini import GeminiSettings
from .config.quantity import parse_quantity
from .config.security import SecuritySettings
from .config.settings import Settings
from .config.worker import WorkerRunSettings
from .config.worker import max_workers as worker_max_workers
from .entry.routes import Service
from .images import deploy_images
from .platforms import platform_module
from .platforms.gcp_apis import required_apis
from .secrets_backend import publisher as secret_publisher
from .tiers.app_config import AppConfig, StoreEndpoints
from .tiers.archivist_apps import ArchivistApps, deploy_apps
from .tiers.context import TierContext
from .tiers.data_guard import data_guard
from .tiers.ingress import Backend, ExternalAccess
from .tiers.kafka import KafkaBroker, cluster_id
from .tiers.lag_scaling import QUEUE_STATS_PATH, LagScaling
from .tiers.monitoring import Monitoring, monitoring_settings
from .tiers.namespace import ArchivistNamespace
from .tiers.neo4j import Neo4jStore
from .tiers.network_policies import NetworkPolicies
from .tiers.preflight import Preflight
from .tiers.qdrant import QdrantStore
from .tiers.quotas import NamespaceQuotas
from .tiers.redis import RedisCache
from .tiers.secrets import AppSecrets
from .tiers.shared_data import SharedData


@dataclass(frozen=True)
class StackSecrets:
    gemini_api_key: pulumi.Output[str]
    neo4j_password: pulumi.Output[str] | None  # None: generate one
    iap_client_secret: pulumi.Output[str] | None = None  # archivist:iapClientSecret (GKE IAP for writes)
    redis_password: pulumi.Output[str] | None = None  # None: generate one


@dataclass(frozen=True)
class ArchivistStack:
    namespace: ArchivistNamespace
    secrets: AppSecrets
    neo4j: Neo4jStore
    kafka: KafkaBroker
    qdrant: QdrantStore
    redis: RedisCache
    config: AppConfig
    shared_data: SharedData
    apps: ArchivistApps
    external: ExternalAccess | None
    capacity: Capacity
    kubeconfig: pulumi.Output[str] | None = None  # secret; only where the stack reaches a cloud cluster
    backups: Backups | None = None

    def outputs(self) -> dict[str, object]:
        ns = self.namespace.name
        forwards = {
            "neo4jBrowser": pulumi.Output.concat("kubectl -n ", ns, " port-forward svc/neo4j 7474:7474 7687:7687"),
            "qdrantDashboard": pulumi.Output.concat("kubectl -n ", ns, " port-forward svc/qdrant 6333:6333"),
        }
        endpoints: dict[str, object] = {
            "neo4j": self.neo4j.bolt.url,
            "kafka": self.kafka.bootstrap.address,
            "qdrant": self.qdrant.endpoint.url,
            "redis": self.redis.endpoint.url,
        }
        for name, app in (("search", self.apps.search), ("graph", self.apps.graph), ("worker", self.apps.worker)):
            if app.endpoint is not None:
                endpoints[name] = app.endpoint.url
        return {
            "namespace": ns,
            "endpoints": endpoints,
            "ingressUrl": self.external.url if self.external else None,
            **({"entry": self.external.outputs()} if self.external else {}),
            "portForward": forwards,
            "capacity": self.capacity.as_output(),
            **({"kubeconfig": _secret(self.kubeconfig)} if self.kubeconfig is not None else {}),
            **({"backupBucket": self.backups.bucket} if self.backups is not None else {}),
        }


def _secret(value: pulumi.Output[str]) -> pulumi.Output[str]:
    return pulumi.Output.secret(value)


def _fingerprint(value: str) -> str:
    """A truncated sha256: changes with the key, reveals nothing usable about it."""
    return hashlib.sha256(value.encode()).hexdigest()[:16]


def build_stack(settings: Settings, secrets: StackSecrets) -> ArchivistStack:
    capacity = stack_capacity(settings)
    if settings.platform == "gke":
        # One list of the Google APIs the stack uses, from the features on; the cluster module enables them.
        settings = dataclasses.replace(settings, cluster=dataclasses.replace(settings.cluster,
                                                                            apis=required_apis(settings)))
    # The node pools' autoscaling bounds follow from the workloads, so a scale-up never
    # waits on pods that could never be scheduled.
    target = platform_module(settings.platform).build(
        "cluster", settings.cluster, node_bounds=capacity.nodes, protect=settings.protect
    )
    images = deploy_images(settings.images, target.registry, platform_name=settings.platform)
    guard = data_guard(allow_data_loss=settings.allow_data_loss)
    namespace = ArchivistNamespace("archivist", namespace=settings.namespace, target=target, protect=settings.protect,
                                   data_hooks=guard)
    ctx = TierContext(namespace=namespace.name, target=target, protect=settings.protect, data_hooks=guard,
                      spread_across_nodes=settings.spread_across_nodes)
    # Isolation and the resource ceiling need only the namespace, so they go in alongside the stores.
    security = settings.security or SecuritySettings()
    if security.network_policy.enabled:
        NetworkPolicies("network-policies", ctx, settings)
    if security.quota.enabled:
        NamespaceQuotas("quotas", ctx, workload_demands(settings))
    mon = monitoring_settings(settings)

    def rwo(explicit: str | None) -> str | None:
        return explicit or target.storage.read_write_once

    app_secrets = AppSecrets("app-secrets", ctx, gemini_api_key=secrets.gemini_api_key,
                             neo4j_password=secrets.neo4j_password, publish=secret_publisher(settings))
    neo4j = Neo4jStore("neo4j", ctx, settings.neo4j, auth=app_secrets.neo4j_auth,
                       storage_class=rwo(settings.neo4j.storage.storage_class))
    kafka = KafkaBroker("kafka", ctx, settings.kafka, namespace_name=settings.namespace,
                        cluster_id=cluster_id(settings.project, settings.stack),
                        storage_class=rwo(settings.kafka.storage.storage_class))
    qdrant = QdrantStore("qdrant", ctx, settings.qdrant, namespace_name=settings.namespace,
                         storage_class=rwo(settings.qdrant.storage.storage_class))
    redis = RedisCache("redis", ctx, settings.redis, storage_class=rwo(settings.redis.storage.storage_class),
                       configured_password=secrets.redis_password)
    # Monitoring needs only the namespace, and Redis's credentials for its exporter.
    monitoring = Monitoring("monitoring", ctx, settings, mon, redis=redis.credentials) if mon.enabled else None

    gemini = settings.gemini or GeminiSettings()
    # Awaited by `pulumi up` before the apps that need them roll (tiers/preflight.py).
    preflight = Preflight("preflight", ctx, gemini=gemini, gemini_key=app_secrets.gemini_api_key,
                          key_checksum=pulumi.Output.unsecret(secrets.gemini_api_key.apply(_fingerprint)),
                          check_image=images.search, kafka=settings.kafka, bootstrap=kafka.bootstrap.address)
    config = AppConfig("app-config", ctx, StoreEndpoints(
        neo4j=neo4j.bolt, redis=redis.endpoint, qdrant=qdrant.endpoint, kafka=kafka.bootstrap,
        redis_credentials=redis.credentials, neo4j_password=app_secrets.password,
    ), max_workers=worker_max_workers(settings.worker_run or WorkerRunSettings(),
                                      parse_quantity(settings.worker.resources.cpu_limit) or Decimal(1)),
       gemini=gemini)
    shared_class = settings.shared_data.storage_class or (
        target.storage.read_write_many if settings.shared_data.access_mode == "ReadWriteMany"
        else target.storage.read_write_once
    )
    shared = SharedData("shared-data", ctx, settings.shared_data, storage_class=shared_class)
    apps = deploy_apps(ctx, settings, images=images, config=config, secrets=app_secrets,
                       shared_claim=shared.claim_name, preflight=preflight)
    if settings.keda is not None and settings.keda.enabled:
        graph_url = apps.graph.endpoint.url if apps.graph.endpoint is not None else None
        LagScaling("lag-scaling", ctx, settings.keda, settings.graph.autoscaling,
                   deployment=apps.graph.deployment.metadata.name, bootstrap=kafka.bootstrap.address,
                   queue_stats_url=pulumi.Output.concat(graph_url, QUEUE_STATS_PATH) if graph_url is not None else None)

    external = None
    if settings.ingress.mode != "none":
        # Only search and graph serve HTTP; the worker has no routes (entry/routes.py).
        backends: dict[Service, Backend] = {}
        if apps.search.endpoint is not None:
            backends["search"] = Backend(apps.search.service_name, apps.search.endpoint)
        if apps.graph.endpoint is not None:
            backends["graph"] = Backend(apps.graph.service_name, apps.graph.endpoint)
        external = ExternalAccess("external", ctx, settings.ingress, backends, platform=settings.platform,
                                  iap_client_secret=secrets.iap_client_secret)

    backup = settings.backup or BackupSettings()
    backups = None
    if backup.enabled:
        scrape = None
        if mon.prometheus_operator:  # the backup alerts read Velero's metrics; a ServiceMonitor needs the operator
            crds = monitoring.release if monitoring is not None else None  # installed here: its CRDs first
            scrape = MetricsScrape(labels=mon.object_labels, depends_on=[crds] if crds is not None else [])
        backups = Backups("backups", target=target, settings=backup, namespace=settings.namespace,
                          stack=settings.stack, protect=settings.protect, scrape=scrape)

    return ArchivistStack(namespace=namespace, secrets=app_secrets, neo4j=neo4j, kafka=kafka, qdrant=qdrant,
                          redis=redis, config=config, shared_data=shared, apps=apps, external=external,
                          capacity=capacity, kubeconfig=target.kubeconfig, backups=backups)
