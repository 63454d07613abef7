"""What each Archivist workload asks of the cluster, derived from the validated settings."""

from __future__ import annotations

from decimal import Decimal

from .config.quantity import parse_quantity
from .config.settings import Resources, Settings
from .demand import AccessKind, VolumeDemand, WorkloadDemand
from .monitoring.exporters import EXPORTER_RESOURCES


def _q(text: str) -> Decimal:
    value = parse_quantity(text)
    assert value is not None, text  # settings hold validated quantities only
    return value


def _demand(name: str, lo: int, hi: int, res: Resources, volumes: tuple[VolumeDemand, ...] = ()) -> WorkloadDemand:
    return WorkloadDemand(
        name=name, min_replicas=lo, max_replicas=hi,
        cpu_request=_q(res.cpu_request), memory_request=_q(res.memory_request),
        cpu_limit=_q(res.cpu_limit), memory_limit=_q(res.memory_limit),
        volumes=volumes,
    )


def workload_demands(settings: Settings) -> list[WorkloadDemand]:
    s = settings
    shared_access: AccessKind = "rwx" if s.shared_data.access_mode == "ReadWriteMany" else "rwo"
    shared = VolumeDemand("archivist-data", shared_access, _q(s.shared_data.size), per_replica=False)
    demands = [
        _demand(f"archivist-{app.name}", app.autoscaling.min_replicas, app.autoscaling.max_replicas, app.resources,
                (shared,) if app.name == "worker" else ())
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
    monitoring = getattr(s, "monitoring", None)
    if monitoring is None or monitoring.enabled:
        # The monitoring tier's exporters run in the namespace too (one replica each).
        demands += [_demand(name, 1, 1, res) for name, res in EXPORTER_RESOURCES.items()]
    return demands
