from __future__ import annotations

from decimal import Decimal

import pulumi

from archivist_infra.capacity import NodeBounds
from archivist_infra.platforms import gke

from .conftest import RecordingMonitor, reader, settled
from .sdk_isolation import assert_only_sdk

BASE = {"project": "archivist-prod", "region": "europe-west1", "spot": {"enabled": True}}


def settings(**extra: object) -> gke.GkeSettings:
    r = reader({**BASE, **extra})
    parsed = gke.parse(r)
    assert not r.problems, r.problems.items
    return parsed


@pulumi.runtime.test
def test_creates_vpc_native_cluster_with_pools_sized_from_bounds(monitor: RecordingMonitor) -> pulumi.Output[None]:
    comp = gke.GkeCluster("arch", settings(), node_bounds=NodeBounds(2, 7), protect=True)

    def check() -> None:
        cluster = monitor.one("gcp:container/cluster:Cluster").inputs
        assert cluster["location"] == "europe-west1"  # regional by default
        assert cluster["networkingMode"] == "VPC_NATIVE"
        assert cluster["ipAllocationPolicy"] == {"clusterSecondaryRangeName": "pods", "servicesSecondaryRangeName": "services"}
        assert cluster["releaseChannel"] == {"channel": "REGULAR"}
        assert cluster["workloadIdentityConfig"] == {"workloadPool": "archivist-prod.svc.id.goog"}
        assert cluster["addonsConfig"]["gcpFilestoreCsiDriverConfig"] == {"enabled": True}
        assert cluster["removeDefaultNodePool"] is True
        assert cluster["deletionProtection"] is True

        pools = {r.name: r for r in monitor.of_type("gcp:container/nodePool:NodePool")}
        assert set(pools) == {"arch-system", "arch-workload", "arch-spot"}
        workload = pools["arch-workload"].inputs
        assert workload["autoscaling"]["totalMinNodeCount"] == 2
        assert workload["autoscaling"]["totalMaxNodeCount"] == 7
        assert workload["nodeConfig"]["machineType"] == "e2-standard-4"
        assert workload["nodeConfig"]["workloadMetadataConfig"] == {"mode": "GKE_METADATA"}
        spot = pools["arch-spot"].inputs
        assert spot["nodeConfig"]["spot"] is True
        assert spot["nodeConfig"]["taints"][0]["effect"] == "NO_SCHEDULE"
        assert spot["autoscaling"]["totalMinNodeCount"] == 0

        subnet = monitor.one("gcp:compute/subnetwork:Subnetwork").inputs
        assert {r["rangeName"] for r in subnet["secondaryIpRanges"]} == {"pods", "services"}

        repo = monitor.one("gcp:artifactregistry/repository:Repository")
        assert repo.inputs["format"] == "DOCKER" and repo.protect

        # production protects what holds state or takes long to rebuild
        for token in ("gcp:container/cluster:Cluster", "gcp:container/nodePool:NodePool",
                      "kubernetes:storage.k8s.io/v1:StorageClass"):
            assert all(r.protect for r in monitor.of_type(token)), token
    return settled(comp, check)


@pulumi.runtime.test
def test_storage_classes_and_explicit_secret_provider(monitor: RecordingMonitor) -> pulumi.Output[None]:
    comp = gke.GkeCluster("arch", settings(filestore={"tier": "zonal"}), node_bounds=NodeBounds(1, 3), protect=False)
    target = comp.target
    assert target.storage.read_write_once == "archivist-ssd"
    assert target.storage.read_write_many == "archivist-shared"

    def check() -> None:
        provider = monitor.one("pulumi:providers:kubernetes")
        assert "kubeconfig" in provider.secret_keys
        classes = {r.inputs["metadata"]["name"]: r.inputs for r in monitor.of_type("kubernetes:storage.k8s.io/v1:StorageClass")}
        rwo, rwx = classes["archivist-ssd"], classes["archivist-shared"]
        assert rwo["provisioner"] == "pd.csi.storage.gke.io" and rwo["parameters"] == {"type": "pd-ssd"}
        assert rwx["provisioner"] == "filestore.csi.storage.gke.io" and rwx["parameters"]["tier"] == "zonal"
        for sc in (rwo, rwx):
            assert sc["volumeBindingMode"] == "WaitForFirstConsumer"
            assert sc["allowVolumeExpansion"] is True
            assert sc["reclaimPolicy"] == "Retain"
        k8s_resources = [r for r in monitor.registrations if r.type.startswith("kubernetes:")]
        assert k8s_resources and all(r.provider for r in k8s_resources)
        assert not any(r.protect for r in monitor.of_type("gcp:container/cluster:Cluster"))
    return settled(comp, check)


@pulumi.runtime.test
def test_adopting_an_existing_cluster_creates_no_cluster(monitor: RecordingMonitor) -> pulumi.Output[None]:
    comp = gke.GkeCluster("arch", settings(create=False, name="shared", zone="europe-west1-b",
                                           storageClasses={"readWriteMany": "premium-rwx"}),
                          node_bounds=NodeBounds(1, 3), protect=False)
    assert comp.target.storage.read_write_many == "premium-rwx"

    def check() -> None:
        created = {r.type for r in monitor.registrations}
        assert not created & {"gcp:container/cluster:Cluster", "gcp:container/nodePool:NodePool", "gcp:compute/network:Network"}
        assert "gcp:container/getCluster:getCluster" in monitor.call_tokens()
        classes = monitor.of_type("kubernetes:storage.k8s.io/v1:StorageClass")
        assert [c.inputs["metadata"]["name"] for c in classes] == ["archivist-ssd"]
        assert "kubeconfig" in monitor.one("pulumi:providers:kubernetes").secret_keys
    return settled(comp, check)


def test_registry_and_kubeconfig_values() -> None:
    assert gke.node_machine(settings(machineType="n2-standard-8"))[0] > Decimal("7.8")
    cpu, mem = gke.node_machine(settings(nodeCpu="7", nodeMemory="28Gi", machineType="custom-8-32768"))
    assert (cpu, mem) == (Decimal(7), Decimal(28) * 2**30)


def test_every_problem_is_reported_with_its_key() -> None:
    r = reader({"zone": "us-east1-b", "releaseChannel": "nightly", "machineType": "mystery-9",
                "spot": {"enabled": "sometimes"}, "filestore": {"tier": "gold"}, "network": {"podCidr": "10.0.0/8"},
                "storageClasses": {"readWriteOnce": "Bad_Name"}, "colour": "blue"})
    gke.parse(r)
    keys = {p.key for p in r.problems.items}
    assert keys >= {
        "archivist:cluster.project", "archivist:cluster.region", "archivist:cluster.releaseChannel",
        "archivist:cluster.machineType", "archivist:cluster.spot.enabled", "archivist:cluster.filestore.tier",
        "archivist:cluster.network.podCidr", "archivist:cluster.storageClasses.readWriteOnce", "archivist:cluster.colour",
    }
    project = next(p for p in r.problems.items if p.key == "archivist:cluster.project")
    assert "pulumi config set --path archivist:cluster.project" in project.message


def test_gke_stack_imports_only_pulumi_gcp() -> None:
    assert_only_sdk("gke", "pulumi_gcp")
