"""What every cloud module hands back, and the names it gives the entries."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

import pulumi


@dataclass(frozen=True)
class Entry:
    """One stored key of the app Secret: its key in the Kubernetes Secret, its name in the secret manager."""

    key: str
    remote: str
    value: pulumi.Output[str]  # secret


@dataclass(frozen=True)
class Reader:
    """The Kubernetes ServiceAccount the SecretStore authenticates as (never mounted into a pod)."""

    namespace: str
    name: str

    @property
    def subject(self) -> str:
        return f"system:serviceaccount:{self.namespace}:{self.name}"


@dataclass(frozen=True)
class CloudStore:
    provider: dict[str, Any]  # SecretStore spec.provider
    account_annotations: dict[str, pulumi.Input[str]] = field(default_factory=dict)
    # Resources the first sync needs in place (entries, bindings): the SecretStore waits for them.
    resources: list[pulumi.Resource] = field(default_factory=list)


def remote_name(project: str, stack: str, key: str) -> str:
    """`archivist-prod-gemini-api-key`: valid in Secret Manager, Secrets Manager and Key Vault alike."""
    slug = re.sub(r"[^a-z0-9]+", "-", f"{project}-{stack}-{key}".lower()).strip("-")
    return slug[:120]
