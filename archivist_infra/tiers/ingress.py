"""External access: an Ingress or a Gateway API HTTPRoute, one rule per API path.

The original rewrote every path to "/" with one annotation, which broke every API
below its prefix. Here a Gateway route strips each prefix on its own rule (the portable
`URLRewrite` filter); an Ingress routes each prefix as is, with the controller's own
annotations from config when the controller needs them (ingress-nginx is retired and
not assumed).
"""

from __future__ import annotations

from dataclasses import dataclass

import pulumi
import pulumi_kubernetes as k8s

from ..config.settings import IngressSettings
from ..endpoint import Endpoint
from .context import TierContext
from .pods import Spec


@dataclass(frozen=True)
class Route:
    path: str  # e.g. "/api/search"
    service: pulumi.Input[str]
    endpoint: Endpoint


class ExternalAccess(pulumi.ComponentResource):
    url: pulumi.Output[str]

    def __init__(self, name: str, ctx: TierContext, settings: IngressSettings, routes: list[Route],
                 opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("archivist:ingress:ExternalAccess", name, None, opts)
        assert settings.host is not None  # validated in config
        scheme = "https" if settings.tls_issuer or settings.mode == "gateway" else "http"
        if settings.mode == "ingress":
            self._ingress(name, ctx, settings, routes)
        else:
            self._http_route(name, ctx, settings, routes)
        self.url = pulumi.Output.from_input(f"{scheme}://{settings.host}")
        self.register_outputs({"url": self.url})

    def _ingress(self, name: str, ctx: TierContext, s: IngressSettings, routes: list[Route]) -> None:
        annotations = dict(s.annotations)
        if s.tls_issuer:
            annotations["cert-manager.io/cluster-issuer"] = s.tls_issuer
        spec: Spec = {
            "rules": [{
                "host": s.host,
                "http": {"paths": [
                    {"path": r.path, "path_type": "Prefix",
                     "backend": {"service": {"name": r.service, "port": {"number": r.endpoint.port}}}}
                    for r in routes
                ]},
            }],
        }
        if s.class_name:
            spec["ingress_class_name"] = s.class_name
        if s.tls_issuer:
            spec["tls"] = [{"hosts": [s.host], "secret_name": "archivist-tls"}]
        k8s.networking.v1.Ingress(
            f"{name}-ingress",
            metadata={"name": "archivist", "namespace": ctx.namespace, "labels": ctx.labels("archivist", "ingress"),
                      "annotations": annotations},
            spec=spec,
            opts=ctx.opts(self),
        )

    def _http_route(self, name: str, ctx: TierContext, s: IngressSettings, routes: list[Route]) -> None:
        parent: Spec = {"name": s.gateway_name}
        if s.gateway_namespace:
            parent["namespace"] = s.gateway_namespace
        rules = [
            {
                "matches": [{"path": {"type": "PathPrefix", "value": r.path}}],
                "filters": [{"type": "URLRewrite",
                             "urlRewrite": {"path": {"type": "ReplacePrefixMatch", "replacePrefixMatch": "/"}}}],
                "backendRefs": [{"name": r.service, "port": r.endpoint.port}],
            }
            for r in routes
        ]
        k8s.apiextensions.CustomResource(
            f"{name}-httproute",
            api_version="gateway.networking.k8s.io/v1",
            kind="HTTPRoute",
            metadata={"name": "archivist", "namespace": ctx.namespace, "labels": ctx.labels("archivist", "ingress")},
            spec={"parentRefs": [parent], "hostnames": [s.host], "rules": rules},
            opts=ctx.opts(self),
        )
