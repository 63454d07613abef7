"""Amazon EKS: VPC, cluster, managed node groups, IRSA, CSI add-ons, EFS and ECR (or an adopted cluster).

Only the pulumi_aws submodules used here are imported (ec2, eks, iam, efs, ecr and the
provider): `import pulumi_aws` alone is lazy, touching every submodule costs ~10 s.
"""

from __future__ import annotations

import ipaddress
import json
import re
from dataclasses import dataclass
from decimal import Decimal

import pulumi
import pulumi_kubernetes as k8s
from pulumi_aws import cloudwatch, ec2, ecr, efs, eks, iam
from pulumi_aws.get_availability_zones import GetAvailabilityZonesFilterArgs, get_availability_zones_output
from pulumi_aws.get_partition import get_partition_output
from pulumi_aws.provider import Provider as AwsProvider
from pulumi_kubernetes.helm.v3 import Release, ReleaseArgs, RepositoryOptsArgs

from .. import versions
from ..capacity.figures import NodeBounds, StorageBilling
from ..config.reader import ConfigReader
from ..images import APP_IMAGES
from . import storage_classes as sc
from .allocatable import eks_table
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
    split_across_zones,
    zone_count_nodes,
)
from .target import CloudContext, ClusterTarget, Registry

# (vCPUs, GiB, VPC CNI max pods = ENIs x (IPv4 per ENI - 1) + 2, amazon-eks-ami eni-max-pods.txt).
# x86-64 only: the images build for linux/amd64 and the node groups use the x86-64 AL2023 AMI.
MACHINES = eks_table(
    {
        **{f"{fam}.large": (2, 8, 29) for fam in ("m5", "m6i", "m6a", "m7i")},
        "t3.large": (2, 8, 35),
        **{f"{fam}.xlarge": (4, 16, 58) for fam in ("m5", "m6i", "m6a", "m7i", "t3")},
        **{f"{fam}.2xlarge": (8, 32, 58) for fam in ("m5", "m6i", "m6a", "m7i", "t3")},
        **{f"{fam}.4xlarge": (16, 64, 234) for fam in ("m5", "m6i", "m6a", "m7i")},
        **{f"{fam}.xlarge": (4, 8, 58) for fam in ("c5", "c6i", "c7i")},
        **{f"{fam}.large": (2, 16, 29) for fam in ("r5", "r6i", "r7i")},
        **{f"{fam}.xlarge": (4, 32, 58) for fam in ("r5", "r6i", "r7i")},
    }
)
AMI_TYPE = "AL2023_x86_64_STANDARD"
# Graviton families (m7g, c6gn, t4g, r8g...): arm64, which the amd64 images cannot run on.
_ARM = re.compile(r"^[a-z]+[0-9]+[a-z]*g[a-z]*\.")
SPOT_TAINT = {"key": "archivist.io/spot", "value": "true", "effect": "NoSchedule"}
LOG_RETENTION_DAYS = 30
_REGION = re.compile(r"^[a-z]{2}(-[a-z]+)+-[0-9]$")
_VERSION = re.compile(r"^1\.[0-9]{2}$")
_SUBNET = re.compile(r"^subnet-[0-9a-f]{8,17}$")
_VPC = re.compile(r"^vpc-[0-9a-f]{8,17}$")
# The chart per Kubernetes minor (the autoscaler's minor must match the cluster's) and the default minor:
# dated and sourced in versions.py, checked against the calendar by tests/test_lifecycle.py.
AUTOSCALER_CHARTS = versions.AUTOSCALER_CHARTS


@dataclass(frozen=True)
class EksSettings:
    region: str
    create: bool
    name: str
    kubernetes_version: str
    machine_types: tuple[str, ...]
    system_machine_type: str
    disk_size_gb: int
    zone_count: int
    vpc_cidr: str
    vpc_id: str | None  # given: use these subnets instead of creating a VPC
    private_subnet_ids: tuple[str, ...]
    efs_file_system_id: str | None  # adopted clusters: an existing EFS for the RWX class
    registry_prefix: str
    autoscaler_chart_version: str
    profile: str | None
    storage_classes: StorageClassConfig
    node_shape: tuple[Decimal, Decimal] | None
    api_allowed_cidrs: tuple[str, ...] = ()
    spot: bool = False
    spot_machine_types: tuple[str, ...] = ()
    spot_max_nodes: int | None = None
    # A customer-managed KMS key (ARN) for etcd Secrets, node root volumes and the stores' EBS volumes (audit N12).
    encryption_key: str | None = None


