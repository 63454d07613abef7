from __future__ import annotations

import json

import pulumi

from archivist_infra.capacity.figures import NodeBounds
from archivist_infra.platforms import eks

from .conftest import RecordingMonitor, reader, settled
from .sdk_isolation import assert_only_sdk

SC = "kubernetes:storage.k8s.io/v1:StorageClass"


def settings(**extra: object) -> eks.EksSettings:
    r = reader({"region": "eu-west-1", "apiAccess": {"allowedCidrs": ["203.0.113.7/32"]}, **extra})
    parsed = eks.parse(r)
    assert not r.problems, r.problems.items
    return parsed


@pulumi.runtime.test
def test_creates_network_cluster_nodes_irsa_addons_efs_ecr(monitor: RecordingMonitor) -> pulumi.Output[None]:
    comp = eks.EksCluster("arch", settings(), node_bounds=NodeBounds(3, 9), protect=True)

    def check() -> None:
        private = [r for r in monitor.of_type("aws:ec2/subnet:Subnet") if "private" in r.name]
        public = [r for r in monitor.of_type("aws:ec2/subnet:Subnet") if "public" in r.name]
        assert len({s.inputs["availabilityZone"] for s in private}) >= 2
        assert len({s.inputs["availabilityZone"] for s in public}) >= 2
        assert all(s.inputs["tags"]["kubernetes.io/role/internal-elb"] == "1" for s in private)
        assert "aws:index/getAvailabilityZones:getAvailabilityZones" in monitor.call_tokens()

        cluster = monitor.one("aws:eks/cluster:Cluster")
        assert cluster.protect and cluster.inputs["version"] == "1.35"
        assert cluster.inputs["roleArn"].endswith(":role/" + monitor.one("aws:iam/role:Role", "arch-cluster-role").inputs["name"])
        assert len(cluster.inputs["vpcConfig"]["subnetIds"]) == 3

        groups = {g.name: g for g in monitor.of_type("aws:eks/nodeGroup:NodeGroup")}
        # one workload group per AZ (zonal EBS volumes): minimums add up to 3, each may grow to ceil(9 / 3)
        per_zone = [groups[f"arch-workload-{i}"].inputs for i in range(3)]
        assert [(g["scalingConfig"]["minSize"], g["scalingConfig"]["maxSize"]) for g in per_zone] == [(1, 3)] * 3
        assert [len(g["subnetIds"]) for g in per_zone] == [1, 1, 1]
        assert len({g["subnetIds"][0] for g in per_zone}) == 3
        assert not any(g.protect for g in groups.values())  # node groups hold no data
        # protection is chosen per resource, never inherited wholesale from the component
        assert not any(r.protect for r in monitor.of_type("aws:iam/role:Role"))
        assert not monitor.one("pulumi:providers:aws").protect

        oidc = monitor.one("aws:iam/openIdConnectProvider:OpenIdConnectProvider").inputs
        assert oidc["clientIdLists"] == ["sts.amazonaws.com"] and oidc["url"].startswith("https://oidc.eks.")
        ebs_trust = json.loads(monitor.one("aws:iam/role:Role", "arch-ebs-csi-role").inputs["assumeRolePolicy"])
        statement = ebs_trust["Statement"][0]
        assert statement["Action"] == "sts:AssumeRoleWithWebIdentity"
        assert statement["Principal"]["Federated"].startswith("arn:aws:iam::123456789012:oidc-provider/oidc.eks.")
        assert list(statement["Condition"]["StringLike"].values()) == [["system:serviceaccount:kube-system:ebs-csi-controller-sa"]]
        attached = {r.inputs["policyArn"] for r in monitor.of_type("aws:iam/rolePolicyAttachment:RolePolicyAttachment")
                    if r.name.startswith("arch-ebs-csi")}
        assert attached == {"arn:aws:iam::aws:policy/service-role/AmazonEBSCSIDriverPolicy"}

        addons = {a.inputs["addonName"]: a.inputs for a in monitor.of_type("aws:eks/addon:Addon")}
        assert set(addons) == {"vpc-cni", "aws-ebs-csi-driver", "aws-efs-csi-driver", "metrics-server"}
        assert ":role/arch-ebs-csi-" in addons["aws-ebs-csi-driver"]["serviceAccountRoleArn"]

        fs = monitor.one("aws:efs/fileSystem:FileSystem")
        assert fs.inputs["encrypted"] is True and fs.protect
        assert len(monitor.of_type("aws:efs/mountTarget:MountTarget")) == 3
        sg = monitor.one("aws:ec2/securityGroup:SecurityGroup").inputs
        assert sg["ingress"][0]["fromPort"] == 2049

        repos = monitor.of_type("aws:ecr/repository:Repository")
        assert sorted(r.inputs["name"] for r in repos) == ["archivist/graph", "archivist/search", "archivist/worker"]
        rules = json.loads(monitor.of_type("aws:ecr/lifecyclePolicy:LifecyclePolicy")[0].inputs["policy"])["rules"]
        assert rules[0]["selection"]["tagStatus"] == "untagged"

        classes = {r.inputs["metadata"]["name"]: r for r in monitor.of_type(SC)}
        rwo, rwx = classes["archivist-ssd"].inputs, classes["archivist-shared"].inputs
        assert rwo["provisioner"] == "ebs.csi.aws.com"
        assert rwo["parameters"]["type"] == "gp3" and rwo["parameters"]["encrypted"] == "true"
        assert rwx["provisioner"] == "efs.csi.aws.com"
        assert rwx["parameters"]["provisioningMode"] == "efs-ap" and rwx["parameters"]["fileSystemId"] == "arch-shared-id"
        assert all(c.protect and c.inputs["volumeBindingMode"] == "WaitForFirstConsumer" for c in classes.values())

        assert "kubeconfig" in monitor.one("pulumi:providers:kubernetes").secret_keys
        k8s_resources = [r for r in monitor.registrations if r.type.startswith("kubernetes:")]
        assert len(k8s_resources) == 3 and all(r.provider for r in k8s_resources)  # 2 classes + autoscaler
        aws_resources = [r for r in monitor.registrations if r.type.startswith("aws:")]
        assert all(r.provider.split("::")[-2].endswith("arch-aws") for r in aws_resources)
    assert comp.target.registry is not None
    return settled(comp, check)


