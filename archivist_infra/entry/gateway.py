"""The public entry the stack creates: controller, Gateway, certificate, address, redirect, health, DNS.

Per platform (controller from `archivist:ingress.gateway.controller`):
- gke: GKE's managed Gateway (GatewayClass `gke-l7-global-external-managed`, the cluster's
  `gateway_api_config` in platforms/gke.py), a global static IP named in `spec.addresses`, a
  Google-managed certificate through Certificate Manager (`networking.gke.io/certmap`), a
  `HealthCheckPolicy` per service on `/health`.
- envoy (eks, aks, local): Envoy Gateway and cert-manager from pinned Helm charts, a GatewayClass
  whose `EnvoyProxy` gives the load balancer Service its static address, a cert-manager
  `Certificate` from an ACME `ClusterIssuer` solving HTTP-01 through this Gateway (or self-signed),
  a `BackendTrafficPolicy` per route with active health checks on `/health` and rate limits (policies.py).
Everywhere: an HTTP listener that only redirects to HTTPS (and carries ACME challenges), an HTTPS
listener for the application's routes, and a DNS record when a zone is configured.
"""

from __future__ import annotations

from typing import Any

import pulumi
import pulumi_kubernetes as k8s
from pulumi_kubernetes.helm.v3 import Release, ReleaseArgs, RepositoryOptsArgs

from ..config.ingress import EntrySettings
from ..tiers.context import TierContext
from .address import CloudAddress, Spec
from .routes import HEALTH_PATH
from .sources import ENVOY_GATEWAY_NAMESPACE

# Pinned releases (the versions of the CRDs vendored under tests/crds/).
ENVOY_GATEWAY_CHART = "oci://docker.io/envoyproxy/gateway-helm"  # envoyproxy/gateway install-helm.md:40
ENVOY_GATEWAY_VERSION = "v1.9.0"  # uses Gateway API v1.6.1 (go.mod), the CRDs the apiserver suite applies
CERT_MANAGER_REPO = "https://charts.jetstack.io"
CERT_MANAGER_VERSION = "v1.21.1"
CERT_MANAGER_NAMESPACE = "cert-manager"
GKE_GATEWAY_CLASS = "gke-l7-global-external-managed"
ENVOY_CONTROLLER_NAME = "gateway.envoyproxy.io/gatewayclass-controller"
TLS_SECRET = "archivist-tls"
HTTP_LISTENER, HTTPS_LISTENER = "http", "https"
GATEWAY_GROUP = "gateway.networking.k8s.io"


def app_namespace_selector(namespace: pulumi.Input[str]) -> Spec:
    return {"namespaces": {"from": "Selector", "selector": {"matchLabels": {"kubernetes.io/metadata.name": namespace}}}}


def gateway_spec(entry: EntrySettings, host: str, app_namespace: pulumi.Input[str], *, class_name: str,
                 addresses: list[Spec]) -> Spec:
    listeners: list[Spec] = []
    if entry.serves_tls:
        # Port 80 only redirects (and carries ACME HTTP-01 challenges): routes of this namespace only.
        listeners.append({"name": HTTP_LISTENER, "protocol": "HTTP", "port": 80, "hostname": host,
                          "allowedRoutes": {"namespaces": {"from": "Same"}}})
        https: Spec = {"name": HTTPS_LISTENER, "protocol": "HTTPS", "port": 443, "hostname": host,
                       "allowedRoutes": app_namespace_selector(app_namespace)}
        if entry.controller == "envoy":
            https["tls"] = {"mode": "Terminate", "certificateRefs": [{"kind": "Secret", "group": "", "name": TLS_SECRET}]}
        listeners.append(https)
    else:
        listeners.append({"name": HTTP_LISTENER, "protocol": "HTTP", "port": 80, "hostname": host,
                          "allowedRoutes": app_namespace_selector(app_namespace)})
    spec: Spec = {"gatewayClassName": class_name, "listeners": listeners}
    if addresses:
        spec["addresses"] = addresses
    return spec


def redirect_route_spec(entry: EntrySettings, host: str) -> Spec:
    return {
        "parentRefs": [{"name": entry.gateway_name, "sectionName": HTTP_LISTENER}],
        "hostnames": [host],
        "rules": [{"filters": [{"type": "RequestRedirect",
                                "requestRedirect": {"scheme": "https", "statusCode": 301}}]}],
    }


def cluster_issuer_name(entry: EntrySettings) -> str:
    return f"{entry.namespace}-{'acme' if entry.tls == 'acme' else 'self-signed'}"


