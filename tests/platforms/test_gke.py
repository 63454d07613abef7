from __future__ import annotations

from decimal import Decimal

import pulumi

from archivist_infra.capacity.figures import NodeBounds
from archivist_infra.platforms import gke

from .conftest import RecordingMonitor, reader, settled
from .sdk_isolation import assert_only_sdk

BASE = {"project": "archivist-prod", "region": "europe-west1", "spot": {"enabled": True},
        "apiAccess": {"allowedCidrs": ["203.0.113.7/32"]}}


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

        # production protects what holds state or takes long to rebuild, and nothing that holds no data
        for token in ("gcp:container/cluster:Cluster", "kubernetes:storage.k8s.io/v1:StorageClass"):
            assert all(r.protect for r in monitor.of_type(token)), token
        assert not any(r.protect for r in monitor.of_type("gcp:container/nodePool:NodePool"))
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
            # an unprotected stack's volumes go with it: nothing bills on after `pulumi destroy`
            assert sc["reclaimPolicy"] == "Delete"
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


@pulumi.runtime.test
def test_node_pools_start_at_their_minimum_per_zone_and_leave_the_count_to_the_autoscaler(
        monitor: RecordingMonitor) -> pulumi.Output[None]:
    # regional (3 zones): a minimum of 4 needs 2 nodes per zone; the zonal system pool's minimum of 1 needs 1
    comp = gke.GkeCluster("arch", settings(), node_bounds=NodeBounds(4, 9, 5), protect=True)

    def check() -> None:
        pools = {r.name: r for r in monitor.of_type("gcp:container/nodePool:NodePool")}
        assert pools["arch-workload"].inputs["initialNodeCount"] == 2
        assert pools["arch-system"].inputs["initialNodeCount"] == 1
        assert pools["arch-spot"].inputs["initialNodeCount"] == 0
        assert pools["arch-spot"].inputs["autoscaling"]["totalMaxNodeCount"] == 5  # the interruptible work's maximum
        for pool in pools.values():
            assert pool.ignore_changes == ["initialNodeCount"]
    return settled(comp, check)


@pulumi.runtime.test
def test_zonal_pool_initial_count_is_the_minimum(monitor: RecordingMonitor) -> pulumi.Output[None]:
    comp = gke.GkeCluster("arch", settings(zone="europe-west1-b"), node_bounds=NodeBounds(3, 5), protect=False)

    def check() -> None:
        assert monitor.one("gcp:container/nodePool:NodePool", "arch-workload").inputs["initialNodeCount"] == 3
    return settled(comp, check)


@pulumi.runtime.test
def test_google_apis_are_enabled_before_what_needs_them(monitor: RecordingMonitor) -> pulumi.Output[None]:
    comp = gke.GkeCluster("arch", settings(), node_bounds=NodeBounds(1, 3), protect=False)

    def check() -> None:
        services = {r.inputs["service"]: r for r in monitor.of_type("gcp:projects/service:Service")}
        assert set(services) == {"compute.googleapis.com", "container.googleapis.com", "iam.googleapis.com",
                                 "artifactregistry.googleapis.com", "file.googleapis.com"}
        for svc in services.values():
            assert svc.inputs["disableOnDestroy"] is False and svc.inputs["project"] == "archivist-prod"
        api = {r.name for r in services.values()}
        for token in ("gcp:container/cluster:Cluster", "gcp:artifactregistry/repository:Repository",
                      "gcp:compute/network:Network", "gcp:serviceaccount/account:Account"):
            assert api <= monitor.depends_on_names(monitor.one(token)), token
        # the Filestore class provisions through file.googleapis.com
        for cls in monitor.of_type("kubernetes:storage.k8s.io/v1:StorageClass"):
            assert "arch-api-file" in monitor.depends_on_names(cls)
    return settled(comp, check)