# A KMS key ARN (EKS envelope encryption takes a symmetric key's ARN, not an alias).
_KMS_KEY = re.compile(r"^arn:aws[a-z-]*:kms:[a-z]{2}(-[a-z]+)+-[0-9]:[0-9]{12}:key/[-0-9a-f]{36}$")


def parse(reader: ConfigReader) -> EksSettings:
    region = required_string(reader, "region", "AWS region", "eu-west-1", pattern=_REGION)
    machine_types = tuple(reader.string_list("machineTypes")) or ("m6i.xlarge",)
    _reject_arm(reader, "machineTypes", machine_types)
    # With several types the autoscaler may pick any: plan for the first (list the smallest first).
    shape = parse_node_shape(reader, machine_types[0], MACHINES, "machineTypes")
    network = reader.section("network")
    vpc_cidr = network.string("vpcCidr", "10.0.0.0/16")
    try:
        if ipaddress.ip_network(vpc_cidr).prefixlen > 18:
            network.problems.add(network.key("vpcCidr"), f"{vpc_cidr!r} is too small; give a /18 or larger")
    except ValueError:
        network.problems.add(network.key("vpcCidr"), f"{vpc_cidr!r} is not a CIDR block such as '10.0.0.0/16'")
        vpc_cidr = "10.0.0.0/16"
    vpc_id = network.string("vpcId", "", pattern=_VPC, hint="an id such as 'vpc-0abc12345def67890'") or None
    subnets = tuple(network.string_list("privateSubnetIds"))
    for s in subnets:
        if not _SUBNET.match(s):
            network.problems.add(network.key("privateSubnetIds"), f"{s!r} is not a subnet id such as 'subnet-0abc1234'")
    if (vpc_id is None) != (not subnets):
        network.problems.add(network.key("privateSubnetIds"),
                             "give vpcId and privateSubnetIds together (at least two subnets in different zones), or neither")
    elif subnets and len(subnets) < 2:
        network.problems.add(network.key("privateSubnetIds"), "needs at least two subnets in different zones")
    # At most 3: every commercial region has 3 AZs that are not opt-in, and EFS allows one mount target per AZ.
    zone_count = network.integer("zoneCount", 3, minimum=2, maximum=3)
    network.reject_unknown()
    create = reader.boolean("create", True)
    efs_section = reader.section("efs")
    efs_id = efs_section.string("fileSystemId", "", pattern=re.compile(r"^fs-[0-9a-f]{8,17}$")) or None
    efs_section.reject_unknown()
    storage = parse_storage_classes(reader)
    if not create and efs_id is None and storage.read_write_many is None:
        reader.problems.add(reader.key("efs.fileSystemId"),
                            "an adopted cluster needs an existing EFS file system for ReadWriteMany volumes "
                            "(or name a class in storageClasses.readWriteMany)")
    kubernetes_version = reader.string("kubernetesVersion", versions.EKS_DEFAULT_VERSION, pattern=_VERSION,
                                       hint=f"a minor such as '{versions.EKS_DEFAULT_VERSION}' (docs/lifecycle.md)")
    chart = reader.string("autoscalerChartVersion", AUTOSCALER_CHARTS.get(kubernetes_version, ""))
    if create and not chart:
        reader.problems.add(reader.key("autoscalerChartVersion"),
                            f"no cluster-autoscaler chart is known for Kubernetes {kubernetes_version} "
                            f"(known: {', '.join(sorted(AUTOSCALER_CHARTS))}); give the chart whose appVersion is "
                            f"{kubernetes_version}.x (kubernetes/autoscaler cluster-autoscaler/README.md)")
    spot = reader.section("spot")
    spot_enabled = spot.boolean("enabled", False)
    spot_types = tuple(spot.string_list("machineTypes")) or machine_types
    _reject_arm(spot, "machineTypes", spot_types)
    spot_max = spot.integer("maxNodes", 0, minimum=1) or None
    spot.reject_unknown()
    settings = EksSettings(
        region=region,
        create=create,
        name=reader.dns_label("name", "archivist"),
        kubernetes_version=kubernetes_version,
        machine_types=machine_types,
        system_machine_type=reader.string("systemMachineType", "t3.large"),
        disk_size_gb=reader.integer("diskSizeGb", 50, minimum=20, maximum=16384),
        zone_count=zone_count,
        vpc_cidr=vpc_cidr,
        vpc_id=vpc_id,
        private_subnet_ids=subnets,
        efs_file_system_id=efs_id,
        registry_prefix=reader.dns_label("registryPrefix", "archivist"),
        autoscaler_chart_version=chart,
        profile=reader.optional_string("profile"),
        storage_classes=storage,
        node_shape=shape,
        api_allowed_cidrs=parse_api_access(reader, create=create),
        spot=spot_enabled,
        spot_machine_types=spot_types,
        spot_max_nodes=spot_max,
        encryption_key=reader.string("encryptionKey", "", pattern=_KMS_KEY, hint=(
            "a KMS key ARN such as 'arn:aws:kms:eu-west-1:111122223333:key/<key id>'")) or None,
    )
    reader.reject_unknown()
    return settings


