"""Kafka in KRaft mode: every broker is also a controller, so N brokers form the quorum."""

from __future__ import annotations

import base64
import uuid

import pulumi

from ..config.settings import HealthCheck, KafkaSettings
from ..endpoint import Endpoint, service_host
from .context import TierContext
from .disruption import disruption_budget
from .pods import probes
from .statefulset import StoreSpec, StoreWorkload

CLIENT_PORT = 9092
CONTROLLER_PORT = 9093
UID = 1000  # appuser of apache/kafka
DATA_DIR = "/var/lib/kafka/data"


def cluster_id(project: str, stack: str) -> str:
    """A KRaft cluster id (22 url-safe base64 chars) that is stable for the stack's lifetime."""
    raw = uuid.uuid5(uuid.NAMESPACE_URL, f"archivist://{project}/{stack}/kafka").bytes
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def replication(brokers: int) -> dict[str, int]:
    """Replication that follows the broker count: 3 copies where possible, never more than brokers."""
    factor = min(3, brokers)
    return {
        "default_replication": factor,
        "min_insync": 2 if factor >= 3 else 1,
    }


def quorum_voters(brokers: int, namespace: str) -> str:
    return ",".join(
        f"{i}@kafka-{i}.kafka-headless.{namespace}.svc.cluster.local:{CONTROLLER_PORT}" for i in range(brokers)
    )


def start_command(namespace: str) -> list[str]:
    """Derive the node id and advertised address from the pod's ordinal, then run the image's launcher."""
    script = (
        'export KAFKA_NODE_ID="${HOSTNAME##*-}"; '
        f'export KAFKA_ADVERTISED_LISTENERS="PLAINTEXT://${{HOSTNAME}}.kafka-headless.{namespace}.svc.cluster.local:{CLIENT_PORT}"; '
        "exec /etc/kafka/docker/run"
    )
    return ["/bin/sh", "-c", script]


class KafkaBroker(pulumi.ComponentResource):
    bootstrap: Endpoint

    def __init__(self, name: str, ctx: TierContext, settings: KafkaSettings, *, namespace_name: str,
                 cluster_id: str, storage_class: str | None, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("archivist:stores:KafkaBroker", name, None, opts)
        n = settings.brokers
        rep = replication(n)
        env = [
            {"name": "CLUSTER_ID", "value": cluster_id},
            {"name": "KAFKA_PROCESS_ROLES", "value": "broker,controller"},
            {"name": "KAFKA_CONTROLLER_QUORUM_VOTERS", "value": quorum_voters(n, namespace_name)},
            {"name": "KAFKA_LISTENERS", "value": f"PLAINTEXT://:{CLIENT_PORT},CONTROLLER://:{CONTROLLER_PORT}"},
            {"name": "KAFKA_LISTENER_SECURITY_PROTOCOL_MAP", "value": "PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT"},
            {"name": "KAFKA_CONTROLLER_LISTENER_NAMES", "value": "CONTROLLER"},
            {"name": "KAFKA_INTER_BROKER_LISTENER_NAME", "value": "PLAINTEXT"},
            # A subdirectory: a fresh volume's lost+found would otherwise be read as a broken partition.
            {"name": "KAFKA_LOG_DIRS", "value": f"{DATA_DIR}/logs"},
            {"name": "KAFKA_NUM_PARTITIONS", "value": str(settings.partitions)},
            {"name": "KAFKA_DEFAULT_REPLICATION_FACTOR", "value": str(rep["default_replication"])},
            {"name": "KAFKA_MIN_INSYNC_REPLICAS", "value": str(rep["min_insync"])},
            {"name": "KAFKA_OFFSETS_TOPIC_REPLICATION_FACTOR", "value": str(rep["default_replication"])},
            {"name": "KAFKA_TRANSACTION_STATE_LOG_REPLICATION_FACTOR", "value": str(rep["default_replication"])},
            {"name": "KAFKA_TRANSACTION_STATE_LOG_MIN_ISR", "value": str(rep["min_insync"])},
            {"name": "KAFKA_AUTO_CREATE_TOPICS_ENABLE", "value": "true"},
            {"name": "KAFKA_HEAP_OPTS", "value": "-XX:MaxRAMPercentage=60 -XX:InitialRAMPercentage=30"},
        ]
        # The broker port accepting connections; the original probed a script that is not on PATH.
        check = HealthCheck(kind="tcp", port=CLIENT_PORT, period_seconds=10, timeout_seconds=5, startup_seconds=300)
        workload = StoreWorkload(self, ctx, StoreSpec(
            app="kafka",
            image=settings.image,
            ports={"client": CLIENT_PORT, "controller": CONTROLLER_PORT},
            resources=settings.resources,
            volume=settings.storage,
            volume_class=storage_class,
            mount_path=DATA_DIR,
            uid=UID,
            probes=probes(check),
            env=env,
            command=start_command(namespace_name),
            replicas=n,
            parallel=True,  # controllers need a quorum to become ready: start them together
            # The launcher regenerates /opt/kafka/config from /etc/kafka/docker at every start and the JVM
            # writes its GC log under /opt/kafka/logs: scratch volumes there keep the root read-only.
            scratch={"config": "/opt/kafka/config", "logs": "/opt/kafka/logs", "tmp": "/tmp"},
            client_ports=("client",),
            grace_seconds=120,
        ))
        self.workload = workload
        if n > 1:
            # Losing more than one voter at a time can cost the quorum.
            disruption_budget(self, ctx, "kafka", ctx.labels("kafka", "store"))
        self.bootstrap = Endpoint(service_host(workload.service.metadata.name, ctx.namespace), CLIENT_PORT, "kafka")
        self.register_outputs({"bootstrap": self.bootstrap.address})
