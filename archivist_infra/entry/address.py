"""What a cloud's entry module (gke.py, eks.py, aks.py) hands back to the Gateway (gateway.py).

Its own module so the cloud modules and gateway.py (which imports them) do not import each other.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import pulumi

Spec = dict[str, Any]


@dataclass(frozen=True)
class CloudAddress:
    """What the cloud module hands back: the static address and how the Gateway uses it."""

    addresses: pulumi.Output[list[str]]
    gateway_addresses: list[Spec] = field(default_factory=list)  # Gateway spec.addresses (GKE)
    gateway_annotations: dict[str, pulumi.Input[str]] = field(default_factory=dict)  # GKE certmap
    service_annotations: dict[str, pulumi.Input[str]] = field(default_factory=dict)  # Envoy's LB Service
    dns_record: pulumi.Output[str] | None = None  # the record the stack created