@pulumi.runtime.test
def test_adopted_cluster_enables_only_registry_and_filestore_apis(monitor: RecordingMonitor) -> pulumi.Output[None]:
    comp = gke.GkeCluster("arch", settings(create=False, apiAccess={}), node_bounds=NodeBounds(1, 3), protect=False)

    def check() -> None:
        services = {r.inputs["service"] for r in monitor.of_type("gcp:projects/service:Service")}
        assert services == {"artifactregistry.googleapis.com", "file.googleapis.com"}
        # the provider follows the adopted cluster's id
        assert monitor.one("pulumi:providers:kubernetes").inputs["clusterIdentifier"]
    return settled(comp, check)


@pulumi.runtime.test
def test_kubeconfig_authenticates_with_application_default_credentials(monitor: RecordingMonitor) -> pulumi.Output[None]:
    import json

    comp = gke.GkeCluster("arch", settings(), node_bounds=NodeBounds(1, 3), protect=False)

    def check() -> None:
        provider = monitor.one("pulumi:providers:kubernetes")
        kubeconfig = json.loads(provider.inputs["kubeconfig"])
        exec_spec = kubeconfig["users"][0]["user"]["exec"]
        assert exec_spec["command"] == "gke-gcloud-auth-plugin"
        assert exec_spec["args"] == ["--use_application_default_credentials"]
        assert exec_spec["interactiveMode"] == "Never"
        # the cluster's id decides replacement, not kubeconfig heuristics (a CA rotation is an update)
        assert provider.inputs["clusterIdentifier"] == "arch-cluster-id"
    return settled(comp, check)


@pulumi.runtime.test
def test_nodes_are_private_with_nat_egress_and_api_server_limited_to_allowed_cidrs(
        monitor: RecordingMonitor) -> pulumi.Output[None]:
    comp = gke.GkeCluster("arch", settings(apiAccess={"allowedCidrs": ["203.0.113.7/32", "198.51.100.0/24"]}),
                          node_bounds=NodeBounds(1, 3), protect=False)

    def check() -> None:
        cluster = monitor.one("gcp:container/cluster:Cluster").inputs
        assert cluster["privateClusterConfig"] == {"enablePrivateNodes": True, "enablePrivateEndpoint": False}
        networks = cluster["masterAuthorizedNetworksConfig"]
        assert [b["cidrBlock"] for b in networks["cidrBlocks"]] == ["203.0.113.7/32", "198.51.100.0/24"]
        assert networks["gcpPublicCidrsAccessEnabled"] is False
        nat = monitor.one("gcp:compute/routerNat:RouterNat").inputs
        assert nat["sourceSubnetworkIpRangesToNat"] == "ALL_SUBNETWORKS_ALL_IP_RANGES"
        assert nat["natIpAllocateOption"] == "AUTO_ONLY"
        router = monitor.one("gcp:compute/router:Router")
        assert "arch-vpc" in monitor.depends_on_names(router)
        # Gateway API is opt-in on Standard clusters; the gateway ingress needs its CRDs
        assert cluster["gatewayApiConfig"] == {"channel": "CHANNEL_STANDARD"}
    return settled(comp, check)


def test_api_access_must_be_chosen_when_creating_a_cluster() -> None:
    r = reader({"project": "archivist-prod", "region": "europe-west1"})
    gke.parse(r)
    problem = next(p for p in r.problems.items if p.key == "archivist:cluster.apiAccess.allowedCidrs")
    assert "checkip" in problem.message and "0.0.0.0/0" in problem.message
    r = reader({**BASE, "apiAccess": {"allowedCidrs": ["not-a-cidr"]}})
    gke.parse(r)
    assert [p.key for p in r.problems.items] == ["archivist:cluster.apiAccess.allowedCidrs"]


@pulumi.runtime.test
def test_an_explicit_open_api_server_sets_no_authorized_networks(monitor: RecordingMonitor) -> pulumi.Output[None]:
    comp = gke.GkeCluster("arch", settings(apiAccess={"allowedCidrs": ["0.0.0.0/0"]}), node_bounds=NodeBounds(1, 3),
                          protect=False)

    def check() -> None:
        assert "masterAuthorizedNetworksConfig" not in monitor.one("gcp:container/cluster:Cluster").inputs
    return settled(comp, check)


