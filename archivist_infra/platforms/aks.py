"""Azure Kubernetes Service: resource group, cluster with managed identity, node pools and ACR.

Only the pulumi_azure_native submodules used here are imported: the package once took
23 s to import whole (pulumi-azure-native#738); its submodules now load lazily.
"""

from __future__ import annotations

import base64
import re
from dataclasses import dataclass
from decimal import Decimal

import pulumi
import pulumi_kubernetes as k8s
from pulumi_azure_native import (
    authorization,
    containerregistry,
    containerservice,
    resources,
)

from ..capacity import NodeBounds, StorageBilling
from ..config.reader import ConfigReader
from . import storage_classes as sc
from .allocatable import table
from .common import (
    StorageClassConfig,
    parse_node_shape,
    parse_storage_classes,
    required_string,
)
from .target import CloudContext, ClusterTarget, Registry

MACHINES = table(
    {
        **{f"Standard_D{n}s_v5": (n, 4 * n) for n in (2, 4, 8, 16, 32)},
        **{f"Standard_D{n}as_v5": (n, 4 * n) for n in (2, 4, 8, 16, 32)},
        **{f"Standard_D{n}ds_v5": (n, 4 * n) for n in (2, 4, 8, 16, 32)},
        **{f"Standard_D{n}s_v3": (n, 4 * n) for n in (2, 4, 8, 16, 32)},
        **{f"Standard_E{n}s_v5": (n, 8 * n) for n in (2, 4, 8, 16)},
        "Standard_B4ms": (4, 16),
        "Standard_B8ms": (8, 32),
    }
)
# Built-in AcrPull role: lets the kubelet pull from the registry and nothing else.
ACR_PULL_ROLE = "7f951dda-4ed3-4680-a7ca-43fe172d538d"
UPGRADE_CHANNELS = ("stable", "patch", "rapid", "node-image", "none")
POOL_LABEL = "archivist.io/pool"
_LOCATION = re.compile(r"^[a-z]+[a-z0-9]*$")
_REGISTRY = re.compile(r"^[a-zA-Z0-9]{5,50}$")
_RESOURCE_GROUP = re.compile(r"^[-\w._()]{1,89}[-\w_()]$")
_VERSION = re.compile(r"^1\.[0-9]{2}(\.[0-9]+)?$")


@dataclass(frozen=True)
class AksSettings:
    location: str
    resource_group: str | None
    create: bool
    name: str
    kubernetes_version: str | None
    upgrade_channel: str
    machine_type: str
    system_machine_type: str
    zones: tuple[str, ...]
    files_sku: str
    files_uid: int
    files_gid: int
    registry_name: str | None
    storage_classes: StorageClassConfig
    node_shape: tuple[Decimal, Decimal] | None


def parse(reader: ConfigReader) -> AksSettings:
    location = required_string(reader, "location", "Azure location", "westeurope", pattern=_LOCATION)
    create = reader.boolean("create", True)
    if create:
        resource_group = reader.string("resourceGroup", "", pattern=_RESOURCE_GROUP) or None
    else:
        resource_group = required_string(reader, "resourceGroup", "resource group of the existing cluster",
                                         "my-aks-rg", pattern=_RESOURCE_GROUP) or None
    machine_type = reader.string("machineType", "Standard_D4s_v5")
    shape = parse_node_shape(reader, machine_type, MACHINES, "machineType")
    zones = tuple(reader.string_list("zones")) if reader.has("zones") else ("1", "2", "3")
    for z in zones:
        if z not in ("1", "2", "3"):
            reader.problems.add(reader.key("zones"), f"{z!r} is not an availability zone ('1', '2' or '3')")
    files = reader.section("files")
    files_sku = files.choice("sku", "Premium_LRS", sc.AZURE_FILES_SKUS)
    uid = files.integer("uid", 1000, minimum=0, maximum=2**31 - 1)
    gid = files.integer("gid", 1000, minimum=0, maximum=2**31 - 1)
    files.reject_unknown()
    settings = AksSettings(
        location=location,
        resource_group=resource_group,
        create=create,
        name=reader.dns_label("name", "archivist"),
        kubernetes_version=reader.string("kubernetesVersion", "", pattern=_VERSION, hint="e.g. '1.33'") or None,
        upgrade_channel=reader.choice("upgradeChannel", "stable", UPGRADE_CHANNELS),
        machine_type=machine_type,
        system_machine_type=reader.string("systemMachineType", "Standard_D2s_v5"),
        zones=zones,
        files_sku=files_sku,
        files_uid=uid,
        files_gid=gid,
        registry_name=reader.string("registryName", "", pattern=_REGISTRY,
                                    hint="5-50 letters and digits, unique across Azure") or None,
        storage_classes=parse_storage_classes(reader),
        node_shape=shape,
    )
    reader.reject_unknown()
    return settings


