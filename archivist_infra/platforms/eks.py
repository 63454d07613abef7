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
from pulumi_aws import ec2, ecr, efs, eks, iam
from pulumi_aws.get_availability_zones import get_availability_zones_output
from pulumi_aws.provider import Provider as AwsProvider
from pulumi_kubernetes.helm.v3 import Release, ReleaseArgs, RepositoryOptsArgs

from ..capacity import NodeBounds, StorageBilling
from ..config.reader import ConfigReader
from ..images import APP_IMAGES
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

MACHINES = table(
    {
        **{f"{fam}.large": (2, 8) for fam in ("m5", "m6i", "m6a", "m7i", "m7g", "t3")},
        **{f"{fam}.xlarge": (4, 16) for fam in ("m5", "m6i", "m6a", "m7i", "m7g", "t3")},
        **{f"{fam}.2xlarge": (8, 32) for fam in ("m5", "m6i", "m6a", "m7i", "m7g", "t3")},
        **{f"{fam}.4xlarge": (16, 64) for fam in ("m5", "m6i", "m6a", "m7i", "m7g")},
        **{f"{fam}.xlarge": (4, 8) for fam in ("c5", "c6i", "c7i")},
        **{f"{fam}.large": (2, 16) for fam in ("r5", "r6i", "r7i")},
        **{f"{fam}.xlarge": (4, 32) for fam in ("r5", "r6i", "r7i")},
    }
)
POOL_LABEL = "archivist.io/pool"
_MANAGED = "arn:aws:iam::aws:policy/"
_REGION = re.compile(r"^[a-z]{2}(-[a-z]+)+-[0-9]$")
_VERSION = re.compile(r"^1\.[0-9]{2}$")
_SUBNET = re.compile(r"^subnet-[0-9a-f]{8,17}$")
_VPC = re.compile(r"^vpc-[0-9a-f]{8,17}$")
# cluster-autoscaler's chart; managed node groups only set ASG bounds, something must scale them.
AUTOSCALER_CHART_VERSION = "9.43.0"


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


def parse(reader: ConfigReader) -> EksSettings:
    region = required_string(reader, "region", "AWS region", "eu-west-1", pattern=_REGION)
    machine_types = tuple(reader.string_list("machineTypes")) or ("m6i.xlarge",)
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
    zone_count = network.integer("zoneCount", 3, minimum=2, maximum=4)
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
    settings = EksSettings(
        region=region,
        create=create,
        name=reader.dns_label("name", "archivist"),
        kubernetes_version=reader.string("kubernetesVersion", "1.33", pattern=_VERSION, hint="e.g. '1.33'"),
        machine_types=machine_types,
        system_machine_type=reader.string("systemMachineType", "t3.large"),
        disk_size_gb=reader.integer("diskSizeGb", 50, minimum=20, maximum=16384),
        zone_count=zone_count,
        vpc_cidr=vpc_cidr,
        vpc_id=vpc_id,
        private_subnet_ids=subnets,
        efs_file_system_id=efs_id,
        registry_prefix=reader.dns_label("registryPrefix", "archivist"),
        autoscaler_chart_version=reader.string("autoscalerChartVersion", AUTOSCALER_CHART_VERSION),
        profile=reader.optional_string("profile"),
        storage_classes=storage,
        node_shape=shape,
    )
    reader.reject_unknown()
    return settings


