"""Who really connects to search and graph when the stack creates the entry (NetworkPolicy peers).

- GKE's managed Gateway (`gke-l7-global-external-managed`) is a Google global external Application
  Load Balancer with container-native (NEG) backends: its front ends and health checkers connect to
  the pod IPs directly from 35.191.0.0/16 and 130.211.0.0/22
  (https://cloud.google.com/load-balancing/docs/health-check-concepts#ip-ranges and
  https://cloud.google.com/load-balancing/docs/https#firewall-rules; GKE opens the same two ranges in
  the VPC firewall for Gateways, https://cloud.google.com/kubernetes-engine/docs/concepts/firewall-rules).
- Envoy Gateway runs its proxies in the controller's namespace (`envoy-gateway-system`) with the
  labels of `EnvoyAppLabel()` (envoyproxy/gateway v1.9.0
  internal/infrastructure/kubernetes/proxy/resource.go:47-53); only those pods call the backends.
"""

from __future__ import annotations

from typing import Any

GOOGLE_FRONT_END_RANGES = ("35.191.0.0/16", "130.211.0.0/22")
ENVOY_GATEWAY_NAMESPACE = "envoy-gateway-system"
ENVOY_PROXY_LABELS = {
    "app.kubernetes.io/name": "envoy",
    "app.kubernetes.io/component": "proxy",
    "app.kubernetes.io/managed-by": "envoy-gateway",
}


def entry_peers(controller: str) -> list[dict[str, Any]]:
    """NetworkPolicy `from` peers for the traffic a created entry sends to the backends."""
    if controller == "gke":
        return [{"ipBlock": {"cidr": cidr}} for cidr in GOOGLE_FRONT_END_RANGES]
    return [{
        "namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": ENVOY_GATEWAY_NAMESPACE}},
        "podSelector": {"matchLabels": dict(ENVOY_PROXY_LABELS)},
    }]