@pulumi.runtime.test
def test_default_pool_and_node_pools_run_as_the_node_service_account_after_its_grants(
        monitor: RecordingMonitor) -> pulumi.Output[None]:
    comp = gke.GkeCluster("arch", settings(), node_bounds=NodeBounds(1, 3), protect=False)

    def check() -> None:
        email = "archivist-nodes@archivist-prod.iam.gserviceaccount.com"
        cluster = monitor.one("gcp:container/cluster:Cluster").inputs
        assert cluster["nodeConfig"]["serviceAccount"] == email
        reader_grant = monitor.one("gcp:artifactregistry/repositoryIamMember:RepositoryIamMember")
        assert reader_grant.inputs["role"] == "roles/artifactregistry.reader"
        assert reader_grant.inputs["repository"] == "archivist"  # this repository, not the whole project
        project_roles = {r.inputs["role"] for r in monitor.of_type("gcp:projects/iAMMember:IAMMember")}
        assert project_roles == {"roles/container.defaultNodeServiceAccount"}
        for pool in monitor.of_type("gcp:container/nodePool:NodePool"):
            deps = monitor.depends_on_names(pool)
            assert {"arch-nodes-defaultNodeServiceAccount", "arch-nodes-registry-reader"} <= deps, pool.name
            assert pool.inputs["nodeConfig"]["serviceAccount"] == email
            assert pool.inputs["nodeConfig"]["diskSizeGb"] == 50  # fits a new project's SSD quota
    return settled(comp, check)


def test_names_gke_rejects_are_config_problems() -> None:
    r = reader({**BASE, "name": "a" * 41})
    gke.parse(r)
    assert [p.key for p in r.problems.items] == ["archivist:cluster.name"]
    # a 29-character name cut at 30 characters ends in "-", which IAM rejects: the account id drops it
    assert gke.parse(reader({**BASE, "name": "b" * 29})).node_account_id == "b" * 29
    assert gke.parse(reader({**BASE, "name": "a" * 25})).node_account_id == "a" * 25 + "-node"


@pulumi.runtime.test
def test_extended_release_channel_warns_about_its_fee(monitor: RecordingMonitor) -> pulumi.Output[None]:
    from unittest import mock

    with mock.patch.object(pulumi.log, "warn") as warn:
        comp = gke.GkeCluster("arch", settings(releaseChannel="EXTENDED"), node_bounds=NodeBounds(1, 3), protect=False)
    assert "extended-support fee" in warn.call_args[0][0]
    return settled(comp, lambda: None)


@pulumi.runtime.test
def test_interruptible_work_tolerates_and_prefers_the_spot_pool(monitor: RecordingMonitor) -> pulumi.Output[None]:
    comp = gke.GkeCluster("arch", settings(), node_bounds=NodeBounds(1, 3, 2), protect=False)
    fields = comp.target.interruptible
    assert fields is not None
    assert fields["tolerations"] == [{"key": "cloud.google.com/gke-spot", "operator": "Equal", "value": "true",
                                      "effect": "NoSchedule"}]
    term = fields["affinity"]["nodeAffinity"]["preferredDuringSchedulingIgnoredDuringExecution"][0]
    assert term["preference"]["matchExpressions"] == [{"key": "archivist.io/pool", "operator": "In", "values": ["spot"]}]

    def check() -> None:
        # the pool those fields point at carries the label and the taint they tolerate
        spot = monitor.one("gcp:container/nodePool:NodePool", "arch-spot").inputs["nodeConfig"]
        assert spot["labels"] == {"archivist.io/pool": "spot"}
        assert spot["taints"] == [{"key": "cloud.google.com/gke-spot", "value": "true", "effect": "NO_SCHEDULE"}]
    assert gke.GkeCluster is not None and gke.interruptible(settings(spot={"enabled": False})) is None
    return settled(comp, check)


