"""Azure Kubernetes Service: resource group, cluster with managed identity, node pools and ACR.

Only the pulumi_azure_native submodules used here are imported: the package once took
23 s to import whole (pulumi-azure-native#738); its submodules now load lazily.
"""

from __future__ import annotations

import base64
import hashlib
import json
import re
import urllib.parse
import urllib.request
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import pulumi
import pulumi_kubernetes as k8s
import yaml
from pulumi_azure_native import (
    authorization,
    containerregistry,
    containerservice,
    resources,
)

from ..capacity.figures import NodeBounds, StorageBilling
from ..config.reader import ConfigReader
from . import storage_classes as sc
from .allocatable import aks_table
from .common import (
    OPEN_TO_INTERNET,
    POOL_LABEL,
    SPOT_POOL,
    StorageClassConfig,
    interruptible_pod_fields,
    parse_api_access,
    parse_node_shape,
    parse_storage_classes,
    required_string,
    split_across_zones,
    under_mock_engine,
    zone_count_nodes,
)
from .target import CloudContext, ClusterTarget, Registry

MACHINES = aks_table(
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
# Built-in AcrPush: the deployer pushes the images it builds with an Entra token, no admin password.
ACR_PUSH_ROLE = "8311e382-0749-4cb8-b61a-304f252e45ec"
# Built-in "Azure Kubernetes Service RBAC Cluster Admin": with Azure RBAC, Kubernetes rights come from Azure
# role assignments; whoever runs `pulumi up` needs this one on the cluster to create the stack's objects.
AKS_RBAC_CLUSTER_ADMIN_ROLE = "b1ff04bb-8a4e-4dc4-8eb5-8693973ce19b"
# The AKS AAD server application every Entra-enabled cluster's tokens are issued for (kubelogin --server-id).
AKS_AAD_SERVER_ID = "6dae42f8-4368-4678-94ff-3960e28e3630"
# ACR's token exchange takes an Entra token for this user name (Azure/acr docs/AAD-OAuth.md).
ACR_TOKEN_USER = "00000000-0000-0000-0000-000000000000"
UPGRADE_CHANNELS = ("stable", "patch", "rapid", "node-image", "none")
SKU_TIERS = ("Free", "Standard")
# AKS taints spot pools with this itself; naming it keeps the pool's definition and state in step.
SPOT_TAINT = {"key": "kubernetes.azure.com/scalesetpriority", "value": "spot", "effect": "NoSchedule"}
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
    api_allowed_cidrs: tuple[str, ...] = ()
    sku_tier: str = "Standard"
    spot: bool = False
    spot_machine_type: str = ""
    spot_max_nodes: int | None = None
    # What logs in for `pulumi up`: a person (`az login`), or CI as a service principal / managed identity.
    # Azure checks the type given on a role assignment against the principal (UnmatchedPrincipalType).
    deployer_principal_type: str = "User"


# RoleAssignment principalType values (azure-native authorization PrincipalType enum), minus the
# ones a deployer cannot be (ForeignGroup, Device).
DEPLOYER_PRINCIPAL_TYPES = ("User", "ServicePrincipal", "Group")


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
    spot = reader.section("spot")
    spot_enabled = spot.boolean("enabled", False)
    spot_machine = spot.string("machineType", machine_type)
    spot_max = spot.integer("maxNodes", 0, minimum=1) or None
    spot.reject_unknown()
    settings = AksSettings(
        location=location,
        resource_group=resource_group,
        create=create,
        name=reader.dns_label("name", "archivist"),
        kubernetes_version=reader.string("kubernetesVersion", "", pattern=_VERSION,
                                              hint="a minor such as '1.35' (docs/lifecycle.md)") or None,
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
        api_allowed_cidrs=parse_api_access(reader, create=create),
        # Standard: the uptime SLA a production cluster wants (~$73/month); Free for a dev cluster.
        sku_tier=reader.choice("skuTier", "Standard", SKU_TIERS),
        deployer_principal_type=reader.choice("deployerPrincipalType", "User", DEPLOYER_PRINCIPAL_TYPES),
        spot=spot_enabled,
        spot_machine_type=spot_machine,
        spot_max_nodes=spot_max,
    )
    reader.reject_unknown()
    return settings


def node_machine(settings: AksSettings) -> tuple[Decimal, Decimal]:
    return settings.node_shape or MACHINES["Standard_D4s_v5"]


def storage_billing(settings: AksSettings) -> StorageBilling:
    rwo, rwx = sc.aks_billing(settings.files_sku)
    return StorageBilling(rwo, rwx)


def has_spot_pool(settings: AksSettings) -> bool:
    return settings.create and settings.spot


def interruptible(settings: AksSettings) -> dict[str, object] | None:
    return interruptible_pod_fields(SPOT_TAINT) if has_spot_pool(settings) else None


def registry_name(settings: AksSettings, subscription: str, resource_group: str) -> str:
    """ACR names are 5-50 letters and digits, unique across Azure: azure-native's autoname
    (`cluster-registry` + hex) has a hyphen and is refused. Derived from the cluster name plus a hash
    of where it lives, so it is stable across runs and differs between subscriptions."""
    if settings.registry_name:
        return settings.registry_name
    digest = hashlib.sha256(f"{subscription}/{resource_group}/{settings.name}".encode()).hexdigest()[:10]
    return (re.sub(r"[^a-z0-9]", "", settings.name.lower()) or "archivist")[:40] + digest


def _decode_kubeconfig(result: containerservice.ListManagedClusterUserCredentialsResult) -> str:
    return base64.b64decode(result.kubeconfigs[0].value).decode()


def azurecli_kubeconfig(text: str) -> str:
    """The cluster's Entra (exec) kubeconfig with kubelogin switched to the Azure CLI's login.

    AKS returns `kubelogin get-token --login devicecode`, which waits for a human and so hangs a
    non-interactive `pulumi up`; `--login azurecli` uses the `az login` session pulumi-azure-native
    itself uses. No secret is in it: only the server, its CA and the plugin to run."""
    doc: dict[str, Any] = yaml.safe_load(text)
    for user in doc.get("users") or []:
        spec = user.get("user", {}).get("exec")
        if spec is None:
            raise pulumi.RunError("the cluster returned a kubeconfig with a static credential; it must use Entra ID "
                                  "(aadProfile) with local accounts disabled")
        spec.update({"command": "kubelogin", "interactiveMode": "Never",
                     "args": ["get-token", "--login", "azurecli", "--server-id", AKS_AAD_SERVER_ID]})
        spec.pop("env", None)
        spec.setdefault("apiVersion", "client.authentication.k8s.io/v1beta1")
        spec["installHint"] = "Install kubelogin: `az aks install-cli` (https://azure.github.io/kubelogin/)"
    return json.dumps(doc, indent=2)


def acr_refresh_token(login_server: str, tenant: str, entra_token: str) -> str:
    """Exchange the deployer's Entra access token for an ACR refresh token (about 3 h), used with user
    name 00000000-0000-0000-0000-000000000000: what `az acr login` does (Azure/acr docs/AAD-OAuth.md).
    Under the offline mock engine nothing leaves the machine and a placeholder is returned."""
    if under_mock_engine():
        return "[mock-acr-refresh-token]"
    body = urllib.parse.urlencode({"grant_type": "access_token", "service": login_server, "tenant": tenant,
                                   "access_token": entra_token}).encode()
    request = urllib.request.Request(f"https://{login_server}/oauth2/exchange", data=body,
                                     headers={"Content-Type": "application/x-www-form-urlencoded"})
    with urllib.request.urlopen(request, timeout=60) as response:
        return str(json.load(response)["refresh_token"])


class AksCluster(pulumi.ComponentResource):
    target: ClusterTarget

    def __init__(self, name: str, settings: AksSettings, *, node_bounds: NodeBounds, protect: bool,
                 opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("archivist:cluster:AksCluster", name, None, opts)
        s = settings
        child = pulumi.ResourceOptions(parent=self)
        invoke = pulumi.InvokeOutputOptions(parent=self)
        self._client = authorization.get_client_config_output(opts=invoke)
        ready: list[pulumi.Resource] = []
        rg_name: pulumi.Input[str]
        cluster_id: pulumi.Input[str]
        if s.create:
            rg = resources.ResourceGroup(f"{name}-rg", resource_group_name=s.resource_group, location=s.location,
                                         opts=child)
            rg_name = rg.name
            cluster = self._cluster(name, s, rg_name, protect)
            cluster_name: pulumi.Input[str] = cluster.name
            cluster_id = cluster.id
            issuer = cluster.oidc_issuer_profile.apply(lambda p: (p.issuer_url if p else None) or "")
            kubelet = cluster.identity_profile.apply(lambda p: (p or {})["kubeletidentity"].object_id or "")
            # One user pool per zone: Azure Disks (Premium_LRS) are zonal, and the autoscaler cannot choose the
            # zone of a multi-zone scale set; balance-similar-node-groups keeps the pools even.
            zones = s.zones or ("",)  # a region without zones: one pool
            mins = split_across_zones(node_bounds.min_nodes, len(zones))
            for i, zone in enumerate(zones):
                ready.append(self._pool(name, s, rg_name, cluster, f"workload{zone}", s.machine_type, mins[i],
                                        zone_count_nodes(node_bounds.max_nodes, len(zones)),
                                        zones=[zone] if zone else None))
            if s.spot:
                ready.append(self._pool(name, s, rg_name, cluster, SPOT_POOL, s.spot_machine_type, 0,
                                        s.spot_max_nodes or node_bounds.interruptible_max_nodes or node_bounds.max_nodes,
                                        spot=True))
        else:
            assert s.resource_group is not None  # parse() requires it when adopting
            rg_name = s.resource_group
            cluster_name = s.name
            found = containerservice.get_managed_cluster_output(resource_group_name=rg_name, resource_name=s.name,
                                                                opts=invoke)
            cluster_id = found.id
            kubelet = found.identity_profile.apply(lambda p: (p or {})["kubeletidentity"].object_id or "")
            issuer = found.oidc_issuer_profile.apply(lambda p: (p.issuer_url if p else None) or "")

        # Whoever runs `pulumi up` gets Kubernetes rights through Azure RBAC (no local admin account exists).
        admin = authorization.RoleAssignment(
            f"{name}-deployer-cluster-admin", principal_id=self._client.object_id,
            principal_type=s.deployer_principal_type,
            role_definition_id=self._role_id(AKS_RBAC_CLUSTER_ADMIN_ROLE), scope=cluster_id, opts=child)
        # format=exec: the Entra kubeconfig (server, CA, kubelogin), made non-interactive; no credential in state.
        credentials = containerservice.list_managed_cluster_user_credentials_output(
            resource_group_name=rg_name, resource_name=cluster_name, format="exec", opts=invoke)
        kubeconfig = pulumi.Output.secret(credentials.apply(lambda c: azurecli_kubeconfig(_decode_kubeconfig(c))))
        provider = k8s.Provider(f"{name}-k8s", kubeconfig=kubeconfig,
                                # The cluster's resource id decides replacement, not a rotated certificate.
                                cluster_identifier=cluster_id,
                                opts=pulumi.ResourceOptions(parent=self, depends_on=[admin]))
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
                                    kubeconfig=kubeconfig, ready=ready + created, cloud=cloud,
                                    interruptible=interruptible(s))
        self.register_outputs({"kubeconfig": kubeconfig, "registry": registry.url})

    def _role_id(self, role: str) -> pulumi.Output[str]:
        return self._client.subscription_id.apply(
            lambda sub: f"/subscriptions/{sub}/providers/Microsoft.Authorization/roleDefinitions/{role}")

    def _pool(self, name: str, s: AksSettings, rg_name: pulumi.Input[str], cluster: containerservice.ManagedCluster,
              pool: str, vm_size: str, lo: int, hi: int, *, spot: bool = False,
              zones: list[str] | None = None) -> containerservice.AgentPool:
        return containerservice.AgentPool(
            f"{name}-{pool}",
            agent_pool_name=pool,
            resource_group_name=rg_name,
            resource_name_=cluster.name,
            mode="User",
            vm_size=vm_size,
            os_type="Linux",
            os_sku="AzureLinux",
            availability_zones=zones or list(s.zones),
            enable_auto_scaling=True,
            min_count=lo,
            max_count=hi,
            count=lo,
            node_labels={POOL_LABEL: pool},
            **({"scale_set_priority": "Spot", "scale_set_eviction_policy": "Delete", "spot_max_price": -1,
                "node_taints": [f"{SPOT_TAINT['key']}={SPOT_TAINT['value']}:{SPOT_TAINT['effect']}"]} if spot else {}),
            # The cluster autoscaler owns the current count. Not protected: a pool holds no data.
            opts=pulumi.ResourceOptions(parent=self, ignore_changes=["count"]),
        )

    def _cluster(self, name: str, s: AksSettings, rg_name: pulumi.Input[str],
                 protect: bool) -> containerservice.ManagedCluster:
        cs = containerservice
        auto_upgrading = s.upgrade_channel != "none"
        open_to_all = OPEN_TO_INTERNET in s.api_allowed_cidrs
        return cs.ManagedCluster(
            f"{name}-cluster",
            resource_name_=s.name,
            resource_group_name=rg_name,
            location=s.location,
            dns_prefix=s.name,
            kubernetes_version=s.kubernetes_version,
            identity=cs.ManagedClusterIdentityArgs(type="SystemAssigned"),
            enable_rbac=True,
            # Entra ID sign-in with Azure RBAC, and no local accounts: no static admin certificate exists
            # to be listed into state; the kubeconfig only names the server and kubelogin.
            aad_profile=cs.ManagedClusterAADProfileArgs(managed=True, enable_azure_rbac=True),
            disable_local_accounts=True,
            api_server_access_profile=None if open_to_all else cs.ManagedClusterAPIServerAccessProfileArgs(
                authorized_ip_ranges=list(s.api_allowed_cidrs)),
            sku=cs.ManagedClusterSKUArgs(name="Base", tier=s.sku_tier),
            auto_scaler_profile=cs.ManagedClusterPropertiesAutoScalerProfileArgs(
                balance_similar_node_groups="true", skip_nodes_with_local_storage="false"),
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
            # The autoscaler owns the system pool's count; with an upgrade channel AKS raises the version
            # itself, and re-sending the configured one on a later PUT would ask for a downgrade.
            opts=pulumi.ResourceOptions(parent=self, protect=protect, ignore_changes=[
                "agentPoolProfiles[0].count", *(["kubernetesVersion"] if auto_upgrading else [])]),
        )

    def _registry(self, name: str, s: AksSettings, rg_name: pulumi.Input[str], kubelet_object_id: pulumi.Input[str],
                  protect: bool) -> tuple[Registry, pulumi.Resource]:
        acr_name = pulumi.Output.all(self._client.subscription_id, rg_name).apply(
            lambda a: registry_name(s, a[0], a[1]))
        acr = containerregistry.Registry(
            f"{name}-registry",
            registry_name=acr_name,
            resource_group_name=rg_name,
            location=s.location,
            sku=containerregistry.SkuArgs(name="Standard"),
            # No shared admin password: pushes use the deployer's Entra identity (AcrPush below).
            admin_user_enabled=False,
            opts=pulumi.ResourceOptions(parent=self, protect=protect),
        )
        pull = authorization.RoleAssignment(
            f"{name}-acr-pull",
            principal_id=kubelet_object_id,
            principal_type="ServicePrincipal",
            role_definition_id=self._role_id(ACR_PULL_ROLE),
            scope=acr.id,
            opts=pulumi.ResourceOptions(parent=self),
        )
        push = authorization.RoleAssignment(
            f"{name}-acr-push", principal_id=self._client.object_id, principal_type=s.deployer_principal_type,
            role_definition_id=self._role_id(ACR_PUSH_ROLE), scope=acr.id, opts=pulumi.ResourceOptions(parent=self))
        # A short-lived Entra token of the deployer, exchanged for an ACR refresh token after AcrPush exists.
        entra = authorization.get_client_token_output(opts=pulumi.InvokeOutputOptions(parent=self)).token
        password = pulumi.Output.all(acr.login_server, self._client.tenant_id, entra, push.id).apply(
            lambda a: acr_refresh_token(a[0], a[1], a[2]))
        return Registry(url=acr.login_server, username=pulumi.Output.from_input(ACR_TOKEN_USER),
                        password=pulumi.Output.secret(password)), pull


def build(name: str, settings: AksSettings, *, node_bounds: NodeBounds, protect: bool) -> ClusterTarget:
    return AksCluster(name, settings, node_bounds=node_bounds, protect=protect).target
