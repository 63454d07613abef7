"""The `archivist:ingress` section: how the public reaches search and graph.

Three modes:
- `gateway` (default on gke/eks/aks once `host` is set): a Gateway API `HTTPRoute`. By default the
  stack creates the whole entry (`gateway.create: true`): the controller (GKE's managed Gateway, or
  Envoy Gateway from its pinned chart), the `Gateway`, a certificate, a static address, the HTTP to
  HTTPS redirect, health checks and, with `dns.zone`, the DNS record. `gateway.create: false`
  adopts an existing Gateway (`gateway.name`, `gateway.namespace`).
- `ingress`: a plain `networking.k8s.io/v1` Ingress for a controller the cluster already has.
- `none`: nothing public (port-forward).
What the entry publishes, who may write and the rate limits: `writes`, `auth`, `limits`
(config/entry_access.py); by default only the application's reads.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any, Literal, cast

from .entry_access import EntryAccess, parse_access
from .kube_rules import check_annotations, dns_label, dns_subdomain
from .reader import ConfigReader
from .settings import IngressMode, IngressSettings

Controller = Literal["gke", "envoy"]
TlsIssuer = Literal["managed", "acme", "selfSigned", "none"]
CONTROLLERS: tuple[Controller, ...] = ("gke", "envoy")
TLS_ISSUERS: tuple[TlsIssuer, ...] = ("managed", "acme", "selfSigned", "none")
CLOUDS = ("gke", "eks", "aks")
# Let's Encrypt's ACME directories (https://letsencrypt.org/docs/acme-protocol-updates/).
ACME_SERVERS = {
    "production": "https://acme-v02.api.letsencrypt.org/directory",
    "staging": "https://acme-staging-v02.api.letsencrypt.org/directory",
}
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
_GCP_ZONE = re.compile(r"^[a-z]([-a-z0-9]{0,61}[a-z0-9])?$")  # a Cloud DNS managed zone name
_ROUTE53_ZONE = re.compile(r"^Z[A-Z0-9]{4,32}$")  # a Route 53 hosted zone id
_DOMAIN = re.compile(r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)+$")
_SUBNET = re.compile(r"^subnet-[0-9a-f]{8,17}$")
_RESOURCE_GROUP = re.compile(r"^[-\w._()]{1,90}$")


@dataclass(frozen=True)
class DnsSettings:
    zone: str | None = None  # gke: managed zone name; eks: hosted zone id; aks: DNS zone name
    resource_group: str | None = None  # aks: the DNS zone's resource group (default: the stack's)


@dataclass(frozen=True)
class EntrySettings:
    """The entry the stack creates (mode gateway, gateway.create true)."""

    controller: Controller
    namespace: str  # where the Gateway, its certificate and the ACME solver live
    gateway_name: str
    tls: TlsIssuer
    acme_email: str | None = None
    acme_server: str = ACME_SERVERS["production"]
    dns: DnsSettings = DnsSettings()
    public_subnet_ids: tuple[str, ...] = ()  # eks: the NLB's subnets (one per zone); empty: discovered
    address_count: int = 1  # eks: one Elastic IP per NLB subnet

    @property
    def serves_tls(self) -> bool:
        return self.tls != "none"


@dataclass(frozen=True)
class AdoptedGateway:
    name: str
    namespace: str | None
    section_name: str | None
    https: bool  # the adopted Gateway terminates TLS for `host` (decides the URL scheme)


def default_mode(platform: str, host: str | None) -> IngressMode:
    return "gateway" if platform in CLOUDS and host else "none"


def parse_ingress(root: ConfigReader, platform: str, cluster: Any) -> IngressSettings:
    reader = root.section("ingress")
    host = reader.hostname("host")
    mode = cast(IngressMode, reader.choice("mode", default_mode(platform, host), ("none", "ingress", "gateway")))
    for old, new in (("gatewayName", "gateway.name"), ("gatewayNamespace", "gateway.namespace")):
        if reader.has(old):
            reader.raw(old)
            reader.problems.add(reader.key(old), f"has moved: to adopt an existing Gateway set gateway.create: false and {new}")

    ingress_only = ("className", "tlsIssuer", "annotations")
    class_name = dns_subdomain(reader, "className", "IngressClass")
    tls_issuer = reader.optional_string("tlsIssuer")
    annotations = reader.mapping_of_strings("annotations")
    check_annotations(reader, "annotations", annotations)  # keys the API server accepts (kube_rules.py)
    if mode != "ingress":
        for key in ingress_only:
            if reader.has(key):
                reader.problems.add(reader.key(key), f"is only used with mode 'ingress' (mode is {mode!r})")

    entry: EntrySettings | None = None
    adopted: AdoptedGateway | None = None
    gateway = reader.section("gateway")
    tls = reader.section("tls")
    dns = reader.section("dns")
    subnets_given = reader.has("publicSubnetIds")
    subnets = tuple(reader.string_list("publicSubnetIds"))
    if mode == "gateway":
        create = gateway.boolean("create", True)
        if create:
            entry = _entry(gateway, tls, dns, platform, cluster, subnets, subnets_given, reader, host)
        else:
            adopted = _adopted(gateway)
            for section in (tls, dns):
                if section._raw:
                    reader.problems.add(section.path, "is only used when the stack creates the Gateway (gateway.create: true)")
                    section.reject_unknown(())
            if subnets_given:
                reader.problems.add(reader.key("publicSubnetIds"), "is only used when the stack creates the Gateway")
    else:
        for section in (gateway, tls, dns):
            if section._raw:
                reader.problems.add(section.path, f"is only used with mode 'gateway' (mode is {mode!r})")
                section.reject_unknown(())
        if subnets_given:
            reader.problems.add(reader.key("publicSubnetIds"), f"is only used with mode 'gateway' (mode is {mode!r})")
    access = None
    if mode != "none":
        access = parse_access(reader, controller=entry.controller if entry else None, platform=platform, mode=mode,
                              created=entry is not None)
    reader.reject_unknown()

    if mode != "none" and host is None:
        reader.problems.add(reader.key("host"), f"mode '{mode}' needs the public host name, e.g. archivist.example.com")
    return IngressSettings(
        mode=mode,
        host=host,
        class_name=class_name,
        tls_issuer=tls_issuer,
        gateway_name=(entry.gateway_name if entry else adopted.name if adopted else None),
        gateway_namespace=(entry.namespace if entry else adopted.namespace if adopted else None),
        annotations=annotations,
        entry=entry,
        adopted=adopted,
        access=access or EntryAccess(),
    )


def _adopted(gateway: ConfigReader) -> AdoptedGateway:
    # What an HTTPRoute's parentRef accepts (Gateway API httproutes CRD): the Gateway's object name
    # (a DNS subdomain), its namespace (a DNS label) and the listener's sectionName (a DNS subdomain).
    name = dns_subdomain(gateway, "name", "Gateway")
    namespace = dns_label(gateway, "namespace", "namespace")
    section = dns_subdomain(gateway, "sectionName", "Gateway listener")
    https = gateway.boolean("https", False)
    for key in ("controller",):
        if gateway.has(key):
            gateway.raw(key)
            gateway.problems.add(gateway.key(key), "is only used when the stack creates the Gateway (gateway.create: true)")
    gateway.reject_unknown()
    if gateway.optional_string("name") is None:  # absent or empty (an invalid name is refused above)
        gateway.problems.add(gateway.key("name"),
                             "an adopted Gateway (gateway.create: false) needs its name, and gateway.namespace if not this stack's")
    return AdoptedGateway(name=name or "", namespace=namespace, section_name=section, https=https)


def _entry(gateway: ConfigReader, tls: ConfigReader, dns: ConfigReader, platform: str, cluster: Any,
           subnets: tuple[str, ...], subnets_given: bool, reader: ConfigReader, host: str | None) -> EntrySettings:
    default_controller: Controller = "gke" if platform == "gke" else "envoy"
    controller = gateway.choice("controller", default_controller, CONTROLLERS)
    if controller == "gke" and platform != "gke":
        gateway.problems.add(gateway.key("controller"), f"'gke' is GKE's managed Gateway; on {platform} use 'envoy'")
        controller = "envoy"
    namespace = gateway.dns_label("namespace", "archivist-entry")
    name = gateway.dns_label("name", "archivist")
    for key in ("sectionName", "https"):
        if gateway.has(key):
            gateway.raw(key)
            gateway.problems.add(gateway.key(key), "is only used for an adopted Gateway (gateway.create: false)")
    gateway.reject_unknown()

    default_tls: TlsIssuer = "managed" if controller == "gke" else ("acme" if platform in CLOUDS else "none")
    issuer = tls.choice("issuer", default_tls, TLS_ISSUERS)
    if issuer == "managed" and controller != "gke":
        tls.problems.add(tls.key("issuer"), "'managed' means a Google-managed certificate, only with GKE's Gateway; "
                                           "use 'acme' (cert-manager and Let's Encrypt) or 'selfSigned'")
    if issuer in ("acme", "selfSigned") and controller == "gke":
        tls.problems.add(tls.key("issuer"), f"{issuer!r} needs cert-manager; GKE's Gateway uses a Google-managed "
                                           "certificate: use 'managed'")
    email = tls.optional_string("acmeEmail")
    server_name = tls.choice("acmeServer", "production", tuple(ACME_SERVERS))
    tls.reject_unknown()
    # The ACME account's contact is optional: cert-manager's ACMEIssuer `email` is not required
    # (tests/crds/cert-manager-v1.21.1/cert-manager.io_clusterissuers.yaml:90-97), and Let's Encrypt
    # ended its expiry e-mails on 2025-06-04 (letsencrypt.org blog "Ending Support for Expiration
    # Notification Emails", 2025-01). The monitoring's certificate-expiry alert watches renewals.
    if issuer == "acme":
        if email is not None and not _EMAIL.match(email):
            tls.problems.add(tls.key("acmeEmail"), f"{email!r} is not an e-mail address")
    elif email is not None:
        tls.problems.add(tls.key("acmeEmail"), f"is only used with issuer 'acme' (issuer is {issuer!r})")

    zone = dns.optional_string("zone")
    dns_rg = dns.optional_string("resourceGroup")
    dns.reject_unknown()
    if zone is not None:
        if platform == "local":
            dns.problems.add(dns.key("zone"), "a local cluster has no cloud DNS zone; create the record yourself")
        elif platform == "gke" and not _GCP_ZONE.match(zone):
            dns.problems.add(dns.key("zone"), f"{zone!r} is not a Cloud DNS managed zone name such as 'example-com'")
        elif platform == "eks" and not _ROUTE53_ZONE.match(zone):
            dns.problems.add(dns.key("zone"), f"{zone!r} is not a Route 53 hosted zone id such as 'Z0123456789ABCDEFGHIJ'")
        elif platform == "aks" and not _DOMAIN.match(zone):
            dns.problems.add(dns.key("zone"), f"{zone!r} is not an Azure DNS zone name such as 'example.com'")
        elif platform == "aks" and host and host != zone and not host.endswith("." + zone):
            dns.problems.add(dns.key("zone"), f"host {host!r} is not inside the zone {zone!r}")
    if dns_rg is not None:
        if platform != "aks":
            dns.problems.add(dns.key("resourceGroup"), "is only used on aks (the Azure DNS zone's resource group)")
        elif not _RESOURCE_GROUP.match(dns_rg):
            dns.problems.add(dns.key("resourceGroup"), f"{dns_rg!r} is not a resource group name")

    count = 1
    if subnets_given and platform != "eks":
        reader.problems.add(reader.key("publicSubnetIds"), "is only used on eks (the public subnets of the load balancer)")
    if platform == "eks":
        bad = [s for s in subnets if not _SUBNET.match(s)]
        if bad:
            reader.problems.add(reader.key("publicSubnetIds"), f"{', '.join(map(repr, bad))} not subnet ids such as 'subnet-0abc1234'")
        if subnets:
            count = len(subnets)
        elif getattr(cluster, "create", True):
            # The stack's VPC has one public subnet per zone, tagged kubernetes.io/role/elb (platforms/eks.py).
            count = int(getattr(cluster, "zone_count", 3) or 3)
        else:
            reader.problems.add(reader.key("publicSubnetIds"), "an adopted EKS cluster needs the public subnets (one per "
                                                               "zone) its load balancer uses, to give each an Elastic IP")
    return EntrySettings(controller=controller, namespace=namespace, gateway_name=name, tls=issuer,
                         acme_email=email, acme_server=ACME_SERVERS[server_name],
                         dns=DnsSettings(zone=zone, resource_group=dns_rg), public_subnet_ids=subnets,
                         address_count=count)
