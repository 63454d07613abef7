"""What each workload asks of the cluster, for capacity planning and quotas.

Built from the validated settings; independent of any platform so the capacity
figures can be computed (and printed) before anything is created.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal
from typing import Literal

AccessKind = Literal["rwo", "rwx"]


@dataclass(frozen=True)
class VolumeDemand:
    claim: str  # e.g. "neo4j-data"
    access: AccessKind
    size_bytes: Decimal
    per_replica: bool  # a claim template: one volume per replica


@dataclass(frozen=True)
class WorkloadDemand:
    name: str
    min_replicas: int
    max_replicas: int
    cpu_request: Decimal  # cores, per replica (all containers)
    memory_request: Decimal  # bytes, per replica
    cpu_limit: Decimal
    memory_limit: Decimal
    volumes: tuple[VolumeDemand, ...] = field(default_factory=tuple)
    # Tolerates interruption (the batch worker): on a platform with a spot pool it runs there, so
    # the on-demand pool is sized without it.
    interruptible: bool = False
