"""AKS's entry cloud side: a static Standard public IP in the stack's resource group, the DNS record.

The proxy Service takes the address through `azure-pip-name` and
`azure-load-balancer-resource-group`; because the IP is outside the node resource group, the
cluster's identity needs Network Contributor on its group
(https://learn.microsoft.com/azure/aks/static-ip).
"""

from __future__ import annotations

import pulumi
from pulumi_azure_native import authorization, containerservice, dns, network

from ..config.ingress import EntrySettings
from ..platforms.target import CloudContext
from .address import CloudAddress

PIP_NAME = "service.beta.kubernetes.io/azure-pip-name"
LB_RESOURCE_GROUP = "service.beta.kubernetes.io/azure-load-balancer-resource-group"
# Built-in role "Network Contributor".
NETWORK_CONTRIBUTOR = "4d97b98b-1d4f-4787-a291-c67834d212e7"


def relative_name(host: str, zone: str) -> str:
    """The record name inside the zone: '@' for the apex, else the labels in front of the zone."""
    if host == zone:
        return "@"
    return host.removesuffix("." + zone)


def static_entry(parent: pulumi.Resource, name: str, entry: EntrySettings, host: str, cloud: CloudContext) -> CloudAddress:
    assert cloud.resource_group is not None  # the AKS platform always sets it
    opts = pulumi.ResourceOptions(parent=parent)
    ip = network.PublicIPAddress(
        f"{name}-ip", resource_group_name=cloud.resource_group, location=cloud.region,
        sku=network.PublicIPAddressSkuArgs(name="Standard", tier="Regional"),
        public_ip_allocation_method="Static", public_ip_address_version="IPv4", opts=opts)
    invoke = pulumi.InvokeOutputOptions(parent=parent, depends_on=list(cloud.depends_on))
    cluster = containerservice.get_managed_cluster_output(resource_group_name=cloud.resource_group,
                                                          resource_name=cloud.cluster_name, opts=invoke)
    client = authorization.get_client_config_output(opts=pulumi.InvokeOutputOptions(parent=parent))
    # The cloud provider only reads and joins this address (Microsoft.Network/publicIPAddresses/read and
    # /join/action), so Network Contributor is scoped to it, not to the resource group, which also holds the
    # Key Vault, the backups and the registry (audit N13).
    authorization.RoleAssignment(
        f"{name}-lb-network",
        principal_id=cluster.identity.apply(lambda i: (i.principal_id if i else None) or ""),
        principal_type="ServicePrincipal",
        role_definition_id=pulumi.Output.concat("/subscriptions/", client.subscription_id,
                                                "/providers/Microsoft.Authorization/roleDefinitions/", NETWORK_CONTRIBUTOR),
        scope=ip.id, opts=opts)
    address = ip.ip_address.apply(lambda a: [a] if a else [])
    record = None
    if entry.dns.zone:
        zone = entry.dns.zone
        rs = dns.RecordSet(f"{name}-dns", zone_name=zone, resource_group_name=entry.dns.resource_group or cloud.resource_group,
                           relative_record_set_name=relative_name(host, zone), record_type="A", ttl=300,
                           a_records=[dns.ARecordArgs(ipv4_address=ip.ip_address)], opts=opts)
        record = rs.fqdn
    return CloudAddress(
        addresses=address,
        service_annotations={PIP_NAME: ip.name, LB_RESOURCE_GROUP: cloud.resource_group},
        dns_record=record,
    )
