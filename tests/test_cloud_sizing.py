"""The prod (GKE) stack end to end: spot pool for interruptible work, on-demand pools sized without it."""

from __future__ import annotations

from pulumi.runtime.config import set_all_config

from archivist_infra.capacity.demands_from_settings import workload_demands
from archivist_infra.capacity.sizing import stack_capacity
from archivist_infra.offline import engine
from archivist_infra.offline.stackfile import read_stack
from archivist_infra.program import read_raw_config_and_settings
from tests.conftest import ROOT, VALID_IMAGES


def _prod_settings():  # type: ignore[no-untyped-def]
    config = read_stack(ROOT, "prod", None)
    set_all_config(dict(config.values), list(config.secret_keys))
    return read_raw_config_and_settings(config.project, config.stack)


def test_workload_pool_is_sized_without_the_worker_and_the_spot_pool_for_it(prod_run: engine.Run) -> None:
    settings = _prod_settings()
    cap = stack_capacity(settings)
    pools = {r.name: r.inputs for r in prod_run.by_type("gcp:container/nodePool:NodePool")}
    workload, spot = pools["cluster-workload"]["autoscaling"], pools["cluster-spot"]["autoscaling"]
    assert (workload["totalMinNodeCount"], workload["totalMaxNodeCount"]) == (cap.nodes.min_nodes, cap.nodes.max_nodes)
    assert spot["totalMaxNodeCount"] == cap.nodes.interruptible_max_nodes > 0
    worker = next(d for d in workload_demands(settings) if d.name == "archivist-worker")
    assert worker.interruptible


def test_prod_keeps_volumes_and_node_pools_are_replaceable(prod_run: engine.Run) -> None:
    classes = prod_run.by_type("kubernetes:storage.k8s.io/v1:StorageClass")
    assert classes and all(c.inputs["reclaimPolicy"] == "Retain" for c in classes)  # protect is on in prod
    assert not any(p.protect for p in prod_run.by_type("gcp:container/nodePool:NodePool"))
    provider = prod_run.one("pulumi:providers:kubernetes", "cluster-k8s")
    assert provider.inputs["clusterIdentifier"] == "cluster-cluster-id"


def test_dev_stack_volumes_go_with_the_stack(run) -> None:  # type: ignore[no-untyped-def]
    r = run({"platform": "gke", "cluster": {"project": "archivist-dev", "region": "europe-west1",
                                            "apiAccess": {"allowedCidrs": ["203.0.113.7/32"]}},
             "images": VALID_IMAGES})
    classes = r.by_type("kubernetes:storage.k8s.io/v1:StorageClass")
    assert classes and all(c.inputs["reclaimPolicy"] == "Delete" for c in classes)
