"""Google Kubernetes Engine: a VPC-native cluster (or an adopted one) and an Artifact Registry.

Only the pulumi_gcp submodules used here are imported: the package loads submodules
lazily, and touching all of them costs seconds a `gke` stack does not need to pay.
"""

from __future__ import annotations

import ipaddress
import re
from dataclasses import dataclass
from decimal import Decimal

import pulumi
import pulumi_kubernetes as k8s
from pulumi_gcp import (
    artifactregistry,
    compute,
    container,
    organizations,
    projects,
    serviceaccount,
)

from ..capacity import NodeBounds, StorageBilling
from ..config.reader import ConfigReader
from . import storage_classes as sc
from .allocatable import table
from .common import (
    StorageClassConfig,
    exec_kubeconfig,
    parse_node_shape,
    parse_storage_classes,
    required_string,
    secret_kubeconfig,
)
from .target import CloudContext, ClusterTarget, Registry

RELEASE_CHANNELS = ("RAPID", "REGULAR", "STABLE", "EXTENDED")
# vCPUs and GiB of the machine types people pick for a workload pool.
MACHINES = table(
    {
        **{f"e2-standard-{n}": (n, 4 * n) for n in (2, 4, 8, 16, 32)},
        **{f"e2-highmem-{n}": (n, 8 * n) for n in (2, 4, 8, 16)},
        **{f"n2-standard-{n}": (n, 4 * n) for n in (2, 4, 8, 16, 32)},
        **{f"n2d-standard-{n}": (n, 4 * n) for n in (2, 4, 8, 16, 32)},
        **{f"n2-highmem-{n}": (n, 8 * n) for n in (2, 4, 8, 16)},
        **{f"c3-standard-{n}": (n, 4 * n) for n in (4, 8, 22)},
        **{f"t2d-standard-{n}": (n, 4 * n) for n in (2, 4, 8, 16)},
    }
)
# Spot nodes carry this taint so only pods that tolerate eviction (the workers) land there.
SPOT_TAINT = {"key": "cloud.google.com/gke-spot", "value": "true", "effect": "NoSchedule"}
POOL_LABEL = "archivist.io/pool"

_PROJECT = re.compile(r"^[a-z][-a-z0-9]{4,28}[a-z0-9]$")
_REGION = re.compile(r"^[a-z]+-[a-z]+[0-9]$")
_ZONE = re.compile(r"^[a-z]+-[a-z]+[0-9]-[a-z]$")
_VERSION = re.compile(r"^1\.[0-9]{2}(\.[0-9]+(-gke\.[0-9]+)?)?$")


@dataclass(frozen=True)
class GkeSettings:
    project: str
    region: str
    zone: str | None  # set: a zonal cluster there; None: a regional cluster
    node_locations: tuple[str, ...]
    create: bool
    name: str
    release_channel: str
    kubernetes_version: str | None
    machine_type: str
    system_machine_type: str
    disk_size_gb: int
    spot: bool
    spot_machine_type: str
    spot_max_nodes: int | None
    filestore_tier: str
    node_cidr: str
    pod_cidr: str
    service_cidr: str
    registry_name: str
    storage_classes: StorageClassConfig
    node_shape: tuple[Decimal, Decimal] | None

    @property
    def location(self) -> str:
        return self.zone or self.region


