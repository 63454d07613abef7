"""Allocatable cpu and memory of a node from its machine size.

Uses the kubelet reservation formula GKE publishes (AKS adopted the same for 1.29+, and
EKS AMIs reserve about as much): capacity planning needs what pods can actually use, not
what the machine type's name promises.
"""

from __future__ import annotations

from decimal import Decimal

from ..config.quantity import GI, MI

_CPU_STEPS = ((Decimal(1), Decimal("0.06")), (Decimal(1), Decimal("0.01")), (Decimal(2), Decimal("0.005")))
_MEMORY_STEPS = ((4, Decimal("0.25")), (4, Decimal("0.20")), (8, Decimal("0.10")), (112, Decimal("0.06")))
_EVICTION = 100 * MI


def allocatable(vcpus: int, memory_gib: int) -> tuple[Decimal, Decimal]:
    cpu_left, cpu_reserved = Decimal(vcpus), Decimal(0)
    for size, rate in _CPU_STEPS:
        part = min(cpu_left, size)
        cpu_reserved += part * rate
        cpu_left -= part
    cpu_reserved += cpu_left * Decimal("0.0025")

    mem_left, mem_reserved = Decimal(memory_gib), Decimal(0)
    for msize, rate in _MEMORY_STEPS:
        part = min(mem_left, Decimal(msize))
        mem_reserved += part * rate
        mem_left -= part
    mem_reserved += mem_left * Decimal("0.02")
    cpu = (Decimal(vcpus) - cpu_reserved).quantize(Decimal("0.001"))
    memory = (Decimal(memory_gib) * GI - mem_reserved * GI - _EVICTION).to_integral_value()
    return cpu, memory


def table(shapes: dict[str, tuple[int, int]]) -> dict[str, tuple[Decimal, Decimal]]:
    """Machine type -> (vCPUs, GiB) turned into machine type -> allocatable (cores, bytes)."""
    return {name: allocatable(cpu, mem) for name, (cpu, mem) in shapes.items()}