@pulumi.runtime.test
def test_adopting_an_existing_cluster(monitor: RecordingMonitor) -> pulumi.Output[None]:
    comp = eks.EksCluster("arch", settings(create=False, name="shared", efs={"fileSystemId": "fs-0123456789abcdef0"}),
                          node_bounds=NodeBounds(1, 3), protect=False)

    def check() -> None:
        created = {r.type for r in monitor.registrations}
        assert not created & {"aws:eks/cluster:Cluster", "aws:eks/nodeGroup:NodeGroup", "aws:ec2/vpc:Vpc",
                              "aws:efs/fileSystem:FileSystem", "aws:eks/addon:Addon"}
        assert monitor.one("pulumi:providers:kubernetes").inputs["clusterIdentifier"].endswith(":cluster/shared")
        assert "aws:eks/getCluster:getCluster" in monitor.call_tokens()
        rwx = next(c for c in monitor.of_type(SC) if c.inputs["metadata"]["name"] == "archivist-shared")
        assert rwx.inputs["parameters"]["fileSystemId"] == "fs-0123456789abcdef0"
    return settled(comp, check)


@pulumi.runtime.test
def test_given_subnets_create_no_vpc(monitor: RecordingMonitor) -> pulumi.Output[None]:
    comp = eks.EksCluster("arch", settings(network={"vpcId": "vpc-0abc12345def67890",
                                                    "privateSubnetIds": ["subnet-0aaa1111", "subnet-0bbb2222"]}),
                          node_bounds=NodeBounds(1, 3), protect=False)

    def check() -> None:
        assert not monitor.of_type("aws:ec2/vpc:Vpc") and not monitor.of_type("aws:ec2/subnet:Subnet")
        assert monitor.one("aws:eks/cluster:Cluster").inputs["vpcConfig"]["subnetIds"] == ["subnet-0aaa1111", "subnet-0bbb2222"]
        assert len(monitor.of_type("aws:efs/mountTarget:MountTarget")) == 2
    return settled(comp, check)