def cluster_issuer_spec(entry: EntrySettings) -> Spec:
    if entry.tls == "selfSigned":
        return {"selfSigned": {}}
    contact = {"email": entry.acme_email} if entry.acme_email else {}  # optional (config/ingress.py)
    return {"acme": {
        **contact,
        "server": entry.acme_server,
        "privateKeySecretRef": {"name": f"{entry.namespace}-acme-account"},
        # cert-manager creates an HTTPRoute for each challenge on this Gateway's HTTP listener; its
        # Exact path match wins over the redirect route's catch-all.
        "solvers": [{"http01": {"gatewayHTTPRoute": {"parentRefs": [{
            "group": GATEWAY_GROUP, "kind": "Gateway", "name": entry.gateway_name,
            "namespace": entry.namespace, "sectionName": HTTP_LISTENER}]}}}],
    }}


def certificate_spec(entry: EntrySettings, host: str) -> Spec:
    return {"secretName": TLS_SECRET, "dnsNames": [host],
            "issuerRef": {"group": "cert-manager.io", "kind": "ClusterIssuer", "name": cluster_issuer_name(entry)}}


def gke_health_check_spec(service: pulumi.Input[str], port: int) -> Spec:
    return {
        "default": {"checkIntervalSec": 10, "timeoutSec": 5, "healthyThreshold": 1, "unhealthyThreshold": 3,
                    "config": {"type": "HTTP", "httpHealthCheck": {"port": port, "requestPath": HEALTH_PATH}}},
        "targetRef": {"group": "", "kind": "Service", "name": service},
    }


def envoy_proxy_spec(annotations: dict[str, pulumi.Input[str]], replicas: int) -> Spec:
    # `Local` keeps the client's address (the per-client rate limits key on it) and is the default
    # (envoyproxies CRD, envoyService.externalTrafficPolicy); set so a changed default cannot drop it.
    service: Spec = {"type": "LoadBalancer", "externalTrafficPolicy": "Local"}
    if annotations:
        service["annotations"] = annotations
    # A fixed replica count: the local rate-limit budgets are split across exactly these proxies.
    return {"provider": {"type": "Kubernetes", "kubernetes": {"envoyService": service,
                                                              "envoyDeployment": {"replicas": replicas}}}}


def cert_manager_values() -> Spec:
    return {
        "crds": {"enabled": True, "keep": True},
        # The Gateway API integration (HTTP-01 through an HTTPRoute) is off by default
        # (cert-manager v1.21.1 internal/apis/config/controller/v1alpha1/defaults.go:75).
        "config": {"apiVersion": "controller.config.cert-manager.io/v1alpha1", "kind": "ControllerConfiguration",
                   "gatewayAPI": {"enabled": True}},
    }


