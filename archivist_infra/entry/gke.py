"""GKE's entry cloud side: a global static IP, a Google-managed certificate, the DNS record.

The Gateway names the address (`NamedAddress`) and the certificate map (annotation
`networking.gke.io/certmap`), as GKE documents for Gateways
(https://cloud.google.com/kubernetes-engine/docs/how-to/deploying-gateways,
https://cloud.google.com/kubernetes-engine/docs/how-to/secure-gateway#secure-using-certificate-manager).
The certificate uses load-balancer authorization: it is issued once `host` resolves to the address.
"""

from __future__ import annotations

import hashlib

import pulumi
from pulumi_gcp import certificatemanager, compute, dns, iap

from ..config.entry_access import EntryLimits
from ..config.ingress import EntrySettings
from ..platforms.gcp_apis import CERTIFICATE_MANAGER, COMPUTE, DNS, IAP
from ..platforms.target import CloudContext
from .address import CloudAddress
from .policies import armor_rules

CERTMAP_ANNOTATION = "networking.gke.io/certmap"


def static_entry(parent: pulumi.Resource, name: str, entry: EntrySettings, host: str, cloud: CloudContext) -> CloudAddress:
    apis = [COMPUTE] + ([CERTIFICATE_MANAGER] if entry.serves_tls else []) + ([DNS] if entry.dns.zone else [])
    opts = pulumi.ResourceOptions(parent=parent, depends_on=cloud.needs(*apis))
    address = compute.GlobalAddress(f"{name}-address", project=cloud.project, address_type="EXTERNAL",
                                    ip_version="IPV4", description=f"Archivist public entry for {host}", opts=opts)
    annotations: dict[str, pulumi.Input[str]] = {}
    if entry.serves_tls:
        cert = certificatemanager.Certificate(
            f"{name}-certificate", project=cloud.project, description=f"Google-managed certificate for {host}",
            managed=certificatemanager.CertificateManagedArgs(domains=[host]), opts=opts)
        cert_map = certificatemanager.CertificateMap(f"{name}-certmap", project=cloud.project,
                                                     description="Archivist Gateway certificates", opts=opts)
        certificatemanager.CertificateMapEntry(f"{name}-certmap-entry", project=cloud.project, map=cert_map.name,
                                               hostname=host, certificates=[cert.id], opts=opts)
        annotations[CERTMAP_ANNOTATION] = cert_map.name
    record = None
    if entry.dns.zone:
        rs = dns.RecordSet(f"{name}-dns", project=cloud.project, managed_zone=entry.dns.zone, name=f"{host}.",
                           type="A", ttl=300, rrdatas=[address.address], opts=opts)
        record = rs.name
    return CloudAddress(
        addresses=address.address.apply(lambda a: [a] if a else []),
        gateway_addresses=[{"type": "NamedAddress", "value": address.name}],
        gateway_annotations=annotations,
        dns_record=record,
    )


def armor_policy(parent: pulumi.Resource, name: str, limits: EntryLimits, cloud: CloudContext) -> compute.SecurityPolicy:
    """The Cloud Armor policy every backend Service of the entry uses (GCPBackendPolicy securityPolicy).

    Throttle rules from entry/policies.armor_rules, counted over 60 s; over the limit: 429. Cloud
    Armor counts per rule and approximately (https://cloud.google.com/armor/docs/rate-limiting-overview)."""
    rules = [
        compute.SecurityPolicyRuleArgs(
            priority=r.priority, action="throttle", description=r.description,
            match=(compute.SecurityPolicyRuleMatchArgs(expr=compute.SecurityPolicyRuleMatchExprArgs(expression=r.expression))
                   if r.expression else
                   compute.SecurityPolicyRuleMatchArgs(versioned_expr="SRC_IPS_V1",
                                                       config=compute.SecurityPolicyRuleMatchConfigArgs(src_ip_ranges=["*"]))),
            rate_limit_options=compute.SecurityPolicyRuleRateLimitOptionsArgs(
                conform_action="allow", exceed_action="deny(429)", enforce_on_key=r.key,
                rate_limit_threshold=compute.SecurityPolicyRuleRateLimitOptionsRateLimitThresholdArgs(
                    count=r.per_minute, interval_sec=60)))
        for r in armor_rules(limits)
    ]
    # The default rule (lowest priority) must be present; everything the throttles let through is allowed.
    rules.append(compute.SecurityPolicyRuleArgs(
        priority=2147483647, action="allow", description="default",
        match=compute.SecurityPolicyRuleMatchArgs(versioned_expr="SRC_IPS_V1",
                                                  config=compute.SecurityPolicyRuleMatchConfigArgs(src_ip_ranges=["*"]))))
    return compute.SecurityPolicy(f"{name}-armor", project=cloud.project, type="CLOUD_ARMOR",
                                  description="Archivist public entry: per-client and budget rate limits",
                                  rules=rules, opts=pulumi.ResourceOptions(
                                      parent=parent, depends_on=[*cloud.depends_on, *cloud.needs(COMPUTE)]))


def iap_writers(parent: pulumi.Resource, name: str, writers: tuple[str, ...], cloud: CloudContext) -> None:
    """Who passes IAP: `IAP-secured Web App User` on the project's compute backend services. GKE names
    the backend services itself, so the grant is at that level (every IAP backend of the project)."""
    assert cloud.project is not None  # the GKE platform always sets it (platforms/gke.py)
    for member in writers:
        # Named after the member, so reordering the list replaces nothing.
        key = hashlib.sha256(member.encode()).hexdigest()[:10]
        iap.WebTypeComputeIamMember(f"{name}-iap-writer-{key}", project=cloud.project,
                                    role="roles/iap.httpsResourceAccessor", member=member,
                                    opts=pulumi.ResourceOptions(parent=parent,
                                                                depends_on=[*cloud.depends_on, *cloud.needs(IAP)]))
