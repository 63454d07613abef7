from __future__ import annotations

import json
import re

import pulumi

from archivist_infra.capacity.figures import GI, NodeBounds
from archivist_infra.offline.mock_outputs import (
    MOCK_DEPLOYER,
    MOCK_KUBELET_OBJECT_ID,
    MOCK_SUBSCRIPTION,
)
from archivist_infra.platforms import aks

from .conftest import RecordingMonitor, reader, settled
from .sdk_isolation import assert_only_sdk

SC = "kubernetes:storage.k8s.io/v1:StorageClass"


def settings(**extra: object) -> aks.AksSettings:
    r = reader({"location": "westeurope", "apiAccess": {"allowedCidrs": ["203.0.113.7/32"]}, **extra})
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

        # one user pool per zone (zonal Premium_LRS disks): minimums add up to 2, each may grow to ceil(6 / 3)
        pools = [monitor.one("azure-native:containerservice:AgentPool", f"arch-workload{z}") for z in "123"]
        assert not any(p.protect for p in pools)  # a pool holds no data
        assert all(p.inputs["mode"] == "User" and p.inputs["enableAutoScaling"] is True for p in pools)
        assert [(p.inputs["minCount"], p.inputs["maxCount"]) for p in pools] == [(1, 2), (1, 2), (0, 2)]
        assert [p.inputs["availabilityZones"] for p in pools] == [["1"], ["2"], ["3"]]
        assert inputs["autoScalerProfile"] == {"balanceSimilarNodeGroups": "true", "skipNodesWithLocalStorage": "false"}

        acr = monitor.one("azure-native:containerregistry:Registry")
        assert acr.protect and acr.inputs["sku"] == {"name": "Standard"}
        role = monitor.one("azure-native:authorization:RoleAssignment", "arch-acr-pull").inputs
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
        assert monitor.one("azure-native:authorization:RoleAssignment", "arch-acr-pull").inputs["principalId"] == (
            MOCK_KUBELET_OBJECT_ID)
        # an adopted Entra cluster's kubeconfig is made non-interactive too
        kubeconfig = json.loads(monitor.one("pulumi:providers:kubernetes").inputs["kubeconfig"])
        assert "azurecli" in kubeconfig["users"][0]["user"]["exec"]["args"]
        admin = monitor.one("azure-native:authorization:RoleAssignment", "arch-deployer-cluster-admin").inputs
        assert admin["scope"].endswith("/managedClusters/shared")
    return settled(comp, check)


@pulumi.runtime.test
def test_entra_id_only_no_local_accounts_and_a_non_interactive_kubeconfig(monitor: RecordingMonitor) -> pulumi.Output[None]:
    comp = aks.AksCluster("arch", settings(), node_bounds=NodeBounds(1, 3), protect=False)

    def check() -> None:
        cluster = monitor.one("azure-native:containerservice:ManagedCluster").inputs
        assert cluster["aadProfile"] == {"managed": True, "enableAzureRBAC": True}
        assert cluster["disableLocalAccounts"] is True
        call = next(c for c in monitor.calls if c.token.endswith("listManagedClusterUserCredentials"))
        assert call.args["format"] == "exec"
        provider = monitor.one("pulumi:providers:kubernetes")
        exec_spec = json.loads(provider.inputs["kubeconfig"])["users"][0]["user"]["exec"]
        assert exec_spec["command"] == "kubelogin" and exec_spec["interactiveMode"] == "Never"
        assert exec_spec["args"] == ["get-token", "--login", "azurecli", "--server-id", aks.AKS_AAD_SERVER_ID]
        assert "token" not in json.dumps(json.loads(provider.inputs["kubeconfig"])["users"][0]["user"]).replace("get-token", "")
        # the deployer gets Kubernetes rights through Azure RBAC, before the provider is used
        admin = monitor.one("azure-native:authorization:RoleAssignment", "arch-deployer-cluster-admin")
        assert admin.inputs["principalId"] == MOCK_DEPLOYER
        assert admin.inputs["roleDefinitionId"].endswith(aks.AKS_RBAC_CLUSTER_ADMIN_ROLE)
        assert admin.inputs["scope"] == "arch-cluster-id"
        assert "arch-deployer-cluster-admin" in monitor.depends_on_names(provider)
        assert provider.inputs["clusterIdentifier"] == "arch-cluster-id"
    return settled(comp, check)


