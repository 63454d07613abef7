"""AWS Secrets Manager entries, read through IAM Roles for Service Accounts.

One IAM role whose trust admits only the reader ServiceAccount's token from the cluster's OIDC
provider, with `secretsmanager:GetSecretValue`/`DescribeSecret` on exactly this stack's secrets.
External Secrets docs: docs/provider/aws-access.md:65-100 at v2.9.0 ("EKS Service Account credentials").
"""

from __future__ import annotations

import json

import pulumi
from pulumi_aws import iam, secretsmanager

from ..config.secrets import SecretStoreSettings
from ..config.settings import Settings
from ..platforms.target import CloudContext
from .cloud import CloudStore, Entry, Reader

READ_ACTIONS = ["secretsmanager:GetSecretValue", "secretsmanager:DescribeSecret"]


def trust_policy(provider_arn: str, issuer: str, subject: str) -> str:
    host = issuer.removeprefix("https://")
    return json.dumps({"Version": "2012-10-17", "Statement": [{
        "Effect": "Allow",
        "Principal": {"Federated": provider_arn},
        "Action": "sts:AssumeRoleWithWebIdentity",
        "Condition": {"StringEquals": {f"{host}:aud": "sts.amazonaws.com", f"{host}:sub": subject}},
    }]})


def read_policy(arns: list[str]) -> str:
    return json.dumps({"Version": "2012-10-17", "Statement": [
        {"Effect": "Allow", "Action": READ_ACTIONS, "Resource": sorted(arns)}]})


def create_store(parent: pulumi.Resource, cloud: CloudContext, settings: Settings, store: SecretStoreSettings,
                 entries: list[Entry], reader: Reader) -> CloudStore:
    if cloud.oidc_provider_arn is None or cloud.oidc_issuer_url is None:
        raise ValueError("the EKS cloud context carries no OIDC provider")
    opts = pulumi.ResourceOptions(parent=parent, provider=cloud.provider)
    secrets = []
    resources: list[pulumi.Resource] = []
    for entry in entries:
        value: pulumi.Output[str] = pulumi.Output.secret(entry.value)
        secret = secretsmanager.Secret(
            f"secret-{entry.remote}", name=entry.remote,
            # A destroyed dev stack can be recreated at once; production keeps a week to undo a deletion.
            recovery_window_in_days=7 if settings.protect else 0,
            tags={"app": "archivist", "stack": settings.stack}, opts=opts)
        resources.append(secretsmanager.SecretVersion(
            f"secret-{entry.remote}-version", secret_id=secret.id,
            secret_string=value, opts=opts))
        secrets.append(secret)
    trust = pulumi.Output.all(cloud.oidc_provider_arn, cloud.oidc_issuer_url).apply(
        lambda a: trust_policy(a[0], a[1], reader.subject))
    role = iam.Role("secret-reader-role", assume_role_policy=trust,
                    description=f"External Secrets reader for {settings.project}/{settings.stack}",
                    opts=pulumi.ResourceOptions(parent=parent, provider=cloud.provider,
                                                depends_on=list(cloud.depends_on)))
    policy = iam.RolePolicy("secret-reader-policy", role=role.name,
                            policy=pulumi.Output.all(*[s.arn for s in secrets]).apply(read_policy), opts=opts)
    resources.append(policy)
    provider = {"aws": {"service": "SecretsManager", "region": cloud.region,
                        "auth": {"jwt": {"serviceAccountRef": {"name": reader.name}}}}}
    return CloudStore(provider=provider, account_annotations={"eks.amazonaws.com/role-arn": role.arn},
                      resources=resources)