def test_every_problem_is_reported_with_its_key() -> None:
    r = reader({"create": False, "machineTypes": ["x9.huge"], "network": {"privateSubnetIds": ["subnet-0aaa1111"]},
                "kubernetesVersion": "latest", "nodeCount": 3})
    eks.parse(r)
    keys = {p.key for p in r.problems.items}
    assert keys >= {"archivist:cluster.region", "archivist:cluster.machineTypes", "archivist:cluster.network.privateSubnetIds",
                    "archivist:cluster.kubernetesVersion", "archivist:cluster.efs.fileSystemId", "archivist:cluster.nodeCount"}


@pulumi.runtime.test
def test_cluster_node_groups_and_addons_wait_for_their_policy_attachments(monitor: RecordingMonitor) -> pulumi.Output[None]:
    comp = eks.EksCluster("arch", settings(), node_bounds=NodeBounds(1, 3), protect=False)

    def check() -> None:
        cluster = monitor.depends_on_names(monitor.one("aws:eks/cluster:Cluster"))
        assert "arch-cluster-AmazonEKSClusterPolicy" in cluster
        node_policies = {"arch-nodes-AmazonEKSWorkerNodePolicy", "arch-nodes-AmazonEC2ContainerRegistryReadOnly"}
        for group in monitor.of_type("aws:eks/nodeGroup:NodeGroup"):
            assert node_policies | {"arch-vpc-cni"} <= monitor.depends_on_names(group), group.name
        ebs = monitor.one("aws:eks/addon:Addon", "arch-aws-ebs-csi-driver")
        assert "arch-ebs-csi-AmazonEBSCSIDriverPolicy" in monitor.depends_on_names(ebs)
        release = monitor.one("kubernetes:helm.sh/v3:Release")
        assert "arch-autoscaler-policy" in monitor.depends_on_names(release)
    return settled(comp, check)


@pulumi.runtime.test
def test_autoscaler_chart_matches_the_kubernetes_minor_and_scales_down_nodes_with_emptydir(
        monitor: RecordingMonitor) -> pulumi.Output[None]:
    comp = eks.EksCluster("arch", settings(kubernetesVersion="1.32"), node_bounds=NodeBounds(1, 3), protect=False)

    def check() -> None:
        release = monitor.one("kubernetes:helm.sh/v3:Release").inputs
        assert release["version"] == "9.46.6"  # appVersion 1.32.0 (Chart.yaml at cluster-autoscaler-chart-9.46.6)
        assert release["values"]["extraArgs"]["skip-nodes-with-local-storage"] is False
    return settled(comp, check)


def test_autoscaler_chart_defaults_follow_the_upstream_release_table() -> None:
    assert settings().autoscaler_chart_version == "9.59.0"  # 1.35 -> chart 9.59.0, appVersion 1.35.0
    r = reader({"region": "eu-west-1", "apiAccess": {"allowedCidrs": ["203.0.113.7/32"]}, "kubernetesVersion": "1.29"})
    eks.parse(r)
    assert [p.key for p in r.problems.items] == ["archivist:cluster.autoscalerChartVersion"]
    assert settings(kubernetesVersion="1.29", autoscalerChartVersion="9.35.0").autoscaler_chart_version == "9.35.0"


@pulumi.runtime.test
def test_network_policies_are_enforced_and_pods_cannot_reach_the_node_role(monitor: RecordingMonitor) -> pulumi.Output[None]:
    comp = eks.EksCluster("arch", settings(), node_bounds=NodeBounds(1, 3), protect=False)

    def check() -> None:
        cni = monitor.one("aws:eks/addon:Addon", "arch-vpc-cni").inputs
        assert json.loads(cni["configurationValues"]) == {"enableNetworkPolicy": "true"}
        template = monitor.one("aws:ec2/launchTemplate:LaunchTemplate").inputs
        assert template["metadataOptions"] == {"httpEndpoint": "enabled", "httpTokens": "required",
                                               "httpPutResponseHopLimit": 1}
        assert template["blockDeviceMappings"][0]["ebs"]["volumeSize"] == 50
        for group in monitor.of_type("aws:eks/nodeGroup:NodeGroup"):
            assert group.inputs["launchTemplate"]["version"] == "1"
            assert "diskSize" not in group.inputs  # not allowed together with a launch template
    return settled(comp, check)


