"""Azure Key Vault entries, read through AKS workload identity federation.

An RBAC-mode Key Vault holds the entries; a user-assigned managed identity, federated with the
cluster's OIDC issuer for the reader ServiceAccount only, gets "Key Vault Secrets User" scoped to
each entry (not the vault). External Secrets docs: docs/provider/azure-key-vault.md:82-122 at
v2.9.0 ("Workload Identity", "Referenced Service Account").
"""

from __future__ import annotations

import pulumi
from pulumi_azure_native import authorization, keyvault, managedidentity

from ..config.secrets import SecretStoreSettings, default_vault_name
from ..config.settings import Settings
from ..platforms.target import CloudContext
from .cloud import CloudStore, Entry, Reader

# Built-in role "Key Vault Secrets User": read secret contents (Azure built-in roles, Security).
SECRETS_USER_ROLE = "4633458b-17de-408a-b874-0445c86b69e6"
TOKEN_AUDIENCE = "api://AzureADTokenExchange"


def create_store(parent: pulumi.Resource, cloud: CloudContext, settings: Settings, store: SecretStoreSettings,
                 entries: list[Entry], reader: Reader) -> CloudStore:
    if cloud.resource_group is None or cloud.oidc_issuer_url is None:
        raise ValueError("the AKS cloud context carries no resource group or OIDC issuer")
    child = pulumi.ResourceOptions(parent=parent)
    client = authorization.get_client_config_output(opts=pulumi.InvokeOutputOptions(parent=parent))
    vault = keyvault.Vault(
        "secret-vault",
        vault_name=store.key_vault_name or default_vault_name(settings.project, settings.stack),
        resource_group_name=cloud.resource_group,
        location=cloud.region,
        properties=keyvault.VaultPropertiesArgs(
            tenant_id=client.tenant_id,
            sku=keyvault.SkuArgs(family="A", name="standard"),
            enable_rbac_authorization=True,
            enable_soft_delete=True,
            soft_delete_retention_in_days=7,
            enable_purge_protection=True if settings.protect else None,
        ),
        tags={"app": "archivist", "stack": settings.stack},
        opts=child,
    )
    identity = managedidentity.UserAssignedIdentity(
        "secret-reader-identity", resource_group_name=cloud.resource_group, location=cloud.region, opts=child)
    federation = managedidentity.FederatedIdentityCredential(
        "secret-reader-federation",
        resource_name_=identity.name,
        federated_identity_credential_resource_name=f"{reader.namespace}-{reader.name}",
        resource_group_name=cloud.resource_group,
        issuer=cloud.oidc_issuer_url,
        subject=reader.subject,
        audiences=[TOKEN_AUDIENCE],
        opts=pulumi.ResourceOptions(parent=parent, depends_on=list(cloud.depends_on)),
    )
    role = client.subscription_id.apply(
        lambda sub: f"/subscriptions/{sub}/providers/Microsoft.Authorization/roleDefinitions/{SECRETS_USER_ROLE}")
    resources: list[pulumi.Resource] = [federation]
    for entry in entries:
        value: pulumi.Output[str] = pulumi.Output.secret(entry.value)
        secret = keyvault.Secret(
            f"secret-{entry.remote}", secret_name=entry.remote, vault_name=vault.name,
            resource_group_name=cloud.resource_group,
            properties=keyvault.SecretPropertiesArgs(value=value), opts=child)
        resources.append(authorization.RoleAssignment(
            f"secret-{entry.remote}-reader", principal_id=identity.principal_id, principal_type="ServicePrincipal",
            role_definition_id=role, scope=secret.id, opts=child))
    provider = {"azurekv": {"authType": "WorkloadIdentity", "vaultUrl": vault.properties.vault_uri,
                            "serviceAccountRef": {"name": reader.name}}}
    annotations: dict[str, pulumi.Input[str]] = {"azure.workload.identity/client-id": identity.client_id,
                                                 "azure.workload.identity/tenant-id": client.tenant_id}
    return CloudStore(provider=provider, account_annotations=annotations, resources=resources)
