"""List prices for the monthly estimate of `capacity STACK`, one line per billed item, each with its source.

In US dollars, pay-as-you-go, no discounts, no taxes, for one reference region per cloud (the list
prices of other regions differ, typically by 0-25%). `verified` says whether the figure was read from
a stored copy of the provider's page on `checked`; the others are list prices as remembered on that
date and must be confirmed on the page before anyone relies on them (docs/cost.md says how).
Spot prices move daily: the spot lines apply the provider's typical discount, not a quote.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal

CHECKED = date(2026, 12, 6)
HOURS_PER_MONTH = Decimal(730)  # the clouds' own monthly convention (24 x 365 / 12)

REFERENCE_REGION = {"gke": "us-central1", "eks": "us-east-1", "aks": "eastus"}


@dataclass(frozen=True)
class Price:
    usd: Decimal
    unit: str  # "hour", "GiB-month", "month", "VM-hour"
    source: str
    verified: bool = False
    checked: date = CHECKED


def _p(usd: str, unit: str, source: str, *, verified: bool = False) -> Price:
    return Price(Decimal(usd), unit, source, verified)


_GCE = "cloud.google.com/compute/vm-instance-pricing (us-central1, on-demand)"
_GKE = "cloud.google.com/kubernetes-engine/pricing: cluster management fee $0.10 per cluster per hour"
_EC2 = "aws.amazon.com/ec2/pricing/on-demand (us-east-1, Linux)"
_AZVM = "azure.microsoft.com/pricing/details/virtual-machines/linux (East US, pay as you go)"

PRICES: dict[str, dict[str, Price]] = {
    "gke": {
        # Stored copy (cloud.google.com/kubernetes-engine/pricing, undated crawl) states the fee; the free
        # tier credit ($74.40/month per billing account) covers one zonal cluster, not a regional one.
        "control-plane": _p("0.10", "hour", _GKE, verified=True),
        "node:e2-standard-2": _p("0.067", "hour", _GCE),
        "node:e2-standard-4": _p("0.134", "hour", _GCE),
        "node:e2-standard-8": _p("0.268", "hour", _GCE),
        "node:n2-standard-4": _p("0.194", "hour", _GCE),
        "spot-discount": _p("0.70", "fraction", "cloud.google.com/spot-vms/pricing: Spot VMs 60-91% off (70% assumed)"),
        "disk:pd-balanced": _p("0.10", "GiB-month", "cloud.google.com/compute/disks-image-pricing (pd-balanced)"),
        "disk:pd-ssd": _p("0.17", "GiB-month", "cloud.google.com/compute/disks-image-pricing (pd-ssd)"),
        "files:standard": _p("0.20", "GiB-month", "cloud.google.com/filestore/pricing (Basic HDD / standard)"),
        "files:premium": _p("0.30", "GiB-month", "cloud.google.com/filestore/pricing (Basic SSD / premium)"),
        "files:zonal": _p("0.25", "GiB-month", "cloud.google.com/filestore/pricing (zonal)"),
        "files:enterprise": _p("0.60", "GiB-month", "cloud.google.com/filestore/pricing (enterprise / regional)"),
        "nat": _p("0.0014", "VM-hour", "cloud.google.com/nat/pricing (per VM-hour, up to 32 VMs; data processing extra)"),
        "lb": _p("0.025", "hour", "cloud.google.com/vpc/network-pricing#lb (first 5 forwarding rules)"),
        "registry": _p("0.10", "GiB-month", "cloud.google.com/artifact-registry/pricing (storage over 0.5 GB)"),
    },
    "eks": {
        "control-plane": _p("0.10", "hour", "aws.amazon.com/blogs/containers/amazon-eks-extended-support-for-kubernetes-"
                            "versions-pricing: $0.10 standard, $0.60 extended support", verified=True),
        "node:t3.large": _p("0.0832", "hour", _EC2),
        "node:m6i.large": _p("0.096", "hour", _EC2),
        "node:m6i.xlarge": _p("0.192", "hour", _EC2),
        "node:m6i.2xlarge": _p("0.384", "hour", _EC2),
        "node:m5.xlarge": _p("0.192", "hour", _EC2),
        "node:m7i.xlarge": _p("0.2016", "hour", _EC2),
        "spot-discount": _p("0.60", "fraction", "aws.amazon.com/ec2/spot/pricing: up to 90% off (60% assumed)"),
        "disk:gp3": _p("0.08", "GiB-month", "aws.amazon.com/ebs/pricing (gp3)"),
        "files:efs": _p("0.30", "GiB-month", "aws.amazon.com/efs/pricing (Standard, bills bytes stored)"),
        "nat": _p("0.045", "hour", "aws.amazon.com/vpc/pricing (NAT gateway hour; $0.045/GB processed extra)"),
        "lb": _p("0.0225", "hour", "aws.amazon.com/elasticloadbalancing/pricing (NLB hour; LCUs extra)"),
        "registry": _p("0.10", "GiB-month", "aws.amazon.com/ecr/pricing (storage)"),
    },
    "aks": {
        "control-plane": _p("0.10", "hour", "azure.microsoft.com/pricing/details/kubernetes-service (Standard tier; Free: $0)"),
        "node:Standard_D2s_v5": _p("0.096", "hour", _AZVM),
        "node:Standard_D4s_v5": _p("0.192", "hour", _AZVM),
        "node:Standard_D8s_v5": _p("0.384", "hour", _AZVM),
        "spot-discount": _p("0.70", "fraction", "azure.microsoft.com/pricing/spot-advisor: up to 90% off (70% assumed)"),
        "disk:premium-ssd": _p("0.15", "GiB-month", "azure.microsoft.com/pricing/details/managed-disks (Premium SSD, "
                               "per P tier; ~$0.15/GiB-month across P4-P30)"),
        "os-disk": _p("0.075", "GiB-month", "azure.microsoft.com/pricing/details/managed-disks (Standard SSD OS disk)"),
        "files:premium": _p("0.16", "GiB-month", "azure.microsoft.com/pricing/details/storage/files (premium, provisioned)"),
        "files:standard": _p("0.06", "GiB-month", "azure.microsoft.com/pricing/details/storage/files (transaction optimized, used)"),
        "lb": _p("0.025", "hour", "azure.microsoft.com/pricing/details/load-balancer (Standard, first 5 rules)"),
        "registry": _p("0.667", "day", "azure.microsoft.com/pricing/details/container-registry (Standard SKU per day)"),
    },
}


def price(platform: str, key: str) -> Price | None:
    return PRICES.get(platform, {}).get(key)
