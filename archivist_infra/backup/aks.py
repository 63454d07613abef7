"""AKS: a storage account and container, and a user-assigned identity Velero uses through workload identity.

velero-plugin-for-microsoft-azure README, "Option 3: Use Azure AD Workload Identity": the service account
carries `azure.workload.identity/client-id`, the pod `azure.workload.identity/use: "true"`, a federated
credential trusts the cluster's OIDC issuer for `system:serviceaccount:velero:velero`, and the credentials
file holds only AZURE_SUBSCRIPTION_ID, AZURE_RESOURCE_GROUP and AZURE_CLOUD_NAME (no secret). With
`useAAD: "true"` (backupstoragelocation.md) the identity needs "Storage Blob Data Contributor" on the
account, and shared-key access can be switched off. Volume data uses CSI snapshots of the disk driver.
"""

from __future__ import annotations

import hashlib

import pulumi
from pulumi_azure_native import authorization, managedidentity, storage

from ..config.backup import BackupSettings
from ..platforms.target import CloudContext
from .store import VELERO_NAMESPACE, VELERO_SERVICE_ACCOUNT, BackupStore

# Built-in role "Storage Blob Data Contributor".
BLOB_DATA_CONTRIBUTOR = "ba92f5b4-2d11-453d-a403-e96b0029c9fe"
CONTAINER = "velero"


def account_name(stack_key: str) -> str:
    """Storage account names are global, 3-24 lowercase letters and digits."""
    return "archbk" + hashlib.sha256(stack_key.encode()).hexdigest()[:18]


def backup_store(name: str, parent: pulumi.Resource, cloud: CloudContext, settings: BackupSettings, *,
                 protect: bool) -> BackupStore:
    if cloud.resource_group is None or cloud.oidc_issuer_url is None:
        raise ValueError("AKS backups need the resource group and the cluster's OIDC issuer (CloudContext)")
    child = pulumi.ResourceOptions(parent=parent)
    account = storage.StorageAccount(
        f"{name}-account",
        account_name=cloud.cluster_name.apply(lambda c: account_name(f"{pulumi.get_project()}/{pulumi.get_stack()}/{c}")),
        resource_group_name=cloud.resource_group,
        location=cloud.region,
        kind="StorageV2",
        sku={"name": "Standard_ZRS"},
        allow_blob_public_access=False,
        allow_shared_key_access=False,  # identities only (useAAD)
        minimum_tls_version="TLS1_2",
        enable_https_traffic_only=True,
        opts=pulumi.ResourceOptions(parent=parent, protect=protect),
    )
    storage.BlobServiceProperties(
        f"{name}-blob-service",
        account_name=account.name, resource_group_name=cloud.resource_group, blob_services_name="default",
        is_versioning_enabled=True,
        delete_retention_policy={"enabled": True, "days": 14},
        container_delete_retention_policy={"enabled": True, "days": 14},
        opts=child,
    )
    container = storage.BlobContainer(
        f"{name}-container", account_name=account.name, resource_group_name=cloud.resource_group,
        container_name=CONTAINER, public_access="None", opts=pulumi.ResourceOptions(parent=parent, protect=protect),
    )
    storage.ManagementPolicy(
        f"{name}-lifecycle", account_name=account.name, resource_group_name=cloud.resource_group,
        management_policy_name="default",
        policy={"rules": [{
            "name": "expire-old-versions", "enabled": True, "type": "Lifecycle",
            "definition": {
                "filters": {"blob_types": ["blockBlob"]},
                # Velero deletes a backup's objects at its ttl; versioning keeps them recoverable this much longer.
                "actions": {"version": {"delete": {"days_after_creation_greater_than": settings.bucket_retention_days}}},
            },
        }]},
        opts=child,
    )
    identity = managedidentity.UserAssignedIdentity(
        f"{name}-velero-identity", resource_group_name=cloud.resource_group, location=cloud.region, opts=child)
    federated = managedidentity.FederatedIdentityCredential(
        f"{name}-velero-federated", resource_group_name=cloud.resource_group, resource_name_=identity.name,
        issuer=cloud.oidc_issuer_url, subject=f"system:serviceaccount:{VELERO_NAMESPACE}:{VELERO_SERVICE_ACCOUNT}",
        audiences=["api://AzureADTokenExchange"],
        opts=pulumi.ResourceOptions(parent=parent, depends_on=list(cloud.depends_on)),
    )
    subscription = authorization.get_client_config_output(opts=pulumi.InvokeOutputOptions(parent=parent)).subscription_id
    access = authorization.RoleAssignment(
        f"{name}-velero-blob-access", principal_id=identity.principal_id, principal_type="ServicePrincipal",
        scope=account.id,
        role_definition_id=subscription.apply(
            lambda sub: f"/subscriptions/{sub}/providers/Microsoft.Authorization/roleDefinitions/{BLOB_DATA_CONTRIBUTOR}"),
        opts=child,
    )
    credentials = pulumi.Output.all(subscription, cloud.resource_group).apply(
        lambda a: f"AZURE_SUBSCRIPTION_ID={a[0]}\nAZURE_RESOURCE_GROUP={a[1]}\nAZURE_CLOUD_NAME=AzurePublicCloud\n")
    return BackupStore(
        provider="azure",
        bucket=container.name,
        config={"resourceGroup": cloud.resource_group, "storageAccount": account.name,
                "subscriptionId": subscription, "useAAD": "true"},
        sa_annotations={"azure.workload.identity/client-id": identity.client_id},
        pod_labels={"azure.workload.identity/use": "true"},
        credentials_file=credentials,
        depends_on=[federated, access],
    )
