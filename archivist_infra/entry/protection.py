"""The objects that enforce entry/policies.py on a created entry: rate limits, body limit, authentication.

envoy: a BackendTrafficPolicy per route, a SecurityPolicy on the write route and, for API keys, the
  Secret of generated keys (one per writer; read it with
  `kubectl -n <namespace> get secret archivist-writers -o jsonpath='{.data.<writer>}' | base64 -d`).
gke: a Cloud Armor policy on every backend Service, IAP on the write Services with the OAuth
  client's secret in a Secret, and the writers' IAP role.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import pulumi
import pulumi_kubernetes as k8s
import pulumi_random as random

from ..config.entry_access import EntryAccess
from ..config.ingress import EntrySettings
from ..endpoint import Backend
from ..tiers.context import TierContext
from . import policies

if TYPE_CHECKING:
    from .gateway import PublicEntry


def protect(parent: pulumi.Resource, name: str, ctx: TierContext, entry_settings: EntrySettings, access: EntryAccess,
            *, entry: PublicEntry, backends: dict[Any, Backend], write_backends: dict[Any, Backend], platform: str,
            iap_client_secret: pulumi.Output[str] | None, routes: tuple[str, str]) -> None:
    public_route, write_route = routes
    labels = ctx.labels("archivist", "entry")
    opts = pulumi.ResourceOptions.merge(entry.app_opts, pulumi.ResourceOptions(parent=parent))

    def custom(suffix: str, api_version: str, kind: str, object_name: str, spec: dict[str, Any],
               depends_on: list[pulumi.Resource] | None = None) -> k8s.apiextensions.CustomResource:
        return k8s.apiextensions.CustomResource(
            f"{name}-{suffix}", api_version=api_version, kind=kind,
            metadata={"name": object_name, "namespace": ctx.namespace, "labels": labels}, spec=spec,
            opts=pulumi.ResourceOptions.merge(opts, pulumi.ResourceOptions(depends_on=depends_on or [])))

    if entry_settings.controller == "envoy":
        eg = "gateway.envoyproxy.io/v1alpha1"
        custom("traffic", eg, "BackendTrafficPolicy", public_route,
               policies.envoy_traffic_policy(public_route, access, public=True))
        if access.publishes_writes and access.auth is not None:
            custom("write-traffic", eg, "BackendTrafficPolicy", write_route,
                   policies.envoy_traffic_policy(write_route, access, public=False))
            needs: list[pulumi.Resource] = []
            if access.auth.method == "apiKey":
                keys = {w: random.RandomPassword(f"{name}-key-{w}", length=40, special=False,
                                                 opts=pulumi.ResourceOptions(parent=parent)).result
                        for w in access.auth.writers}
                needs.append(k8s.core.v1.Secret(
                    f"{name}-writers", metadata={"name": policies.WRITERS_SECRET, "namespace": ctx.namespace,
                                                 "labels": labels},
                    type="Opaque", string_data=keys, opts=opts))
            custom("write-auth", eg, "SecurityPolicy", write_route,
                   policies.envoy_security_policy(write_route, access.auth), depends_on=needs)
        return

    from . import gke

    cloud = ctx.target.cloud
    assert cloud is not None  # the gke controller runs only on the gke platform (config/ingress.py)
    armor = gke.armor_policy(parent, name, access.limits, cloud)
    for app, b in sorted(backends.items()):
        custom(f"backend-{app}", "networking.gke.io/v1", "GCPBackendPolicy", f"archivist-{app}",
               policies.gcp_backend_policy(b.service, armor.name))
    if access.publishes_writes and access.auth is not None:
        assert iap_client_secret is not None and access.auth.iap_client_id  # config/load.py requires both
        secret = k8s.core.v1.Secret(
            f"{name}-iap-client", metadata={"name": policies.IAP_SECRET, "namespace": ctx.namespace, "labels": labels},
            type="Opaque", string_data={"key": iap_client_secret}, opts=opts)
        for app, b in sorted(write_backends.items()):
            custom(f"backend-{app}-write", "networking.gke.io/v1", "GCPBackendPolicy", f"archivist-{app}-write",
                   policies.gcp_backend_policy(b.service, armor.name, iap_client_id=access.auth.iap_client_id),
                   depends_on=[secret])
        gke.iap_writers(parent, name, access.auth.writers, cloud)
