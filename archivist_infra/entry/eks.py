"""EKS's entry cloud side: one Elastic IP per load-balancer subnet, and the Route 53 record.

Envoy Gateway's proxy Service becomes a Network Load Balancer through the annotations the
Kubernetes AWS cloud provider reads: `aws-load-balancer-type: nlb`,
`aws-load-balancer-eip-allocations` (one allocation per subnet, kubernetes/kubernetes#69263) and,
when the subnets are given, `aws-load-balancer-subnets` (kubernetes/kubernetes#97431). Without
them it uses the public subnets tagged `kubernetes.io/role/elb`, one per zone, which the stack's
own VPC has (platforms/eks.py).
"""

from __future__ import annotations

import pulumi
from pulumi_aws import ec2, route53

from ..config.ingress import EntrySettings
from ..platforms.target import CloudContext
from .address import CloudAddress

LB_TYPE = "service.beta.kubernetes.io/aws-load-balancer-type"
EIP_ALLOCATIONS = "service.beta.kubernetes.io/aws-load-balancer-eip-allocations"
SUBNETS = "service.beta.kubernetes.io/aws-load-balancer-subnets"


def static_entry(parent: pulumi.Resource, name: str, entry: EntrySettings, host: str, cloud: CloudContext) -> CloudAddress:
    opts = pulumi.ResourceOptions(parent=parent, provider=cloud.provider)
    eips = [ec2.Eip(f"{name}-eip-{i}", domain="vpc", tags={"Name": f"archivist-entry-{i}", "archivist.io/host": host},
                    opts=opts)
            for i in range(entry.address_count)]
    annotations: dict[str, pulumi.Input[str]] = {
        LB_TYPE: "nlb",
        EIP_ALLOCATIONS: pulumi.Output.all(*[e.allocation_id for e in eips]).apply(lambda ids: ",".join(ids)),
    }
    if entry.public_subnet_ids:
        annotations[SUBNETS] = ",".join(entry.public_subnet_ids)
    ips = pulumi.Output.all(*[e.public_ip for e in eips]).apply(lambda a: [str(x) for x in a if x])
    record = None
    if entry.dns.zone:
        rec = route53.Record(f"{name}-dns", zone_id=entry.dns.zone, name=host, type="A", ttl=300, records=ips, opts=opts)
        record = rec.fqdn
    return CloudAddress(addresses=ips, service_annotations=annotations, dns_record=record)
