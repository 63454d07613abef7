"""The application Secret: the Gemini key and the Neo4j password, never in plain text.

A missing Neo4j password is generated once by `random.RandomPassword`, whose result
lives (encrypted) in the stack state, so it stays the same on every later update.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field

import pulumi
import pulumi_kubernetes as k8s
import pulumi_random as random

from .context import TierContext

GEMINI_KEY = "GEMINI_API_KEY"
NEO4J_PASSWORD_KEY = "NEO4J_PASSWORD"
NEO4J_AUTH_KEY = "NEO4J_AUTH"
SECRET_NAME = "archivist-secrets"


@dataclass(frozen=True)
class SecretKey:
    """One key of the app Secret: a stored (secret) value, or derived as prefix + another key's value."""

    key: str
    value: pulumi.Output[str] | None = None
    derived: tuple[str, str] | None = None  # (prefix, key it is derived from)

    def resolve(self, values: Mapping[str, pulumi.Output[str]]) -> pulumi.Output[str]:
        if self.derived is None:
            assert self.value is not None, f"{self.key} has neither a value nor a source"
            return self.value
        prefix, source = self.derived
        return pulumi.Output.concat(prefix, values[source])


@dataclass(frozen=True)
class Published:
    secret_name: pulumi.Output[str]
    reload_annotations: dict[str, str] = field(default_factory=dict)  # for workloads that must restart on rotation


# Where the keys go: (parent, ctx, logical name, Secret name, keys) -> the Secret's name once it exists.
Publisher = Callable[[pulumi.Resource, TierContext, str, str, Sequence[SecretKey]], Published]


def kubernetes_secret(parent: pulumi.Resource, ctx: TierContext, name: str, secret_name: str,
                      keys: Sequence[SecretKey]) -> Published:
    """The Pulumi-managed Secret (local stacks, and clouds with `secrets.backend: kubernetes`)."""
    stored = {k.key: k.value for k in keys if k.value is not None}
    secret = k8s.core.v1.Secret(
        f"{name}-secret",
        metadata={"name": secret_name, "namespace": ctx.namespace, "labels": ctx.labels("archivist", "secrets")},
        type="Opaque",
        string_data={k.key: k.resolve(stored) for k in keys},
        opts=ctx.opts(parent),
    )
    return Published(secret.metadata.name)


@dataclass(frozen=True)
class SecretRef:
    """A key in the app Secret, for `secretKeyRef` env vars."""

    secret_name: pulumi.Output[str]
    key: str

    def env(self, name: str) -> dict[str, object]:
        return {"name": name, "value_from": {"secret_key_ref": {"name": self.secret_name, "key": self.key}}}


class AppSecrets(pulumi.ComponentResource):
    def __init__(self, name: str, ctx: TierContext, *, gemini_api_key: pulumi.Output[str],
                 neo4j_password: pulumi.Output[str] | None, publish: Publisher | None = None,
                 opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("archivist:secrets:AppSecrets", name, None, opts)
        if neo4j_password is None:
            generated = random.RandomPassword(
                f"{name}-neo4j-password",
                length=32,
                special=False,  # Neo4j's NEO4J_AUTH splits on "/", so keep to letters and digits
                opts=pulumi.ResourceOptions(parent=self, protect=ctx.protect),
            )
            neo4j_password = generated.result
        password: pulumi.Output[str] = pulumi.Output.secret(neo4j_password)
        gemini: pulumi.Output[str] = pulumi.Output.secret(gemini_api_key)
        # Every key of the Secret and where its value comes from; adding a key is one line here.
        keys = [
            SecretKey(GEMINI_KEY, gemini),
            SecretKey(NEO4J_PASSWORD_KEY, password),
            # The Neo4j image wants "neo4j/<password>"; the original passed the bare password and Neo4j refused to start.
            SecretKey(NEO4J_AUTH_KEY, derived=("neo4j/", NEO4J_PASSWORD_KEY)),
        ]
        published = (publish or kubernetes_secret)(self, ctx, name, SECRET_NAME, keys)
        secret_name = published.secret_name
        self.reload_annotations = published.reload_annotations
        self.gemini_api_key = SecretRef(secret_name, GEMINI_KEY)
        self.neo4j_password = SecretRef(secret_name, NEO4J_PASSWORD_KEY)
        self.neo4j_auth = SecretRef(secret_name, NEO4J_AUTH_KEY)
        self.secret_name = secret_name
        self.password = password  # secret Output; digested into the apps' checksum so a rotation rolls them
        self.register_outputs({"secret_name": secret_name})
