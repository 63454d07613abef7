"""NetworkPolicies: default deny, DNS, and exactly the connections Archivist makes.

The flows are data (`flow_table`), computed from the settings alone, and the policies are
generated from them: one policy per destination (who may call it) and one per source
(whom it may call). A connection needs both sides, so a typo on either side fails closed.
Tests evaluate the rendered policies against the same table, not against this code.

Kubelet probes come from the node and are not subject to these policies in the common
CNIs (Calico, Cilium, GKE Dataplane V2), so no rule is needed for health checks.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass

import pulumi
import pulumi_kubernetes as k8s

from ..config.security import DEFAULT_INGRESS_NAMESPACES, NetworkPolicySettings
from ..config.settings import Settings
from ..entry.sources import entry_peers
from ..monitoring.exporters import (
    BLACKBOX,
    BLACKBOX_PORT,
    KAFKA_EXPORTER,
    KAFKA_EXPORTER_PORT,
    REDIS_EXPORTER,
    REDIS_EXPORTER_PORT,
    probes_public_entry,
)
from .context import TierContext
from .kafka import CLIENT_PORT as KAFKA_PORT
from .kafka import CONTROLLER_PORT as KAFKA_CONTROLLER_PORT
from .lag_scaling import KEDA_NAMESPACE, KEDA_OPERATOR_LABELS
from .neo4j import BOLT_PORT
from .pods import Spec
from .preflight import KAFKA_TOPIC, MODEL_CHECK
from .qdrant import HTTP_PORT as QDRANT_HTTP_PORT
from .qdrant import P2P_PORT as QDRANT_P2P_PORT
from .redis import PORT as REDIS_PORT

# Pseudo-workloads: endpoints outside the namespace.
DNS = "@kube-dns"
INTERNET = "@internet"
INGRESS_CONTROLLER = "@ingress-controller"
KEDA_OPERATOR = "@keda-operator"  # reads the graph's queue-stats (or the graph-builder group's lag)
MONITORING = "@monitoring"  # the Prometheus (or GMP collectors) in archivist:monitoring.namespace

WORKER, SEARCH, GRAPH = "archivist-worker", "archivist-search", "archivist-graph"
NEO4J, KAFKA, QDRANT, REDIS = "neo4j", "kafka", "qdrant", "redis"
WORKLOADS = (NEO4J, KAFKA, QDRANT, REDIS, WORKER, SEARCH, GRAPH, REDIS_EXPORTER, KAFKA_EXPORTER, BLACKBOX,
             MODEL_CHECK, KAFKA_TOPIC)

# Public internet only: private ranges would reach other tenants' services, and the cloud
# metadata endpoint hands out the node's credentials.
PRIVATE_RANGES = ("10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16", "169.254.169.254/32")
HTTPS = 443
HTTP = 80
DNS_PORT = 53


@dataclass(frozen=True, order=True)
class Flow:
    source: str  # a workload name (pod label app.kubernetes.io/name) or a pseudo-workload
    destination: str
    port: int
    protocol: str = "TCP"


def _network_settings(settings: Settings) -> NetworkPolicySettings:
    security = getattr(settings, "security", None)
    return security.network_policy if security is not None else NetworkPolicySettings()


def ingress_namespaces(settings: Settings) -> tuple[str, ...]:
    """Namespaces whose pods may call the public services: the configured list plus the Gateway's own.

    Not used when the stack creates the entry: then its real sources are known (`_entry_peers`)."""
    names = list(_network_settings(settings).ingress_controller_namespaces or ())
    gateway_ns = settings.ingress.gateway_namespace
    if settings.ingress.mode == "gateway" and gateway_ns and gateway_ns not in names:
        names.append(gateway_ns)
    return tuple(names)


def flow_table(settings: Settings) -> tuple[Flow, ...]:
    """Every connection the stack needs (besides DNS, which every pod gets), sorted."""
    flows: set[Flow] = set()

    def allow(src: str, dst: str, *ports: int) -> None:
        flows.update(Flow(src, dst, p) for p in ports)

    # Only connections the (patched) code makes. The worker's `process` reaches Redis for its hash
    # cache (cache.redis.addr, internal/worker/pool.go:273-290) and Gemini; the patched batch publishes
    # `paper.processed` to graph.kafka.brokers (the pinned producer sent to localhost:9094, pool.go:56-61).
    # It opens no Neo4j or Qdrant.
    allow(WORKER, REDIS, REDIS_PORT)
    allow(WORKER, KAFKA, KAFKA_PORT)
    # Search: its Redis cache (REDIS_URL); its vector index is embedded, not the Qdrant server.
    allow(SEARCH, REDIS, REDIS_PORT)
    # Graph: Neo4j (bolt), Kafka (consumer), Qdrant over REST (QDRANT_URL); it imports no Redis client.
    allow(GRAPH, NEO4J, BOLT_PORT)
    allow(GRAPH, KAFKA, KAFKA_PORT)
    allow(GRAPH, QDRANT, QDRANT_HTTP_PORT)
    # The patched graph consumer indexes each paper it adds through search's API (SEARCH_SERVICE_URL).
    if settings.search.port is not None:
        allow(GRAPH, SEARCH, settings.search.port)
    # Pre-flight Jobs (tiers/preflight.py): the model check asks the Gemini API, the topic Job the brokers.
    gemini = getattr(settings, "gemini", None)
    if gemini is None or gemini.preflight:
        allow(MODEL_CHECK, INTERNET, HTTPS)
    allow(KAFKA_TOPIC, KAFKA, KAFKA_PORT)
    # Gemini (HTTPS) from every app; Neo4j fetches its plugins at start.
    for app in (WORKER, SEARCH, GRAPH):
        allow(app, INTERNET, HTTPS)
    # Search downloads papers from the links providers return, and arXiv's are http://
    # (app/providers/arxiv_provider.py:71-76,116-125): port 80, public addresses only.
    allow(SEARCH, INTERNET, HTTP)
    if settings.neo4j.plugins:
        allow(NEO4J, INTERNET, HTTPS)
    # Brokers replicate on the client listener and vote on the controller listener. With one
    # broker this is the pod talking to itself, which is harmless to allow.
    allow(KAFKA, KAFKA, KAFKA_PORT, KAFKA_CONTROLLER_PORT)
    if settings.qdrant.distributed:
        # Raft consensus on p2p; shard transfers and cluster status through the REST API.
        allow(QDRANT, QDRANT, QDRANT_P2P_PORT, QDRANT_HTTP_PORT)
    if getattr(settings, "keda", None) is not None and settings.keda.enabled:
        if settings.keda.signal == "queue" and settings.graph.port is not None:
            # metrics-api with aggregateFromKubeServiceEndpoints: the operator calls every graph pod.
            allow(KEDA_OPERATOR, GRAPH, settings.graph.port)
        else:
            allow(KEDA_OPERATOR, KAFKA, KAFKA_PORT)
    _monitoring_flows(settings, allow)
    # Only the services that get routes are reachable from the controllers, and only when exposed.
    if settings.ingress.mode != "none" and (settings.ingress.entry is not None or ingress_namespaces(settings)):
        for exposed in settings.apps:
            if exposed.port is not None:
                allow(INGRESS_CONTROLLER, f"archivist-{exposed.name}", exposed.port)
    return tuple(sorted(flows))


def _monitoring_flows(settings: Settings, allow: Callable[..., None]) -> None:
    """Prometheus scrapes Qdrant and the exporters; each exporter reaches only what it watches."""
    monitoring = getattr(settings, "monitoring", None)
    if monitoring is not None and not monitoring.enabled:
        return
    allow(MONITORING, QDRANT, QDRANT_HTTP_PORT)
    allow(MONITORING, REDIS_EXPORTER, REDIS_EXPORTER_PORT)
    allow(MONITORING, KAFKA_EXPORTER, KAFKA_EXPORTER_PORT)
    allow(MONITORING, BLACKBOX, BLACKBOX_PORT)
    allow(REDIS_EXPORTER, REDIS, REDIS_PORT)
    # The exporter bootstraps through the Service, then talks to every broker on the same port.
    allow(KAFKA_EXPORTER, KAFKA, KAFKA_PORT)
    # Blackbox probes: the APIs' health checks and Neo4j's bolt port (Community has no metrics endpoint).
    for app in (settings.search, settings.graph):
        if app.port is not None:
            allow(BLACKBOX, f"archivist-{app.name}", app.port)
    allow(BLACKBOX, NEO4J, BOLT_PORT)
    if probes_public_entry(settings):
        allow(BLACKBOX, INTERNET, HTTPS)  # the public entry's certificate


def monitoring_namespace(settings: Settings) -> str:
    monitoring = getattr(settings, "monitoring", None)
    return monitoring.namespace if monitoring is not None else "monitoring"


def _ports(flows: list[Flow]) -> list[Spec]:
    return [{"protocol": f.protocol, "port": f.port} for f in sorted(flows)]


def _pods(app: str) -> Spec:
    return {"podSelector": {"matchLabels": TierContext.selector(app)}}


def _peers(endpoint: str, settings: Settings) -> list[Spec]:
    if endpoint == INTERNET:
        return [{"ipBlock": {"cidr": "0.0.0.0/0", "except": list(PRIVATE_RANGES)}}]
    if endpoint == MONITORING:
        return [{"namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": monitoring_namespace(settings)}}}]
    if endpoint == INGRESS_CONTROLLER:
        if settings.ingress.entry is not None:
            # The entry the stack creates: exactly its proxies, or the cloud load balancer's ranges.
            return entry_peers(settings.ingress.entry.controller)
        return [{"namespaceSelector": {"matchExpressions": [
            {"key": "kubernetes.io/metadata.name", "operator": "In", "values": list(ingress_namespaces(settings))},
        ]}}]
    if endpoint == KEDA_OPERATOR:
        return [{"namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": KEDA_NAMESPACE}},
                 "podSelector": {"matchLabels": dict(KEDA_OPERATOR_LABELS)}}]
    return [_pods(endpoint)]


def policy_specs(settings: Settings) -> dict[str, Spec]:
    """Policy name -> NetworkPolicy spec, for every policy the stack creates."""
    specs: dict[str, Spec] = {
        # Selecting every pod with no rules: nothing in or out unless a policy below allows it.
        "default-deny-all": {"podSelector": {}, "policyTypes": ["Ingress", "Egress"]},
        "allow-dns-egress": {
            "podSelector": {},
            "policyTypes": ["Egress"],
            "egress": [{
                "to": [{
                    "namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": "kube-system"}},
                    "podSelector": {"matchLabels": {"k8s-app": "kube-dns"}},
                }],
                "ports": [{"protocol": proto, "port": DNS_PORT} for proto in ("UDP", "TCP")],
            }],
        },
    }
    by_destination: dict[str, dict[str, list[Flow]]] = defaultdict(lambda: defaultdict(list))
    by_source: dict[str, dict[str, list[Flow]]] = defaultdict(lambda: defaultdict(list))
    for flow in flow_table(settings):
        if flow.destination in WORKLOADS:
            by_destination[flow.destination][flow.source].append(flow)
        if flow.source in WORKLOADS:
            by_source[flow.source][flow.destination].append(flow)
    for app, sources in sorted(by_destination.items()):
        specs[f"{app}-ingress"] = {
            **_pods(app),
            "policyTypes": ["Ingress"],
            "ingress": [{"from": _peers(src, settings), "ports": _ports(flows)} for src, flows in sorted(sources.items())],
        }
    for app, destinations in sorted(by_source.items()):
        specs[f"{app}-egress"] = {
            **_pods(app),
            "policyTypes": ["Egress"],
            "egress": [{"to": _peers(dst, settings), "ports": _ports(flows)} for dst, flows in sorted(destinations.items())],
        }
    return specs


class NetworkPolicies(pulumi.ComponentResource):
    """Every NetworkPolicy of the namespace; depends on nothing but the namespace."""

    def __init__(self, name: str, ctx: TierContext, settings: Settings,
                 opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("archivist:security:NetworkPolicies", name, None, opts)
        labels = {"app.kubernetes.io/part-of": ctx.part_of, "app.kubernetes.io/managed-by": "pulumi",
                  "app.kubernetes.io/component": "network-policy"}
        self.policies = [
            k8s.networking.v1.NetworkPolicy(
                f"netpol-{policy}",
                metadata={"name": policy, "namespace": ctx.namespace, "labels": labels},
                spec=spec,
                opts=ctx.opts(self),
            )
            for policy, spec in policy_specs(settings).items()
        ]
        self.register_outputs({"names": [p.metadata.name for p in self.policies]})


__all__ = ["DEFAULT_INGRESS_NAMESPACES", "Flow", "NetworkPolicies", "flow_table", "policy_specs"]
