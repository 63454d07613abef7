from __future__ import annotations

import pulumi

from archivist_infra.capacity import GI, NodeBounds
from archivist_infra.offline.mock_outputs import (
    MOCK_KUBELET_OBJECT_ID,
    MOCK_SUBSCRIPTION,
)
from archivist_infra.platforms import aks

from .conftest import RecordingMonitor, reader, settled
from .sdk_isolation import assert_only_sdk

SC = "kubernetes:storage.k8s.io/v1:StorageClass"


def settings(**extra: object) -> aks.AksSettings:
    r = reader({"location": "westeurope", **extra})
    parsed = aks.parse(r)
    assert not r.problems, r.problems.items
    return parsed


@pulumi.runtime.test
def test_creates_cluster_pools_acr_and_pull_role(monitor: RecordingMonitor) -> pulumi.Output[None]:
    comp = aks.AksCluster("arch", settings(), node_bounds=NodeBounds(2, 6), protect=True)

    def check() -> None:
        cluster = monitor.one("azure-native:containerservice:ManagedCluster")
        inputs = cluster.inputs
        assert cluster.protect
        assert inputs["identity"] == {"type": "SystemAssigned"}
        system = inputs["agentPoolProfiles"][0]
        assert system["mode"] == "System" and system["enableAutoScaling"] is True
        assert inputs["storageProfile"]["diskCSIDriver"] == {"enabled": True}
        assert inputs["storageProfile"]["fileCSIDriver"] == {"enabled": True}
        assert inputs["securityProfile"]["workloadIdentity"] == {"enabled": True}

        pool = monitor.one("azure-native:containerservice:AgentPool")
        assert pool.protect
        assert pool.inputs["mode"] == "User" and pool.inputs["enableAutoScaling"] is True
        assert (pool.inputs["minCount"], pool.inputs["maxCount"]) == (2, 6)

        acr = monitor.one("azure-native:containerregistry:Registry")
        assert acr.protect and acr.inputs["sku"] == {"name": "Standard"}
        role = monitor.one("azure-native:authorization:RoleAssignment").inputs
        assert role["principalId"] == MOCK_KUBELET_OBJECT_ID
        assert role["roleDefinitionId"] == (
            f"/subscriptions/{MOCK_SUBSCRIPTION}/providers/Microsoft.Authorization/roleDefinitions/{aks.ACR_PULL_ROLE}")
        assert role["scope"] == "arch-registry-id"

        classes = {r.inputs["metadata"]["name"]: r for r in monitor.of_type(SC)}
        rwo, rwx = classes["archivist-ssd"].inputs, classes["archivist-shared"].inputs
        assert rwo["provisioner"] == "disk.csi.azure.com" and rwo["parameters"]["skuName"] == "Premium_LRS"
        assert rwx["provisioner"] == "file.csi.azure.com" and rwx["parameters"]["skuName"] == "Premium_LRS"
        assert "uid=1000" in rwx["mountOptions"]
        assert all(c.protect and c.inputs["reclaimPolicy"] == "Retain" for c in classes.values())

        provider = monitor.one("pulumi:providers:kubernetes")
        assert "kubeconfig" in provider.secret_keys
        assert provider.inputs["kubeconfig"] == "[mock-kubeconfig]"  # decoded from the listed credentials
        assert all(r.provider for r in monitor.registrations if r.type.startswith("kubernetes:"))
    return settled(comp, check)


@pulumi.runtime.test
def test_adopting_creates_no_cluster(monitor: RecordingMonitor) -> pulumi.Output[None]:
    comp = aks.AksCluster("arch", settings(create=False, resourceGroup="platform-rg", name="shared",
                                           storageClasses={"readWriteOnce": "managed-csi-premium", "reclaimPolicy": "Delete"}),
                          node_bounds=NodeBounds(1, 3), protect=False)
    assert comp.target.storage.read_write_once == "managed-csi-premium"

    def check() -> None:
        created = {r.type for r in monitor.registrations}
        assert not created & {"azure-native:containerservice:ManagedCluster", "azure-native:containerservice:AgentPool",
                              "azure-native:resources:ResourceGroup"}
        assert "azure-native:containerservice:getManagedCluster" in monitor.call_tokens()
        classes = monitor.of_type(SC)
        assert [c.inputs["metadata"]["name"] for c in classes] == ["archivist-shared"]
        assert classes[0].inputs["reclaimPolicy"] == "Delete"
        assert monitor.one("azure-native:authorization:RoleAssignment").inputs["principalId"] == MOCK_KUBELET_OBJECT_ID
    return settled(comp, check)


def test_premium_files_bill_their_minimum() -> None:
    billing = aks.storage_billing(settings())
    assert billing.read_write_many.billed(20 * GI) == 100 * GI
    assert billing.read_write_once.billed(10 * GI) == 16 * GI  # P3
    assert aks.storage_billing(settings(files={"sku": "Standard_LRS"})).read_write_many.metered


def test_every_problem_is_reported_with_its_key() -> None:
    r = reader({"create": False, "zones": ["4"], "files": {"sku": "Ultra"}, "registryName": "no-dashes!",
                "machineType": "Standard_Q99", "upgradeChannel": "yolo"})
    aks.parse(r)
    keys = {p.key for p in r.problems.items}
    assert keys >= {"archivist:cluster.location", "archivist:cluster.resourceGroup", "archivist:cluster.zones",
                    "archivist:cluster.files.sku", "archivist:cluster.registryName", "archivist:cluster.machineType",
                    "archivist:cluster.upgradeChannel"}


def test_aks_stack_imports_only_pulumi_azure_native() -> None:
    assert_only_sdk("aks", "pulumi_azure_native")
