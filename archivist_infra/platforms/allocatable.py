"""Allocatable cpu and memory of a node from its machine size, per cloud.

Capacity planning needs what pods can actually use, not what the machine type's name
promises; each managed Kubernetes reserves differently for the kubelet and the OS:

- GKE: tiered CPU (6 % of the first core, 1 % of the second, 0.5 % of cores 3-4, 0.25 % above) and
  tiered memory (25 % of the first 4 GiB, 20 % of the next 4, 10 % of the next 8, 6 % of the next
  112, 2 % above), plus a 100 MiB eviction threshold (GKE "Standard cluster architecture:
  node allocatable resources").
- EKS (Amazon Linux 2023 AMIs, nodeadm): the same CPU tiers; memory 255 MiB + 11 MiB per pod the
  node can hold (max pods of the VPC CNI: ENIs x (IPv4 per ENI - 1) + 2), plus 100 MiB eviction
  (awslabs/amazon-eks-ami nodeadm kubelet config).
- AKS (Kubernetes 1.29+): CPU from a fixed table per core count (60/100/140/180/260/420/740 m for
  1/2/4/8/16/32/64 cores); memory min(20 MB x max pods + 50 MB, 25 % of RAM), plus 100 MiB eviction
  (learn.microsoft.com/azure/aks/node-resource-reservations). Azure CNI overlay allows 250 pods.
"""

from __future__ import annotations

from decimal import Decimal

from ..config.quantity import GI, MI

_CPU_STEPS = ((Decimal(1), Decimal("0.06")), (Decimal(1), Decimal("0.01")), (Decimal(2), Decimal("0.005")))
_MEMORY_STEPS = ((4, Decimal("0.25")), (4, Decimal("0.20")), (8, Decimal("0.10")), (112, Decimal("0.06")))
_EVICTION = 100 * MI
_AKS_CPU = ((1, Decimal("0.06")), (2, Decimal("0.1")), (4, Decimal("0.14")), (8, Decimal("0.18")),
            (16, Decimal("0.26")), (32, Decimal("0.42")), (64, Decimal("0.74")))
AKS_OVERLAY_MAX_PODS = 250


def _tiered_cpu_reserve(vcpus: int) -> Decimal:
    cpu_left, cpu_reserved = Decimal(vcpus), Decimal(0)
    for size, rate in _CPU_STEPS:
        part = min(cpu_left, size)
        cpu_reserved += part * rate
        cpu_left -= part
    return cpu_reserved + cpu_left * Decimal("0.0025")


def _result(vcpus: int, memory_gib: int, cpu_reserved: Decimal, mem_reserved_bytes: Decimal) -> tuple[Decimal, Decimal]:
    cpu = (Decimal(vcpus) - cpu_reserved).quantize(Decimal("0.001"))
    memory = (Decimal(memory_gib) * GI - mem_reserved_bytes - _EVICTION).to_integral_value()
    return cpu, memory


def allocatable(vcpus: int, memory_gib: int) -> tuple[Decimal, Decimal]:
    """GKE's published formula."""
    mem_left, mem_reserved = Decimal(memory_gib), Decimal(0)
    for msize, rate in _MEMORY_STEPS:
        part = min(mem_left, Decimal(msize))
        mem_reserved += part * rate
        mem_left -= part
    mem_reserved += mem_left * Decimal("0.02")
    return _result(vcpus, memory_gib, _tiered_cpu_reserve(vcpus), mem_reserved * GI)


def eks_allocatable(vcpus: int, memory_gib: int, max_pods: int) -> tuple[Decimal, Decimal]:
    """Amazon Linux 2023 EKS AMI: 255 MiB + 11 MiB per pod."""
    return _result(vcpus, memory_gib, _tiered_cpu_reserve(vcpus), (255 + 11 * max_pods) * MI)


def aks_allocatable(vcpus: int, memory_gib: int, max_pods: int = AKS_OVERLAY_MAX_PODS) -> tuple[Decimal, Decimal]:
    """AKS 1.29+: table CPU reserve; memory min(20 MB x pods + 50 MB, 25 %)."""
    cpu_reserved = next((rate for cores, rate in _AKS_CPU if vcpus <= cores), _AKS_CPU[-1][1])
    mb = Decimal(1000 * 1000)
    mem_reserved = min((20 * max_pods + 50) * mb, Decimal(memory_gib) * GI / 4)
    return _result(vcpus, memory_gib, cpu_reserved, mem_reserved)


def table(shapes: dict[str, tuple[int, int]]) -> dict[str, tuple[Decimal, Decimal]]:
    """Machine type -> (vCPUs, GiB) turned into machine type -> allocatable (cores, bytes), GKE's formula."""
    return {name: allocatable(cpu, mem) for name, (cpu, mem) in shapes.items()}


def eks_table(shapes: dict[str, tuple[int, int, int]]) -> dict[str, tuple[Decimal, Decimal]]:
    """Instance type -> (vCPUs, GiB, max pods) turned into allocatable (cores, bytes) on AL2023."""
    return {name: eks_allocatable(cpu, mem, pods) for name, (cpu, mem, pods) in shapes.items()}


def aks_table(shapes: dict[str, tuple[int, int]]) -> dict[str, tuple[Decimal, Decimal]]:
    """VM size -> (vCPUs, GiB) turned into allocatable (cores, bytes) on AKS 1.29+ with CNI overlay."""
    return {name: aks_allocatable(cpu, mem) for name, (cpu, mem) in shapes.items()}
