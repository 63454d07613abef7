"""Redis: the cache, persisted with an append-only file so a restart keeps it warm.

It requires a password: the secret config `archivist:redisPassword` when set (a rotation), else
generated once (`random.RandomPassword`, kept encrypted in the stack state), and handed to Redis as a config file from a Secret (`requirepass`), so it never shows in
the pod spec or in `ps`. Clients get it the way each really reads it (app_config.py): the search
service parses `REDIS_URL` (`redis.asyncio.from_url`, services/search-engine/app/cache.py:28-38),
the worker reads `cache.redis.password` from its config.yaml (internal/app/config.go:155-173 reads
only the file; cmd/main/commands/index.go:54-56 passes it to go-redis).

Eviction: `noeviction` (audit F3). The worker's analysis cache (`archivist:analysis:<sha256>`, SET with
the config's TTL, internal/cache/redis_cache.go:86-96) is what stops a paper being analysed, and
paid for, twice; under an LRU shared with search's result cache (`search:<md5>`, SETEX 24 h,
services/search-engine/app/cache.py:129-147) a burst of searches evicted it. With noeviction Redis
refuses writes at maxmemory ("OOM command not allowed") and never drops a key, while reads go on:
- search: `cache_results` catches every exception and returns False (cache.py:145-147), reads the
  same (cache.py:93-105): a full Redis costs search its caching, never a request; its keys all
  expire within 24 h, so the space comes back by itself;
- worker: `Set` returns the error, `processPaper` logs "Failed to cache result" and the paper
  still counts as processed (pool.go:226-227); cache reads still hit (pool.go:139-150).
So a full Redis is visible (that warning; the dashboard panel "Redis memory of maxmemory") and costs at
most the caching of new analyses, instead of silently throwing old ones away.

Every client takes `RedisCache.credentials` (credentials.py), the one way to reach the password.
"""

from __future__ import annotations

import dataclasses
import json

import pulumi
import pulumi_kubernetes as k8s
import pulumi_random as random

from ..config.settings import HealthCheck, RedisSettings
from ..endpoint import Endpoint, service_host
from .context import TierContext
from .credentials import StoreCredentials, after
from .pods import probes
from .secrets import SecretRef
from .statefulset import StoreSpec, StoreWorkload

PORT = 6379
UID = 999  # the redis user of the official image
PASSWORD_KEY = "REDIS_PASSWORD"
URL_KEY = "REDIS_URL"
CONF_KEY = "redis.conf"
CONF_DIR = "/etc/redis/auth"
# redis-cli reads the password from REDISCLI_AUTH (no -a on the command line, no warning).
CLI_AUTH_ENV = "REDISCLI_AUTH"
# The probe must see PONG: without auth redis-cli prints "NOAUTH ..." and still exits 0 on some versions.
PING = ("/bin/sh", "-c", "redis-cli ping | grep -qx PONG")
MAXMEMORY_POLICY = "noeviction"  # see the module docstring: never evict the worker's analysis cache


# Before the volume is captured: a background save (BGSAVE forks, so clients are not blocked as with SAVE;
# SCHEDULE waits for a running AOF rewrite instead of failing), then wait until LASTSAVE moves and the save
# reports ok. redis-cli authenticates from REDISCLI_AUTH in the container's environment.
BGSAVE_SCRIPT = r"""set -eu
before=$(redis-cli LASTSAVE)
reply=$(redis-cli BGSAVE SCHEDULE)
case "$reply" in
  "Background saving started"|"Background saving scheduled"|*"already in progress"*) ;;
  *) echo "BGSAVE: $reply" >&2; exit 1;;
esac
i=0
while [ "$(redis-cli LASTSAVE)" = "$before" ]; do
  i=$((i + 1)); [ "$i" -le 100 ] || { echo "BGSAVE did not finish in 100 s" >&2; exit 1; }
  sleep 1
done
redis-cli INFO persistence | grep -q '^rdb_last_bgsave_status:ok' || { echo "BGSAVE failed" >&2; exit 1; }
"""


