"""The `keda` section: the graph service scaled by KEDA on its Kafka consumer lag.

The graph service consumes `paper.processed` as group `graph-builder`; CPU says nothing about
its backlog, the group's lag does. Bounds and scale-up/scale-down behaviour stay those of
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


@dataclass(frozen=True)
class KedaSettings:
    enabled: bool = False
    lag_threshold: int = DEFAULT_LAG_THRESHOLD
    activation_lag_threshold: int = 0
    polling_interval_seconds: int = 30
    min_replicas: int = 2
    max_replicas: int = 10


def parse_keda(root: ConfigReader, *, graph: Any, kafka: Any) -> KedaSettings:
    """`graph` is the graph's AppSettings, `kafka` the KafkaSettings: bounds are checked against partitions."""
    section = root.section("keda")
    partitions: int = kafka.partitions
    enabled = section.boolean("enabled", partitions > 1)
    threshold = section.integer("lagThreshold", DEFAULT_LAG_THRESHOLD, minimum=1, maximum=1_000_000)
    activation = section.integer("activationLagThreshold", 0, minimum=0, maximum=1_000_000)
    polling = section.integer("pollingIntervalSeconds", 30, minimum=5, maximum=3600)
    section.reject_unknown()
    scaling = graph.autoscaling
    lo, hi = scaling.min_replicas, scaling.max_replicas
    if not enabled:
        return KedaSettings(enabled=False, lag_threshold=threshold, activation_lag_threshold=activation,
                            polling_interval_seconds=polling, min_replicas=lo, max_replicas=hi)
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
    return KedaSettings(enabled=True, lag_threshold=threshold, activation_lag_threshold=activation,
                        polling_interval_seconds=polling, min_replicas=lo, max_replicas=min(hi, max(partitions, lo)))