def parse(reader: ConfigReader) -> GkeSettings:
    project = required_string(reader, "project", "GCP project id", "my-gcp-project", pattern=_PROJECT)
    region = required_string(reader, "region", "GCP region", "europe-west1", pattern=_REGION)
    zone = reader.string("zone", "", pattern=_ZONE, hint="a zone such as 'europe-west1-b'") or None
    if zone and region and not zone.startswith(region + "-"):
        reader.problems.add(reader.key("zone"), f"{zone!r} is not in region {region!r}")
    node_locations = tuple(reader.string_list("nodeLocations"))
    for loc in node_locations:
        if not _ZONE.match(loc) or (region and not loc.startswith(region + "-")):
            reader.problems.add(reader.key("nodeLocations"), f"{loc!r} is not a zone of region {region!r}")
    machine_type = reader.string("machineType", "e2-standard-4")
    shape = parse_node_shape(reader, machine_type, MACHINES, "machineType")
    spot = reader.section("spot")
    spot_enabled = spot.boolean("enabled", False)
    spot_machine = spot.string("machineType", machine_type)
    spot_max = spot.integer("maxNodes", 0, minimum=1) or None
    spot.reject_unknown()
    filestore = reader.section("filestore")
    tier = filestore.choice("tier", "standard", sc.FILESTORE_TIERS)
    filestore.reject_unknown()
    network = reader.section("network")
    cidrs = {key: _cidr(network, key, default) for key, default in
             (("nodeCidr", "10.10.0.0/20"), ("podCidr", "10.16.0.0/14"), ("serviceCidr", "10.20.0.0/20"))}
    network.reject_unknown()
    settings = GkeSettings(
        project=project,
        region=region,
        zone=zone,
        node_locations=node_locations,
        create=reader.boolean("create", True),
        name=reader.dns_label("name", "archivist"),
        release_channel=reader.choice("releaseChannel", "REGULAR", RELEASE_CHANNELS),
        kubernetes_version=reader.string("kubernetesVersion", "", pattern=_VERSION, hint="e.g. '1.33'") or None,
        machine_type=machine_type,
        system_machine_type=reader.string("systemMachineType", "e2-standard-2"),
        disk_size_gb=reader.integer("diskSizeGb", 100, minimum=20, maximum=65536),
        spot=spot_enabled,
        spot_machine_type=spot_machine,
        spot_max_nodes=spot_max,
        filestore_tier=tier,
        node_cidr=cidrs["nodeCidr"],
        pod_cidr=cidrs["podCidr"],
        service_cidr=cidrs["serviceCidr"],
        registry_name=reader.dns_label("registryName", "archivist"),
        storage_classes=parse_storage_classes(reader),
        node_shape=shape,
    )
    reader.reject_unknown()
    return settings


def _cidr(reader: ConfigReader, key: str, default: str) -> str:
    value = reader.string(key, default)
    try:
        ipaddress.ip_network(value)
    except ValueError:
        reader.problems.add(reader.key(key), f"{value!r} is not a CIDR block such as {default!r}")
        return default
    return value


def node_machine(settings: GkeSettings) -> tuple[Decimal, Decimal]:
    # An unknown machine type was already reported at parse time; the stand-in keeps callers going.
    return settings.node_shape or MACHINES["e2-standard-4"]


def storage_billing(settings: GkeSettings) -> StorageBilling:
    rwo, rwx = sc.gke_billing(settings.filestore_tier)
    return StorageBilling(rwo, rwx)


