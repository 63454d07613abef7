"""How one tier reaches another: the typed output every store hands to the apps.

The host is an Output of the store's Service, so anything built from an Endpoint
(env vars, the ConfigMap) depends on that Service and nothing more: Pulumi starts the
apps as soon as the Services exist, in parallel with the stores' pods.
"""

from __future__ import annotations

from dataclasses import dataclass

import pulumi


@dataclass(frozen=True)
class Endpoint:
    host: pulumi.Output[str]  # in-cluster DNS name of the Service
    port: int
    scheme: str  # "bolt", "redis", "http", "kafka"

    @property
    def address(self) -> pulumi.Output[str]:
        return pulumi.Output.concat(self.host, ":", str(self.port))

    @property
    def url(self) -> pulumi.Output[str]:
        return pulumi.Output.concat(self.scheme, "://", self.host, ":", str(self.port))


@dataclass(frozen=True)
class Backend:
    """A Service the public entry routes to (entry/ and tiers/ingress both need it, so it lives here)."""

    service: pulumi.Input[str]  # the Kubernetes Service name
    endpoint: Endpoint


def service_host(service_name: pulumi.Input[str], namespace: pulumi.Input[str]) -> pulumi.Output[str]:
    return pulumi.Output.concat(service_name, ".", namespace, ".svc.cluster.local")
