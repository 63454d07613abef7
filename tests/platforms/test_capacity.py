"""Capacity against a hand calculation (figures in the comments)."""

from __future__ import annotations

import json
from decimal import Decimal

import pytest

from archivist_infra.capacity import AS_REQUESTED, GI, TI, NodeBounds, StorageBilling, compute_capacity
from archivist_infra.config.quantity import MI
from archivist_infra.demand import VolumeDemand, WorkloadDemand
from archivist_infra.platforms import storage_classes as sc
from archivist_infra.platforms.allocatable import allocatable

D = Decimal


def demand(name: str, lo: int, hi: int, cpu: str, mem: Decimal, *volumes: VolumeDemand) -> WorkloadDemand:
    return WorkloadDemand(name, lo, hi, D(cpu), mem, D(cpu) * 2, mem * 2, tuple(volumes))


DEMANDS = [
    demand("worker", 2, 20, "0.5", 1 * GI, VolumeDemand("shared-data", "rwx", 20 * GI, per_replica=False)),
    demand("search", 2, 10, "0.25", 256 * MI),
    demand("neo4j", 1, 1, "0.5", 1 * GI, VolumeDemand("data", "rwo", 10 * GI, per_replica=True)),
    demand("qdrant", 1, 5, "0.25", 512 * MI, VolumeDemand("storage", "rwo", 5 * GI, per_replica=True)),
]
# One node: 4 cores / 16 GiB allocatable, minus 0.2 core / 0.5 GiB of DaemonSets = 3.8 / 15.5 GiB.
NODE = {"node_cpu": D(4), "node_memory": 16 * GI, "system_reserve_cpu": D("0.2"), "system_reserve_memory": GI / 2}


def test_requests_and_nodes_match_the_hand_calculation() -> None:
    cap = compute_capacity(DEMANDS, **NODE)
    # cpu: min 2*.5 + 2*.25 + .5 + .25 = 2.25; max 20*.5 + 10*.25 + .5 + 5*.25 = 14.25
    assert (cap.cpu.minimum, cap.cpu.maximum) == (D("2.25"), D("14.25"))
    # memory: min 2 + .5 + 1 + .5 = 4 GiB; max 20 + 2.5 + 1 + 2.5 = 26 GiB
    assert (cap.memory.minimum, cap.memory.maximum) == (4 * GI, 26 * GI)
    # nodes: max = max(ceil(14.25 / 3.8) = 4, ceil(26 / 15.5) = 2) = 4; min = max(ceil(2.25/3.8), ceil(4/15.5)) = 1
    assert cap.nodes == NodeBounds(1, 4)
    # storage: min 20 + 10 + 5 = 35 GiB; max 20 + 10 + 5*5 = 55 GiB
    assert (cap.storage_requested.minimum, cap.storage_requested.maximum) == (35 * GI, 55 * GI)
    assert cap.storage_billed == cap.storage_requested  # AS_REQUESTED by default


def test_memory_can_be_the_binding_resource() -> None:
    heavy = [demand("graph", 1, 10, "0.1", 6 * GI)]
    cap = compute_capacity(heavy, **NODE)
    # cpu needs ceil(1 / 3.8) = 1 node, memory ceil(60 / 15.5) = 4 nodes
    assert cap.nodes.max_nodes == 4


def test_minimum_floor_and_min_never_above_max() -> None:
    cap = compute_capacity(DEMANDS, **NODE, min_nodes_floor=3)
    assert cap.nodes == NodeBounds(3, 4)
    cap = compute_capacity(DEMANDS, **NODE, min_nodes_floor=9)
    assert cap.nodes == NodeBounds(9, 9)


def test_filestore_bills_its_minimum_instance() -> None:
    rwo, rwx = sc.gke_billing("standard")
    cap = compute_capacity(DEMANDS, **NODE, storage_billing=StorageBilling(rwo, rwx))
    # shared 20 GiB claim -> 1 TiB instance; pd-ssd 10 GiB minimum: neo4j 10, qdrant 5 -> 10 each
    assert cap.storage_billed.minimum == TI + 10 * GI + 10 * GI
    assert cap.storage_billed.maximum == TI + 10 * GI + 5 * 10 * GI
    assert sc.gke_billing("premium")[1].billed(20 * GI) == TI * 5 / 2


def test_efs_bills_use_not_requests() -> None:
    rwo, rwx = sc.eks_billing()
    cap = compute_capacity(DEMANDS, **NODE, storage_billing=StorageBilling(rwo, rwx))
    assert cap.storage_billed.maximum == 10 * GI + 25 * GI  # gp3 as requested, EFS not provisioned
    assert cap.storage_metered.maximum == 20 * GI


def test_outputs_are_plain_json_and_the_table_is_readable() -> None:
    rwo, rwx = sc.gke_billing("standard")
    cap = compute_capacity(DEMANDS, **NODE, storage_billing=StorageBilling(rwo, rwx))
    out = cap.as_output()
    assert json.loads(json.dumps(out)) == out
    assert out["nodes"] == {"min": 1, "max": 4}
    assert out["cpuCores"] == {"min": 2.25, "max": 14.25}
    table = cap.format_table()
    assert "workload nodes" in table and "worker/shared-data" in table and "1Ti" in table and "Filestore" in table


def test_reserve_larger_than_the_node_is_an_error() -> None:
    with pytest.raises(ValueError, match="larger machine type"):
        compute_capacity(DEMANDS, node_cpu=D("0.1"), node_memory=GI, storage_billing=AS_REQUESTED)


def test_allocatable_follows_the_kubelet_reserve_formula() -> None:
    cpu, mem = allocatable(4, 16)
    assert cpu == D("3.920")  # 4 - (0.06 + 0.01 + 2 * 0.005)
    assert mem == (16 * GI - D("2.6") * GI - 100 * MI).to_integral_value()  # 25% of 4 + 20% of 4 + 10% of 8, minus eviction
