"""Google Secret Manager entries, read through GKE Workload Identity.

The reader Kubernetes ServiceAccount is linked to a Google service account
(`iam.gke.io/gcp-service-account`) that holds `roles/secretmanager.secretAccessor` on each
entry and nothing else; only that Kubernetes account may act as it (`roles/iam.workloadIdentityUser`
for `<project>.svc.id.goog[<namespace>/<account>]`). External Secrets docs:
docs/provider/google-secrets-manager.md:93-174 at v2.9.0 ("Linking a Kubernetes service account
to a GCP service account").
"""

from __future__ import annotations

import hashlib

import pulumi
from pulumi_gcp import secretmanager, serviceaccount

from ..config.secrets import SecretStoreSettings
from ..config.settings import Settings
from ..platforms.gcp_apis import IAM, IAM_CREDENTIALS, SECRET_MANAGER
from ..platforms.target import CloudContext
from .cloud import CloudStore, Entry, Reader

ACCESSOR_ROLE = "roles/secretmanager.secretAccessor"
WORKLOAD_IDENTITY_ROLE = "roles/iam.workloadIdentityUser"


def account_id(project: str, stack: str) -> str:
    """6-30 characters, lower case, unique per stack within the GCP project."""
    return f"eso-{hashlib.sha256(f'{project}/{stack}'.encode()).hexdigest()[:8]}-reader"


def create_store(parent: pulumi.Resource, cloud: CloudContext, settings: Settings, store: SecretStoreSettings,
                 entries: list[Entry], reader: Reader) -> CloudStore:
    project = cloud.project
    if project is None:
        raise ValueError("the GKE cloud context carries no project")
    # The account, the secrets and the pods' token exchange (Workload Identity) call these APIs.
    child = pulumi.ResourceOptions(parent=parent, depends_on=cloud.needs(IAM, SECRET_MANAGER, IAM_CREDENTIALS))
    gsa = serviceaccount.Account(
        "secret-reader-gsa", project=project, account_id=account_id(settings.project, settings.stack),
        display_name=f"External Secrets reader for {settings.project}/{settings.stack}", opts=child)
    member = gsa.email.apply(lambda email: f"serviceAccount:{email}")
    resources: list[pulumi.Resource] = []
    for entry in entries:
        value: pulumi.Output[str] = pulumi.Output.secret(entry.value)
        secret = secretmanager.Secret(
            f"secret-{entry.remote}", project=project, secret_id=entry.remote,
            replication=secretmanager.SecretReplicationArgs(auto=secretmanager.SecretReplicationAutoArgs()),
            labels={"app": "archivist", "stack": settings.stack}, opts=child)
        version = secretmanager.SecretVersion(
            f"secret-{entry.remote}-version", secret=secret.id, secret_data=value,
            opts=child)
        access = secretmanager.SecretIamMember(
            f"secret-{entry.remote}-reader", project=project, secret_id=secret.secret_id, role=ACCESSOR_ROLE,
            member=member, opts=child)
        resources += [version, access]
    # The workload pool exists once the cluster does.
    binding = serviceaccount.IAMMember(
        "secret-reader-workload-identity",
        service_account_id=gsa.email.apply(lambda email: f"projects/{project}/serviceAccounts/{email}"),
        role=WORKLOAD_IDENTITY_ROLE,
        member=f"serviceAccount:{cloud.workload_pool}[{reader.namespace}/{reader.name}]",
        opts=pulumi.ResourceOptions(parent=parent, depends_on=[*cloud.depends_on, *cloud.needs(IAM, IAM_CREDENTIALS)]))
    resources.append(binding)
    # Explicit cluster facts rather than ESO's metadata-server discovery (google-secrets-manager.md:18);
    # the location is the cluster's (a zone for a zonal cluster), not necessarily the region.
    location = getattr(settings.cluster, "location", None) or cloud.region
    identity = {"clusterProjectID": project, "clusterLocation": location, "clusterName": cloud.cluster_name,
                "serviceAccountRef": {"name": reader.name}}
    provider = {"gcpsm": {"projectID": project, "auth": {"workloadIdentity": identity}}}
    return CloudStore(provider=provider, account_annotations={"iam.gke.io/gcp-service-account": gsa.email},
                      resources=resources)
