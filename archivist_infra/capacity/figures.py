"""How big the cluster must be for the workloads, and what its storage really bills.

Node pool maximums are derived, not guessed: if every workload scaled to its maximum at
once, its requests must still fit on the nodes the autoscaler may add, or pods would sit
Pending exactly when load peaks. The figures are plain numbers (no Pulumi outputs) so the
`capacity` command can print them before anything exists.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from decimal import ROUND_CEILING, Decimal

from ..config.quantity import GI, format_bytes, format_cpu
from .demand import AccessKind, WorkloadDemand

TI = GI * 1024

# DaemonSets run on every workload node (kube-proxy, CNI, CSI node plugins, log agents);
# what they request is not available to the workloads. Measured on the three managed
# clouds' default add-ons, rounded up.
DEFAULT_SYSTEM_RESERVE_CPU = Decimal("0.2")
DEFAULT_SYSTEM_RESERVE_MEMORY = Decimal("0.5") * GI


@dataclass(frozen=True)
class NodeBounds:
    """Autoscaling bounds of the workload node pool."""

    min_nodes: int
    max_nodes: int
    # Where the platform has a spot pool: the nodes the interruptible workloads need at maximum
    # (0: no spot pool, the interruptible workloads count toward min/max above).
    interruptible_max_nodes: int = 0


@dataclass(frozen=True)
class BillingRule:
    """How one storage class turns a requested size into a billed size."""

    label: str  # what the class is, as a user reads it: "Filestore standard", "EBS gp3"
    minimum: Decimal = Decimal(0)  # smallest size the service provisions (and bills)
    increment: Decimal = GI  # provisioned sizes are rounded up to a multiple of this
    tiers: tuple[Decimal, ...] = ()  # fixed billing sizes (Azure Premium SSD P1..P80)
    metered: bool = False  # bills bytes used, not bytes requested (EFS, standard Azure Files)

    def billed(self, requested: Decimal) -> Decimal:
        """Bytes provisioned (and billed) for a claim of `requested` bytes; 0 for metered classes."""
        if self.metered:
            return Decimal(0)
        size = max(requested, self.minimum)
        if self.increment > 0:
            size = (size / self.increment).to_integral_value(rounding=ROUND_CEILING) * self.increment
        for tier in self.tiers:
            if tier >= size:
                return tier
        return size


@dataclass(frozen=True)
class StorageBilling:
    read_write_once: BillingRule
    read_write_many: BillingRule

    def rule(self, access: AccessKind) -> BillingRule:
        return self.read_write_once if access == "rwo" else self.read_write_many


# A class of unknown billing (a local cluster, or a class named in config): bill what is asked.
AS_REQUESTED = StorageBilling(BillingRule("as requested"), BillingRule("as requested"))


@dataclass(frozen=True)
class Range:
    minimum: Decimal
    maximum: Decimal


@dataclass(frozen=True)
class VolumeLine:
    """One claim at minimum and maximum replicas, for the table."""

    workload: str
    claim: str
    access: AccessKind
    count_min: int
    count_max: int
    requested_each: Decimal
    billed_each: Decimal
    rule: BillingRule


@dataclass(frozen=True)
class Capacity:
    cpu: Range  # cores requested by the workloads
    memory: Range  # bytes requested by the workloads
    storage_requested: Range  # bytes claimed
    storage_billed: Range  # bytes provisioned and billed (class minimums and rounding)
    storage_metered: Range  # bytes claimed on pay-per-use classes (billed by use; the claim is a ceiling)
    nodes: NodeBounds
    node_cpu: Decimal  # allocatable per workload node, after the system reserve
    node_memory: Decimal
    volumes: tuple[VolumeLine, ...] = field(default_factory=tuple)

    def as_output(self) -> dict[str, object]:
        """Plain JSON-able figures for a stack output (numbers in cores and bytes, plus readable text)."""

        def span(r: Range) -> dict[str, object]:
            return {"min": _num(r.minimum), "max": _num(r.maximum)}

        return {
            "cpuCores": span(self.cpu),
            "memoryBytes": span(self.memory),
            "storageRequestedBytes": span(self.storage_requested),
            "storageBilledBytes": span(self.storage_billed),
            "storageMeteredBytes": span(self.storage_metered),
            "nodes": {"min": self.nodes.min_nodes, "max": self.nodes.max_nodes,
                      **({"spotMax": self.nodes.interruptible_max_nodes} if self.nodes.interruptible_max_nodes else {})},
            "perNode": {"cpuCores": _num(self.node_cpu), "memoryBytes": _num(self.node_memory)},
            "summary": {
                "cpu": f"{format_cpu(self.cpu.minimum)}..{format_cpu(self.cpu.maximum)}",
                "memory": f"{_size(self.memory.minimum)}..{_size(self.memory.maximum)}",
                "storageRequested": f"{_size(self.storage_requested.minimum)}..{_size(self.storage_requested.maximum)}",
                "storageBilled": f"{_size(self.storage_billed.minimum)}..{_size(self.storage_billed.maximum)}",
                "nodes": f"{self.nodes.min_nodes}..{self.nodes.max_nodes}",
            },
        }

    def format_table(self) -> str:
        rows = [
            ("", "min", "max"),
            ("cpu requested", format_cpu(self.cpu.minimum), format_cpu(self.cpu.maximum)),
            ("memory requested", _size(self.memory.minimum), _size(self.memory.maximum)),
            ("storage requested", _size(self.storage_requested.minimum), _size(self.storage_requested.maximum)),
            ("storage billed", _size(self.storage_billed.minimum), _size(self.storage_billed.maximum)),
            ("storage billed by use", _size(self.storage_metered.minimum), _size(self.storage_metered.maximum)),
            ("workload nodes", str(self.nodes.min_nodes), str(self.nodes.max_nodes)),
        ]
        if self.nodes.interruptible_max_nodes:
            rows.append(("spot nodes (interruptible work)", "0", str(self.nodes.interruptible_max_nodes)))
        out = _columns(rows)
        out.append("")
        out.append(f"one workload node offers {format_cpu(self.node_cpu)} cpu and {_size(self.node_memory)} memory to pods")
        if self.volumes:
            out.append("")
            vol_rows = [("volume", "access", "count", "requested each", "billed each", "class billing")]
            for v in self.volumes:
                count = str(v.count_min) if v.count_min == v.count_max else f"{v.count_min}..{v.count_max}"
                billed = "by use" if v.rule.metered else _size(v.billed_each)
                vol_rows.append((f"{v.workload}/{v.claim}", v.access, count, _size(v.requested_each), billed, v.rule.label))
            out.extend(_columns(vol_rows))
        return "\n".join(out)


def compute_capacity(
    demands: Iterable[WorkloadDemand],
    *,
    node_cpu: Decimal,
    node_memory: Decimal,
    system_reserve_cpu: Decimal = DEFAULT_SYSTEM_RESERVE_CPU,
    system_reserve_memory: Decimal = DEFAULT_SYSTEM_RESERVE_MEMORY,
    storage_billing: StorageBilling = AS_REQUESTED,
    min_nodes_floor: int = 1,
    interruptible_pool: bool = False,
) -> Capacity:
    """Sum the requests at minimum and maximum replicas and size the node pool from them.

    `node_cpu`/`node_memory` are one node's allocatable resources; the system reserve is
    taken off each node (DaemonSets run everywhere). Workloads include the stores (their
    demands carry min = max = 1), so stores count toward the nodes too. With `interruptible_pool`
    the interruptible workloads run on the spot pool: the workload pool is sized without them,
    and `nodes.interruptible_max_nodes` is what they need at their maximum.
    """
    demands = list(demands)
    per_node_cpu = node_cpu - system_reserve_cpu
    per_node_memory = node_memory - system_reserve_memory
    if per_node_cpu <= 0 or per_node_memory <= 0:
        raise ValueError("the system reserve leaves nothing for workloads on one node; pick a larger machine type")

    cpu_min = sum((d.cpu_request * d.min_replicas for d in demands), Decimal(0))
    cpu_max = sum((d.cpu_request * d.max_replicas for d in demands), Decimal(0))
    mem_min = sum((d.memory_request * d.min_replicas for d in demands), Decimal(0))
    mem_max = sum((d.memory_request * d.max_replicas for d in demands), Decimal(0))

    lines: list[VolumeLine] = []
    req = [Decimal(0), Decimal(0)]
    billed = [Decimal(0), Decimal(0)]
    metered = [Decimal(0), Decimal(0)]
    for d in demands:
        for v in d.volumes:
            # A claim template makes one volume per replica; a shared claim exists once.
            counts = (d.min_replicas, d.max_replicas) if v.per_replica else (1, 1)
            rule = storage_billing.rule(v.access)
            each = rule.billed(v.size_bytes)
            lines.append(VolumeLine(d.name, v.claim, v.access, counts[0], counts[1], v.size_bytes, each, rule))
            for i, count in enumerate(counts):
                req[i] += v.size_bytes * count
                billed[i] += each * count
                if rule.metered:
                    metered[i] += v.size_bytes * count

    def nodes_for(cpu: Decimal, memory: Decimal) -> int:
        # A pod never spans nodes, so the bound is whichever resource runs out first.
        return max(math.ceil(cpu / per_node_cpu), math.ceil(memory / per_node_memory))

    on_demand = [d for d in demands if not (interruptible_pool and d.interruptible)]
    spot = [d for d in demands if interruptible_pool and d.interruptible]

    def total(ds: list[WorkloadDemand], attr: str, replicas: str) -> Decimal:
        return sum((getattr(d, attr) * getattr(d, replicas) for d in ds), Decimal(0))

    min_nodes = max(nodes_for(total(on_demand, "cpu_request", "min_replicas"),
                              total(on_demand, "memory_request", "min_replicas")), min_nodes_floor, 1)
    max_nodes = max(nodes_for(total(on_demand, "cpu_request", "max_replicas"),
                              total(on_demand, "memory_request", "max_replicas")), min_nodes)
    spot_max = nodes_for(total(spot, "cpu_request", "max_replicas"), total(spot, "memory_request", "max_replicas")) if spot else 0
    return Capacity(
        cpu=Range(cpu_min, cpu_max),
        memory=Range(mem_min, mem_max),
        storage_requested=Range(req[0], req[1]),
        storage_billed=Range(billed[0], billed[1]),
        storage_metered=Range(metered[0], metered[1]),
        nodes=NodeBounds(min_nodes, max_nodes, spot_max),
        node_cpu=per_node_cpu,
        node_memory=per_node_memory,
        volumes=tuple(lines),
    )


def _num(value: Decimal) -> int | float:
    return int(value) if value == value.to_integral_value() else float(value)


def _size(value: Decimal) -> str:
    if value == 0:
        return "0"
    for suffix, unit in (("Ti", TI), ("Gi", GI), ("Mi", GI / 1024)):
        if value >= unit:
            scaled = value / unit
            return f"{int(scaled)}{suffix}" if scaled == scaled.to_integral_value() else f"{scaled:.1f}{suffix}"
    return format_bytes(value)


def _columns(rows: Sequence[Sequence[str]]) -> list[str]:
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    return ["  ".join(cell.ljust(widths[i]) for i, cell in enumerate(r)).rstrip() for r in rows]
