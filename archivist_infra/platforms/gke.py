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

from ..capacity.figures import NodeBounds, StorageBilling
from ..config.reader import ConfigReader
from . import gcp_apis
from . import storage_classes as sc
from .allocatable import table
from .common import (
    OPEN_TO_INTERNET,
    POOL_LABEL,
    SPOT_POOL,
    StorageClassConfig,
    exec_kubeconfig,
    interruptible_pod_fields,
    parse_api_access,
    parse_node_shape,
    parse_storage_classes,
    required_string,
    secret_kubeconfig,
    zone_count_nodes,
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
# A regional cluster without nodeLocations puts its pools in this many zones.
REGIONAL_ZONES = 3
# Google APIs the stack needs on a fresh project: one list from the features on (gcp_apis.required_apis,
# set into `apis` by stack.py). serviceusage (to enable these) and cloudresourcemanager (IAM grants) must
# already be on: docs/getting-started/gke.md. Without a list (a GkeSettings made elsewhere), the cluster's own.
CLUSTER_APIS = (gcp_apis.COMPUTE, gcp_apis.CONTAINER, gcp_apis.IAM)
ALWAYS_APIS = (gcp_apis.ARTIFACT_REGISTRY, gcp_apis.FILESTORE)

# Cluster inputs that only shape the transient default pool: read back empty once it is removed.
CLUSTER_CREATION_ONLY = ("nodeConfig",)

_PROJECT = re.compile(r"^[a-z][-a-z0-9]{4,28}[a-z0-9]$")
_REGION = re.compile(r"^[a-z]+-[a-z]+[0-9]$")
_ZONE = re.compile(r"^[a-z]+-[a-z]+[0-9]-[a-z]$")
_VERSION = re.compile(r"^1\.[0-9]{2}(\.[0-9]+(-gke\.[0-9]+)?)?$")
# A Cloud KMS crypto key's resource name.
_KMS_KEY = re.compile(r"^projects/[a-z][-a-z0-9]{4,28}[a-z0-9]/locations/[a-z0-9-]+/keyRings/[-_A-Za-z0-9]{1,63}/"
                      r"cryptoKeys/[-_A-Za-z0-9]{1,63}$")
# GKE cluster names: at most 40 characters (`gcloud container clusters create` rejects longer ones).
_CLUSTER_NAME = re.compile(r"^[a-z]([-a-z0-9]{0,38}[a-z0-9])?$")


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
    api_allowed_cidrs: tuple[str, ...] = ()
    # Reach the control plane through its DNS-based endpoint (IAM decides who may, no IP allow-list):
    # the way for CI runners without a stable egress address (audit N7; docs/clouds.md).
    dns_endpoint: bool = False
    # A Cloud KMS key (customer-managed) for etcd secrets, node boot disks and the stores' disks (audit N12).
    encryption_key: str | None = None
    apis: tuple[str, ...] = ()  # every Google API the stack uses (gcp_apis.required_apis)

    @property
    def location(self) -> str:
        return self.zone or self.region

    @property
    def zones(self) -> int:
        """How many zones each node pool spans (node counts GKE takes per zone)."""
        if self.node_locations:
            return len(self.node_locations)
        return 1 if self.zone else REGIONAL_ZONES

    @property
    def node_account_id(self) -> str:
        # 6-30 characters, [a-z] first, no trailing hyphen (serviceaccount/account.py:32-35).
        return f"{self.name}-nodes"[:30].rstrip("-")


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
    create = reader.boolean("create", True)
    settings = GkeSettings(
        project=project,
        region=region,
        zone=zone,
        node_locations=node_locations,
        create=create,
        name=reader.string("name", "archivist", pattern=_CLUSTER_NAME,
                           hint="a GKE cluster name: lowercase letters, digits and '-', at most 40 characters"),
        release_channel=reader.choice("releaseChannel", "REGULAR", RELEASE_CHANNELS),
        kubernetes_version=reader.string("kubernetesVersion", "", pattern=_VERSION,
                                              hint="a minor such as '1.35' (docs/lifecycle.md)") or None,
        machine_type=machine_type,
        system_machine_type=reader.string("systemMachineType", "e2-standard-2"),
        # 50 GB: 13 nodes at 100 GB would exceed a new project's regional SSD_TOTAL_GB quota (often 250-500 GB).
        disk_size_gb=reader.integer("diskSizeGb", 50, minimum=20, maximum=65536),
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
        api_allowed_cidrs=parse_api_access(reader, create=create),
        dns_endpoint=reader.boolean("dnsEndpoint", False),
        encryption_key=reader.string("encryptionKey", "", pattern=_KMS_KEY, hint=(
            "a Cloud KMS key such as 'projects/P/locations/europe-west1/keyRings/R/cryptoKeys/K'")) or None,
    )
    if settings.dns_endpoint and not create:
        reader.problems.add(reader.key("dnsEndpoint"),
                            "applies to a cluster the stack creates; on an adopted cluster enable it with "
                            "`gcloud container clusters update NAME --enable-dns-access` and remove the key")
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


def has_spot_pool(settings: GkeSettings) -> bool:
    return settings.create and settings.spot


def interruptible(settings: GkeSettings) -> dict[str, object] | None:
    """Pod-spec fields for work that tolerates interruption: tolerate the spot taint, prefer the spot pool."""
    return interruptible_pod_fields(SPOT_TAINT) if has_spot_pool(settings) else None


class GkeCluster(pulumi.ComponentResource):
    target: ClusterTarget

    def __init__(self, name: str, settings: GkeSettings, *, node_bounds: NodeBounds, protect: bool,
                 opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("archivist:cluster:GkeCluster", name, None, opts)
        s = settings
        if s.release_channel == "EXTENDED":
            pulumi.log.warn("releaseChannel EXTENDED: once the minor leaves standard support GKE bills the "
                            "extended-support fee per cluster-hour on top of the cluster fee", self)
        # A fresh project has none of these APIs on; without them the first call fails "API not enabled".
        enabled = self._services(name, s)
        apis = list(enabled.values())
        ready: list[pulumi.Resource] = []
        registry, repo = self._registry(name, s, protect, apis)
        cluster_id: pulumi.Output[str]
        if s.create:
            endpoint, ca, network_name, cluster_id, pools = self._create(name, s, node_bounds, protect, apis, repo)
            ready.extend(pools)
        else:
            found = container.get_cluster_output(name=s.name, location=s.location, project=s.project,
                                                 opts=pulumi.InvokeOutputOptions(parent=self))
            endpoint = found.endpoint
            cluster_id = found.id
            ca = found.master_auths.apply(lambda auths: auths[0].cluster_ca_certificate)
            # The cluster reports its network as a path; Filestore wants the bare VPC name.
            needs_filestore = s.storage_classes.read_write_many is None
            network_name = pulumi.Output.all(found.network, found.addons_configs).apply(
                lambda a: _adopted_network(a[0], a[1], needs_filestore=needs_filestore, cluster=s.name))

        kubeconfig = secret_kubeconfig(
            [endpoint, ca],
            lambda a: exec_kubeconfig(
                name=f"gke_{s.project}_{s.location}_{s.name}", server=f"https://{a[0]}", ca_data=a[1],
                # Application Default Credentials (what pulumi-gcp uses), not the gcloud CLI's own login:
                # without the flag the plugin shells out to `gcloud config config-helper` and fails on a machine
                # that ran only `gcloud auth application-default login` (kubernetes/cloud-provider-gcp#264).
                command="gke-gcloud-auth-plugin", args=["--use_application_default_credentials"],
                install_hint="Install gke-gcloud-auth-plugin: `gcloud components install gke-gcloud-auth-plugin`",
            ),
        )
        provider = k8s.Provider(f"{name}-k8s", kubeconfig=kubeconfig,
                                # The cluster's id, not the kubeconfig, decides when the provider (and so every
                                # Kubernetes object) is replaced: a CA or endpoint rotation is an update.
                                cluster_identifier=cluster_id,
                                opts=pulumi.ResourceOptions(parent=self, depends_on=list(ready)))
        classes, created = sc.create_classes(
            name, sc.gke_classes(filestore_tier=s.filestore_tier, network=network_name, kms_key=s.encryption_key), s.storage_classes,
            provider=provider, parent=self, protect=protect, depends_on=apis,
        )
        cloud = CloudContext(platform="gke", region=s.region, cluster_name=pulumi.Output.from_input(s.name),
                             depends_on=list(ready), project=s.project, apis=enabled)
        self.target = ClusterTarget(
            platform="gke", provider=provider, storage=classes, registry=registry, kubeconfig=kubeconfig,
            ready=ready + created, cloud=cloud, interruptible=interruptible(s),
        )
        self.register_outputs({"endpoint": endpoint, "kubeconfig": kubeconfig, "registry": registry.url})

    def _services(self, name: str, s: GkeSettings) -> dict[str, pulumi.Resource]:
        wanted = s.apis or (CLUSTER_APIS if s.create else ()) + ALWAYS_APIS
        return {
            api: projects.Service(f"{name}-api-{api.split('.')[0]}", project=s.project, service=api,
                                  # Other things in the project may use the API: destroying the stack leaves it on.
                                  disable_on_destroy=False, disable_dependent_services=False,
                                  opts=pulumi.ResourceOptions(parent=self))
            for api in wanted
        }

    def _create(self, name: str, s: GkeSettings, bounds: NodeBounds, protect: bool, apis: list[pulumi.Resource],
                repo: artifactregistry.Repository) -> tuple[
        pulumi.Output[str], pulumi.Output[str], pulumi.Output[str], pulumi.Output[str], list[pulumi.Resource]
    ]:
        child = pulumi.ResourceOptions(parent=self, depends_on=apis)
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
        # Private nodes have no external address: Cloud NAT gives them egress (ghcr.io, Docker Hub, Gemini).
        router = compute.Router(f"{name}-router", project=s.project, region=s.region, network=network.id, opts=child)
        compute.RouterNat(
            f"{name}-nat", project=s.project, region=s.region, router=router.name,
            nat_ip_allocate_option="AUTO_ONLY", source_subnetwork_ip_ranges_to_nat="ALL_SUBNETWORKS_ALL_IP_RANGES",
            log_config=compute.RouterNatLogConfigArgs(enable=True, filter="ERRORS_ONLY"),
            opts=child,
        )
        # Nodes get their own least-privilege identity instead of the project's Editor default account.
        node_sa = serviceaccount.Account(f"{name}-node-sa", project=s.project, account_id=s.node_account_id,
                                         display_name=f"{s.name} GKE nodes", opts=child)
        member = node_sa.email.apply(lambda e: f"serviceAccount:{e}")
        # Pools wait for both grants: a node booting before them cannot ship logs or pull images.
        grants: list[pulumi.Resource] = [
            projects.IAMMember(f"{name}-nodes-defaultNodeServiceAccount", project=s.project,
                               role="roles/container.defaultNodeServiceAccount", member=member, opts=child),
            # Pull rights on this repository only, not on every repository of the project.
            artifactregistry.RepositoryIamMember(f"{name}-nodes-registry-reader", project=s.project,
                                                 location=repo.location, repository=repo.repository_id,
                                                 role="roles/artifactregistry.reader", member=member,
                                                 opts=pulumi.ResourceOptions(parent=self)),
        ]
        open_to_all = OPEN_TO_INTERNET in s.api_allowed_cidrs
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
            # The transient default pool runs as the node SA too, not the Compute Engine default (Editor) SA,
            # which hardened organisations disable. Creation-only: see ignore_changes below.
            node_config=container.ClusterNodeConfigArgs(
                service_account=node_sa.email, oauth_scopes=["https://www.googleapis.com/auth/cloud-platform"]),
            # Nodes without external IPs; the control plane keeps its public endpoint, reachable only from
            # apiAccess.allowedCidrs (Private Service Connect: no master CIDR to plan).
            private_cluster_config=container.ClusterPrivateClusterConfigArgs(
                enable_private_nodes=True, enable_private_endpoint=False),
            master_authorized_networks_config=None if open_to_all else container.ClusterMasterAuthorizedNetworksConfigArgs(
                cidr_blocks=[container.ClusterMasterAuthorizedNetworksConfigCidrBlockArgs(cidr_block=c, display_name=f"allowed-{i}")
                             for i, c in enumerate(s.api_allowed_cidrs)],
                gcp_public_cidrs_access_enabled=False,
            ),
            # Application-layer encryption of Secrets in etcd with the customer's key.
            database_encryption=container.ClusterDatabaseEncryptionArgs(state="ENCRYPTED", key_name=s.encryption_key)
            if s.encryption_key else None,
            control_plane_endpoints_config=container.ClusterControlPlaneEndpointsConfigArgs(
                dns_endpoint_config=container.ClusterControlPlaneEndpointsConfigDnsEndpointConfigArgs(
                    allow_external_traffic=True)) if s.dns_endpoint else None,
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
            # nodeConfig describes the default pool, which remove_default_node_pool deletes right after
            # creation; the provider then reads it back empty, and as a ForceNew field (Terraform google
            # node_config schema) the second `up` would plan a replacement of the whole cluster
            # (audit N10; KCC issues 8125, 7664). The bridge drops ignored paths from the diff.
            opts=pulumi.ResourceOptions(parent=self, protect=protect, depends_on=apis,
                                        ignore_changes=list(CLUSTER_CREATION_ONLY)),
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
                # Per zone. Unset, the provider sends 0 and the autoscaler never raises a pool to its minimum
                # (terraform-provider-google#8270); after creation the autoscaler owns the count.
                initial_node_count=zone_count_nodes(lo, s.zones) if lo > 0 else 0,
                management=container.NodePoolManagementArgs(auto_repair=True, auto_upgrade=True),
                node_config=container.NodePoolNodeConfigArgs(
                    machine_type=machine,
                    disk_size_gb=s.disk_size_gb,
                    disk_type="pd-balanced",
                    boot_disk_kms_key=s.encryption_key,
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
                # Not protected: pools hold no data, and protect would turn a ForceNew change into an error.
                opts=pulumi.ResourceOptions(parent=self, depends_on=grants, ignore_changes=["initialNodeCount"]),
            )

        pools: list[pulumi.Resource] = [
            pool("system", s.system_machine_type, 1, 3),
            pool("workload", s.machine_type, bounds.min_nodes, bounds.max_nodes),
        ]
        if s.spot:
            pools.append(pool(SPOT_POOL, s.spot_machine_type, 0, s.spot_max_nodes or bounds.interruptible_max_nodes or
                              bounds.max_nodes, spot=True))
        if s.dns_endpoint:
            # <uid>.<region>.gke.goog (public, IAM-guarded: container.clusters.connect). Like the kubeconfig
            # `gcloud container clusters get-credentials --dns-endpoint` writes, no cluster CA: it is not this
            # endpoint's issuer (not verified against a live cluster here).
            dns = cluster.control_plane_endpoints_config.apply(
                lambda c: (c.dns_endpoint_config.endpoint if c and c.dns_endpoint_config else None) or "")
            return dns, pulumi.Output.from_input(""), network.name, cluster.id, pools
        ca = cluster.master_auth.apply(lambda m: m.cluster_ca_certificate or "")
        return cluster.endpoint, ca, network.name, cluster.id, pools

    def _registry(self, name: str, s: GkeSettings, protect: bool,
                  apis: list[pulumi.Resource]) -> tuple[Registry, artifactregistry.Repository]:
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
            opts=pulumi.ResourceOptions(parent=self, protect=protect, depends_on=apis),
        )
        # A short-lived OAuth token of whoever runs `pulumi up`: nothing long-lived is stored.
        token = organizations.get_client_config_output(opts=pulumi.InvokeOutputOptions(parent=self)).access_token
        return Registry(url=repo.registry_uri, username=pulumi.Output.from_input("oauth2accesstoken"),
                        password=pulumi.Output.secret(token)), repo


def _adopted_network(network: str | None, addons: list[object] | None, *, needs_filestore: bool, cluster: str) -> str:
    """The adopted cluster's VPC name; refuses (at `up`, naming the fix) a cluster whose Filestore CSI add-on is
    off when the stack would create its Filestore class: the shared claim would stay Pending forever."""
    if needs_filestore and addons:
        configs = getattr(addons[0], "gcp_filestore_csi_driver_configs", None) or []
        if configs and not getattr(configs[0], "enabled", True):
            raise pulumi.RunError(
                f"cluster {cluster!r} has the Filestore CSI driver add-on disabled; enable it "
                f"(`gcloud container clusters update {cluster} --update-addons=GcpFilestoreCsiDriver=ENABLED`) "
                "or name an existing ReadWriteMany class in archivist:cluster.storageClasses.readWriteMany")
    return (network or "default").rsplit("/", 1)[-1]


def build(name: str, settings: GkeSettings, *, node_bounds: NodeBounds, protect: bool) -> ClusterTarget:
    return GkeCluster(name, settings, node_bounds=node_bounds, protect=protect).target
