"""The stack's capacity figures: what the workloads need and how many nodes carry them."""

from __future__ import annotations

from ..config.settings import Settings
from ..platforms import platform_module
from .demands_from_settings import workload_demands
from .figures import Capacity, compute_capacity


def stack_capacity(settings: Settings) -> Capacity:
    module = platform_module(settings.platform)
    node_cpu, node_memory = module.node_machine(settings.cluster)
    return compute_capacity(
        workload_demands(settings),
        node_cpu=node_cpu,
        node_memory=node_memory,
        storage_billing=module.storage_billing(settings.cluster),
        interruptible_pool=module.has_spot_pool(settings.cluster),
    )
