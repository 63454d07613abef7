from __future__ import annotations

import json

import pulumi

from archivist_infra.capacity import NodeBounds
from archivist_infra.platforms import eks

from .conftest import RecordingMonitor, reader, settled
from .sdk_isolation import assert_only_sdk

SC = "kubernetes:storage.k8s.io/v1:StorageClass"


def settings(**extra: object) -> eks.EksSettings:
    r = reader({"region": "eu-west-1", **extra})
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
        assert cluster.protect and cluster.inputs["version"] == "1.33"
        assert cluster.inputs["roleArn"].endswith(":role/" + monitor.one("aws:iam/role:Role", "arch-cluster-role").inputs["name"])
        assert len(cluster.inputs["vpcConfig"]["subnetIds"]) == 3

        groups = {g.name: g for g in monitor.of_type("aws:eks/nodeGroup:NodeGroup")}
        workload = groups["arch-workload"].inputs["scalingConfig"]
        assert (workload["minSize"], workload["maxSize"]) == (3, 9)
        assert all(g.protect for g in groups.values())
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
        assert set(addons) == {"aws-ebs-csi-driver", "aws-efs-csi-driver", "metrics-server"}
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


def test_eks_stack_imports_only_pulumi_aws() -> None:
    assert_only_sdk("eks", "pulumi_aws")
