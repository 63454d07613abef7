"""External access: Gateway API HTTPRoutes (mode gateway) or an Ingress (mode ingress).

What is published comes from the application's route list (entry/routes.py), each route classified
read / quota / write / admin. By default only reads (and, on an entry the stack creates, the
rate-limited quota reads) are routed, each by method and path, unchanged; writes and administration
stay behind `ops port-forward`. With `ingress.writes: authenticated` a second route, `archivist-write`,
carries them behind the platform's authentication (entry/policies.py). In gateway mode the stack
creates the whole entry in front of the routes (entry/gateway.py) unless config adopts a Gateway.
"""

from __future__ import annotations

import pulumi
import pulumi_kubernetes as k8s

from ..config.entry_access import EntryAccess
from ..config.settings import IngressSettings
from ..endpoint import Backend, Endpoint
from ..entry.routes import Access, ExternalRule, Service, gateway_rules, ingress_rules
from .context import TierContext
from .pods import Spec

ROUTE_NAME = "archivist"
WRITE_ROUTE_NAME = "archivist-write"


def public_access(settings: IngressSettings) -> tuple[Access, ...]:
    """Quota routes only where the stack creates the entry and so can attach their budgets."""
    return ("read", "quota") if settings.entry is not None else ("read",)


def http_route_rules(backends: dict[Service, Backend], rules: tuple[ExternalRule, ...], *,
                     headers: Spec | None = None) -> list[Spec]:
    out_rules: list[Spec] = []
    for rule in rules:
        b = backends[rule.service]
        matches: list[Spec] = []
        for m in rule.matches:
            match: Spec = {"path": {"type": m.match, "value": m.path}}
            if m.method:
                match["method"] = m.method
            matches.append(match)
        out: Spec = {"matches": matches, "backendRefs": [{"name": b.service, "port": b.endpoint.port}]}
        filters: list[Spec] = []
        if rule.rewrite_to is not None:
            filters.append({"type": "URLRewrite",
                            "urlRewrite": {"path": {"type": "ReplaceFullPath", "replaceFullPath": rule.rewrite_to}}})
        if headers is not None:
            filters.append(headers)
        if filters:
            out["filters"] = filters
        out_rules.append(out)
    return out_rules


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
                 *, platform: str, iap_client_secret: pulumi.Output[str] | None = None,
                 opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("archivist:ingress:ExternalAccess", name, None, opts)
        assert settings.host is not None  # validated in config
        self._host = settings.host
        self.address = pulumi.Output.from_input([])
        self.dns_record = None
        if settings.mode == "ingress":
            scheme = "https" if settings.tls_issuer else "http"
            self._ingress(name, ctx, settings, backends)
        else:
            scheme = self._http_route(name, ctx, settings, backends, platform, iap_client_secret)
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
                    platform: str, iap_client_secret: pulumi.Output[str] | None) -> str:
        assert s.host is not None
        access: EntryAccess = s.access or EntryAccess()
        depends: list[pulumi.Resource] = []
        write_backends = backends
        headers = None
        entry = None
        if s.entry is not None:
            from ..entry.gateway import PublicEntry
            from ..entry.policies import security_headers

            if access.publishes_writes and s.entry.controller == "gke":
                # IAP is a backend-service setting: the write route reaches the same pods through
                # Services of its own, which carry IAP (entry/policies.py).
                write_backends = self._write_services(name, ctx, backends)
            services: dict[str, tuple[pulumi.Input[str], int]] = {
                app: (b.service, b.endpoint.port) for app, b in backends.items()}
            if write_backends is not backends:
                services.update({f"{app}-write": (b.service, b.endpoint.port) for app, b in write_backends.items()})
            entry = PublicEntry(
                f"{name}-entry", ctx, s.entry, host=s.host, platform=platform, services=services,
                proxy_replicas=access.proxy_replicas, opts=pulumi.ResourceOptions(parent=self))
            parent: Spec = {"name": entry.gateway_name, "namespace": entry.gateway_namespace, "sectionName": entry.listener}
            depends = entry.waits_for
            self.address, self.dns_record = entry.addresses, entry.dns_record
            scheme = "https" if s.entry.serves_tls else "http"
            headers = security_headers() if s.entry.serves_tls else None
        else:
            adopted = s.adopted
            parent = {"name": adopted.name}
            if adopted.namespace:
                parent["namespace"] = adopted.namespace
            if adopted.section_name:
                parent["sectionName"] = adopted.section_name
            scheme = "https" if adopted.https else "http"
        route_opts = pulumi.ResourceOptions.merge(ctx.opts(self), pulumi.ResourceOptions(depends_on=depends))
        labels = ctx.labels("archivist", "ingress")

        def route(suffix: str, route_name: str, spec_rules: list[Spec]) -> None:
            k8s.apiextensions.CustomResource(
                f"{name}-{suffix}", api_version="gateway.networking.k8s.io/v1", kind="HTTPRoute",
                metadata={"name": route_name, "namespace": ctx.namespace, "labels": labels},
                spec={"parentRefs": [parent], "hostnames": [s.host], "rules": spec_rules}, opts=route_opts)

        route("httproute", ROUTE_NAME,
              http_route_rules(backends, gateway_rules(public_access(s), health=True), headers=headers))
        if access.publishes_writes:
            route("write-httproute", WRITE_ROUTE_NAME,
                  http_route_rules(write_backends, gateway_rules(("write", "admin"), health=False), headers=headers))
        if entry is not None and s.entry is not None:
            from ..entry.protection import protect

            protect(self, f"{name}-protection", ctx, s.entry, access, entry=entry, backends=backends,
                    write_backends=write_backends, platform=platform, iap_client_secret=iap_client_secret,
                    routes=(ROUTE_NAME, WRITE_ROUTE_NAME))
        return scheme

    def _write_services(self, name: str, ctx: TierContext, backends: dict[Service, Backend]) -> dict[Service, Backend]:
        out: dict[Service, Backend] = {}
        for app, b in sorted(backends.items()):
            workload = f"archivist-{app}"
            svc = k8s.core.v1.Service(
                f"{name}-{app}-write-service",
                metadata={"name": f"{workload}-write", "namespace": ctx.namespace,
                          "labels": ctx.labels(workload, "write-entry")},
                spec={"type": "ClusterIP", "selector": ctx.selector(workload),
                      "ports": [{"name": "http", "port": b.endpoint.port, "target_port": "http"}]},
                opts=ctx.opts(self))
            out[app] = Backend(svc.metadata.name, Endpoint(b.endpoint.host, b.endpoint.port, b.endpoint.scheme))
        return out

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
