"""An estimated monthly bill at the minimum and the maximum size of the stack, from prices.py.

Counts what the stack creates and sizes: the control plane, every node pool at its autoscaling bounds
(on-demand and spot), node boot disks, NAT, the public load balancer, the stores' volumes and file
shares as billed (class minimums and tiers from `figures`), and the registry. What it leaves out is
listed in LEFT_OUT and printed with the estimate: usage-priced items have no size to multiply.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from ..config.quantity import GI
from .figures import Capacity, VolumeLine
from .prices import CHECKED, HOURS_PER_MONTH, REFERENCE_REGION, Price, price

# Images kept in the registry: three images, the cleanup policy keeps about 20 versions of layers that
# mostly share a base; a few GiB. An assumption, printed as such.
REGISTRY_GIB = Decimal(5)
# AKS gives each node a 128 GiB managed OS disk unless told otherwise (agent pool osDiskSizeGB default).
AKS_OS_DISK_GIB = Decimal(128)
DAYS_PER_MONTH = HOURS_PER_MONTH / 24

LEFT_OUT = (
    "network egress, NAT and load-balancer data processing (per GB / LCU)",
    "logs and metrics (Cloud Logging, CloudWatch, Azure Monitor), backup buckets and snapshots",
    "secret-manager and key operations, DNS, certificates, support plans, taxes",
    "committed-use, reserved and savings-plan discounts; regional price differences",
    "the first `up`'s transient nodes and any nodes an adopted cluster already runs",
)


@dataclass(frozen=True)
class CostLine:
    item: str
    minimum: Decimal | None  # None: no price in the table (left out of the total, named)
    maximum: Decimal | None
    verified: bool = True


@dataclass(frozen=True)
class CostEstimate:
    platform: str
    region: str
    lines: tuple[CostLine, ...]

    @property
    def total(self) -> tuple[Decimal, Decimal]:
        priced = [line for line in self.lines if line.minimum is not None and line.maximum is not None]
        return (sum((line.minimum for line in priced if line.minimum is not None), Decimal(0)),
                sum((line.maximum for line in priced if line.maximum is not None), Decimal(0)))

    def format_table(self) -> str:
        if not self.lines:
            return "estimated monthly cost: none billed by a cloud (platform local)"
        rows: list[tuple[str, str, str]] = [("estimated monthly cost (USD)", "min", "max")]
        for line in self.lines:
            mark = "" if line.verified else " *"
            rows.append((line.item + mark, _usd(line.minimum), _usd(line.maximum)))
        lo, hi = self.total
        rows.append(("total", _usd(lo), _usd(hi)))
        widths = [max(len(r[i]) for r in rows) for i in range(3)]
        out = [f"{r[0].ljust(widths[0])}  {r[1].rjust(widths[1])}  {r[2].rjust(widths[2])}".rstrip() for r in rows]
        out.append(f"list prices of {self.region}, pay as you go, checked {CHECKED.isoformat()} "
                   "(archivist_infra/capacity/prices.py, docs/cost.md)")
        if any(not line.verified for line in self.lines):
            out.append("* price not yet confirmed against a stored copy of the provider's page")
        unpriced = [line.item for line in self.lines if line.minimum is None]
        if unpriced:
            out.append(f"no price in the table (not in the total): {', '.join(unpriced)}")
        out.append("not included: " + "; ".join(LEFT_OUT))
        return "\n".join(out)


def _usd(value: Decimal | None) -> str:
    return "?" if value is None else f"{value.quantize(Decimal('0.01')):,}"


class _Lines:
    def __init__(self, platform: str) -> None:
        self.platform = platform
        self.lines: list[CostLine] = []

    def monthly(self, key: str) -> tuple[Decimal, bool] | None:
        p: Price | None = price(self.platform, key)
        if p is None:
            return None
        per = {"hour": HOURS_PER_MONTH, "VM-hour": HOURS_PER_MONTH, "day": DAYS_PER_MONTH}.get(p.unit, Decimal(1))
        return p.usd * per, p.verified

    def add(self, item: str, key: str, lo: Decimal | int, hi: Decimal | int, *, factor: Decimal = Decimal(1),
            also: Sequence[str] = ()) -> None:
        found = self.monthly(key)
        if found is None:
            self.lines.append(CostLine(f"{item} (no price for {key.split(':', 1)[-1]})", None, None))
            return
        unit, verified = found
        for extra in also:
            found_extra = self.monthly(extra)
            verified = verified and found_extra is not None and found_extra[1]
        self.lines.append(CostLine(item, unit * factor * Decimal(lo), unit * factor * Decimal(hi), verified))

    def pool(self, what: str, machine: str, lo: int, hi: int, *, spot: bool = False) -> None:
        discount = Decimal(1)
        if spot:
            d = price(self.platform, "spot-discount")
            discount = Decimal(1) - (d.usd if d else Decimal(0))
        label = f"{what} nodes {machine} ({lo}..{hi}{', spot' if spot else ''})"
        self.add(label, f"node:{machine}", lo, hi, factor=discount, also=("spot-discount",) if spot else ())


def _volumes(lines: _Lines, volumes: Sequence[VolumeLine]) -> None:
    keys = {"GCE pd-ssd": "disk:pd-ssd", "EBS gp3": "disk:gp3", "EFS": "files:efs",
            "Azure Premium SSD": "disk:premium-ssd", "Azure Files premium": "files:premium",
            "Azure Files standard": "files:standard"}
    for v in volumes:
        label = v.rule.label
        key = next((k for prefix, k in keys.items() if label.startswith(prefix)), None)
        if label.startswith("Filestore"):
            key = f"files:{label.split()[1]}"
        if key is None:
            continue  # a class of unknown billing (named in config): nothing to multiply
        # Pay-per-use classes: the claim is a ceiling, so the estimate shows what a full claim costs.
        size = v.requested_each if v.rule.metered else v.billed_each
        gib = size / GI
        count = f"{v.count_min}" if v.count_min == v.count_max else f"{v.count_min}..{v.count_max}"
        note = " at most (billed by use)" if v.rule.metered else ""
        lines.add(f"volume {v.workload}/{v.claim} {count} x {_gib(gib)}{note}", key,
                  gib * v.count_min, gib * v.count_max)


def _gib(gib: Decimal) -> str:
    return f"{gib.normalize():f} GiB"


def estimate(platform: str, cluster: Any, cap: Capacity) -> CostEstimate:
    """The monthly estimate of one stack; `cluster` is the platform module's parsed settings."""
    if platform not in REFERENCE_REGION:
        return CostEstimate(platform, "", ())
    lines = _Lines(platform)
    nodes = cap.nodes
    created = bool(getattr(cluster, "create", True))
    spot_max = 0
    if created:
        lines.add("control plane" + (" (Standard tier)" if platform == "aks" else ""), "control-plane", 1, 1,
                  factor=Decimal(0 if platform == "aks" and cluster.sku_tier == "Free" else 1))
        if platform == "gke":
            workload, system, spot_machine = cluster.machine_type, cluster.system_machine_type, cluster.spot_machine_type
        elif platform == "eks":
            workload, system, spot_machine = (cluster.machine_types[0], cluster.system_machine_type,
                                              cluster.spot_machine_types[0])
        else:
            workload, system, spot_machine = cluster.machine_type, cluster.system_machine_type, cluster.spot_machine_type
        lines.pool("system", system, 1, 3)
        lines.pool("workload", workload, nodes.min_nodes, nodes.max_nodes)
        if cluster.spot:
            spot_max = cluster.spot_max_nodes or nodes.interruptible_max_nodes or nodes.max_nodes
            lines.pool("spot", spot_machine, 0, spot_max, spot=True)
        lo_nodes, hi_nodes = 1 + nodes.min_nodes, 3 + nodes.max_nodes + spot_max
        if platform == "aks":
            lines.add(f"node OS disks {AKS_OS_DISK_GIB} GiB ({lo_nodes}..{hi_nodes})", "os-disk",
                      AKS_OS_DISK_GIB * lo_nodes, AKS_OS_DISK_GIB * hi_nodes)
        else:
            disk = Decimal(cluster.disk_size_gb)
            key = "disk:pd-balanced" if platform == "gke" else "disk:gp3"
            lines.add(f"node boot disks {disk} GiB ({lo_nodes}..{hi_nodes})", key, disk * lo_nodes, disk * hi_nodes)
        if platform == "gke":
            lines.add(f"Cloud NAT ({lo_nodes}..{hi_nodes} VMs)", "nat", lo_nodes, hi_nodes)
        elif platform == "eks" and cluster.vpc_id is None:
            lines.add("NAT gateway (1)", "nat", 1, 1)
    lines.add("public load balancer (1 rule)", "lb", 1, 1)
    _volumes(lines, cap.volumes)
    if platform == "aks":
        lines.add("container registry (Standard SKU)", "registry", 1, 1)
    else:
        lines.add(f"container registry (~{REGISTRY_GIB} GiB of images, assumed)", "registry", REGISTRY_GIB, REGISTRY_GIB)
    return CostEstimate(platform, REFERENCE_REGION[platform], tuple(lines.lines))
