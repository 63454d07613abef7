"""GKE: a GCS bucket and a Google service account Velero reaches through Workload Identity.

velero-plugin-for-gcp README, "Option 3: Using GKE Workload Identity": the Kubernetes service account
carries `iam.gke.io/gcp-service-account`, the GSA grants `roles/iam.workloadIdentityUser` to
`<project>.svc.id.goog[velero/velero]`, the backup location names the GSA (`serviceAccount`), and
Velero runs without a key file (`credentials.useSecret: false`). Volume data uses CSI snapshots, so
the GSA needs only the bucket (roles/storage.objectAdmin on it), not the plugin's compute permissions.
"""

from __future__ import annotations

import hashlib
import re

import pulumi
from pulumi_gcp import serviceaccount, storage

from ..config.backup import BackupSettings
from ..platforms.gcp_apis import IAM, IAM_CREDENTIALS, STORAGE
from ..platforms.target import CloudContext
from .store import VELERO_NAMESPACE, VELERO_SERVICE_ACCOUNT, BackupStore


def velero_account_id(project: str, stack: str) -> str:
    """The Velero GSA's id, one per stack: a fixed id collides when two stacks share a GCP project.

    6-30 characters, `[a-z][-a-z0-9]*[a-z0-9]` (pulumi_gcp serviceaccount/account.py: account_id):
    "velero-" + up to 14 characters of the stack name + "-" + 8 hex digits of project/stack.
    """
    digest = hashlib.sha256(f"{project}/{stack}".encode()).hexdigest()[:8]
    stem = re.sub(r"[^a-z0-9]", "", stack.lower())[:14]
    return f"velero-{stem}-{digest}" if stem else f"velero-{digest}"


def backup_store(name: str, parent: pulumi.Resource, cloud: CloudContext, settings: BackupSettings, *,
                 protect: bool) -> BackupStore:
    # The bucket, the account and Velero's token exchange and URL signing (iamcredentials) call these APIs.
    apis = cloud.needs(STORAGE, IAM, IAM_CREDENTIALS)
    child = pulumi.ResourceOptions(parent=parent, depends_on=apis)
    bucket = storage.Bucket(
        f"{name}-bucket",
        project=cloud.project,
        location=cloud.region,
        uniform_bucket_level_access=True,
        public_access_prevention="enforced",
        versioning=storage.BucketVersioningArgs(enabled=True),
        lifecycle_rules=[
            # Velero deletes a backup's objects at its ttl; versioning keeps them recoverable this much longer.
            storage.BucketLifecycleRuleArgs(
                action=storage.BucketLifecycleRuleActionArgs(type="Delete"),
                condition=storage.BucketLifecycleRuleConditionArgs(
                    days_since_noncurrent_time=settings.bucket_retention_days, with_state="ARCHIVED"),
            ),
        ],
        force_destroy=False,
        opts=pulumi.ResourceOptions(parent=parent, protect=protect, depends_on=apis),
    )
    account = serviceaccount.Account(
        f"{name}-velero-sa", project=cloud.project,
        account_id=velero_account_id(pulumi.get_project(), pulumi.get_stack()),
        display_name=f"Velero backups of Archivist ({pulumi.get_stack()})", opts=child,
    )
    # `velero backup logs/describe` and `velero backup download` hand out signed URLs; under Workload
    # Identity there is no key to sign with, so the plugin signs through the IAM Credentials API as
    # this account: it needs iam.serviceAccounts.signBlob on itself (velero-plugin-for-gcp README,
    # "Set permissions for Velero", note on signed URLs). Token Creator on the account alone holds it.
    serviceaccount.IAMMember(
        f"{name}-velero-sign-urls", service_account_id=account.name, role="roles/iam.serviceAccountTokenCreator",
        member=pulumi.Output.concat("serviceAccount:", account.email), opts=child,
    )
    storage.BucketIAMMember(
        f"{name}-velero-bucket-access", bucket=bucket.name, role="roles/storage.objectAdmin",
        member=pulumi.Output.concat("serviceAccount:", account.email), opts=child,
    )
    binding = serviceaccount.IAMMember(
        f"{name}-velero-workload-identity", service_account_id=account.name, role="roles/iam.workloadIdentityUser",
        member=f"serviceAccount:{cloud.workload_pool}[{VELERO_NAMESPACE}/{VELERO_SERVICE_ACCOUNT}]",
        # The workload pool exists once the cluster does.
        opts=pulumi.ResourceOptions(parent=parent, depends_on=[*cloud.depends_on, *apis]),
    )
    return BackupStore(
        provider="gcp",
        bucket=bucket.name,
        config={"serviceAccount": account.email},
        sa_annotations={"iam.gke.io/gcp-service-account": account.email},
        depends_on=[binding],
    )