@pulumi.runtime.test
def test_standard_support_log_retention_and_restricted_endpoint(monitor: RecordingMonitor) -> pulumi.Output[None]:
    comp = eks.EksCluster("arch", settings(), node_bounds=NodeBounds(1, 3), protect=True)

    def check() -> None:
        cluster = monitor.one("aws:eks/cluster:Cluster")
        assert cluster.inputs["upgradePolicy"] == {"supportType": "STANDARD"}
        assert cluster.inputs["vpcConfig"]["publicAccessCidrs"] == ["203.0.113.7/32"]
        assert cluster.inputs["deletionProtection"] is True
        logs = monitor.one("aws:cloudwatch/logGroup:LogGroup")
        assert logs.inputs == {**logs.inputs, "name": "/aws/eks/archivist/cluster", "retentionInDays": 30}
        assert "arch-cluster-logs" in monitor.depends_on_names(cluster)
    return settled(comp, check)


@pulumi.runtime.test
def test_provider_and_kubeconfig_use_the_same_profile(monitor: RecordingMonitor) -> pulumi.Output[None]:
    comp = eks.EksCluster("arch", settings(profile="archivist-deploy"), node_bounds=NodeBounds(1, 3), protect=False)

    def check() -> None:
        assert monitor.one("pulumi:providers:aws").inputs["profile"] == "archivist-deploy"
        provider = monitor.one("pulumi:providers:kubernetes").inputs
        exec_spec = json.loads(provider["kubeconfig"])["users"][0]["user"]["exec"]
        assert exec_spec["env"] == [{"name": "AWS_PROFILE", "value": "archivist-deploy"}]
        assert provider["clusterIdentifier"].endswith(":cluster/archivist")
    return settled(comp, check)


@pulumi.runtime.test
def test_zones_exclude_opt_in_zones_and_versions_follow_the_cluster(monitor: RecordingMonitor) -> pulumi.Output[None]:
    comp = eks.EksCluster("arch", settings(), node_bounds=NodeBounds(1, 3), protect=False)

    def check() -> None:
        call = next(c for c in monitor.calls if c.token == "aws:index/getAvailabilityZones:getAvailabilityZones")
        assert call.args["filters"] == [{"name": "opt-in-status", "values": ["opt-in-not-required"]}]
        private = [r for r in monitor.of_type("aws:ec2/subnet:Subnet") if "private" in r.name]
        assert len({s.inputs["availabilityZone"] for s in private}) == len(private) == 3  # one mount target per AZ
        for group in monitor.of_type("aws:eks/nodeGroup:NodeGroup"):
            assert group.inputs["version"] == "1.35" and group.inputs["amiType"] == "AL2023_x86_64_STANDARD"
        for addon in monitor.of_type("aws:eks/addon:Addon"):
            assert addon.inputs["addonVersion"].startswith("v"), addon.name
        # the partition comes from the account, not a hard-coded arn:aws:
        assert "aws:index/getPartition:getPartition" in monitor.call_tokens()
    return settled(comp, check)


@pulumi.runtime.test
def test_per_zone_minimums_add_up_to_the_capacity_minimum(monitor: RecordingMonitor) -> pulumi.Output[None]:
    comp = eks.EksCluster("arch", settings(), node_bounds=NodeBounds(2, 7), protect=False)

    def check() -> None:
        groups = {g.name: g.inputs["scalingConfig"] for g in monitor.of_type("aws:eks/nodeGroup:NodeGroup")}
        assert [groups[f"arch-workload-{i}"]["minSize"] for i in range(3)] == [1, 1, 0]  # 2 in total, not 3
        assert [groups[f"arch-workload-{i}"]["maxSize"] for i in range(3)] == [3, 3, 3]  # at least 7 in total
    return settled(comp, check)


def test_too_few_zones_is_an_error_naming_the_key() -> None:
    import pytest

    with pytest.raises(pulumi.RunError, match=r"network\.zoneCount to 2"):
        eks._enough_zones(["eu-south-2a", "eu-south-2b"], 3, "eu-south-2")
    assert eks._enough_zones(["c", "a", "b", "d"], 3, "r") == ["a", "b", "c"]


