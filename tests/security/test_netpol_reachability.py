"""Reachability over the RENDERED NetworkPolicies, evaluated independently of the generator."""

from __future__ import annotations

from typing import Any

import pytest
from helpers import stack_settings
from netpol_eval import (
    INTERNET,
    KUBE_DNS,
    METADATA,
    PRIVATE,
    Endpoint,
    allowed,
    network_policies,
    pod_in,
    workload_pods,
)

from archivist_infra.tiers.network_policies import Flow, flow_table

W, S, G = "archivist-worker", "archivist-search", "archivist-graph"
# What the pinned code connects to: the worker's hash cache (Redis, internal/worker/pool.go:273-290)
# and Gemini; search's Redis cache, Gemini and http:// PDF links (arxiv_provider.py:71-76); graph's
# Neo4j, Kafka, Qdrant REST and Gemini (graph-service/app/main.py:113-164). Nothing else.
COMMON = {
    (W, "redis", 6379),
    (S, "redis", 6379),
    (G, "neo4j", 7687), (G, "kafka", 9092), (G, "qdrant", 6333),
    # The patched pipeline (notes/app-contract.md): the batch publishes paper.processed, graph indexes in search.
    (W, "kafka", 9092), (G, S, 8000),
    # Pre-flight Jobs (tiers/preflight.py): the Gemini model check and the topic creation.
    ("archivist-model-check", "@internet", 443), ("archivist-kafka-topic", "kafka", 9092),
    (W, "@internet", 443), (S, "@internet", 443), (G, "@internet", 443), (S, "@internet", 80),
    ("kafka", "kafka", 9092), ("kafka", "kafka", 9093),
    # Both stacks run Kafka with 3 partitions, so KEDA scales graph on its queue-stats, read from every graph pod.
    ("@keda-operator", G, 8081),
    # Monitoring: Prometheus scrapes Qdrant and the exporters; each exporter reaches what it watches.
    ("@monitoring", "qdrant", 6333), ("@monitoring", "redis-exporter", 9121),
    ("@monitoring", "kafka-exporter", 9308), ("@monitoring", "blackbox-exporter", 9115),
    ("redis-exporter", "redis", 6379), ("kafka-exporter", "kafka", 9092),
    ("blackbox-exporter", S, 8000), ("blackbox-exporter", G, 8081), ("blackbox-exporter", "neo4j", 7687),
}
# The hand-written tables the generator must reproduce: dev has no plugins, one Qdrant
# node and no ingress; prod downloads apoc, runs Qdrant distributed and has a Gateway.
EXPECTED = {
    "dev": COMMON,
    "prod": COMMON | {
        ("neo4j", "@internet", 443), ("qdrant", "qdrant", 6335), ("qdrant", "qdrant", 6333),
        ("@ingress-controller", S, 8000), ("@ingress-controller", G, 8081),
        ("blackbox-exporter", "@internet", 443),  # the public entry's certificate
    },
}
# Every port any Archivist component listens on or calls, plus the worker's phantom 8080.
PORTS = (53, 80, 443, 6333, 6334, 6335, 6379, 7474, 7687, 8000, 8080, 8081, 9092, 9093, 9094, 9115, 9121, 9308)


@pytest.fixture(scope="module", params=["dev", "prod"])
def stack(request: pytest.FixtureRequest) -> tuple[str, list[dict[str, Any]]]:
    objects = request.getfixturevalue(f"{request.param}_objects")
    return request.param, objects


# Prod is GKE with the entry the stack creates: its traffic comes from Google's front ends.
GOOGLE_FRONT_END = Endpoint(name="gfe", ip="35.191.10.20")
GOOGLE_HEALTH_CHECKER = Endpoint(name="health-checker", ip="130.211.1.9")


def _endpoints(objects: list[dict[str, Any]]) -> dict[str, Endpoint]:
    pods: dict[str, Endpoint] = dict(workload_pods(objects))
    pods["@internet"] = INTERNET
    pods["@ingress-controller"] = GOOGLE_FRONT_END
    pods["@keda-operator"] = pod_in("keda", "keda-operator", {"app.kubernetes.io/name": "keda-operator"})
    pods["@monitoring"] = pod_in("monitoring", "prometheus", {"app.kubernetes.io/name": "prometheus"}, ip="10.9.0.6")
    return pods


def test_flow_table_matches_hand_written(stack: tuple[str, list[dict[str, Any]]]) -> None:
    name, _ = stack
    got = {(f.source, f.destination, f.port) for f in flow_table(stack_settings(name))}
    assert got == EXPECTED[name]
    assert all(f.protocol == "TCP" for f in flow_table(stack_settings(name)))


