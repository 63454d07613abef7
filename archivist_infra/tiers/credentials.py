"""Store credentials: the one typed path from a store with a password to every client of it.

A store tier that requires a password exports a `StoreCredentials`; every client (the apps'
config, the batch worker's config.yaml, the exporters, backup hooks) takes one as a required
constructor argument, so a new client cannot be written without it, and gets the password only
by reference to the store's Secret (never in plain text in a pod spec).

Rotation (audit stores-ops D5): the store's pod template carries `rollout_annotation()`, a digest
of the password, so the store restarts with the new one. Clients carry `client_annotation()`, the
same digest but derived from the store's workload: Pulumi then updates a client only after the store
(and the provider waits for the store's rollout), so no client runs the new password against an old
store, and the store does not wait on its clients.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

import pulumi

# Pod-template annotations: a change of the digest rolls the pods. One key per store.
ANNOTATION_PREFIX = "archivist.dev/credentials-"


def password_digest(password: str) -> str:
    """A truncated sha256: changes with the password, reveals nothing usable about it."""
    return hashlib.sha256(password.encode()).hexdigest()[:16]


@dataclass(frozen=True)
class StoreCredentials:
    """A store's password as its clients must take it."""

    store: str  # the store's app name, e.g. "redis"
    secret_name: pulumi.Output[str]  # the store's own Secret
    password_key: str  # key of the bare password in that Secret
    password: pulumi.Output[str]  # secret Output: only for values the store's clients read whole (a URL, a file)
    # The digest of the password after the store's workload has been applied (see the module docstring).
    applied_digest: pulumi.Output[str]

    @property
    def digest(self) -> pulumi.Output[str]:
        """The password's digest as soon as the password is known (for the store's own template)."""
        return pulumi.Output.unsecret(self.password.apply(password_digest))

    @property
    def annotation_key(self) -> str:
        return f"{ANNOTATION_PREFIX}{self.store}"

    def env(self, name: str) -> dict[str, object]:
        """An env var holding the password, by reference to the store's Secret."""
        return {"name": name, "value_from": {"secret_key_ref": {"name": self.secret_name, "key": self.password_key}}}

    def rollout_annotation(self) -> dict[str, pulumi.Input[str]]:
        return {self.annotation_key: self.digest}

    def client_annotation(self) -> dict[str, pulumi.Input[str]]:
        return {self.annotation_key: self.applied_digest}


def after(resource: pulumi.CustomResource, value: pulumi.Output[str]) -> pulumi.Output[str]:
    """`value`, carrying a dependency on `resource`: whatever uses it is created and updated after it."""
    return pulumi.Output.all(resource.urn, value).apply(lambda parts: str(parts[1]))