def node_machine(settings: EksSettings) -> tuple[Decimal, Decimal]:
    return settings.node_shape or MACHINES["m6i.xlarge"]


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
        self._aws = AwsProvider(f"{name}-aws", region=s.region, default_tags={"tags": {"app": "archivist"}},
                                opts=pulumi.ResourceOptions(parent=self))
        ready: list[pulumi.Resource] = []
        rwx_fs: pulumi.Input[str] | None
        if s.create:
            endpoint, ca, rwx_fs = self._create(node_bounds, ready)
        else:
            found = eks.get_cluster_output(name=s.name, opts=self._invoke())
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
        provider = k8s.Provider(f"{name}-k8s", kubeconfig=kubeconfig, opts=pulumi.ResourceOptions(parent=self))
        if s.create:
            ready.append(self._autoscaler(provider, ready))
        classes, created = sc.create_classes(
            name, sc.eks_classes(file_system_id=rwx_fs), s.storage_classes,
            provider=provider, parent=self, protect=protect, depends_on=ready,
        )
        registry = self._registry()
        cloud = CloudContext(platform="eks", region=s.region, cluster_name=pulumi.Output.from_input(s.name),
                             depends_on=list(ready), provider=self._aws, oidc_provider_arn=self._oidc_arn,
                             oidc_issuer_url=self._issuer)
        self.target = ClusterTarget(platform="eks", provider=provider, storage=classes, registry=registry,
                                    kubeconfig=kubeconfig, ready=ready + created, cloud=cloud)
        self.register_outputs({"endpoint": endpoint, "kubeconfig": kubeconfig, "registry": registry.url})

    # -- helpers --------------------------------------------------------------------------

    def _opts(self, *, protect: bool = False, **kwargs: object) -> pulumi.ResourceOptions:
        return pulumi.ResourceOptions(parent=self, provider=self._aws, protect=protect, **kwargs)  # type: ignore[arg-type]

    def _invoke(self) -> pulumi.InvokeOutputOptions:
        return pulumi.InvokeOutputOptions(parent=self, provider=self._aws)

    def _role(self, suffix: str, trust: pulumi.Input[str], policies: list[str]) -> iam.Role:
        role = iam.Role(f"{self._prefix}-{suffix}-role", assume_role_policy=trust, opts=self._opts())
        for policy in policies:
            iam.RolePolicyAttachment(f"{self._prefix}-{suffix}-{policy.rsplit('/', 1)[-1]}", role=role.name,
                                     policy_arn=_MANAGED + policy, opts=self._opts())
        return role

    # -- creation -------------------------------------------------------------------------

    def _network(self) -> tuple[pulumi.Input[str], list[pulumi.Input[str]], pulumi.Input[str]]:
        s, n = self._settings, self._prefix
        if s.vpc_id:
            vpc_cidr = ec2.get_vpc_output(id=s.vpc_id, opts=self._invoke()).cidr_block
            return s.vpc_id, list(s.private_subnet_ids), vpc_cidr
        zones = get_availability_zones_output(state="available", opts=self._invoke()).names
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
            zone = zones.apply(lambda z, i=i: z[i % len(z)])
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
        pulumi.Output[str], pulumi.Output[str], pulumi.Output[str]
    ]:
        s, n = self._settings, self._prefix
        vpc_id, subnets, vpc_cidr = self._network()
        cluster_role = self._role("cluster", _assume("eks.amazonaws.com"), ["AmazonEKSClusterPolicy"])
        cluster = eks.Cluster(
            f"{n}-cluster",
            name=s.name,
            version=s.kubernetes_version,
            role_arn=cluster_role.arn,
            vpc_config=eks.ClusterVpcConfigArgs(subnet_ids=subnets, endpoint_private_access=True,
                                                endpoint_public_access=True),
            # Access entries (API) instead of the aws-auth ConfigMap; whoever runs `up` becomes admin.
            access_config=eks.ClusterAccessConfigArgs(authentication_mode="API",
                                                      bootstrap_cluster_creator_admin_permissions=True),
            enabled_cluster_log_types=["api", "audit", "authenticator"],
            opts=self._opts(protect=self._keep),
        )
        issuer = cluster.identities.apply(lambda ids: ids[0].oidcs[0].issuer)
        oidc = iam.OpenIdConnectProvider(f"{n}-oidc", url=issuer, client_id_lists=["sts.amazonaws.com"],
                                         opts=self._opts())
        self._issuer, self._oidc_arn = issuer, oidc.arn

        def irsa(suffix: str, accounts: list[str], policies: list[str]) -> iam.Role:
            trust = pulumi.Output.all(oidc.arn, issuer).apply(lambda a: irsa_trust(a[0], a[1], accounts))
            return self._role(suffix, trust, policies)

        node_role = self._role("nodes", _assume("ec2.amazonaws.com"), [
            "AmazonEKSWorkerNodePolicy", "AmazonEKS_CNI_Policy", "AmazonEC2ContainerRegistryReadOnly"])

        def group(suffix: str, types: list[str], lo: int, hi: int) -> eks.NodeGroup:
            return eks.NodeGroup(
                f"{n}-{suffix}",
                cluster_name=cluster.name,
                node_group_name_prefix=f"{s.name}-{suffix}-",
                node_role_arn=node_role.arn,
                subnet_ids=subnets,
                instance_types=types,
                disk_size=s.disk_size_gb,
                scaling_config=eks.NodeGroupScalingConfigArgs(min_size=lo, max_size=hi, desired_size=lo),
                update_config=eks.NodeGroupUpdateConfigArgs(max_unavailable=1),
                labels={POOL_LABEL: suffix},
                tags={"k8s.io/cluster-autoscaler/enabled": "true", f"k8s.io/cluster-autoscaler/{s.name}": "owned"},
                # The autoscaler owns the desired size; replaying the minimum on every `up` would fight it.
                opts=self._opts(protect=self._keep, ignore_changes=["scalingConfig.desiredSize"]),
            )

        system = group("system", [s.system_machine_type], 1, 3)
        workload = group("workload", list(s.machine_types), bounds.min_nodes, bounds.max_nodes)
        ready.extend([system, workload])

        ebs_role = irsa("ebs-csi", ["kube-system:ebs-csi-controller-sa"], ["service-role/AmazonEBSCSIDriverPolicy"])
        efs_role = irsa("efs-csi", ["kube-system:efs-csi-*"], ["service-role/AmazonEFSCSIDriverPolicy"])
        self._autoscaler_role = irsa("autoscaler", ["kube-system:cluster-autoscaler"], [])
        iam.RolePolicy(f"{n}-autoscaler-policy", role=self._autoscaler_role.id, policy=_AUTOSCALER_POLICY, opts=self._opts())
        self._cluster = cluster
        for addon, role in (("aws-ebs-csi-driver", ebs_role), ("aws-efs-csi-driver", efs_role), ("metrics-server", None)):
            ready.append(eks.Addon(
                f"{n}-{addon}", cluster_name=cluster.name, addon_name=addon,
                service_account_role_arn=role.arn if role else None,
                resolve_conflicts_on_create="OVERWRITE", resolve_conflicts_on_update="PRESERVE",
                # add-on pods need nodes to become ACTIVE
                opts=self._opts(depends_on=[system]),
            ))

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
        return cluster.endpoint, ca, fs.id

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
                    "extraArgs": {"balance-similar-node-groups": True, "skip-nodes-with-system-pods": False},
                },
            ),
            opts=pulumi.ResourceOptions(parent=self, provider=provider, depends_on=list(ready)),
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


def build(name: str, settings: EksSettings, *, node_bounds: NodeBounds, protect: bool) -> ClusterTarget:
    return EksCluster(name, settings, node_bounds=node_bounds, protect=protect).target
