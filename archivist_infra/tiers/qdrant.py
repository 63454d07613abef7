"""Qdrant: the vector store. One node, or Qdrant's distributed mode when it may scale out."""

from __future__ import annotations

import pulumi

from ..config.settings import HealthCheck, QdrantSettings
from ..endpoint import Endpoint, service_host
from .autoscaling import autoscaler
from .context import TierContext
from .disruption import disruption_budget
from .pods import probes
from .statefulset import StoreSpec, StoreWorkload

HTTP_PORT = 6333
GRPC_PORT = 6334
P2P_PORT = 6335
UID = 1000  # the unprivileged image's user


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
        ]
        command = None
        if settings.distributed:
            ports["p2p"] = P2P_PORT
            env.append({"name": "QDRANT__CLUSTER__ENABLED", "value": "true"})
            command = cluster_command(namespace_name)
        scaled = settings.autoscaling.max_replicas > settings.autoscaling.min_replicas
        ready = HealthCheck(kind="http", path="/readyz", port=HTTP_PORT, startup_seconds=300)
        live = HealthCheck(kind="http", path="/livez", port=HTTP_PORT)
        probe_spec = probes(ready)
        probe_spec["liveness_probe"] = probes(live)["liveness_probe"]
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
            scratch={"snapshots": "/qdrant/snapshots", "init": "/qdrant/init", "tmp": "/tmp"},
            client_ports=("http", "grpc"),
            grace_seconds=120,
        ))
        self.workload = workload
        if scaled:
            autoscaler(self, ctx, "qdrant", settings.autoscaling,
                       target=("apps/v1", "StatefulSet", workload.statefulset.metadata.name))
        if settings.autoscaling.max_replicas > 1:
            disruption_budget(self, ctx, "qdrant", ctx.labels("qdrant", "store"))
        host = service_host(workload.service.metadata.name, ctx.namespace)
        self.endpoint = Endpoint(host, HTTP_PORT, "http")
        self.grpc = Endpoint(host, GRPC_PORT, "http")
        self.register_outputs({"url": self.endpoint.url})
