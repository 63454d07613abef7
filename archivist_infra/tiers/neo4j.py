"""Neo4j community: the citation knowledge graph."""

from __future__ import annotations

import json
from decimal import Decimal

import pulumi

from ..config.quantity import MI, parse_quantity
from ..config.settings import HealthCheck, Neo4jSettings
from ..endpoint import Endpoint, service_host
from .context import TierContext
from .pods import probes
from .secrets import SecretRef
from .statefulset import StoreSpec, StoreWorkload

BOLT_PORT = 7687
HTTP_PORT = 7474
UID = 7474  # the neo4j user of the official image


def memory_plan(memory_limit: str) -> tuple[str, str]:
    """Heap and page cache from the container's memory limit.

    Half the limit for the heap (capped at 31g, beyond which the JVM loses compressed
    pointers), a quarter for the page cache, the rest for the JVM's native memory and
    the OS; exceeding the limit gets the pod OOM-killed rather than slow.
    """
    limit = parse_quantity(memory_limit) or Decimal(2**30)
    heap_mib = min(int(limit / 2 / MI), 31 * 1024)
    cache_mib = max(int(limit / 4 / MI), 64)
    return f"{heap_mib}m", f"{cache_mib}m"


class Neo4jStore(pulumi.ComponentResource):
    bolt: Endpoint
    http: Endpoint

    def __init__(self, name: str, ctx: TierContext, settings: Neo4jSettings, *, auth: SecretRef,
                 storage_class: str | None, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("archivist:stores:Neo4jStore", name, None, opts)
        heap, page_cache = memory_plan(settings.resources.memory_limit)
        env = [
            auth.env("NEO4J_AUTH"),
            {"name": "NEO4J_server_memory_heap_initial__size", "value": heap},
            {"name": "NEO4J_server_memory_heap_max__size", "value": heap},
            {"name": "NEO4J_server_memory_pagecache_size", "value": page_cache},
            # No default-database rename: Community serves one database, and the graph service opens
            # `neo4j` (services/graph-service/app/main.py:121-127, graph_builder.py:32).
            {"name": "NEO4J_server_default__listen__address", "value": "0.0.0.0"},
        ]
        if settings.plugins:
            env.append({"name": "NEO4J_PLUGINS", "value": json.dumps(list(settings.plugins))})
        # Bolt accepting connections is what clients need; cypher-shell probes cost a JVM start each time.
        check = HealthCheck(kind="tcp", port=BOLT_PORT, period_seconds=10, timeout_seconds=5,
                            failure_threshold=3, startup_seconds=600)
        workload = StoreWorkload(self, ctx, StoreSpec(
            app="neo4j",
            image=settings.image,
            ports={"http": HTTP_PORT, "bolt": BOLT_PORT},
            resources=settings.resources,
            volume=settings.storage,
            volume_class=storage_class,
            mount_path="/data",
            uid=UID,
            probes=probes(check),
            env=env,
            # The image's entrypoint rewrites its conf directory and fetches plugins at start.
            read_only_root=False,
            scratch={"logs": "/logs", "plugins": "/plugins"},
            grace_seconds=300,  # a clean shutdown checkpoints the store; a killed one replays its log
        ))
        self.workload = workload
        host = service_host(workload.service.metadata.name, ctx.namespace)
        self.bolt = Endpoint(host, BOLT_PORT, "bolt")
        self.http = Endpoint(host, HTTP_PORT, "http")
        self.service_name = workload.service.metadata.name
        self.register_outputs({"bolt_url": self.bolt.url, "http_url": self.http.url})