def test_every_flow_is_allowed(stack: tuple[str, list[dict[str, Any]]]) -> None:
    name, objects = stack
    policies, ends = network_policies(objects), _endpoints(objects)
    refused = [f for f in EXPECTED[name] if not allowed(policies, ends[f[0]], ends[f[1]], f[2])]
    assert refused == []


def test_exactly_the_flow_table_is_allowed(stack: tuple[str, list[dict[str, Any]]]) -> None:
    """The whole matrix: any (source, destination, port) not in the table is refused."""
    name, objects = stack
    policies, ends = network_policies(objects), _endpoints(objects)
    got = {
        (s, d, port)
        for s, src in ends.items() for d, dst in ends.items() for port in PORTS
        if not (s.startswith("@") and d.startswith("@"))  # traffic between outsiders is not ours
        # Google's front ends are public addresses: the apps' internet egress covers them as it covers
        # Gemini's; only what they may open towards the pods is the entry's business.
        if d != "@ingress-controller"
        if allowed(policies, src, dst, port)
    }
    assert got == EXPECTED[name]


def test_every_pod_resolves_names(stack: tuple[str, list[dict[str, Any]]]) -> None:
    _, objects = stack
    policies = network_policies(objects)
    for pod in workload_pods(objects).values():
        assert allowed(policies, pod, KUBE_DNS, 53, "UDP"), pod.name
        assert allowed(policies, pod, KUBE_DNS, 53, "TCP"), pod.name
        # DNS means kube-dns only: not a resolver elsewhere in kube-system or on the internet.
        assert not allowed(policies, pod, pod_in("kube-system", "other-dns", {"k8s-app": "other"}), 53, "UDP")
        assert not allowed(policies, pod, INTERNET, 53, "UDP")


FORBIDDEN = [
    (S, "neo4j", 7687), (S, "kafka", 9092), (W, G, 8081), (S, "qdrant", 6333),
    # Connections the code never makes (audit #9, #10, #19).
    (W, "neo4j", 7687), (W, "qdrant", 6333), (W, "qdrant", 6334), (W, "kafka", 9094), (G, "redis", 6379),
    # The pre-flight Jobs reach only what they check.
    ("archivist-model-check", "@internet", 80), ("archivist-model-check", "kafka", 9092),
    ("archivist-model-check", "redis", 6379), ("archivist-kafka-topic", "@internet", 443),
    ("archivist-kafka-topic", "neo4j", 7687), (S, G, 8081),
    (W, "@internet", 80), (G, "@internet", 80),
    ("redis", "neo4j", 7687), ("redis", "@internet", 443), ("redis", "kafka", 9092),
    ("qdrant", "@internet", 443), ("kafka", "@internet", 443),
]


@pytest.mark.parametrize(("src", "dst", "port"), FORBIDDEN)
def test_forbidden_paths(stack: tuple[str, list[dict[str, Any]]], src: str, dst: str, port: int) -> None:
    _, objects = stack
    ends = _endpoints(objects)
    assert not allowed(network_policies(objects), ends[src], ends[dst], port)


def test_neo4j_internet_only_with_plugins(dev_objects: list[dict[str, Any]], prod_objects: list[dict[str, Any]]) -> None:
    for objects, expected in ((dev_objects, False), (prod_objects, True)):
        pods = workload_pods(objects)
        assert allowed(network_policies(objects), pods["neo4j"], INTERNET, 443) is expected


def test_internet_egress_skips_private_ranges_and_metadata(prod_objects: list[dict[str, Any]]) -> None:
    policies, pods = network_policies(prod_objects), workload_pods(prod_objects)
    for app in (W, S, G, "neo4j"):
        assert allowed(policies, pods[app], INTERNET, 443)
        assert not allowed(policies, pods[app], METADATA, 443), app
        assert not allowed(policies, pods[app], METADATA, 80), app
        assert not allowed(policies, pods[app], PRIVATE, 443), app
        assert not allowed(policies, pods[app], PRIVATE, 80), app
        # Plain HTTP only where the code downloads http:// links: search, to public addresses.
        assert allowed(policies, pods[app], INTERNET, 80) is (app == S), app


@pytest.mark.parametrize("namespace", ["default", "gateway-system", "kube-system", "traefik"])
def test_nothing_outside_reaches_the_stores(stack: tuple[str, list[dict[str, Any]]], namespace: str) -> None:
    _, objects = stack
    policies, pods = network_policies(objects), workload_pods(objects)
    # Even a pod that copies Archivist's labels in another namespace gets nowhere.
    for labels in ({"app": "x"}, pods[W].labels):
        outsider = pod_in(namespace, "outsider", labels)
        for store, port in (("redis", 6379), ("neo4j", 7687), ("kafka", 9092), ("qdrant", 6333)):
            assert not allowed(policies, outsider, pods[store], port), (namespace, store)


