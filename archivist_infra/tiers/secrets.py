"""The application Secret: the Gemini key and the Neo4j password, never in plain text.

A missing Neo4j password is generated once by `random.RandomPassword`, whose result
lives (encrypted) in the stack state, so it stays the same on every later update.
"""

from __future__ import annotations

from dataclasses import dataclass

import pulumi
import pulumi_kubernetes as k8s
import pulumi_random as random

from .context import TierContext

GEMINI_KEY = "GEMINI_API_KEY"
NEO4J_PASSWORD_KEY = "NEO4J_PASSWORD"
NEO4J_AUTH_KEY = "NEO4J_AUTH"


@dataclass(frozen=True)
class SecretRef:
    """A key in the app Secret, for `secretKeyRef` env vars."""

    secret_name: pulumi.Output[str]
    key: str

    def env(self, name: str) -> dict[str, object]:
        return {"name": name, "value_from": {"secret_key_ref": {"name": self.secret_name, "key": self.key}}}


class AppSecrets(pulumi.ComponentResource):
    def __init__(self, name: str, ctx: TierContext, *, gemini_api_key: pulumi.Output[str],
                 neo4j_password: pulumi.Output[str] | None, opts: pulumi.ResourceOptions | None = None) -> None:
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
        secret = k8s.core.v1.Secret(
            f"{name}-secret",
            metadata={"name": "archivist-secrets", "namespace": ctx.namespace, "labels": ctx.labels("archivist", "secrets")},
            type="Opaque",
            string_data={
                GEMINI_KEY: gemini,
                NEO4J_PASSWORD_KEY: password,
                # The Neo4j image wants "neo4j/<password>"; the original passed the bare password and Neo4j refused to start.
                NEO4J_AUTH_KEY: pulumi.Output.concat("neo4j/", password),
            },
            opts=ctx.opts(self),
        )
        secret_name = secret.metadata.name
        self.gemini_api_key = SecretRef(secret_name, GEMINI_KEY)
        self.neo4j_password = SecretRef(secret_name, NEO4J_PASSWORD_KEY)
        self.neo4j_auth = SecretRef(secret_name, NEO4J_AUTH_KEY)
        self.secret_name = secret_name
        self.password = password  # secret Output; digested into the apps' checksum so a rotation rolls them
        self.register_outputs({"secret_name": secret_name})
