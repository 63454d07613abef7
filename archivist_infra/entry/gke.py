"""GKE's entry cloud side: a global static IP, a Google-managed certificate, the DNS record.

The Gateway names the address (`NamedAddress`) and the certificate map (annotation
`networking.gke.io/certmap`), as GKE documents for Gateways
(https://cloud.google.com/kubernetes-engine/docs/how-to/deploying-gateways,
https://cloud.google.com/kubernetes-engine/docs/how-to/secure-gateway#secure-using-certificate-manager).
The certificate uses load-balancer authorization: it is issued once `host` resolves to the address.
"""

from __future__ import annotations

import pulumi
from pulumi_gcp import certificatemanager, compute, dns

from ..config.ingress import EntrySettings
from ..platforms.gcp_apis import CERTIFICATE_MANAGER, COMPUTE, DNS
from ..platforms.target import CloudContext
from .gateway import CloudAddress

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
