"""Qdrant: the vector store. One node, or Qdrant's distributed mode when it may scale out.

Distributed Qdrant never loses a shard to scaling:
- every collection is created with 2 copies (`storage.collection.replication_factor`, config/config.yaml
  L197-199, set through QDRANT__STORAGE__COLLECTION__REPLICATION_FACTOR), which shard placement applies
  from v1.15.0 on (qdrant issue 6623; the upgrade path and its guard: qdrant_upgrade.py), and the cluster
  starts with at least 2 peers (config refuses minReplicas < 2 when maxReplicas > 1);
- the autoscaler may only add peers (scaleDown selectPolicy Disabled): a removed pod would stay a Raft
  voter and take its shards with it (audit Q1). Peers are drained and removed by hand (docs/data-safety-ops.md),
  and a lower count in config is refused until they are (qdrant_upgrade.py drain_guard);
- snapshots are written to the data volume (`storage.snapshots_path`), not a 1 GiB emptyDir (audit Q2),
  so they survive restarts and are captured by the volume snapshot;
- probes as the official chart: startup and liveness on `/`, readiness on `/readyz`, which waits for
  consensus and this peer's shards (src/common/health.rs), so a long shard recovery is not killed (audit Q3).
"""

from __future__ import annotations

import json

import pulumi

from ..config.settings import HealthCheck, QdrantSettings
from ..endpoint import Endpoint, service_host
from .autoscaling import autoscaler
from .context import TierContext
from .disruption import disruption_budget
from .pods import probes
from .qdrant_upgrade import drain_guard, upgrade_guard
from .statefulset import StoreSpec, StoreWorkload

HTTP_PORT = 6333
GRPC_PORT = 6334
P2P_PORT = 6335
UID = 1000  # the unprivileged image's user
REPLICATION_FACTOR = 2
SNAPSHOTS_PATH = "/qdrant/storage/snapshots"
# Velero pre-backup hook: a snapshot of every collection on this peer, written to the data volume before it
# is captured, then older snapshots of that collection removed. The image has no curl (Dockerfile: only
# ca-certificates, tzdata, libunwind8), so bash's /dev/tcp speaks HTTP/1.0 to the local API.
SNAPSHOT_SCRIPT = r"""set -eu
req() { exec 3<>/dev/tcp/127.0.0.1/6333; printf '%s %s HTTP/1.0\r\nHost: localhost\r\nContent-Length: 0\r\n\r\n' "$1" "$2" >&3; cat <&3; exec 3>&-; }
for c in $(req GET /collections | tr ',{}' '\n\n\n' | sed -n 's/.*"name": *"\([^"]*\)".*/\1/p'); do
  reply=$(req POST "/collections/$c/snapshots?wait=true")
  case "$reply" in *'"status":"ok"'*|*'"status": "ok"'*) ;; *) echo "snapshot of $c failed: $reply" >&2; exit 1;; esac
  keep=$(printf '%s' "$reply" | sed -n 's/.*"name": *"\([^"]*\)".*/\1/p')
  for old in /qdrant/storage/snapshots/"$c"/*.snapshot; do
    if [ -e "$old" ] && [ "$(basename "$old")" != "$keep" ]; then
      req DELETE "/collections/$c/snapshots/$(basename "$old")" >/dev/null
    fi
  done
done
"""


def backup_hook_annotations() -> dict[str, str]:
    return {
        "pre.hook.backup.velero.io/container": "qdrant",
        "pre.hook.backup.velero.io/command": json.dumps(["/bin/bash", "-c", SNAPSHOT_SCRIPT]),
        "pre.hook.backup.velero.io/on-error": "Fail",
        "pre.hook.backup.velero.io/timeout": "10m",
    }