class PublicEntry(pulumi.ComponentResource):
    """Everything in front of the application's HTTPRoute; the route itself belongs to ExternalAccess."""

    gateway_name: str
    gateway_namespace: str
    listener: str
    addresses: pulumi.Output[list[str]]
    dns_record: pulumi.Output[str] | None
    waits_for: list[pulumi.Resource]
    app_opts: pulumi.ResourceOptions  # for objects in the app namespace that need the controller's CRDs

    def __init__(self, name: str, ctx: TierContext, entry: EntrySettings, *, host: str, platform: str,
                 services: dict[str, tuple[pulumi.Input[str], int]], proxy_replicas: int = 1,
                 opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("archivist:entry:PublicEntry", name, None, opts)
        self.gateway_name, self.gateway_namespace = entry.gateway_name, entry.namespace
        self.listener = HTTPS_LISTENER if entry.serves_tls else HTTP_LISTENER
        target = ctx.target
        labels = {**ctx.labels("archivist", "entry")}

        controllers: list[pulumi.Resource] = list(target.ready)
        if entry.controller == "envoy":
            controllers.append(Release(
                f"{name}-envoy-gateway",
                ReleaseArgs(chart=ENVOY_GATEWAY_CHART, version=ENVOY_GATEWAY_VERSION, namespace=ENVOY_GATEWAY_NAMESPACE,
                            create_namespace=True, atomic=True, wait_for_jobs=True),
                opts=target.options(parent=self, depends_on=list(target.ready)),
            ))
            if entry.tls in ("acme", "selfSigned"):
                controllers.append(Release(
                    f"{name}-cert-manager",
                    ReleaseArgs(chart="cert-manager", version=CERT_MANAGER_VERSION, namespace=CERT_MANAGER_NAMESPACE,
                                create_namespace=True, atomic=True,
                                repository_opts=RepositoryOptsArgs(repo=CERT_MANAGER_REPO),
                                values=cert_manager_values()),
                    # After Envoy Gateway: its chart installs the Gateway API CRDs cert-manager watches.
                    opts=target.options(parent=self, depends_on=list(controllers)),
                ))

        cloud = self._cloud(name, entry, host, platform, target)
        self.addresses = cloud.addresses
        self.dns_record = cloud.dns_record

        after = pulumi.ResourceOptions(depends_on=controllers)
        k8s_opts = pulumi.ResourceOptions.merge(ctx.opts(self), after)
        ns = k8s.core.v1.Namespace(
            f"{name}-namespace",
            metadata={"name": entry.namespace, "labels": {
                **labels, "pod-security.kubernetes.io/enforce": "restricted",
                "pod-security.kubernetes.io/warn": "restricted", "pod-security.kubernetes.io/audit": "restricted"}},
            opts=k8s_opts,
        )
        in_ns = pulumi.ResourceOptions.merge(k8s_opts, pulumi.ResourceOptions(depends_on=[ns]))

        def custom(suffix: str, api_version: str, kind: str, metadata: Spec, spec: Spec,
                   opts: pulumi.ResourceOptions = in_ns) -> k8s.apiextensions.CustomResource:
            return k8s.apiextensions.CustomResource(f"{name}-{suffix}", api_version=api_version, kind=kind,
                                                    metadata=metadata, spec=spec, opts=opts)

        if entry.controller == "gke":
            class_name = GKE_GATEWAY_CLASS
        else:
            class_name = entry.namespace  # one GatewayClass per entry: its EnvoyProxy carries this stack's address
            proxy = custom("envoy-proxy", "gateway.envoyproxy.io/v1alpha1", "EnvoyProxy",
                           {"name": entry.gateway_name, "namespace": entry.namespace, "labels": labels},
                           envoy_proxy_spec(cloud.service_annotations, proxy_replicas))
            custom("gateway-class", f"{GATEWAY_GROUP}/v1", "GatewayClass", {"name": class_name, "labels": labels},
                   {"controllerName": ENVOY_CONTROLLER_NAME,
                    "parametersRef": {"group": "gateway.envoyproxy.io", "kind": "EnvoyProxy",
                                      "name": entry.gateway_name, "namespace": entry.namespace}},
                   opts=pulumi.ResourceOptions.merge(in_ns, pulumi.ResourceOptions(depends_on=[proxy])))

        gateway = custom("gateway", f"{GATEWAY_GROUP}/v1", "Gateway",
                         {"name": entry.gateway_name, "namespace": entry.namespace, "labels": labels,
                          "annotations": cloud.gateway_annotations},
                         gateway_spec(entry, host, ctx.namespace, class_name=class_name,
                                      addresses=cloud.gateway_addresses))
        self.waits_for = [gateway]
        if entry.serves_tls:
            custom("https-redirect", f"{GATEWAY_GROUP}/v1", "HTTPRoute",
                   {"name": "https-redirect", "namespace": entry.namespace, "labels": labels},
                   redirect_route_spec(entry, host))
        if entry.tls in ("acme", "selfSigned"):
            issuer = custom("cluster-issuer", "cert-manager.io/v1", "ClusterIssuer",
                            {"name": cluster_issuer_name(entry), "labels": labels}, cluster_issuer_spec(entry))
            custom("certificate", "cert-manager.io/v1", "Certificate",
                   {"name": TLS_SECRET, "namespace": entry.namespace, "labels": labels}, certificate_spec(entry, host),
                   opts=pulumi.ResourceOptions.merge(in_ns, pulumi.ResourceOptions(depends_on=[issuer, gateway])))

        # GKE: a health check per backend Service on the service's own /health (search main.py:62,
        # graph main.py:213). Envoy's active health checks sit in each route's BackendTrafficPolicy
        # (entry/policies.py), next to its rate limits: one such policy per route.
        app_opts = pulumi.ResourceOptions.merge(ctx.opts(self), after)
        self.app_opts = app_opts
        if entry.controller == "gke":
            for app, (service, port) in sorted(services.items()):
                custom(f"health-{app}", "networking.gke.io/v1", "HealthCheckPolicy",
                       {"name": f"archivist-{app}-health", "namespace": ctx.namespace, "labels": labels},
                       gke_health_check_spec(service, port), opts=app_opts)
        self.register_outputs({"addresses": self.addresses})

    def _cloud(self, name: str, entry: EntrySettings, host: str, platform: str, target: Any) -> CloudAddress:
        cloud = target.cloud
        if platform == "local" or cloud is None:
            # The load balancer's address comes from the local cluster (cloud-provider-kind, minikube tunnel).
            return CloudAddress(addresses=pulumi.Output.from_input([]))
        if platform == "gke":
            from . import gke

            return gke.static_entry(self, name, entry, host, cloud)
        if platform == "eks":
            from . import eks

            return eks.static_entry(self, name, entry, host, cloud)
        from . import aks

        return aks.static_entry(self, name, entry, host, cloud)
