"""EKS: an S3 bucket and an IAM role Velero assumes through IRSA (no access keys).

velero-plugin-for-aws README (IAM policy for the bucket; "IRSA"): the service account carries
`eks.amazonaws.com/role-arn`, the role trusts the cluster's OIDC provider for exactly
`system:serviceaccount:velero:velero`, Velero runs without a credentials file. Volume data uses CSI
snapshots (the EBS CSI driver's own identity takes them), so the role needs only the bucket.

EKS serves no snapshot.storage.k8s.io API by default: the `snapshot-controller` EKS add-on brings the
controller and its CRDs ("This add-on includes the custom resource definitions (CRDs) that are needed to
create and manage snapshots", https://docs.aws.amazon.com/eks/latest/userguide/csi-snapshot-controller.html,
read 2026-12-06; add-on name: https://docs.aws.amazon.com/eks/latest/userguide/addons-csi-snapshot-controller.html).
It needs no IAM permissions (same page).
"""

from __future__ import annotations

import json

import pulumi
from pulumi_aws import eks, iam, s3

from ..config.backup import BackupSettings
from ..platforms.target import CloudContext
from .store import VELERO_NAMESPACE, VELERO_SERVICE_ACCOUNT, BackupStore


def trust_policy(provider_arn: str, issuer: str) -> str:
    host = issuer.removeprefix("https://")
    return json.dumps({"Version": "2012-10-17", "Statement": [{
        "Effect": "Allow",
        "Principal": {"Federated": provider_arn},
        "Action": "sts:AssumeRoleWithWebIdentity",
        "Condition": {"StringEquals": {
            f"{host}:aud": "sts.amazonaws.com",
            f"{host}:sub": f"system:serviceaccount:{VELERO_NAMESPACE}:{VELERO_SERVICE_ACCOUNT}",
        }},
    }]})


def bucket_policy(bucket_arn: str) -> str:
    """The plugin README's bucket permissions, nothing of EC2."""
    return json.dumps({"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Resource": f"{bucket_arn}/*", "Action": [
            "s3:GetObject", "s3:DeleteObject", "s3:PutObject", "s3:AbortMultipartUpload",
            "s3:ListMultipartUploadParts"]},
        {"Effect": "Allow", "Resource": bucket_arn, "Action": ["s3:ListBucket"]},
    ]})


def backup_store(name: str, parent: pulumi.Resource, cloud: CloudContext, settings: BackupSettings, *,
                 protect: bool) -> BackupStore:
    if cloud.oidc_provider_arn is None or cloud.oidc_issuer_url is None:
        raise ValueError("EKS backups need the cluster's OIDC provider (CloudContext.oidc_provider_arn)")

    def opts(**kwargs: object) -> pulumi.ResourceOptions:
        return pulumi.ResourceOptions(parent=parent, provider=cloud.provider, **kwargs)  # type: ignore[arg-type]

    bucket = s3.Bucket(f"{name}-bucket", force_destroy=False, opts=opts(protect=protect))
    s3.BucketPublicAccessBlock(f"{name}-bucket-private", bucket=bucket.id, block_public_acls=True,
                               block_public_policy=True, ignore_public_acls=True, restrict_public_buckets=True,
                               opts=opts())
    s3.BucketServerSideEncryptionConfiguration(
        f"{name}-bucket-encryption", bucket=bucket.id,
        rules=[{"apply_server_side_encryption_by_default": {"sse_algorithm": "AES256"}}], opts=opts())
    versioning = s3.BucketVersioning(f"{name}-bucket-versioning", bucket=bucket.id,
                                     versioning_configuration={"status": "Enabled"}, opts=opts())
    s3.BucketLifecycleConfiguration(
        f"{name}-bucket-lifecycle", bucket=bucket.id,
        rules=[{
            "id": "expire-old-versions",
            "status": "Enabled",
            "filter": {},
            # Velero deletes a backup's objects at its ttl; versioning keeps them recoverable this much longer.
            "noncurrent_version_expiration": {"noncurrent_days": settings.bucket_retention_days},
            "abort_incomplete_multipart_upload": {"days_after_initiation": 7},
        }],
        opts=opts(depends_on=[versioning]),
    )
    trust = pulumi.Output.all(cloud.oidc_provider_arn, cloud.oidc_issuer_url).apply(
        lambda a: trust_policy(a[0], a[1]))
    role = iam.Role(f"{name}-velero-role", assume_role_policy=trust, opts=opts(depends_on=list(cloud.depends_on)))
    iam.RolePolicy(f"{name}-velero-bucket-access", role=role.id, policy=bucket.arn.apply(bucket_policy), opts=opts())
    return BackupStore(
        provider="aws",
        bucket=bucket.bucket,
        config={"region": cloud.region},
        sa_annotations={"eks.amazonaws.com/role-arn": role.arn},
        depends_on=[role],
        snapshot_support=[snapshot_controller(name, parent, cloud)],
    )


SNAPSHOT_CONTROLLER_ADDON = "snapshot-controller"


def snapshot_controller(name: str, parent: pulumi.Resource, cloud: CloudContext) -> eks.Addon:
    """The CSI snapshot controller and the snapshot.storage.k8s.io CRDs, as the managed EKS add-on.

    No addon_version: EKS picks the add-on's default version for the cluster's Kubernetes minor. Its pods
    need nodes, so it waits for the cluster's node groups and CSI add-ons (cloud.depends_on)."""
    return eks.Addon(
        f"{name}-{SNAPSHOT_CONTROLLER_ADDON}", cluster_name=cloud.cluster_name, addon_name=SNAPSHOT_CONTROLLER_ADDON,
        resolve_conflicts_on_create="OVERWRITE", resolve_conflicts_on_update="PRESERVE",
        opts=pulumi.ResourceOptions(parent=parent, provider=cloud.provider, depends_on=list(cloud.depends_on)),
    )