def test_adopted_cluster_without_the_filestore_addon_is_refused_with_the_fix() -> None:
    import pytest
    from pulumi_gcp.container.outputs import (
        GetClusterAddonsConfigGcpFilestoreCsiDriverConfigResult as Filestore,
    )

    class Addons:
        def __init__(self, enabled: bool) -> None:
            self.gcp_filestore_csi_driver_configs = [Filestore(enabled=enabled)]

    with pytest.raises(pulumi.RunError, match="GcpFilestoreCsiDriver=ENABLED"):
        gke._adopted_network("projects/p/global/networks/vpc", [Addons(False)], needs_filestore=True, cluster="c")
    assert gke._adopted_network("projects/p/global/networks/vpc", [Addons(False)], needs_filestore=False,
                                cluster="c") == "vpc"
    assert gke._adopted_network("projects/p/global/networks/vpc", [Addons(True)], needs_filestore=True,
                                cluster="c") == "vpc"


def test_gke_stack_imports_only_pulumi_gcp() -> None:
    assert_only_sdk("gke", "pulumi_gcp")


@pulumi.runtime.test
def test_dns_endpoint_lets_ci_reach_the_control_plane_without_an_ip_allow_list(
        monitor: RecordingMonitor) -> pulumi.Output[None]:
    comp = gke.GkeCluster("arch", settings(dnsEndpoint=True), node_bounds=NodeBounds(1, 3), protect=False)

    def check() -> None:
        cluster = monitor.one("gcp:container/cluster:Cluster").inputs
        assert cluster["controlPlaneEndpointsConfig"] == {"dnsEndpointConfig": {"allowExternalTraffic": True}}

    def kubeconfig_has_no_cluster_ca(text: str) -> None:
        import json

        (entry,) = json.loads(text)["clusters"]
        assert "certificate-authority-data" not in entry["cluster"]
        assert entry["cluster"]["server"].startswith("https://")
    comp.target.kubeconfig.apply(kubeconfig_has_no_cluster_ca)
    return settled(comp, check)


def test_dns_endpoint_is_off_by_default_and_refused_on_an_adopted_cluster() -> None:
    assert settings().dns_endpoint is False
    r = reader({**BASE, "create": False, "name": "existing", "dnsEndpoint": True})
    gke.parse(r)
    assert "archivist:cluster.dnsEndpoint" in [p.key for p in r.problems.items]


def test_a_kubeconfig_without_ca_data_names_no_certificate_authority() -> None:
    import json

    from archivist_infra.platforms.common import exec_kubeconfig

    doc = json.loads(exec_kubeconfig(name="c", server="https://uid.europe-west1.gke.goog", ca_data="",
                                     command="gke-gcloud-auth-plugin", args=[]))
    assert doc["clusters"][0]["cluster"] == {"server": "https://uid.europe-west1.gke.goog"}
    with_ca = json.loads(exec_kubeconfig(name="c", server="https://1.2.3.4", ca_data="Q0E=", command="x", args=[]))
    assert with_ca["clusters"][0]["cluster"]["certificate-authority-data"] == "Q0E="


KMS_KEY = "projects/archivist-prod/locations/europe-west1/keyRings/archivist/cryptoKeys/etcd"


@pulumi.runtime.test
def test_customer_managed_key_encrypts_etcd_secrets_boot_disks_and_store_disks(
        monitor: RecordingMonitor) -> pulumi.Output[None]:
    comp = gke.GkeCluster("arch", settings(encryptionKey=KMS_KEY), node_bounds=NodeBounds(1, 3), protect=False)

    def check() -> None:
        cluster = monitor.one("gcp:container/cluster:Cluster").inputs
        assert cluster["databaseEncryption"] == {"state": "ENCRYPTED", "keyName": KMS_KEY}
        for pool in monitor.of_type("gcp:container/nodePool:NodePool"):
            assert pool.inputs["nodeConfig"]["bootDiskKmsKey"] == KMS_KEY, pool.name
        classes = {r.inputs["provisioner"]: r.inputs for r in monitor.of_type("kubernetes:storage.k8s.io/v1:StorageClass")}
        assert classes["pd.csi.storage.gke.io"]["parameters"]["disk-encryption-kms-key"] == KMS_KEY
    return settled(comp, check)


def test_customer_managed_key_is_off_by_default_and_must_be_a_kms_key_name() -> None:
    assert settings().encryption_key is None
    r = reader({**BASE, "encryptionKey": "my-key"})
    gke.parse(r)
    assert [p.key for p in r.problems.items] == ["archivist:cluster.encryptionKey"]
