"""The IAM roles whoever runs `pulumi up` needs on a GKE project, derived from what the stack creates.

Each Pulumi resource type the GKE stacks register maps to the predefined role that can create,
update and delete it (cloud.google.com/iam/docs/roles-permissions, one role family per service).
tests/test_deployer_roles.py runs the GKE stacks with every optional feature and fails on a type
that is not here, so a new resource cannot ship without its role in the list (audit N9).
"""

from __future__ import annotations

from collections.abc import Iterable

GCP_ROLE_FOR_TYPE: dict[str, str] = {
    "gcp:container/cluster:Cluster": "roles/container.admin",
    "gcp:container/nodePool:NodePool": "roles/container.admin",
    "gcp:compute/network:Network": "roles/compute.networkAdmin",
    "gcp:compute/subnetwork:Subnetwork": "roles/compute.networkAdmin",
    "gcp:compute/router:Router": "roles/compute.networkAdmin",
    "gcp:compute/routerNat:RouterNat": "roles/compute.networkAdmin",
    "gcp:compute/globalAddress:GlobalAddress": "roles/compute.networkAdmin",
    "gcp:serviceaccount/account:Account": "roles/iam.serviceAccountAdmin",
    "gcp:serviceaccount/iAMMember:IAMMember": "roles/iam.serviceAccountAdmin",
    "gcp:projects/iAMMember:IAMMember": "roles/resourcemanager.projectIamAdmin",
    "gcp:projects/service:Service": "roles/serviceusage.serviceUsageAdmin",
    "gcp:artifactregistry/repository:Repository": "roles/artifactregistry.admin",
    "gcp:artifactregistry/repositoryIamMember:RepositoryIamMember": "roles/artifactregistry.admin",
    "gcp:storage/bucket:Bucket": "roles/storage.admin",
    "gcp:storage/bucketIAMMember:BucketIAMMember": "roles/storage.admin",
    "gcp:secretmanager/secret:Secret": "roles/secretmanager.admin",
    "gcp:secretmanager/secretVersion:SecretVersion": "roles/secretmanager.admin",
    "gcp:secretmanager/secretIamMember:SecretIamMember": "roles/secretmanager.admin",
    "gcp:certificatemanager/certificate:Certificate": "roles/certificatemanager.editor",
    "gcp:certificatemanager/certificateMap:CertificateMap": "roles/certificatemanager.editor",
    "gcp:certificatemanager/certificateMapEntry:CertificateMapEntry": "roles/certificatemanager.editor",
    # Cloud Armor policies: Compute Security Admin holds compute.securityPolicies.* (IAM roles reference).
    "gcp:compute/securityPolicy:SecurityPolicy": "roles/compute.securityAdmin",
    # Who may pass IAP to the write backends: IAP Policy Admin sets IAP's IAM policy.
    "gcp:iap/webTypeComputeIamMember:WebTypeComputeIamMember": "roles/iap.admin",
    "gcp:dns/recordSet:RecordSet": "roles/dns.admin",
}
# Creating node pools that run as the stack's node service account needs actAs on it.
ALWAYS_GCP = ("roles/iam.serviceAccountUser",)


class UnknownResourceTypeError(ValueError):
    pass


def gcp_deployer_roles(resource_types: Iterable[str]) -> list[str]:
    """The roles for these resource types (plus ALWAYS_GCP), sorted; unknown GCP types are refused."""
    types = {t for t in resource_types if t.startswith("gcp:")}
    unknown = sorted(types - GCP_ROLE_FOR_TYPE.keys())
    if unknown:
        raise UnknownResourceTypeError(f"no deployer role known for {', '.join(unknown)}: add it to GCP_ROLE_FOR_TYPE")
    return sorted({GCP_ROLE_FOR_TYPE[t] for t in types} | set(ALWAYS_GCP))