@pulumi.runtime.test
def test_registry_has_a_valid_name_no_admin_user_and_pushes_with_an_entra_token(
        monitor: RecordingMonitor) -> pulumi.Output[None]:
    comp = aks.AksCluster("arch", settings(), node_bounds=NodeBounds(1, 3), protect=False)
    registry = comp.target.registry
    assert registry is not None

    def check(values: list[str]) -> None:
        password, username = values
        assert username == aks.ACR_TOKEN_USER
        acr = monitor.one("azure-native:containerregistry:Registry").inputs
        assert acr["adminUserEnabled"] is False
        assert re.fullmatch(r"[a-zA-Z0-9]{5,50}", acr["registryName"])  # ACR refuses anything else
        assert "azure-native:containerregistry:listRegistryCredentials" not in monitor.call_tokens()
        push = monitor.one("azure-native:authorization:RoleAssignment", "arch-acr-push").inputs
        assert push["principalId"] == MOCK_DEPLOYER and push["roleDefinitionId"].endswith(aks.ACR_PUSH_ROLE)
        assert password == "[mock-acr-refresh-token]"
    return pulumi.Output.all(registry.password, registry.username).apply(check)


def test_derived_registry_name_is_stable_alphanumeric_and_differs_per_subscription() -> None:
    s = settings(name="arch-ivist-prod")
    a = aks.registry_name(s, "sub-1", "rg")
    assert a == aks.registry_name(s, "sub-1", "rg") and a != aks.registry_name(s, "sub-2", "rg")
    assert re.fullmatch(r"[a-z0-9]{5,50}", a) and a.startswith("archivistprod")
    assert aks.registry_name(settings(registryName="archivistprod01"), "sub-1", "rg") == "archivistprod01"


@pulumi.runtime.test
def test_api_server_ranges_tier_and_auto_upgrade_do_not_fight_later_updates(
        monitor: RecordingMonitor) -> pulumi.Output[None]:
    comp = aks.AksCluster("arch", settings(kubernetesVersion="1.33", skuTier="Free"), node_bounds=NodeBounds(1, 3),
                          protect=False)

    def check() -> None:
        cluster = monitor.one("azure-native:containerservice:ManagedCluster")
        assert cluster.inputs["apiServerAccessProfile"] == {"authorizedIPRanges": ["203.0.113.7/32"]}
        assert cluster.inputs["sku"] == {"name": "Base", "tier": "Free"}
        assert cluster.ignore_changes == ["agentPoolProfiles[0].count", "kubernetesVersion"]
    return settled(comp, check)


@pulumi.runtime.test
def test_spot_pool_carries_the_taint_interruptible_work_tolerates(monitor: RecordingMonitor) -> pulumi.Output[None]:
    comp = aks.AksCluster("arch", settings(spot={"enabled": True}), node_bounds=NodeBounds(1, 3, 2), protect=False)
    fields = comp.target.interruptible
    assert fields is not None
    assert fields["tolerations"][0] == {"key": "kubernetes.azure.com/scalesetpriority", "operator": "Equal",
                                        "value": "spot", "effect": "NoSchedule"}

    def check() -> None:
        spot = monitor.one("azure-native:containerservice:AgentPool", "arch-spot").inputs
        assert spot["scaleSetPriority"] == "Spot" and spot["scaleSetEvictionPolicy"] == "Delete"
        assert spot["nodeTaints"] == ["kubernetes.azure.com/scalesetpriority=spot:NoSchedule"]
        assert spot["nodeLabels"] == {"archivist.io/pool": "spot"}
        assert (spot["minCount"], spot["maxCount"]) == (0, 2)
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


@pulumi.runtime.test
def test_deployer_role_assignments_carry_the_configured_principal_type_for_ci_service_principals(
        monitor: RecordingMonitor) -> pulumi.Output[None]:
    # CI logs in as a service principal: Azure refuses a role assignment typed "User" for it
    # (UnmatchedPrincipalType), which the SDK's default principal type would send.
    comp = aks.AksCluster("arch", settings(deployerPrincipalType="ServicePrincipal"), node_bounds=NodeBounds(1, 3),
                          protect=False)

    def check() -> None:
        for name in ("arch-deployer-cluster-admin", "arch-acr-push"):
            role = monitor.one("azure-native:authorization:RoleAssignment", name).inputs
            assert role["principalType"] == "ServicePrincipal", name
            assert role["principalId"] == MOCK_DEPLOYER
    return settled(comp, check)


def test_deployer_principal_type_defaults_to_user_and_refuses_unknown_types() -> None:
    assert settings().deployer_principal_type == "User"
    r = reader({"location": "westeurope", "apiAccess": {"allowedCidrs": ["203.0.113.7/32"]},
                "deployerPrincipalType": "Robot"})
    aks.parse(r)
    assert [p.key for p in r.problems.items] == ["archivist:cluster.deployerPrincipalType"]