class GkeCluster(pulumi.ComponentResource):
    target: ClusterTarget

    def __init__(self, name: str, settings: GkeSettings, *, node_bounds: NodeBounds, protect: bool,
                 opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("archivist:cluster:GkeCluster", name, None, opts)
        s = settings
        ready: list[pulumi.Resource] = []
        if s.create:
            endpoint, ca, network_name, pools = self._create(name, s, node_bounds, protect)
            ready.extend(pools)
        else:
            found = container.get_cluster_output(name=s.name, location=s.location, project=s.project,
                                                 opts=pulumi.InvokeOutputOptions(parent=self))
            endpoint = found.endpoint
            ca = found.master_auths.apply(lambda auths: auths[0].cluster_ca_certificate)
            # The cluster reports its network as a path; Filestore wants the bare VPC name.
            network_name = found.network.apply(lambda n: (n or "default").rsplit("/", 1)[-1])

        kubeconfig = secret_kubeconfig(
            [endpoint, ca],
            lambda a: exec_kubeconfig(
                name=f"gke_{s.project}_{s.location}_{s.name}", server=f"https://{a[0]}", ca_data=a[1],
                command="gke-gcloud-auth-plugin", args=[],
                install_hint="Install gke-gcloud-auth-plugin: `gcloud components install gke-gcloud-auth-plugin`",
            ),
        )
        provider = k8s.Provider(f"{name}-k8s", kubeconfig=kubeconfig,
                                opts=pulumi.ResourceOptions(parent=self, depends_on=list(ready)))
        classes, created = sc.create_classes(
            name, sc.gke_classes(filestore_tier=s.filestore_tier, network=network_name), s.storage_classes,
            provider=provider, parent=self, protect=protect,
        )
        registry = self._registry(name, s, protect)
        cloud = CloudContext(platform="gke", region=s.region, cluster_name=pulumi.Output.from_input(s.name),
                             depends_on=list(ready), project=s.project)
        self.target = ClusterTarget(
            platform="gke", provider=provider, storage=classes, registry=registry, kubeconfig=kubeconfig,
            ready=ready + created, cloud=cloud,
        )
        self.register_outputs({"endpoint": endpoint, "kubeconfig": kubeconfig, "registry": registry.url})

    def _create(self, name: str, s: GkeSettings, bounds: NodeBounds, protect: bool) -> tuple[
        pulumi.Output[str], pulumi.Output[str], pulumi.Output[str], list[pulumi.Resource]
    ]:
        child = pulumi.ResourceOptions(parent=self)
        kept = pulumi.ResourceOptions(parent=self, protect=protect)
        network = compute.Network(f"{name}-vpc", project=s.project, auto_create_subnetworks=False, opts=child)
        subnet = compute.Subnetwork(
            f"{name}-nodes", project=s.project, region=s.region, network=network.id, ip_cidr_range=s.node_cidr,
            private_ip_google_access=True,
            secondary_ip_ranges=[
                compute.SubnetworkSecondaryIpRangeArgs(range_name="pods", ip_cidr_range=s.pod_cidr),
                compute.SubnetworkSecondaryIpRangeArgs(range_name="services", ip_cidr_range=s.service_cidr),
            ],
            opts=child,
        )
        # Nodes get their own least-privilege identity instead of the project's Editor default account.
        node_sa = serviceaccount.Account(f"{name}-node-sa", project=s.project, account_id=f"{s.name}-nodes"[:30],
                                         display_name=f"{s.name} GKE nodes", opts=child)
        for role in ("roles/container.defaultNodeServiceAccount", "roles/artifactregistry.reader"):
            projects.IAMMember(f"{name}-nodes-{role.split('/')[1]}", project=s.project, role=role,
                               member=node_sa.email.apply(lambda e: f"serviceAccount:{e}"), opts=child)
        cluster = container.Cluster(
            f"{name}-cluster",
            name=s.name,
            project=s.project,
            location=s.location,
            node_locations=list(s.node_locations) or None,
            network=network.id,
            subnetwork=subnet.id,
            networking_mode="VPC_NATIVE",
            ip_allocation_policy=container.ClusterIpAllocationPolicyArgs(
                cluster_secondary_range_name="pods", services_secondary_range_name="services"
            ),
            # Node pools are managed separately so they can change without replacing the cluster.
            remove_default_node_pool=True,
            initial_node_count=1,
            release_channel=container.ClusterReleaseChannelArgs(channel=s.release_channel),
            min_master_version=s.kubernetes_version,
            workload_identity_config=container.ClusterWorkloadIdentityConfigArgs(workload_pool=f"{s.project}.svc.id.goog"),
            # Dataplane V2 enforces NetworkPolicy without a separate add-on.
            datapath_provider="ADVANCED_DATAPATH",
            # GKE's Gateway controller and the standard Gateway API CRDs (the public entry, entry/gateway.py).
            gateway_api_config=container.ClusterGatewayApiConfigArgs(channel="CHANNEL_STANDARD"),
            addons_config=container.ClusterAddonsConfigArgs(
                gcp_filestore_csi_driver_config=container.ClusterAddonsConfigGcpFilestoreCsiDriverConfigArgs(enabled=True),
                gce_persistent_disk_csi_driver_config=container.ClusterAddonsConfigGcePersistentDiskCsiDriverConfigArgs(enabled=True),
                horizontal_pod_autoscaling=container.ClusterAddonsConfigHorizontalPodAutoscalingArgs(disabled=False),
            ),
            # GKE's own guard defaults to on and would block `destroy` of a dev stack: follow `protect`.
            deletion_protection=protect,
            opts=kept,
        )

        def pool(suffix: str, machine: str, lo: int, hi: int, *, spot: bool = False) -> container.NodePool:
            return container.NodePool(
                f"{name}-{suffix}",
                project=s.project,
                location=s.location,
                cluster=cluster.name,
                # total_* bound the whole pool across zones, which is what the capacity figures mean.
                autoscaling=container.NodePoolAutoscalingArgs(
                    total_min_node_count=lo, total_max_node_count=hi, location_policy="ANY" if spot else "BALANCED"
                ),
                initial_node_count=None,
                management=container.NodePoolManagementArgs(auto_repair=True, auto_upgrade=True),
                node_config=container.NodePoolNodeConfigArgs(
                    machine_type=machine,
                    disk_size_gb=s.disk_size_gb,
                    disk_type="pd-balanced",
                    spot=spot,
                    service_account=node_sa.email,
                    oauth_scopes=["https://www.googleapis.com/auth/cloud-platform"],
                    workload_metadata_config=container.NodePoolNodeConfigWorkloadMetadataConfigArgs(mode="GKE_METADATA"),
                    shielded_instance_config=container.NodePoolNodeConfigShieldedInstanceConfigArgs(
                        enable_secure_boot=True, enable_integrity_monitoring=True
                    ),
                    labels={POOL_LABEL: suffix},
                    taints=[container.NodePoolNodeConfigTaintArgs(key=SPOT_TAINT["key"], value=SPOT_TAINT["value"],
                                                                  effect="NO_SCHEDULE")] if spot else None,
                ),
                opts=kept,
            )

        pools: list[pulumi.Resource] = [
            pool("system", s.system_machine_type, 1, 3),
            pool("workload", s.machine_type, bounds.min_nodes, bounds.max_nodes),
        ]
        if s.spot:
            pools.append(pool("spot", s.spot_machine_type, 0, s.spot_max_nodes or bounds.max_nodes, spot=True))
        ca = cluster.master_auth.apply(lambda m: m.cluster_ca_certificate or "")
        return cluster.endpoint, ca, network.name, pools

    def _registry(self, name: str, s: GkeSettings, protect: bool) -> Registry:
        repo = artifactregistry.Repository(
            f"{name}-registry",
            project=s.project,
            location=s.region,
            repository_id=s.registry_name,
            format="DOCKER",
            description="Archivist service images (pushed by Pulumi, pulled by digest)",
            cleanup_policies=[
                artifactregistry.RepositoryCleanupPolicyArgs(
                    id="keep-recent", action="KEEP",
                    most_recent_versions=artifactregistry.RepositoryCleanupPolicyMostRecentVersionsArgs(keep_count=20),
                ),
                artifactregistry.RepositoryCleanupPolicyArgs(
                    id="drop-old-untagged", action="DELETE",
                    condition=artifactregistry.RepositoryCleanupPolicyConditionArgs(tag_state="UNTAGGED", older_than="1209600s"),
                ),
            ],
            opts=pulumi.ResourceOptions(parent=self, protect=protect),
        )
        # A short-lived OAuth token of whoever runs `pulumi up`: nothing long-lived is stored.
        token = organizations.get_client_config_output(opts=pulumi.InvokeOutputOptions(parent=self)).access_token
        return Registry(url=repo.registry_uri, username=pulumi.Output.from_input("oauth2accesstoken"),
                        password=pulumi.Output.secret(token))


def build(name: str, settings: GkeSettings, *, node_bounds: NodeBounds, protect: bool) -> ClusterTarget:
    return GkeCluster(name, settings, node_bounds=node_bounds, protect=protect).target