def _reject_arm(reader: ConfigReader, key: str, types: tuple[str, ...]) -> None:
    arm = [t for t in types if _ARM.match(t)]
    if arm:
        reader.problems.add(reader.key(key), f"{', '.join(arm)}: Graviton (arm64) types cannot run the images, which "
                                             "are built for linux/amd64; pick x86-64 types such as m6i.xlarge")


def node_machine(settings: EksSettings) -> tuple[Decimal, Decimal]:
    return settings.node_shape or MACHINES["m6i.xlarge"]


def has_spot_pool(settings: EksSettings) -> bool:
    return settings.create and settings.spot


def interruptible(settings: EksSettings) -> dict[str, object] | None:
    return interruptible_pod_fields(SPOT_TAINT) if has_spot_pool(settings) else None


def storage_billing(settings: EksSettings) -> StorageBilling:
    rwo, rwx = sc.eks_billing()
    return StorageBilling(rwo, rwx)


def _assume(service: str) -> str:
    return json.dumps({"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Principal": {"Service": service}, "Action": "sts:AssumeRole"}]})


def irsa_trust(provider_arn: str, issuer: str, service_accounts: list[str]) -> str:
    """Trust policy letting only the named Kubernetes service accounts assume a role (IRSA)."""
    host = issuer.removeprefix("https://")
    return json.dumps({"Version": "2012-10-17", "Statement": [{
        "Effect": "Allow",
        "Principal": {"Federated": provider_arn},
        "Action": "sts:AssumeRoleWithWebIdentity",
        "Condition": {
            "StringEquals": {f"{host}:aud": "sts.amazonaws.com"},
            "StringLike": {f"{host}:sub": [f"system:serviceaccount:{sa}" for sa in service_accounts]},
        },
    }]})


_AUTOSCALER_POLICY = json.dumps({"Version": "2012-10-17", "Statement": [
    {"Effect": "Allow", "Resource": "*", "Action": [
        "autoscaling:DescribeAutoScalingGroups", "autoscaling:DescribeAutoScalingInstances",
        "autoscaling:DescribeLaunchConfigurations", "autoscaling:DescribeScalingActivities", "autoscaling:DescribeTags",
        "ec2:DescribeImages", "ec2:DescribeInstanceTypes", "ec2:DescribeLaunchTemplateVersions",
        "ec2:GetInstanceTypesFromInstanceRequirements", "eks:DescribeNodegroup"]},
    {"Effect": "Allow", "Resource": "*",
     "Action": ["autoscaling:SetDesiredCapacity", "autoscaling:TerminateInstanceInAutoScalingGroup"],
     "Condition": {"StringEquals": {"aws:ResourceTag/k8s.io/cluster-autoscaler/enabled": "true"}}},
]})

_ECR_LIFECYCLE = json.dumps({"rules": [
    {"rulePriority": 1, "description": "drop untagged images (superseded digests) after 14 days",
     "selection": {"tagStatus": "untagged", "countType": "sinceImagePushed", "countUnit": "days", "countNumber": 14},
     "action": {"type": "expire"}},
    {"rulePriority": 2, "description": "keep the 30 most recent images",
     "selection": {"tagStatus": "any", "countType": "imageCountMoreThan", "countNumber": 30},
     "action": {"type": "expire"}},
]})


