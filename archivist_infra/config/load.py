"""Turns raw stack config into `Settings`, reporting every problem at once.

Defaults are the deployment guide's production figures; `Pulumi.dev.yaml` shrinks them.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import replace
from decimal import Decimal
from typing import Any

from .. import versions
from ..images import parse_images
from ..platforms import PLATFORMS, platform_module
from .backup import parse_backup
from .entry_access import IAP_SECRET_KEY
from .gemini import parse_gemini
from .ingress import parse_ingress
from .keda import parse_keda
from .kube_rules import check_app_env, dns_subdomain, store_image
from .monitoring import parse_monitoring
from .problems import Problems
from .quantity import parse_quantity
from .reader import ConfigReader
from .secrets import parse_secrets
from .security import parse_security
from .settings import (
    AppSettings,
    Autoscaling,
    HealthCheck,
    KafkaSettings,
    Neo4jSettings,
    QdrantSettings,
    RedisSettings,
    Resources,
    Settings,
    SharedDataSettings,
    Volume,
)
from .source import parse_source
from .worker import parse_worker_run

NAMESPACE = "archivist"

# Top-level keys this program reads; anything else under `archivist:` is a typo.
TOP_LEVEL_KEYS = (
    "platform", "namespace", "protect", "allowDataLoss", "spreadAcrossNodes", "cluster", "images",
    "neo4j", "kafka", "qdrant", "redis", "worker", "search", "graph", "sharedData",
    "ingress", "geminiApiKey", "neo4jPassword", "redisPassword", "networkPolicy", "quota", "source", "backup", "secrets", "keda",
    "monitoring", "gemini", IAP_SECRET_KEY,
)
# redisPassword: optional, generated when absent; setting a new one rotates it (Redis rolls, then its clients).
SECRET_KEYS = ("geminiApiKey", "neo4jPassword", "redisPassword", IAP_SECRET_KEY)

_REDIS_MEMORY = re.compile(r"^[0-9]+(b|kb|mb|gb)$")

_GUIDE_RESOURCES = {
    "worker": Resources("500m", "1Gi", "2", "4Gi"),
    "search": Resources("250m", "256Mi", "1", "1Gi"),
    "graph": Resources("250m", "512Mi", "1", "2Gi"),
    "neo4j": Resources("500m", "1Gi", "2", "4Gi"),
    "kafka": Resources("500m", "1Gi", "1", "2Gi"),
    "qdrant": Resources("250m", "512Mi", "1", "2Gi"),
    "redis": Resources("100m", "256Mi", "500m", "1Gi"),
}
# Qdrant: a distributed cluster starts with 2 peers so every collection has 2 copies from the start (qdrant.py).
_GUIDE_SCALING = {"worker": (2, 20), "search": (2, 10), "graph": (2, 10), "qdrant": (2, 5)}

# What the real images can answer (docs/configuring.md, the worker's health check): the worker serves no
# HTTP today, so its default check proves the mounts it cannot work without.
_DEFAULT_HEALTH = {
    "worker": HealthCheck(
        kind="exec",
        command=("/bin/sh", "-c", "test -w /data && test -r /app/config/config.yaml"),
        period_seconds=30,
        timeout_seconds=5,
    ),
    "search": HealthCheck(kind="http", path="/health", port=8000),
    "graph": HealthCheck(kind="http", path="/health", port=8081),
}
_APP_PORTS: dict[str, int | None] = {"worker": None, "search": 8000, "graph": 8081}
# The worker and search images create uid 1000; the graph image has no USER, so we pick one.
_APP_UIDS = {"worker": 1000, "search": 1000, "graph": 10001}


def load_settings(raw: Mapping[str, Any], *, project: str, stack: str, secrets_present: set[str]) -> Settings:
    """`raw` maps keys without the namespace (e.g. "neo4j") to parsed values."""
    problems = Problems()
    root = ConfigReader(raw, NAMESPACE, problems)

    platform = root.choice("platform", "local", PLATFORMS)
    namespace = root.dns_label("namespace", "archivist")
    protect = root.boolean("protect", False)
    allow_data_loss = root.boolean("allowDataLoss", False)
    spread = root.boolean("spreadAcrossNodes", False)

    cluster = platform_module(platform).parse(root.section("cluster"))
    source = parse_source(root)
    images = parse_images(root.section("images"), source)

    sections = {name: root.section(name) for name in ("worker", "search", "graph")}
    # The worker's run keys first: _app rejects keys nobody has read.
    worker_run = parse_worker_run(sections["worker"], source, platform=platform,
                                  node_cpu=platform_module(platform).node_machine(cluster)[0])
    # The search service's embedded vector index (app/vector_store.py:27-31), one volume per replica.
    search_index = _volume(sections["search"], "2Gi")
    apps = {name: _app(sections[name], name) for name in ("worker", "search", "graph")}
    settings = Settings(
        project=project,
        stack=stack,
        platform=platform,
        namespace=namespace,
        protect=protect,
        allow_data_loss=allow_data_loss,
        spread_across_nodes=spread,
        images=images,
        cluster=cluster,
        neo4j=_neo4j(root.section("neo4j")),
        kafka=_kafka(root.section("kafka"), graph_max=apps["graph"].autoscaling.max_replicas),
        qdrant=_qdrant(root.section("qdrant")),
        redis=_redis(root.section("redis")),
        worker=apps["worker"],
        search=apps["search"],
        graph=apps["graph"],
        shared_data=_shared_data(root.section("sharedData")),
        ingress=parse_ingress(root, platform, cluster),
        security=parse_security(root),
        source=source,
        worker_run=worker_run,
        search_index=search_index,
        backup=parse_backup(root, platform=platform, protect=protect),
        monitoring=parse_monitoring(root, platform=platform),
        gemini=parse_gemini(root),
    )
    settings = replace(settings, secrets=parse_secrets(root, platform),
                       keda=parse_keda(root, graph=settings.graph, kafka=settings.kafka))

    if "geminiApiKey" not in secrets_present:
        problems.add(
            f"{NAMESPACE}:geminiApiKey",
            "is required and must be secret: run `pulumi config set --secret archivist:geminiApiKey <key>`",
        )
    auth = settings.ingress.access.auth if settings.ingress.access else None
    if auth is not None and auth.method == "iap" and IAP_SECRET_KEY not in secrets_present:
        problems.add(f"{NAMESPACE}:{IAP_SECRET_KEY}",
                     "IAP (ingress.auth.method iap) needs the OAuth client's secret: run "
                     f"`pulumi config set --secret archivist:{IAP_SECRET_KEY} <client secret>`")
    elif IAP_SECRET_KEY in secrets_present and (auth is None or auth.method != "iap"):
        problems.add(f"{NAMESPACE}:{IAP_SECRET_KEY}", "is only used with ingress.writes: authenticated and "
                                                      "ingress.auth.method iap (GKE); remove it")
    for key in SECRET_KEYS:
        if root.has(key) and key not in secrets_present:
            problems.add(
                f"{NAMESPACE}:{key}",
                f"is stored in plain text; store it encrypted with `pulumi config set --secret archivist:{key} <value>`",
            )
        root.raw(key)

    root.reject_unknown(TOP_LEVEL_KEYS)
    problems.raise_if_any()
    return settings


# -- sections -----------------------------------------------------------------------------


def _resources(reader: ConfigReader, default: Resources) -> Resources:
    section = reader.section("resources")
    res = Resources(
        cpu_request=section.quantity("cpuRequest", default.cpu_request, what="CPU", example="250m"),
        memory_request=section.quantity("memoryRequest", default.memory_request, what="memory", example="512Mi"),
        cpu_limit=section.quantity("cpuLimit", default.cpu_limit, what="CPU", example="1"),
        memory_limit=section.quantity("memoryLimit", default.memory_limit, what="memory", example="1Gi"),
    )
    section.reject_unknown()
    for kind, request, limit in (("cpu", res.cpu_request, res.cpu_limit), ("memory", res.memory_request, res.memory_limit)):
        req, lim = parse_quantity(request), parse_quantity(limit)
        if req is not None and lim is not None and req > lim:
            reader.problems.add(
                section.key(f"{kind}Request"),
                f"{request} is above the {kind} limit {limit}; raise {kind}Limit or lower {kind}Request",
            )
    return res


def _volume(reader: ConfigReader, default_size: str) -> Volume:
    section = reader.section("storage")
    volume = Volume(
        size=section.quantity("size", default_size, what="storage", example="10Gi"),
        storage_class=dns_subdomain(section, "className", "StorageClass"),
    )
    section.reject_unknown()
    return volume


def _autoscaling(reader: ConfigReader, default_min: int, default_max: int) -> Autoscaling:
    section = reader.section("autoscaling")
    scaling = Autoscaling(
        min_replicas=section.integer("minReplicas", default_min, minimum=1, maximum=1000),
        max_replicas=section.integer("maxReplicas", default_max, minimum=1, maximum=1000),
        cpu_percent=section.integer("cpuPercent", 70, minimum=1, maximum=100),
        memory_percent=section.integer("memoryPercent", 80, minimum=1, maximum=100),
        scale_up_percent=section.integer("scaleUpPercent", 100, minimum=1, maximum=1000),
        scale_up_pods=section.integer("scaleUpPods", 4, minimum=1, maximum=100),
        scale_up_period_seconds=section.integer("scaleUpPeriodSeconds", 60, minimum=1, maximum=1800),
        scale_down_percent=section.integer("scaleDownPercent", 50, minimum=1, maximum=100),
        scale_down_period_seconds=section.integer("scaleDownPeriodSeconds", 300, minimum=1, maximum=1800),
        scale_down_stabilization_seconds=section.integer(
            "scaleDownStabilizationSeconds", 300, minimum=0, maximum=3600
        ),
    )
    section.reject_unknown()
    if scaling.max_replicas < scaling.min_replicas:
        reader.problems.add(
            section.key("maxReplicas"),
            f"{scaling.max_replicas} is below minReplicas {scaling.min_replicas}; raise maxReplicas or lower minReplicas",
        )
    return scaling


def _health(reader: ConfigReader, default: HealthCheck, app_port: int | None) -> HealthCheck:
    section = reader.section("healthCheck")
    if not section.has("kind") and not any(section.has(k) for k in ("path", "port", "command")):
        return default
    kind = section.choice("kind", default.kind, ("http", "tcp", "exec", "none"))
    port = section.integer("port", default.port or app_port or 0, minimum=0, maximum=65535) or None
    # An explicit command (even an empty one) is the user's; only an absent one falls back to the default.
    if section.has("command"):
        command = tuple(section.string_list("command"))
    else:
        command = default.command if kind == default.kind else ()
    check = HealthCheck(
        kind=kind,
        path=section.string("path", default.path, pattern=re.compile(r"^/"), hint="a path starts with '/'"),
        port=port,
        command=command,
        initial_delay_seconds=section.integer("initialDelaySeconds", default.initial_delay_seconds, minimum=0),
        period_seconds=section.integer("periodSeconds", default.period_seconds, minimum=1),
        timeout_seconds=section.integer("timeoutSeconds", default.timeout_seconds, minimum=1),
        failure_threshold=section.integer("failureThreshold", default.failure_threshold, minimum=1),
        startup_seconds=section.integer("startupSeconds", default.startup_seconds, minimum=0, maximum=3600),
    )
    section.reject_unknown()
    if kind in ("http", "tcp") and not check.port:
        reader.problems.add(section.key("port"), f"a {kind} health check needs the port the container listens on")
    if kind == "exec" and not check.command:
        reader.problems.add(section.key("command"), "an exec health check needs a command, e.g. ['cat', '/tmp/ready']")
    return check


def _app(reader: ConfigReader, name: str) -> AppSettings:
    default_port = _APP_PORTS[name]
    port = reader.integer("port", default_port or 0, minimum=0, maximum=65535) or None
    lo, hi = _GUIDE_SCALING[name]
    env = reader.mapping_of_strings("env")
    check_app_env(reader, name, env)
    app = AppSettings(
        name=name,
        port=port,
        resources=_resources(reader, _GUIDE_RESOURCES[name]),
        autoscaling=_autoscaling(reader, lo, hi),
        health=_health(reader, _DEFAULT_HEALTH[name], port),
        run_as_user=reader.integer("runAsUser", _APP_UIDS[name], minimum=1, maximum=2**31 - 1),
        extra_env=env,
    )
    reader.reject_unknown()
    if app.health.kind in ("http", "tcp") and app.health.port and app.port is None:
        reader.problems.add(
            reader.key("port"),
            f"the health check probes port {app.health.port} but the {name} declares no port; set port too",
        )
    return app


def _neo4j(reader: ConfigReader) -> Neo4jSettings:
    settings = Neo4jSettings(
        image=store_image(reader, versions.NEO4J_IMAGE),
        resources=_resources(reader, _GUIDE_RESOURCES["neo4j"]),
        storage=_volume(reader, "10Gi"),
        plugins=tuple(reader.string_list("plugins")) if reader.has("plugins") else ("apoc",),
        database=reader.dns_label("database", "neo4j"),
    )
    reader.reject_unknown()
    if settings.database != "neo4j":
        reader.problems.add(reader.key("database"), f"{settings.database!r}: the graph service opens the database "
                            "'neo4j' (services/graph-service/app/main.py:121-127) and Community serves one; remove the key")
    memory = parse_quantity(settings.resources.memory_limit)
    if memory is not None and memory < Decimal(768) * 2**20:
        reader.problems.add(
            reader.key("resources.memoryLimit"),
            f"{settings.resources.memory_limit} is too small for Neo4j; give it at least 768Mi",
        )
    return settings


def _kafka(reader: ConfigReader, *, graph_max: int) -> KafkaSettings:
    # Every graph replica consumes `paper.processed` in group `graph-builder`
    # (services/graph-service/app/main.py:148-152): a replica beyond the partition count idles.
    brokers = reader.integer("brokers", 1, minimum=1, maximum=9)
    settings = KafkaSettings(
        image=store_image(reader, versions.KAFKA_IMAGE),
        brokers=brokers,
        partitions=reader.integer("partitions", max(3, graph_max), minimum=1, maximum=1000),
        resources=_resources(reader, _GUIDE_RESOURCES["kafka"]),
        storage=_volume(reader, "10Gi"),
        # The voter set is fixed for a stack's life (kafka.py), so its default must not follow the broker
        # count: growing brokers would otherwise ask for a new quorum, which the guard refuses (audit D8).
        # Stacks that want 3 voters say so (Pulumi.prod.yaml); 1 -> 3 brokers leaves 1 voter alone.
        controllers=reader.integer("controllers", 1, minimum=1, maximum=5),
    )
    reader.reject_unknown()
    if settings.partitions < graph_max:
        reader.problems.add(
            reader.key("partitions"),
            f"{settings.partitions} is below archivist:graph.autoscaling.maxReplicas ({graph_max}): graph replicas "
            "beyond the partition count would consume nothing; raise partitions or lower the graph's maxReplicas",
        )
    if settings.controllers % 2 == 0:
        reader.problems.add(reader.key("controllers"),
                            f"{settings.controllers} voters tolerate no more failures than {settings.controllers - 1}; "
                            "use 1, 3 or 5")
    if settings.controllers > brokers:
        reader.problems.add(reader.key("brokers"),
                            f"{brokers} is below kafka.controllers {settings.controllers}: the first "
                            f"{settings.controllers} pods are the controller quorum; keep at least that many brokers")
    return settings


def _qdrant(reader: ConfigReader) -> QdrantSettings:
    lo, hi = _GUIDE_SCALING["qdrant"]
    settings = QdrantSettings(
        image=store_image(reader, versions.QDRANT_IMAGE),
        autoscaling=_autoscaling(reader, lo, hi),
        resources=_resources(reader, _GUIDE_RESOURCES["qdrant"]),
        storage=_volume(reader, "5Gi"),
    )
    reader.reject_unknown()
    scaling = settings.autoscaling
    if scaling.max_replicas > 1 and scaling.min_replicas < 2:
        reader.problems.add(
            reader.key("autoscaling.minReplicas"),
            f"{scaling.min_replicas} with maxReplicas {scaling.max_replicas} runs a distributed Qdrant that can hold "
            "a single copy of a collection; use minReplicas >= 2 (every collection gets 2 copies), or "
            "minReplicas = maxReplicas = 1 for a single node",
        )
    return settings


def _redis(reader: ConfigReader) -> RedisSettings:
    settings = RedisSettings(
        image=store_image(reader, versions.REDIS_IMAGE),
        resources=_resources(reader, _GUIDE_RESOURCES["redis"]),
        storage=_volume(reader, "2Gi"),
        max_memory=reader.string("maxMemory", "512mb", pattern=_REDIS_MEMORY, hint="write it like '512mb'"),
    )
    reader.reject_unknown()
    limit = parse_quantity(settings.resources.memory_limit)
    units = {"b": 1, "kb": 1024, "mb": 1024**2, "gb": 1024**3}
    match = re.match(r"^([0-9]+)([a-z]+)$", settings.max_memory)
    if limit is not None and match and Decimal(int(match.group(1)) * units[match.group(2)]) >= limit:
        reader.problems.add(
            reader.key("maxMemory"),
            f"{settings.max_memory} leaves no headroom below the memory limit {settings.resources.memory_limit}; "
            "keep it under about 75 % of the limit",
        )
    return settings


def _shared_data(reader: ConfigReader) -> SharedDataSettings:
    settings = SharedDataSettings(
        size=reader.quantity("size", "20Gi", what="storage", example="20Gi"),
        storage_class=dns_subdomain(reader, "className", "StorageClass"),
        access_mode=reader.choice("accessMode", "ReadWriteMany", ("ReadWriteMany", "ReadWriteOnce")),
    )
    reader.reject_unknown()
    return settings
