"""What each Archivist workload asks of the cluster, derived from the validated settings."""

from __future__ import annotations

from decimal import Decimal

from ..config.quantity import parse_quantity
from ..config.settings import Resources, Settings
from ..monitoring.exporters import EXPORTER_RESOURCES
from ..tiers.preflight import JOB_RESOURCES, KAFKA_TOPIC, MODEL_CHECK, TOPIC_RESOURCES
from ..tiers.shared_data import KEEPER, KEEPER_RESOURCES
from .demand import AccessKind, VolumeDemand, WorkloadDemand


def _q(text: str) -> Decimal:
    value = parse_quantity(text)
    assert value is not None, text  # settings hold validated quantities only
    return value


def _demand(name: str, lo: int, hi: int, res: Resources, volumes: tuple[VolumeDemand, ...] = (),
            *, interruptible: bool = False) -> WorkloadDemand:
    return WorkloadDemand(
        name=name, min_replicas=lo, max_replicas=hi,
        cpu_request=_q(res.cpu_request), memory_request=_q(res.memory_request),
        cpu_limit=_q(res.cpu_limit), memory_limit=_q(res.memory_limit),
        volumes=volumes, interruptible=interruptible,
    )


def workload_demands(settings: Settings) -> list[WorkloadDemand]:
    s = settings
    shared_access: AccessKind = "rwx" if s.shared_data.access_mode == "ReadWriteMany" else "rwo"
    shared = VolumeDemand("archivist-data", shared_access, _q(s.shared_data.size), per_replica=False)
    lag_scaled = s.keda is not None and s.keda.enabled  # KEDA owns the graph's bounds (never above the partitions)
    demands = [
        _demand(f"archivist-{app.name}", *_replicas(
                    s, app.name, app.autoscaling.min_replicas,
                    s.keda.max_replicas if lag_scaled and app.name == "graph" else app.autoscaling.max_replicas),
                app.resources, _app_volumes(s, app.name, shared),
                # A preempted batch run is redone by the next one; the app's hash cache skips what
                # an earlier run finished. So the worker may run on spot capacity, unless a ReadWriteOnce
                # shared claim ties it to the keeper's node (tiers/shared_data.py `beside_keeper`).
                interruptible=app.name == "worker" and shared_access == "rwx")
        for app in s.apps
    ]
    stores = (
        ("neo4j", 1, 1, s.neo4j.resources, s.neo4j.storage.size),
        ("kafka", s.kafka.brokers, s.kafka.brokers, s.kafka.resources, s.kafka.storage.size),
        ("qdrant", s.qdrant.autoscaling.min_replicas, s.qdrant.autoscaling.max_replicas, s.qdrant.resources,
         s.qdrant.storage.size),
        ("redis", 1, 1, s.redis.resources, s.redis.storage.size),
    )
    for name, lo, hi, res, size in stores:
        demands.append(_demand(name, lo, hi, res, (VolumeDemand(f"data-{name}", "rwo", _q(size), per_replica=True),)))
    # The pod that keeps the shared claim mounted for the backups (tiers/shared_data.py); the claim itself is
    # already the worker's demand (listing it twice would bill the share twice).
    demands.append(_demand(KEEPER, 1, 1, KEEPER_RESOURCES))
    # The Jobs `pulumi up` awaits (tiers/preflight.py) run while the rollouts surge: one pod each during an
    # `up`, none between; the quota must leave them room.
    gemini = getattr(s, "gemini", None)
    if gemini is None or gemini.preflight:
        demands.append(_demand(MODEL_CHECK, 0, 1, JOB_RESOURCES))
    demands.append(_demand(KAFKA_TOPIC, 0, 1, TOPIC_RESOURCES))
    monitoring = getattr(s, "monitoring", None)
    if monitoring is None or monitoring.enabled:
        # The monitoring tier's exporters run in the namespace too (one replica each).
        demands += [_demand(name, 1, 1, res) for name, res in EXPORTER_RESOURCES.items()]
    return demands


# A batch worker runs no pod between batches, at most one scheduled run (concurrencyPolicy
# Forbid) plus one on-demand run (`ops process`) at a time.
BATCH_WORKER_PODS = (0, 2)


def _replicas(s: Settings, app: str, lo: int, hi: int) -> tuple[int, int]:
    run = getattr(s, "worker_run", None)
    if app == "worker" and (run is None or run.mode == "batch"):
        return BATCH_WORKER_PODS
    return lo, hi


def _app_volumes(s: Settings, app: str, shared: VolumeDemand) -> tuple[VolumeDemand, ...]:
    if app == "worker":
        return (shared,)
    if app == "search":
        index = getattr(s, "search_index", None)
        size = index.size if index is not None else "2Gi"
        return (VolumeDemand("index-archivist-search", "rwo", _q(size), per_replica=True),)
    return ()