def backup_hook_annotations() -> dict[str, str]:
    """Velero runs this in the container before the volume is captured: a complete dump.rdb from a
    BGSAVE that started after the hook did, next to the append-only file, so the backup holds a
    consistent point in time."""
    return {
        "pre.hook.backup.velero.io/container": "redis",
        "pre.hook.backup.velero.io/command": json.dumps(["/bin/sh", "-c", BGSAVE_SCRIPT]),
        # A cache: if the save fails the backup still holds the append-only file, which loses at most
        # the last second (appendfsync everysec); the backup goes on.
        "pre.hook.backup.velero.io/on-error": "Continue",
        "pre.hook.backup.velero.io/timeout": "120s",
    }


class RedisCache(pulumi.ComponentResource):
    endpoint: Endpoint

    def __init__(self, name: str, ctx: TierContext, settings: RedisSettings, *, storage_class: str | None,
                 configured_password: pulumi.Output[str] | None = None,
                 opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("archivist:cache:RedisCache", name, None, opts)
        if configured_password is None:
            generated = random.RandomPassword(
                f"{name}-password", length=32, special=False,  # letters and digits: safe in a URL and a config line
                opts=pulumi.ResourceOptions(parent=self, protect=ctx.protect),
            )
            configured_password = generated.result
        password: pulumi.Output[str] = pulumi.Output.secret(configured_password)
        host = service_host("redis", ctx.namespace)  # StoreWorkload names the client Service after the app
        secret = k8s.core.v1.Secret(
            f"{name}-auth",
            metadata={"name": "redis-auth", "namespace": ctx.namespace, "labels": ctx.labels("redis", "secrets")},
            type="Opaque",
            string_data={
                PASSWORD_KEY: password,
                CONF_KEY: pulumi.Output.concat("requirepass ", password, "\n"),
                URL_KEY: pulumi.Output.concat("redis://:", password, "@", host, f":{PORT}"),
            },
            opts=ctx.opts(self),
        )
        self.password_ref = SecretRef(secret.metadata.name, PASSWORD_KEY)
        self.url_ref = SecretRef(secret.metadata.name, URL_KEY)
        # Until the workload exists the clients' digest is not known; set below.
        unapplied = StoreCredentials(store="redis", secret_name=secret.metadata.name, password_key=PASSWORD_KEY,
                                     password=password, applied_digest=pulumi.Output.from_input(""))
        check = HealthCheck(kind="exec", command=PING, period_seconds=10, timeout_seconds=3, startup_seconds=60)
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
            env=[self.password_ref.env(CLI_AUTH_ENV)],
            command=["redis-server"],
            # The config file first: redis-server reads it, then applies the options after it.
            args=[f"{CONF_DIR}/{CONF_KEY}", "--appendonly", "yes", "--maxmemory", settings.max_memory,
                  "--maxmemory-policy", MAXMEMORY_POLICY, "--dir", "/data"],
            grace_seconds=60,
            extra_volumes=[{"name": "auth", "secret": {
                "secret_name": secret.metadata.name, "items": [{"key": CONF_KEY, "path": CONF_KEY}],
                "default_mode": 0o440,  # group-readable: the pod's fsGroup owns projected files
            }}],
            extra_mounts=[{"name": "auth", "mount_path": CONF_DIR, "read_only": True}],
            # redis-server reads requirepass at start only: a new password rolls Redis (audit D5).
            pod_annotations={**backup_hook_annotations(), **unapplied.rollout_annotation()},
        ))
        self.workload = workload
        # What every client of Redis must take (credentials.py): it rolls after Redis has.
        self.credentials = dataclasses.replace(unapplied, applied_digest=after(workload.statefulset, unapplied.digest))
        self.endpoint = Endpoint(service_host(workload.service.metadata.name, ctx.namespace), PORT, "redis")
        self.register_outputs({"url": self.endpoint.url})