class EksCluster(pulumi.ComponentResource):
    target: ClusterTarget

    def __init__(self, name: str, settings: EksSettings, *, node_bounds: NodeBounds, protect: bool,
                 opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("archivist:cluster:EksCluster", name, None, opts)
        s = settings
        self._prefix, self._settings, self._keep = name, s, protect
        # The region comes from archivist:cluster.region, not the ambient aws:region or AWS_REGION.
        # The same profile for the provider and the kubeconfig: the provider's identity becomes cluster admin
        # (bootstrap_cluster_creator_admin_permissions), so `aws eks get-token` must run as that identity too.
        self._aws = AwsProvider(f"{name}-aws", region=s.region, profile=s.profile,
                                default_tags={"tags": {"app": "archivist"}},
                                opts=pulumi.ResourceOptions(parent=self))
        self._partition = get_partition_output(opts=self._invoke()).partition
        ready: list[pulumi.Resource] = []
        rwx_fs: pulumi.Input[str] | None
        cluster_id: pulumi.Output[str]
        if s.create:
            endpoint, ca, rwx_fs, cluster_id = self._create(node_bounds, ready)
        else:
            found = eks.get_cluster_output(name=s.name, opts=self._invoke())
            cluster_id = found.arn
            self._issuer = found.identities.apply(lambda ids: ids[0].oidcs[0].issuer)
            self._oidc_arn = iam.get_open_id_connect_provider_output(url=self._issuer, opts=self._invoke()).arn
            endpoint = found.endpoint
            ca = found.certificate_authorities.apply(lambda c: c[0].data)
            rwx_fs = s.efs_file_system_id

        env = {"AWS_PROFILE": s.profile} if s.profile else None
        kubeconfig = secret_kubeconfig(
            [endpoint, ca],
            lambda a: exec_kubeconfig(
                name=f"eks_{s.region}_{s.name}", server=a[0], ca_data=a[1], command="aws",
                args=["eks", "get-token", "--cluster-name", s.name, "--region", s.region], env=env,
                install_hint="Install the AWS CLI v2: https://docs.aws.amazon.com/cli/",
            ),
        )
        # The cluster's ARN decides replacement of the provider (and so of every Kubernetes object), not the kubeconfig.
        provider = k8s.Provider(f"{name}-k8s", kubeconfig=kubeconfig, cluster_identifier=cluster_id,
                                opts=pulumi.ResourceOptions(parent=self))
        if s.create:
            ready.append(self._autoscaler(provider, ready))
        classes, created = sc.create_classes(
            name, sc.eks_classes(file_system_id=rwx_fs, kms_key=s.encryption_key), s.storage_classes,
            provider=provider, parent=self, protect=protect, depends_on=ready,
        )
        registry = self._registry()
        cloud = CloudContext(platform="eks", region=s.region, cluster_name=pulumi.Output.from_input(s.name),
                             depends_on=list(ready), provider=self._aws, oidc_provider_arn=self._oidc_arn,
                             oidc_issuer_url=self._issuer)
        self.target = ClusterTarget(platform="eks", provider=provider, storage=classes, registry=registry,
                                    kubeconfig=kubeconfig, ready=ready + created, cloud=cloud,
                                    interruptible=interruptible(s))
        self.register_outputs({"endpoint": endpoint, "kubeconfig": kubeconfig, "registry": registry.url})

    # -- helpers --------------------------------------------------------------------------

    def _opts(self, *, protect: bool = False, **kwargs: object) -> pulumi.ResourceOptions:
        return pulumi.ResourceOptions(parent=self, provider=self._aws, protect=protect, **kwargs)  # type: ignore[arg-type]

    def _invoke(self) -> pulumi.InvokeOutputOptions:
        return pulumi.InvokeOutputOptions(parent=self, provider=self._aws)

    def _role(self, suffix: str, trust: pulumi.Input[str], policies: list[str]) -> tuple[iam.Role, list[pulumi.Resource]]:
        """The role and its policy attachments: what uses the role must depend on the attachments, or EKS
        cannot delete its ENIs and instances once they are detached in parallel (eks/cluster.py:51)."""
        role = iam.Role(f"{self._prefix}-{suffix}-role", assume_role_policy=trust, opts=self._opts())
        attachments: list[pulumi.Resource] = [
            iam.RolePolicyAttachment(
                f"{self._prefix}-{suffix}-{policy.rsplit('/', 1)[-1]}", role=role.name,
                policy_arn=self._partition.apply(lambda part, policy=policy: f"arn:{part}:iam::aws:policy/{policy}"),
                opts=self._opts())
            for policy in policies
        ]
        return role, attachments

    # -- creation -------------------------------------------------------------------------

    def _network(self) -> tuple[pulumi.Input[str], list[pulumi.Input[str]], pulumi.Input[str]]:
        s, n = self._settings, self._prefix
        if s.vpc_id:
            vpc_cidr = ec2.get_vpc_output(id=s.vpc_id, opts=self._invoke()).cidr_block
            return s.vpc_id, list(s.private_subnet_ids), vpc_cidr
        # Regular AZs only: opted-in Local/Wavelength Zones sort first and EKS rejects them for the control plane.
        found = get_availability_zones_output(
            state="available", filters=[GetAvailabilityZonesFilterArgs(name="opt-in-status", values=["opt-in-not-required"])],
            opts=self._invoke())
        zones = found.names.apply(lambda z: _enough_zones(z, s.zone_count, s.region))
        vpc = ec2.Vpc(f"{n}-vpc", cidr_block=s.vpc_cidr, enable_dns_hostnames=True, enable_dns_support=True,
                      tags={"Name": f"{s.name}-vpc"}, opts=self._opts())
        blocks = list(ipaddress.ip_network(s.vpc_cidr).subnets(prefixlen_diff=3))  # 8 equal blocks
        igw = ec2.InternetGateway(f"{n}-igw", vpc_id=vpc.id, opts=self._opts())
        public_rt = ec2.RouteTable(f"{n}-public", vpc_id=vpc.id,
                                   routes=[ec2.RouteTableRouteArgs(cidr_block="0.0.0.0/0", gateway_id=igw.id)],
                                   opts=self._opts())
        cluster_tag = {f"kubernetes.io/cluster/{s.name}": "shared"}
        private: list[pulumi.Input[str]] = []
        nat: ec2.NatGateway | None = None
        for i in range(s.zone_count):
            zone = zones.apply(lambda z, i=i: z[i])
            pub = ec2.Subnet(f"{n}-public-{i}", vpc_id=vpc.id, availability_zone=zone, cidr_block=str(blocks[4 + i]),
                             map_public_ip_on_launch=True,
                             tags={"Name": f"{s.name}-public-{i}", "kubernetes.io/role/elb": "1", **cluster_tag},
                             opts=self._opts())
            ec2.RouteTableAssociation(f"{n}-public-{i}-rta", subnet_id=pub.id, route_table_id=public_rt.id, opts=self._opts())
            if nat is None:
                # One NAT gateway: a zone outage cuts egress for the others, but three cost three times as much.
                eip = ec2.Eip(f"{n}-nat-eip", domain="vpc", opts=self._opts())
                nat = ec2.NatGateway(f"{n}-nat", subnet_id=pub.id, allocation_id=eip.id, opts=self._opts())
                private_rt = ec2.RouteTable(f"{n}-private", vpc_id=vpc.id,
                                            routes=[ec2.RouteTableRouteArgs(cidr_block="0.0.0.0/0", nat_gateway_id=nat.id)],
                                            opts=self._opts())
            priv = ec2.Subnet(f"{n}-private-{i}", vpc_id=vpc.id, availability_zone=zone, cidr_block=str(blocks[i]),
                              tags={"Name": f"{s.name}-private-{i}", "kubernetes.io/role/internal-elb": "1", **cluster_tag},
                              opts=self._opts())
            ec2.RouteTableAssociation(f"{n}-private-{i}-rta", subnet_id=priv.id, route_table_id=private_rt.id,
                                      opts=self._opts())
            private.append(priv.id)
        return vpc.id, private, vpc.cidr_block

    def _create(self, bounds: NodeBounds, ready: list[pulumi.Resource]) -> tuple[
        pulumi.Output[str], pulumi.Output[str], pulumi.Output[str], pulumi.Output[str]
    ]:
        s, n = self._settings, self._prefix
        vpc_id, subnets, vpc_cidr = self._network()
        cluster_role, cluster_policies = self._role("cluster", _assume("eks.amazonaws.com"), ["AmazonEKSClusterPolicy"])
        # EKS writes control-plane logs here; created first so it gets a retention (EKS's own never expires).
        logs = cloudwatch.LogGroup(f"{n}-cluster-logs", name=f"/aws/eks/{s.name}/cluster",
                                   retention_in_days=LOG_RETENTION_DAYS, opts=self._opts())
        open_to_all = OPEN_TO_INTERNET in s.api_allowed_cidrs
        cluster = eks.Cluster(
            f"{n}-cluster",
            name=s.name,
            version=s.kubernetes_version,
            role_arn=cluster_role.arn,
            # The public endpoint answers only apiAccess.allowedCidrs; nodes use the private endpoint.
            vpc_config=eks.ClusterVpcConfigArgs(subnet_ids=subnets, endpoint_private_access=True,
                                                endpoint_public_access=True,
                                                public_access_cidrs=[OPEN_TO_INTERNET] if open_to_all
                                                else list(s.api_allowed_cidrs)),
            # Access entries (API) instead of the aws-auth ConfigMap; whoever runs `up` becomes admin.
            access_config=eks.ClusterAccessConfigArgs(authentication_mode="API",
                                                      bootstrap_cluster_creator_admin_permissions=True),
            enabled_cluster_log_types=["api", "audit", "authenticator"],
            # STANDARD: when the minor leaves standard support EKS upgrades it instead of billing
            # extended support (about 6x the control-plane price), which is EKS's default.
            upgrade_policy=eks.ClusterUpgradePolicyArgs(support_type="STANDARD"),
            # Envelope encryption of Secrets with the customer's key (cannot be removed once set).
            encryption_config=eks.ClusterEncryptionConfigArgs(
                resources=["secrets"], provider=eks.ClusterEncryptionConfigProviderArgs(key_arn=s.encryption_key))
            if s.encryption_key else None,
            deletion_protection=self._keep,
            opts=self._opts(protect=self._keep, depends_on=[*cluster_policies, logs]),
        )
        issuer = cluster.identities.apply(lambda ids: ids[0].oidcs[0].issuer)
        oidc = iam.OpenIdConnectProvider(f"{n}-oidc", url=issuer, client_id_lists=["sts.amazonaws.com"],
                                         opts=self._opts())
        self._issuer, self._oidc_arn = issuer, oidc.arn

        def irsa(suffix: str, accounts: list[str], policies: list[str]) -> tuple[iam.Role, list[pulumi.Resource]]:
            trust = pulumi.Output.all(oidc.arn, issuer).apply(lambda a: irsa_trust(a[0], a[1], accounts))
            return self._role(suffix, trust, policies)

        def addon(name: str, *, role: iam.Role | None = None, config: str | None = None,
                  depends_on: list[pulumi.Resource]) -> eks.Addon:
            # The add-on's default version for the cluster's minor: it moves with kubernetesVersion.
            version = eks.get_addon_version_output(addon_name=name, kubernetes_version=cluster.version,
                                                   opts=self._invoke()).version
            return eks.Addon(
                f"{n}-{name}", cluster_name=cluster.name, addon_name=name, addon_version=version,
                service_account_role_arn=role.arn if role else None, configuration_values=config,
                resolve_conflicts_on_create="OVERWRITE", resolve_conflicts_on_update="PRESERVE",
                opts=self._opts(depends_on=depends_on),
            )

        # The managed VPC CNI with its network-policy agent: without it NetworkPolicies are not enforced
        # on EKS at all (amazon-vpc-cni-k8s: "network policies are not enabled by default").
        # Its ENI rights (AmazonEKS_CNI_Policy) go to the aws-node service account through IRSA, not to the
        # node role every pod's node shares (audit N14; EKS user guide "Configure Amazon VPC CNI plugin to
        # use IRSA"). Node groups depend on the add-on, so aws-node has its role before a node boots.
        cni_role, cni_policies = irsa("vpc-cni", ["kube-system:aws-node"], ["AmazonEKS_CNI_Policy"])
        cni = addon("vpc-cni", role=cni_role, config=json.dumps({"enableNetworkPolicy": "true"}),
                    depends_on=cni_policies)
        node_role, node_policies = self._role("nodes", _assume("ec2.amazonaws.com"), [
            "AmazonEKSWorkerNodePolicy", "AmazonEC2ContainerRegistryReadOnly"])
        # IMDSv2 with a hop limit of 1: pods (one hop further) cannot reach the node role's credentials.
        template = ec2.LaunchTemplate(
            f"{n}-nodes", name_prefix=f"{s.name}-nodes-", update_default_version=True,
            metadata_options=ec2.LaunchTemplateMetadataOptionsArgs(
                http_endpoint="enabled", http_tokens="required", http_put_response_hop_limit=1),
            # With a launch template the node group's disk_size is not allowed: the root disk is set here.
            block_device_mappings=[ec2.LaunchTemplateBlockDeviceMappingArgs(
                device_name="/dev/xvda",
                ebs=ec2.LaunchTemplateBlockDeviceMappingEbsArgs(volume_size=s.disk_size_gb, volume_type="gp3",
                                                               encrypted="true", kms_key_id=s.encryption_key,
                                                               delete_on_termination="true"))],
            opts=self._opts())

        def group(suffix: str, types: list[str], lo: int, hi: int, *, spot: bool = False,
                  subnet_ids: list[pulumi.Input[str]] | None = None) -> eks.NodeGroup:
            return eks.NodeGroup(
                f"{n}-{suffix}",
                cluster_name=cluster.name,
                node_group_name_prefix=f"{s.name}-{suffix}-",
                node_role_arn=node_role.arn,
                # Follows the control plane when kubernetesVersion changes.
                version=cluster.version,
                ami_type=AMI_TYPE,
                capacity_type="SPOT" if spot else "ON_DEMAND",
                subnet_ids=subnet_ids or subnets,
                instance_types=types,
                launch_template=eks.NodeGroupLaunchTemplateArgs(id=template.id, version=template.latest_version.apply(str)),
                scaling_config=eks.NodeGroupScalingConfigArgs(min_size=lo, max_size=hi, desired_size=lo),
                update_config=eks.NodeGroupUpdateConfigArgs(max_unavailable=1),
                labels={POOL_LABEL: suffix},
                taints=[eks.NodeGroupTaintArgs(key=SPOT_TAINT["key"], value=SPOT_TAINT["value"], effect="NO_SCHEDULE")]
                if spot else None,
                tags={"k8s.io/cluster-autoscaler/enabled": "true", f"k8s.io/cluster-autoscaler/{s.name}": "owned"},
                # The autoscaler owns the desired size; replaying the minimum on every `up` would fight it.
                # Not protected: node groups hold no data.
                opts=self._opts(ignore_changes=["scalingConfig.desiredSize"], depends_on=[*node_policies, cni]),
            )

        system = group("system", [s.system_machine_type], 1, 3)
        ready.append(system)
        # One workload group per AZ: the stores' EBS volumes are zonal, and the autoscaler cannot choose
        # the AZ of a multi-AZ group, so a pod whose volume is in zone a could stay Pending (autoscaler
        # cloudprovider/aws/README.md "Common Notes and Gotchas"); balance-similar-node-groups spreads them.
        mins = split_across_zones(bounds.min_nodes, len(subnets))
        for i, subnet in enumerate(subnets):
            ready.append(group(f"workload-{i}", list(s.machine_types), mins[i],
                               zone_count_nodes(bounds.max_nodes, len(subnets)), subnet_ids=[subnet]))
        if s.spot:
            ready.append(group(SPOT_POOL, list(s.spot_machine_types), 0,
                               s.spot_max_nodes or bounds.interruptible_max_nodes or bounds.max_nodes, spot=True))

        ebs_role, ebs_policies = irsa("ebs-csi", ["kube-system:ebs-csi-controller-sa"],
                                      ["service-role/AmazonEBSCSIDriverPolicy"])
        efs_role, efs_policies = irsa("efs-csi", ["kube-system:efs-csi-*"], ["service-role/AmazonEFSCSIDriverPolicy"])
        self._autoscaler_role, _ = irsa("autoscaler", ["kube-system:cluster-autoscaler"], [])
        self._autoscaler_policy = iam.RolePolicy(f"{n}-autoscaler-policy", role=self._autoscaler_role.id,
                                                 policy=_AUTOSCALER_POLICY, opts=self._opts())
        self._cluster = cluster
        ready.append(cni)
        # add-on pods need nodes to become ACTIVE, and their roles' policies attached
        ready.append(addon("aws-ebs-csi-driver", role=ebs_role, depends_on=[system, *ebs_policies]))
        ready.append(addon("aws-efs-csi-driver", role=efs_role, depends_on=[system, *efs_policies]))
        ready.append(addon("metrics-server", depends_on=[system]))

        # EFS: encrypted, reachable on NFS (2049) from the VPC, one mount target per node subnet.
        fs = efs.FileSystem(f"{n}-shared", encrypted=True, performance_mode="generalPurpose", throughput_mode="elastic",
                            lifecycle_policies=[efs.FileSystemLifecyclePolicyArgs(transition_to_ia="AFTER_30_DAYS")],
                            tags={"Name": f"{s.name}-shared"}, opts=self._opts(protect=self._keep))
        nfs = ec2.SecurityGroup(f"{n}-efs", vpc_id=vpc_id, description="NFS from the cluster VPC to EFS",
                                ingress=[ec2.SecurityGroupIngressArgs(protocol="tcp", from_port=2049, to_port=2049,
                                                                      cidr_blocks=[vpc_cidr])],
                                opts=self._opts())
        for i, subnet in enumerate(subnets):
            ready.append(efs.MountTarget(f"{n}-shared-{i}", file_system_id=fs.id, subnet_id=subnet,
                                         security_groups=[nfs.id], opts=self._opts()))
        ca = cluster.certificate_authority.apply(lambda c: c.data or "")
        return cluster.endpoint, ca, fs.id, cluster.arn

    def _autoscaler(self, provider: k8s.Provider, ready: list[pulumi.Resource]) -> Release:
        s = self._settings
        return Release(
            f"{self._prefix}-cluster-autoscaler",
            ReleaseArgs(
                chart="cluster-autoscaler",
                version=s.autoscaler_chart_version,
                namespace="kube-system",
                repository_opts=RepositoryOptsArgs(repo="https://kubernetes.github.io/autoscaler"),
                values={
                    "cloudProvider": "aws",
                    "awsRegion": s.region,
                    "autoDiscovery": {"clusterName": s.name},
                    "rbac": {"serviceAccount": {"name": "cluster-autoscaler", "annotations": {
                        "eks.amazonaws.com/role-arn": self._autoscaler_role.arn}}},
                    # skip-nodes-with-local-storage defaults to true (cluster-autoscaler main.go), and nearly every
                    # Archivist pod mounts an emptyDir: nodes would never scale down again.
                    "extraArgs": {"balance-similar-node-groups": True, "skip-nodes-with-system-pods": False,
                                  "skip-nodes-with-local-storage": False},
                },
            ),
            opts=pulumi.ResourceOptions(parent=self, provider=provider,
                                        depends_on=[*ready, self._autoscaler_policy]),
        )

    def _registry(self) -> Registry:
        s, n = self._settings, self._prefix
        urls: list[pulumi.Output[str]] = []
        for app in APP_IMAGES:
            repo = ecr.Repository(
                f"{n}-{app}", name=f"{s.registry_prefix}/{app}",
                # Mutable: the build cache tag is rewritten on every build; pods pull by digest anyway.
                image_tag_mutability="MUTABLE",
                image_scanning_configuration=ecr.RepositoryImageScanningConfigurationArgs(scan_on_push=True),
                encryption_configurations=[ecr.RepositoryEncryptionConfigurationArgs(encryption_type="AES256")],
                force_delete=not self._keep,
                opts=self._opts(protect=self._keep),
            )
            ecr.LifecyclePolicy(f"{n}-{app}-lifecycle", repository=repo.name, policy=_ECR_LIFECYCLE, opts=self._opts())
            urls.append(repo.repository_url)
        # Images are "<url>/<app>", so the registry url is the repositories' common prefix.
        url = urls[0].apply(lambda u: u.rsplit("/", 1)[0])
        token = ecr.get_authorization_token_output(opts=self._invoke())
        return Registry(url=url, username=token.user_name, password=pulumi.Output.secret(token.password))


def _enough_zones(zones: list[str], wanted: int, region: str) -> list[str]:
    if len(zones) < wanted:
        raise pulumi.RunError(f"region {region} has {len(zones)} availability zones that need no opt-in "
                              f"({', '.join(zones)}); set archivist:cluster.network.zoneCount to {len(zones)} or fewer")
    return sorted(zones)[:wanted]


def build(name: str, settings: EksSettings, *, node_bounds: NodeBounds, protect: bool) -> ClusterTarget:
    return EksCluster(name, settings, node_bounds=node_bounds, protect=protect).target