@pytest.fixture(scope="module", params=["reads", "writes"])
def gke_objects(request: pytest.FixtureRequest, prod_objects: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """prod as it is, and with writes published behind IAP (their own Services, the same pods)."""
    if request.param == "reads":
        return prod_objects
    from entry.conftest import GKE_WRITES_INGRESS, prod_with_ingress

    from archivist_infra.offline.render import manifests

    return manifests(prod_with_ingress(GKE_WRITES_INGRESS, {"iapClientSecret": "[secret:iap-client-secret]"}))


def test_gke_load_balancer_ranges_reach_only_the_public_services(gke_objects: list[dict[str, Any]]) -> None:
    """GKE's managed Gateway: Google front ends and health checkers (35.191.0.0/16, 130.211.0.0/22), nothing else."""
    policies, pods = network_policies(gke_objects), workload_pods(gke_objects)
    for source in (GOOGLE_FRONT_END, GOOGLE_HEALTH_CHECKER):
        assert allowed(policies, source, pods[S], 8000)
        assert allowed(policies, source, pods[G], 8081)
        assert not allowed(policies, source, pods["neo4j"], 7474)
        assert not allowed(policies, source, pods[W], 8080)
    # Neither the rest of the internet, nor in-cluster controllers the stack did not create.
    for other in (INTERNET, Endpoint(name="near-miss", ip="130.211.4.1"), pod_in("traefik", "traefik"),
                  pod_in("gateway-system", "envoy", {"app": "envoy"}), pod_in("default", "x")):
        assert not allowed(policies, other, pods[S], 8000), other.name
        assert not allowed(policies, other, pods[G], 8081), other.name


@pytest.fixture(scope="module", params=["reads", "writes"])
def eks_objects(request: pytest.FixtureRequest) -> list[dict[str, Any]]:
    """The EKS entry as it is, and with writes published behind an Envoy SecurityPolicy."""
    from conftest import run_config
    from entry.conftest import EKS, EKS_WRITES

    from archivist_infra.offline.render import manifests

    return manifests(run_config(EKS if request.param == "reads" else EKS_WRITES))


def test_envoy_gateway_proxies_reach_only_the_public_services(eks_objects: list[dict[str, Any]]) -> None:
    """Envoy Gateway (EKS, AKS, kind): only its proxy pods in envoy-gateway-system call the backends."""
    policies, pods = network_policies(eks_objects), workload_pods(eks_objects)
    proxy_labels = {"app.kubernetes.io/name": "envoy", "app.kubernetes.io/component": "proxy",
                    "app.kubernetes.io/managed-by": "envoy-gateway", "gateway.envoyproxy.io/owning-gateway-name": "archivist"}
    proxy = pod_in("envoy-gateway-system", "envoy", proxy_labels)
    assert allowed(policies, proxy, pods[S], 8000)
    assert allowed(policies, proxy, pods[G], 8081)
    assert not allowed(policies, proxy, pods["redis"], 6379)
    for other in (pod_in("envoy-gateway-system", "envoy-gateway", {"control-plane": "envoy-gateway"}),
                  pod_in("archivist-entry", "cm-acme-http-solver", {"acme.cert-manager.io/http01-solver": "true"}),
                  pod_in("gateway-system", "envoy", proxy_labels), pod_in("kube-system", "x"),
                  GOOGLE_FRONT_END, INTERNET):
        assert not allowed(policies, other, pods[S], 8000), other.name
        assert not allowed(policies, other, pods[G], 8081), other.name


def test_configured_controller_namespaces(run: Any) -> None:
    from archivist_infra.offline.render import manifests

    config = {
        "images": {"worker": "r.example.com/w:1.0.0", "search": "r.example.com/s:1.0.0", "graph": "r.example.com/g:1.0.0"},
        "ingress": {"mode": "ingress", "host": "a.example.com", "className": "nginx"},
        "networkPolicy": {"ingressControllerNamespaces": ["edge"]},
        "qdrant": {"autoscaling": {"minReplicas": 1, "maxReplicas": 1}},
    }
    objects = manifests(run(config))
    policies, pods = network_policies(objects), workload_pods(objects)
    assert allowed(policies, pod_in("edge", "nginx"), pods[S], 8000)
    assert not allowed(policies, pod_in("kube-system", "nginx"), pods[S], 8000)


def test_disabled_creates_no_policies(run: Any) -> None:
    config = {
        "images": {"worker": "r.example.com/w:1.0.0", "search": "r.example.com/s:1.0.0", "graph": "r.example.com/g:1.0.0"},
        "networkPolicy": {"enabled": False}, "quota": {"enabled": False},
    }
    types = {r.type for r in run(config).resources}
    assert "kubernetes:networking.k8s.io/v1:NetworkPolicy" not in types
    assert "kubernetes:core/v1:ResourceQuota" not in types


def test_flow_is_typed() -> None:
    assert Flow("a", "b", 1).protocol == "TCP"
