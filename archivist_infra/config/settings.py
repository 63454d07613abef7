"""The validated, typed settings of one stack. Built only by `load.load_settings`."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

HealthKind = Literal["http", "tcp", "exec", "none"]
IngressMode = Literal["none", "ingress", "gateway"]
AccessMode = Literal["ReadWriteOnce", "ReadWriteMany"]


@dataclass(frozen=True)
class Resources:
    cpu_request: str
    memory_request: str
    cpu_limit: str
    memory_limit: str

    def as_k8s(self) -> dict[str, dict[str, str]]:
        return {
            "requests": {"cpu": self.cpu_request, "memory": self.memory_request},
            "limits": {"cpu": self.cpu_limit, "memory": self.memory_limit},
        }


@dataclass(frozen=True)
class Volume:
    size: str
    storage_class: str | None  # None: the platform's class for this access mode


@dataclass(frozen=True)
class Autoscaling:
    min_replicas: int
    max_replicas: int
    cpu_percent: int
    memory_percent: int
    scale_up_percent: int
    scale_up_pods: int
    scale_up_period_seconds: int
    scale_down_percent: int
    scale_down_period_seconds: int
    scale_down_stabilization_seconds: int


@dataclass(frozen=True)
class HealthCheck:
    kind: HealthKind
    path: str = "/health"
    port: int | None = None
    command: tuple[str, ...] = ()
    initial_delay_seconds: int = 0
    period_seconds: int = 10
    timeout_seconds: int = 5
    failure_threshold: int = 3
    startup_seconds: int = 120  # how long a slow start may take before liveness applies


@dataclass(frozen=True)
class AppSettings:
    name: str  # worker | search | graph
    port: int | None  # None: serves nothing (the worker today)
    resources: Resources
    autoscaling: Autoscaling
    health: HealthCheck
    run_as_user: int
    extra_env: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Neo4jSettings:
    image: str
    resources: Resources
    storage: Volume
    plugins: tuple[str, ...]
    database: str


@dataclass(frozen=True)
class KafkaSettings:
    image: str
    brokers: int
    partitions: int
    resources: Resources
    storage: Volume
    controllers: int = 1  # the fixed KRaft voter set: ordinals 0..controllers-1 (kafka.py)


@dataclass(frozen=True)
class QdrantSettings:
    image: str
    autoscaling: Autoscaling  # min == max == 1 means a single node; > 1 runs distributed mode
    resources: Resources
    storage: Volume

    @property
    def distributed(self) -> bool:
        return self.autoscaling.max_replicas > 1


@dataclass(frozen=True)
class RedisSettings:
    image: str
    resources: Resources
    storage: Volume
    max_memory: str  # Redis syntax, e.g. "512mb"


@dataclass(frozen=True)
class SharedDataSettings:
    size: str
    storage_class: str | None
    access_mode: AccessMode


@dataclass(frozen=True)
class IngressSettings:
    mode: IngressMode
    host: str | None
    class_name: str | None  # Ingress mode
    tls_issuer: str | None  # cert-manager ClusterIssuer
    gateway_name: str | None  # Gateway mode: the parent Gateway
    gateway_namespace: str | None
    annotations: dict[str, str] = field(default_factory=dict)
    entry: Any = None  # config.ingress.EntrySettings: the entry the stack creates (mode gateway)
    adopted: Any = None  # config.ingress.AdoptedGateway: an existing Gateway the route attaches to
    access: Any = None  # config.entry_access.EntryAccess: what the entry publishes, who may write, limits


@dataclass(frozen=True)
class Settings:
    project: str
    stack: str
    platform: str
    namespace: str
    protect: bool  # production: Pulumi refuses to delete data-bearing resources
    allow_data_loss: bool  # lifts the before-delete guard on stores, the shared claim, the namespace
    spread_across_nodes: bool
    images: Any  # images.ImageSettings (kept loose so config imports no component code)
    cluster: Any  # the platform module's settings
    neo4j: Neo4jSettings
    kafka: KafkaSettings
    qdrant: QdrantSettings
    redis: RedisSettings
    worker: AppSettings
    search: AppSettings
    graph: AppSettings
    shared_data: SharedDataSettings
    ingress: IngressSettings
    security: Any = None  # config.security.SecuritySettings; defaulted so older constructors keep working
    source: Any = None  # config.source.SourceSettings: the application source deployed (None: the default pin)
    worker_run: Any = None  # config.worker.WorkerRunSettings: batch (default) or service (None: batch defaults)
    search_index: Volume | None = None  # archivist:search.storage: each search replica's index volume
    backup: Any = None  # config.backup.BackupSettings (None: no backups)
    secrets: Any = None  # config.secrets.SecretStoreSettings; None: Pulumi-managed Kubernetes Secret
    keda: Any = None  # config.keda.KedaSettings; None: no lag scaling
    monitoring: Any = None  # config.monitoring.MonitoringSettings; None: the defaults
    gemini: Any = None  # config.gemini.GeminiSettings; None: the defaults (gemini_models.py)

    @property
    def apps(self) -> tuple[AppSettings, AppSettings, AppSettings]:
        return (self.worker, self.search, self.graph)