def test_arm_instance_types_are_rejected() -> None:
    r = reader({"region": "eu-west-1", "apiAccess": {"allowedCidrs": ["203.0.113.7/32"]},
                "machineTypes": ["m7g.xlarge"], "nodeCpu": "4", "nodeMemory": "15Gi"})
    eks.parse(r)
    problems = {p.key: p.message for p in r.problems.items}
    assert "linux/amd64" in problems["archivist:cluster.machineTypes"]


@pulumi.runtime.test
def test_spot_node_group_carries_the_taint_interruptible_work_tolerates(monitor: RecordingMonitor) -> pulumi.Output[None]:
    comp = eks.EksCluster("arch", settings(spot={"enabled": True}), node_bounds=NodeBounds(1, 3, 4), protect=False)
    fields = comp.target.interruptible
    assert fields is not None and fields["tolerations"][0]["key"] == "archivist.io/spot"

    def check() -> None:
        spot = monitor.one("aws:eks/nodeGroup:NodeGroup", "arch-spot").inputs
        assert spot["capacityType"] == "SPOT"
        assert spot["taints"] == [{"key": "archivist.io/spot", "value": "true", "effect": "NO_SCHEDULE"}]
        assert spot["labels"] == {"archivist.io/pool": "spot"}
        assert (spot["scalingConfig"]["minSize"], spot["scalingConfig"]["maxSize"]) == (0, 4)
    return settled(comp, check)


def test_eks_stack_imports_only_pulumi_aws() -> None:
    assert_only_sdk("eks", "pulumi_aws")


@pulumi.runtime.test
def test_vpc_cni_gets_its_eni_rights_through_irsa_not_the_node_role(monitor: RecordingMonitor) -> pulumi.Output[None]:
    comp = eks.EksCluster("arch", settings(), node_bounds=NodeBounds(1, 3), protect=False)

    def check() -> None:
        attachments = {r.name: r.inputs for r in monitor.of_type("aws:iam/rolePolicyAttachment:RolePolicyAttachment")}
        cni_policy = [name for name, inputs in attachments.items() if inputs["policyArn"].endswith("/AmazonEKS_CNI_Policy")]
        assert cni_policy == ["arch-vpc-cni-AmazonEKS_CNI_Policy"]  # on the add-on's role only
        role = monitor.one("aws:iam/role:Role", "arch-vpc-cni-role").inputs
        trust = json.loads(role["assumeRolePolicy"])["Statement"][0]
        assert list(trust["Condition"]["StringLike"].values()) == [["system:serviceaccount:kube-system:aws-node"]]
        addon = monitor.one("aws:eks/addon:Addon", "arch-vpc-cni")
        assert "arch-vpc-cni-AmazonEKS_CNI_Policy" in monitor.depends_on_names(addon)
        assert "serviceAccountRoleArn" in addon.inputs
    return settled(comp, check)


KMS_KEY = "arn:aws:kms:eu-west-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab"


@pulumi.runtime.test
def test_customer_managed_key_encrypts_etcd_secrets_root_volumes_and_store_volumes(
        monitor: RecordingMonitor) -> pulumi.Output[None]:
    comp = eks.EksCluster("arch", settings(encryptionKey=KMS_KEY), node_bounds=NodeBounds(1, 3), protect=False)

    def check() -> None:
        cluster = monitor.one("aws:eks/cluster:Cluster").inputs
        assert cluster["encryptionConfig"] == {"resources": ["secrets"], "provider": {"keyArn": KMS_KEY}}
        template = monitor.one("aws:ec2/launchTemplate:LaunchTemplate").inputs
        assert template["blockDeviceMappings"][0]["ebs"]["kmsKeyId"] == KMS_KEY
        classes = {r.inputs["provisioner"]: r.inputs for r in monitor.of_type("kubernetes:storage.k8s.io/v1:StorageClass")}
        assert classes["ebs.csi.aws.com"]["parameters"]["kmsKeyId"] == KMS_KEY
    return settled(comp, check)


def test_customer_managed_key_must_be_a_kms_key_arn() -> None:
    assert settings().encryption_key is None
    r = reader({"region": "eu-west-1", "apiAccess": {"allowedCidrs": ["203.0.113.7/32"]},
                "encryptionKey": "alias/archivist"})
    eks.parse(r)
    assert [p.key for p in r.problems.items] == ["archivist:cluster.encryptionKey"]
