"""Kafka in KRaft mode with a fixed controller quorum inside the broker StatefulSet.

The first `kafka.controllers` pods (ordinals 0..C-1) are combined broker+controller nodes and form the
static voter set; pods above them are brokers only. So `kafka.brokers` can change without touching the
quorum: new brokers register with the controllers and start empty (move partitions to them with
kafka-reassign-partitions), and removing brokers above C leaves the quorum whole (their claims are retained;
move partitions off them first). Changing the voter set itself is not something a static quorum survives
(KIP-853, Motivation: it needs every controller stopped and its on-disk state edited; going {0} -> {0,1,2}
lets two empty voters elect a leader and truncate node 0's metadata log). The voter count is therefore
written on the claim template (`archivist.io/kraft-voters`): a changed count asks Pulumi to replace the
StatefulSet, which the data guard (and `protect`) refuses, naming the procedure (docs/data-safety.md, "Kafka broker count").

Logs go to stdout only: log4j2 from our ConfigMap (a console appender) and the JVM's GC log to stdout, so
nothing grows in /opt/kafka/logs (audit K2: the image's defaults write rolling files and 10 x 100 MB GC logs).
"""

from __future__ import annotations

import base64
import uuid

import pulumi
import pulumi_kubernetes as k8s

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


VOTERS_LABEL = "archivist.io/kraft-voters"
LOG4J_DIR = "/etc/kafka/archivist"
# Console only: no file appender, so nothing accumulates on the pod's disk.
LOG4J2_YAML = """Configuration:
  Appenders:
    Console:
      name: STDOUT
      PatternLayout:
        pattern: "[%d] %p %m (%c)%n"
  Loggers:
    Root:
      level: INFO
      AppenderRef:
        - ref: STDOUT
"""


def quorum_voters(controllers: int, namespace: str) -> str:
    return ",".join(
        f"{i}@kafka-{i}.kafka-headless.{namespace}.svc.cluster.local:{CONTROLLER_PORT}" for i in range(controllers)
    )


def start_command(namespace: str, controllers: int) -> list[str]:
    """Node id, role and addresses from the pod's ordinal, then the image's launcher.

    A broker-only node must not list the controller listener (KafkaConfig: "controller.listener.names
    must not contain a value appearing in the 'listeners' configuration when running KRaft with just the
    broker role").
    """
    script = (
        'ordinal="${HOSTNAME##*-}"; '
        'export KAFKA_NODE_ID="$ordinal"; '
        f'if [ "$ordinal" -lt {controllers} ]; then '
        'export KAFKA_PROCESS_ROLES="broker,controller"; '
        f'export KAFKA_LISTENERS="PLAINTEXT://:{CLIENT_PORT},CONTROLLER://:{CONTROLLER_PORT}"; '
        'else export KAFKA_PROCESS_ROLES="broker"; '
        f'export KAFKA_LISTENERS="PLAINTEXT://:{CLIENT_PORT}"; fi; '
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
        voters = settings.controllers
        rep = replication(n)
        logging = k8s.core.v1.ConfigMap(
            f"{name}-log4j",
            metadata={"name": "kafka-log4j", "namespace": ctx.namespace, "labels": ctx.labels("kafka", "store")},
            data={"log4j2.yaml": LOG4J2_YAML},
            opts=ctx.opts(self),
        )
        env = [
            {"name": "CLUSTER_ID", "value": cluster_id},
            # KAFKA_PROCESS_ROLES and KAFKA_LISTENERS follow the ordinal (start_command).
            {"name": "KAFKA_CONTROLLER_QUORUM_VOTERS", "value": quorum_voters(voters, namespace_name)},
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
            # Both are excluded from server.properties (KafkaDockerWrapper ExcludeServerPropsEnv) and used as given:
            # kafka-server-start.sh sets KAFKA_LOG4J_OPTS only when unset; kafka-run-class.sh turns on its
            # file GC log (-loggc) only when KAFKA_GC_LOG_OPTS is empty.
            {"name": "KAFKA_LOG4J_OPTS", "value": f"-Dlog4j2.configurationFile={LOG4J_DIR}/log4j2.yaml"},
            {"name": "KAFKA_GC_LOG_OPTS", "value": "-Xlog:gc:stdout:time,level,tags"},
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
            command=start_command(namespace_name, voters),
            replicas=n,
            parallel=True,  # controllers need a quorum to become ready: start them together
            # The launcher regenerates /opt/kafka/config from /etc/kafka/docker at every start and the JVM
            # writes its GC log under /opt/kafka/logs: scratch volumes there keep the root read-only.
            scratch={"config": "/opt/kafka/config", "logs": "/opt/kafka/logs", "tmp": "/tmp"},
            client_ports=("client",),
            grace_seconds=120,
            claim_labels={VOTERS_LABEL: str(voters)},
            extra_volumes=[{"name": "log4j", "config_map": {"name": logging.metadata.name}}],
            extra_mounts=[{"name": "log4j", "mount_path": LOG4J_DIR, "read_only": True}],
            scratch_sizes={"logs": "256Mi"},  # nothing writes there now; kept for the launcher's mkdir
        ))
        self.workload = workload
        if n > 1:
            # Losing more than one voter (or more than one replica of a partition) at a time costs availability.
            disruption_budget(self, ctx, "kafka", ctx.labels("kafka", "store"))
        self.bootstrap = Endpoint(service_host(workload.service.metadata.name, ctx.namespace), CLIENT_PORT, "kafka")
        self.register_outputs({"bootstrap": self.bootstrap.address})
