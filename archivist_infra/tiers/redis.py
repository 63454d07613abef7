"""Redis: the cache, persisted with an append-only file so a restart keeps it warm."""

from __future__ import annotations

import pulumi

from ..config.settings import HealthCheck, RedisSettings
from ..endpoint import Endpoint, service_host
from .context import TierContext
from .pods import probes
from .statefulset import StoreSpec, StoreWorkload

PORT = 6379
UID = 999  # the redis user of the official image


class RedisCache(pulumi.ComponentResource):
    endpoint: Endpoint

    def __init__(self, name: str, ctx: TierContext, settings: RedisSettings, *, storage_class: str | None,
                 opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("archivist:cache:RedisCache", name, None, opts)
        check = HealthCheck(kind="exec", command=("redis-cli", "ping"), period_seconds=10, timeout_seconds=3,
                            startup_seconds=60)
        workload = StoreWorkload(self, ctx, StoreSpec(
            app="redis",
            image=settings.image,
            ports={"redis": PORT},
            resources=settings.resources,
            volume=settings.storage,
            volume_class=storage_class,
            mount_path="/data",
            uid=UID,
            probes=probes(check),
            command=["redis-server"],
            args=["--appendonly", "yes", "--maxmemory", settings.max_memory,
                  "--maxmemory-policy", "allkeys-lru", "--dir", "/data"],
            grace_seconds=60,
        ))
        self.workload = workload
        self.endpoint = Endpoint(service_host(workload.service.metadata.name, ctx.namespace), PORT, "redis")
        self.register_outputs({"url": self.endpoint.url})