def cluster_command(namespace: str) -> list[str]:
    """Pod 0 founds the cluster; every other pod joins it through pod 0's p2p address."""
    peer = f"qdrant-0.qdrant-headless.{namespace}.svc.cluster.local"
    script = (
        'ordinal="${HOSTNAME##*-}"; '
        f'self="http://${{HOSTNAME}}.qdrant-headless.{namespace}.svc.cluster.local:{P2P_PORT}"; '
        f'if [ "$ordinal" = "0" ]; then exec ./entrypoint.sh --uri "$self"; '
        f'else exec ./entrypoint.sh --uri "$self" --bootstrap "http://{peer}:{P2P_PORT}"; fi'
    )
    return ["/bin/sh", "-c", script]


class QdrantStore(pulumi.ComponentResource):
    endpoint: Endpoint
    grpc: Endpoint

    def __init__(self, name: str, ctx: TierContext, settings: QdrantSettings, *, namespace_name: str,
                 storage_class: str | None, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("archivist:vectorstore:QdrantStore", name, None, opts)
        ports = {"http": HTTP_PORT, "grpc": GRPC_PORT}
        env = [
            {"name": "QDRANT__TELEMETRY_DISABLED", "value": "true"},
            # Qdrant writes a marker file once it has started; by default into its working directory,
            # which is on the read-only root. The official chart moves it to a scratch volume too.
            {"name": "QDRANT_INIT_FILE_PATH", "value": "/qdrant/init/.qdrant-initialized"},
            # On the data volume: survives restarts, is captured by the volume snapshot (audit Q2).
            {"name": "QDRANT__STORAGE__SNAPSHOTS_PATH", "value": SNAPSHOTS_PATH},
        ]
        command = None
        if settings.distributed:
            ports["p2p"] = P2P_PORT
            env.append({"name": "QDRANT__CLUSTER__ENABLED", "value": "true"})
            env.append({"name": "QDRANT__STORAGE__COLLECTION__REPLICATION_FACTOR", "value": str(REPLICATION_FACTOR)})
            command = cluster_command(namespace_name)
        scaled = settings.autoscaling.max_replicas > settings.autoscaling.min_replicas
        # The official chart (qdrant-helm templates/statefulset.yaml): startup and liveness on `/`,
        # readiness on `/readyz`. A peer recovering replicas is alive long before it is ready.
        alive = HealthCheck(kind="http", path="/", port=HTTP_PORT, startup_seconds=300)
        ready = HealthCheck(kind="http", path="/readyz", port=HTTP_PORT)
        probe_spec = probes(alive)
        probe_spec["readiness_probe"] = probes(ready)["readiness_probe"]
        drain = drain_guard()  # no peer leaves undrained through a config change (one hook, two resources)
        workload = StoreWorkload(self, ctx, StoreSpec(
            app="qdrant",
            image=settings.image,
            ports=ports,
            resources=settings.resources,
            volume=settings.storage,
            volume_class=storage_class,
            mount_path="/qdrant/storage",
            uid=UID,
            probes=probe_spec,
            env=env,
            command=command,
            replicas=None if scaled else settings.autoscaling.min_replicas,
            min_replicas=settings.autoscaling.min_replicas,
            parallel=True,  # OrderedReady deadlocks a cluster whose first pod waits for peers
            scratch={"init": "/qdrant/init", "tmp": "/tmp"},
            pod_annotations=backup_hook_annotations(),
            client_ports=("http", "grpc"),
            grace_seconds=120,
            update_hooks=(upgrade_guard(), drain),
        ))
        self.workload = workload
        if scaled:
            autoscaler(self, ctx, "qdrant", settings.autoscaling,
                       target=("apps/v1", "StatefulSet", workload.statefulset.metadata.name),
                       scale_down=False,  # peers hold shards: only people remove them (docs/data-safety-ops.md)
                       before_update=[drain])
        if settings.autoscaling.max_replicas > 1:
            disruption_budget(self, ctx, "qdrant", ctx.labels("qdrant", "store"))
        host = service_host(workload.service.metadata.name, ctx.namespace)
        self.endpoint = Endpoint(host, HTTP_PORT, "http")
        self.grpc = Endpoint(host, GRPC_PORT, "http")
        self.register_outputs({"url": self.endpoint.url})
