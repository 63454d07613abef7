"""The `keda` section: the graph service scaled by KEDA on its backlog.

`signal: queue` (default): the graph's own job queue, summed over its replicas. Its Kafka consumer
commits offsets on a timer as soon as it has read a message (auto-commit, kafka_consumer.py:46-48)
and hands the paper to an in-memory queue (kafka_consumer.py:86-93), so the group's lag stays near 0
while the backlog waits in `queue_size` of `/api/graph/queue-stats` (main.py:329-341). CPU does not
move either: the work waits on Gemini and Neo4j. `signal: lag` keeps the Kafka-lag trigger, for a
graph whose consumer commits after the work. Bounds and scale-up/scale-down behaviour stay those of
`archivist:graph.autoscaling` (the guide's 2-10): `kafka.partitions` defaults to at least the graph's
maxReplicas and an explicit value below it is refused (config/load.py `_kafka`), since a consumer
beyond the partition count gets no partition and sits idle.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from .reader import ConfigReader

# The deployment guide's queue-depth example targets an average of 30 per pod
# (kubernetes-deployment-guide.md:614-629, `averageValue: "30"`).
DEFAULT_LAG_THRESHOLD = 30
# Each graph replica runs 4 queue workers (main.py:137-142): 8 waiting per replica is two rounds of work.
DEFAULT_QUEUE_THRESHOLD = 8
SIGNALS = ("queue", "lag")


@dataclass(frozen=True)
class KedaSettings:
    enabled: bool = False
    lag_threshold: int = DEFAULT_LAG_THRESHOLD
    activation_lag_threshold: int = 0
    polling_interval_seconds: int = 30
    min_replicas: int = 2
    max_replicas: int = 10
    signal: str = "queue"  # queue: /api/graph/queue-stats (metrics-api); lag: the group's Kafka lag
    queue_threshold: int = DEFAULT_QUEUE_THRESHOLD
    activation_queue_threshold: int = 0


def parse_keda(root: ConfigReader, *, graph: Any, kafka: Any) -> KedaSettings:
    """`graph` is the graph's AppSettings, `kafka` the KafkaSettings: bounds are checked against partitions."""
    section = root.section("keda")
    partitions: int = kafka.partitions
    enabled = section.boolean("enabled", partitions > 1)
    threshold = section.integer("lagThreshold", DEFAULT_LAG_THRESHOLD, minimum=1, maximum=1_000_000)
    activation = section.integer("activationLagThreshold", 0, minimum=0, maximum=1_000_000)
    polling = section.integer("pollingIntervalSeconds", 30, minimum=5, maximum=3600)
    signal = section.choice("signal", "queue", SIGNALS)
    queue = section.integer("queueThreshold", DEFAULT_QUEUE_THRESHOLD, minimum=1, maximum=1_000_000)
    activation_queue = section.integer("activationQueueThreshold", 0, minimum=0, maximum=1_000_000)
    section.reject_unknown()
    scaling = graph.autoscaling
    lo, hi = scaling.min_replicas, scaling.max_replicas
    if not enabled:
        return KedaSettings(enabled=False, lag_threshold=threshold, activation_lag_threshold=activation,
                            polling_interval_seconds=polling, min_replicas=lo, max_replicas=hi, signal=signal,
                            queue_threshold=queue, activation_queue_threshold=activation_queue)
    if partitions < 2:
        section.problems.add(
            section.key("enabled"),
            f"lag scaling needs more than one partition and archivist:kafka.partitions is {partitions}; "
            "raise kafka.partitions or set keda.enabled false",
        )
    # Not root.section(): that would report a wrongly typed archivist:graph a second time.
    graph_raw = root.raw("graph")
    scaling_raw = graph_raw.get("autoscaling") if isinstance(graph_raw, Mapping) else None
    explicit_max = isinstance(scaling_raw, Mapping) and scaling_raw.get("maxReplicas") is not None
    if lo > partitions:
        section.problems.add(
            "archivist:graph.autoscaling.minReplicas",
            f"{lo} is above archivist:kafka.partitions {partitions}: a graph-builder consumer beyond the partition "
            "count gets no partition; lower minReplicas or raise kafka.partitions",
        )
    if hi > partitions and explicit_max:
        section.problems.add(
            "archivist:graph.autoscaling.maxReplicas",
            f"{hi} is above archivist:kafka.partitions {partitions}: KEDA would never use the extra replicas; "
            "lower maxReplicas or raise kafka.partitions",
        )
    # The default partitions cover the graph's maxReplicas (load.py `_kafka`); the cap is only a guard.
    if signal == "queue" and graph.port is None:
        section.problems.add(section.key("signal"), "'queue' reads the graph's /api/graph/queue-stats, and "
                             "archivist:graph.port is unset; set the port or use signal 'lag'")
    return KedaSettings(enabled=True, lag_threshold=threshold, activation_lag_threshold=activation,
                        polling_interval_seconds=polling, min_replicas=lo, max_replicas=min(hi, max(partitions, lo)),
                        signal=signal, queue_threshold=queue, activation_queue_threshold=activation_queue)