def node_machine(settings: AksSettings) -> tuple[Decimal, Decimal]:
    return settings.node_shape or MACHINES["Standard_D4s_v5"]


def storage_billing(settings: AksSettings) -> StorageBilling:
    rwo, rwx = sc.aks_billing(settings.files_sku)
    return StorageBilling(rwo, rwx)


def _decode_kubeconfig(result: containerservice.ListManagedClusterUserCredentialsResult) -> str:
    return base64.b64decode(result.kubeconfigs[0].value).decode()


class AksCluster(pulumi.ComponentResource):
    target: ClusterTarget

    def __init__(self, name: str, settings: AksSettings, *, node_bounds: NodeBounds, protect: bool,
                 opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("archivist:cluster:AksCluster", name, None, opts)
        s = settings
        child = pulumi.ResourceOptions(parent=self)
        kept = pulumi.ResourceOptions(parent=self, protect=protect)
        invoke = pulumi.InvokeOutputOptions(parent=self)
        ready: list[pulumi.Resource] = []
        rg_name: pulumi.Input[str]
        if s.create:
            rg = resources.ResourceGroup(f"{name}-rg", resource_group_name=s.resource_group, location=s.location,
                                         opts=child)
            rg_name = rg.name
            cluster = self._cluster(name, s, rg_name, node_bounds, kept)
            cluster_name: pulumi.Input[str] = cluster.name
            issuer = cluster.oidc_issuer_profile.apply(lambda p: (p.issuer_url if p else None) or "")
            kubelet = cluster.identity_profile.apply(lambda p: (p or {})["kubeletidentity"].object_id or "")
            user_pool = containerservice.AgentPool(
                f"{name}-workload",
                agent_pool_name="workload",
                resource_group_name=rg_name,
                resource_name_=cluster.name,
                mode="User",
                vm_size=s.machine_type,
                os_type="Linux",
                os_sku="AzureLinux",
                availability_zones=list(s.zones),
                enable_auto_scaling=True,
                min_count=node_bounds.min_nodes,
                max_count=node_bounds.max_nodes,
                count=node_bounds.min_nodes,
                node_labels={POOL_LABEL: "workload"},
                # The cluster autoscaler owns the current count.
                opts=pulumi.ResourceOptions(parent=self, protect=protect, ignore_changes=["count"]),
            )
            ready.append(user_pool)
        else:
            assert s.resource_group is not None  # parse() requires it when adopting
            rg_name = s.resource_group
            cluster_name = s.name
            found = containerservice.get_managed_cluster_output(resource_group_name=rg_name, resource_name=s.name,
                                                                opts=invoke)
            kubelet = found.identity_profile.apply(lambda p: (p or {})["kubeletidentity"].object_id or "")
            issuer = found.oidc_issuer_profile.apply(lambda p: (p.issuer_url if p else None) or "")

        credentials = containerservice.list_managed_cluster_user_credentials_output(
            resource_group_name=rg_name, resource_name=cluster_name, opts=invoke)
        kubeconfig = pulumi.Output.secret(credentials.apply(_decode_kubeconfig))
        provider = k8s.Provider(f"{name}-k8s", kubeconfig=kubeconfig, opts=child)
        classes, created = sc.create_classes(
            name, sc.aks_classes(files_sku=s.files_sku, uid=s.files_uid, gid=s.files_gid), s.storage_classes,
            provider=provider, parent=self, protect=protect, depends_on=ready,
        )
        registry, pull = self._registry(name, s, rg_name, kubelet, protect)
        ready.append(pull)
        cloud = CloudContext(platform="aks", region=s.location, cluster_name=pulumi.Output.from_input(cluster_name),
                             depends_on=list(ready), oidc_issuer_url=issuer,
                             resource_group=pulumi.Output.from_input(rg_name))
        self.target = ClusterTarget(platform="aks", provider=provider, storage=classes, registry=registry,
                                    kubeconfig=kubeconfig, ready=ready + created, cloud=cloud)
        self.register_outputs({"kubeconfig": kubeconfig, "registry": registry.url})

    def _cluster(self, name: str, s: AksSettings, rg_name: pulumi.Input[str], bounds: NodeBounds,
                 opts: pulumi.ResourceOptions) -> containerservice.ManagedCluster:
        cs = containerservice
        return cs.ManagedCluster(
            f"{name}-cluster",
            resource_name_=s.name,
            resource_group_name=rg_name,
            location=s.location,
            dns_prefix=s.name,
            kubernetes_version=s.kubernetes_version,
            identity=cs.ManagedClusterIdentityArgs(type="SystemAssigned"),
            enable_rbac=True,
            sku=cs.ManagedClusterSKUArgs(name="Base", tier="Standard"),
            auto_upgrade_profile=cs.ManagedClusterAutoUpgradeProfileArgs(upgrade_channel=s.upgrade_channel,
                                                                         node_os_upgrade_channel="NodeImage"),
            agent_pool_profiles=[cs.ManagedClusterAgentPoolProfileArgs(
                name="system",
                mode="System",
                vm_size=s.system_machine_type,
                os_type="Linux",
                os_sku="AzureLinux",
                availability_zones=list(s.zones),
                enable_auto_scaling=True,
                min_count=1,
                max_count=3,
                count=1,
                # Keep application pods off the system pool so its capacity stays predictable.
                node_taints=["CriticalAddonsOnly=true:NoSchedule"],
                node_labels={POOL_LABEL: "system"},
            )],
            # Azure CNI overlay + Cilium: pod IPs outside the VNet, NetworkPolicy enforced.
            network_profile=cs.ContainerServiceNetworkProfileArgs(
                network_plugin="azure", network_plugin_mode="overlay", network_dataplane="cilium",
                network_policy="cilium", load_balancer_sku="standard",
            ),
            oidc_issuer_profile=cs.ManagedClusterOIDCIssuerProfileArgs(enabled=True),
            security_profile=cs.ManagedClusterSecurityProfileArgs(
                workload_identity=cs.ManagedClusterSecurityProfileWorkloadIdentityArgs(enabled=True)),
            storage_profile=cs.ManagedClusterStorageProfileArgs(
                disk_csi_driver=cs.ManagedClusterStorageProfileDiskCSIDriverArgs(enabled=True),
                file_csi_driver=cs.ManagedClusterStorageProfileFileCSIDriverArgs(enabled=True),
            ),
            opts=opts,
        )

    def _registry(self, name: str, s: AksSettings, rg_name: pulumi.Input[str], kubelet_object_id: pulumi.Input[str],
                  protect: bool) -> tuple[Registry, pulumi.Resource]:
        acr = containerregistry.Registry(
            f"{name}-registry",
            registry_name=s.registry_name,
            resource_group_name=rg_name,
            location=s.location,
            sku=containerregistry.SkuArgs(name="Standard"),
            # Pulumi pushes with the admin credential: ACR's token exchange needs the az CLI at build time.
            admin_user_enabled=True,
            opts=pulumi.ResourceOptions(parent=self, protect=protect),
        )
        subscription = authorization.get_client_config_output(opts=pulumi.InvokeOutputOptions(parent=self)).subscription_id
        pull = authorization.RoleAssignment(
            f"{name}-acr-pull",
            principal_id=kubelet_object_id,
            principal_type="ServicePrincipal",
            role_definition_id=subscription.apply(
                lambda sub: f"/subscriptions/{sub}/providers/Microsoft.Authorization/roleDefinitions/{ACR_PULL_ROLE}"),
            scope=acr.id,
            opts=pulumi.ResourceOptions(parent=self),
        )
        creds = containerregistry.list_registry_credentials_output(
            resource_group_name=rg_name, registry_name=acr.name, opts=pulumi.InvokeOutputOptions(parent=self))
        password = creds.apply(lambda c: (c.passwords or [])[0].value or "")
        return Registry(url=acr.login_server, username=creds.apply(lambda c: c.username or ""),
                        password=pulumi.Output.secret(password)), pull


def build(name: str, settings: AksSettings, *, node_bounds: NodeBounds, protect: bool) -> ClusterTarget:
    return AksCluster(name, settings, node_bounds=node_bounds, protect=protect).target
