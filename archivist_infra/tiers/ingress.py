"""External access: a Gateway API HTTPRoute (mode gateway) or an Ingress (mode ingress).

Every API path of both services reaches its service unchanged (entry/routes.py has the route
list read from the application and the mapping). In gateway mode the stack creates the whole
entry in front of the route (entry/gateway.py) unless config adopts an existing Gateway.
"""

from __future__ import annotations

from dataclasses import dataclass

import pulumi
import pulumi_kubernetes as k8s

from ..config.settings import IngressSettings
from ..endpoint import Endpoint
from ..entry.routes import ExternalRule, Service, gateway_rules, ingress_rules
from .context import TierContext
from .pods import Spec

ROUTE_NAME = "archivist"


@dataclass(frozen=True)
class Backend:
    service: pulumi.Input[str]  # the Kubernetes Service name
    endpoint: Endpoint


def http_route_rules(backends: dict[Service, Backend]) -> list[Spec]:
    rules: list[Spec] = []
    for rule in gateway_rules():
        b = backends[rule.service]
        out: Spec = {"matches": [{"path": {"type": rule.match, "value": rule.path}}],
                     "backendRefs": [{"name": b.service, "port": b.endpoint.port}]}
        if rule.rewrite_to is not None:
            out["filters"] = [{"type": "URLRewrite",
                               "urlRewrite": {"path": {"type": "ReplaceFullPath", "replaceFullPath": rule.rewrite_to}}}]
        rules.append(out)
    return rules


def ingress_paths(backends: dict[Service, Backend]) -> list[Spec]:
    def path(rule: ExternalRule) -> Spec:
        b = backends[rule.service]
        return {"path": rule.path, "path_type": "Prefix" if rule.match == "PathPrefix" else "Exact",
                "backend": {"service": {"name": b.service, "port": {"number": b.endpoint.port}}}}

    return [path(r) for r in ingress_rules()]


class ExternalAccess(pulumi.ComponentResource):
    url: pulumi.Output[str]
    address: pulumi.Output[list[str]]
    dns_record: pulumi.Output[str] | None

    def __init__(self, name: str, ctx: TierContext, settings: IngressSettings, backends: dict[Service, Backend],
                 *, platform: str, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("archivist:ingress:ExternalAccess", name, None, opts)
        assert settings.host is not None  # validated in config
        self._host = settings.host
        self.address = pulumi.Output.from_input([])
        self.dns_record = None
        if settings.mode == "ingress":
            scheme = "https" if settings.tls_issuer else "http"
            self._ingress(name, ctx, settings, backends)
        else:
            scheme = self._http_route(name, ctx, settings, backends, platform)
        self.url = pulumi.Output.from_input(f"{scheme}://{settings.host}")
        self.register_outputs({"url": self.url})

    def _ingress(self, name: str, ctx: TierContext, s: IngressSettings, backends: dict[Service, Backend]) -> None:
        annotations = dict(s.annotations)
        if s.tls_issuer:
            annotations["cert-manager.io/cluster-issuer"] = s.tls_issuer
        spec: Spec = {"rules": [{"host": s.host, "http": {"paths": ingress_paths(backends)}}]}
        if s.class_name:
            spec["ingress_class_name"] = s.class_name
        if s.tls_issuer:
            spec["tls"] = [{"hosts": [s.host], "secret_name": "archivist-tls"}]
        k8s.networking.v1.Ingress(
            f"{name}-ingress",
            metadata={"name": ROUTE_NAME, "namespace": ctx.namespace, "labels": ctx.labels("archivist", "ingress"),
                      "annotations": annotations},
            spec=spec,
            opts=ctx.opts(self),
        )

    def _http_route(self, name: str, ctx: TierContext, s: IngressSettings, backends: dict[Service, Backend],
                    platform: str) -> str:
        assert s.host is not None
        depends: list[pulumi.Resource] = []
        if s.entry is not None:
            from ..entry.gateway import PublicEntry

            entry = PublicEntry(
                f"{name}-entry", ctx, s.entry, host=s.host, platform=platform,
                services={app: (b.service, b.endpoint.port) for app, b in backends.items()}, route_name=ROUTE_NAME,
                opts=pulumi.ResourceOptions(parent=self))
            parent: Spec = {"name": entry.gateway_name, "namespace": entry.gateway_namespace, "sectionName": entry.listener}
            depends = entry.waits_for
            self.address, self.dns_record = entry.addresses, entry.dns_record
            scheme = "https" if s.entry.serves_tls else "http"
        else:
            adopted = s.adopted
            parent = {"name": adopted.name}
            if adopted.namespace:
                parent["namespace"] = adopted.namespace
            if adopted.section_name:
                parent["sectionName"] = adopted.section_name
            scheme = "https" if adopted.https else "http"
        k8s.apiextensions.CustomResource(
            f"{name}-httproute",
            api_version="gateway.networking.k8s.io/v1",
            kind="HTTPRoute",
            metadata={"name": ROUTE_NAME, "namespace": ctx.namespace, "labels": ctx.labels("archivist", "ingress")},
            spec={"parentRefs": [parent], "hostnames": [s.host], "rules": http_route_rules(backends)},
            opts=pulumi.ResourceOptions.merge(ctx.opts(self), pulumi.ResourceOptions(depends_on=depends)),
        )
        return scheme

    def outputs(self) -> dict[str, object]:
        """The public address and, unless the stack created it, the DNS record to create."""
        out: dict[str, object] = {"addresses": self.address}
        if self.dns_record is not None:
            out["dnsRecord"] = self.dns_record
        else:
            out["dnsRecordToCreate"] = self.address.apply(
                lambda ips: [f"{self._host} A {ip}" for ip in ips] if ips else
                [f"{self._host} A <the external address of the Gateway: kubectl get gateway -A>"])
        return out
