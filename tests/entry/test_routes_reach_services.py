"""Every real API route of both services reaches its service with its path unchanged, through the
RENDERED HTTPRoute (GKE and Envoy entries) and Ingress, evaluated by an independent evaluator."""

from __future__ import annotations

from typing import Any

import pytest

from archivist_infra.entry.routes import APP_ROUTES, AppRoute

from .conftest import HOST
from .gateway_eval import concrete, gateway_request, ingress_request, prefix_matches

API_ROUTES = [r for r in APP_ROUTES if r.is_api]
SERVICE = {"search": "archivist-search", "graph": "archivist-graph"}
PORT = {"search": 8000, "graph": 8081}
GATEWAY_STACKS = ["gke", "eks", "aks"]


def _id(route: AppRoute) -> str:
    return f"{route.method} {route.path}"


@pytest.mark.parametrize("stack", GATEWAY_STACKS)
@pytest.mark.parametrize("route", API_ROUTES, ids=_id)
def test_api_route_reaches_its_service_unchanged_through_the_gateway(
        entry_objects: dict[str, list[dict[str, Any]]], stack: str, route: AppRoute) -> None:
    path = concrete(route.path)
    got = gateway_request(entry_objects[stack], HOST, path, port=443)
    assert got is not None, f"{path} is not routed ({route.source})"
    assert (got.service, got.namespace, got.port, got.path) == (SERVICE[route.service], "archivist", PORT[route.service], path)


@pytest.mark.parametrize("route", API_ROUTES, ids=_id)
def test_api_route_reaches_its_service_unchanged_through_the_ingress(
        entry_objects: dict[str, list[dict[str, Any]]], route: AppRoute) -> None:
    path = concrete(route.path)
    got = ingress_request(entry_objects["ingress"], HOST, path)
    assert got is not None, f"{path} is not routed ({route.source})"
    assert (got.service, got.port, got.path) == (SERVICE[route.service], PORT[route.service], path)


@pytest.mark.parametrize("stack", GATEWAY_STACKS)
@pytest.mark.parametrize("service", ["search", "graph"])
def test_each_service_health_is_reachable_through_the_gateway(
        entry_objects: dict[str, list[dict[str, Any]]], stack: str, service: str) -> None:
    got = gateway_request(entry_objects[stack], HOST, f"/api/{service}/health", port=443)
    assert got is not None
    assert (got.service, got.path) == (SERVICE[service], "/health")  # the services' own /health route


def test_search_health_is_reachable_through_the_ingress(entry_objects: dict[str, list[dict[str, Any]]]) -> None:
    got = ingress_request(entry_objects["ingress"], HOST, "/health")
    assert got is not None and (got.service, got.path) == ("archivist-search", "/health")


@pytest.mark.parametrize("stack", GATEWAY_STACKS)
@pytest.mark.parametrize("path", ["/api/graph/stats", "/api/search", "/", "/.well-known/acme-challenge/x"])
def test_plain_http_only_redirects_to_https(entry_objects: dict[str, list[dict[str, Any]]], stack: str, path: str) -> None:
    got = gateway_request(entry_objects[stack], HOST, path, port=80)
    assert got is not None and got.redirect_scheme == "https" and got.service is None


@pytest.mark.parametrize("stack", GATEWAY_STACKS)
def test_routes_answer_only_for_the_configured_host(entry_objects: dict[str, list[dict[str, Any]]], stack: str) -> None:
    assert gateway_request(entry_objects[stack], "other.example.com", "/api/search", port=443) is None


def test_evaluator_matches_prefixes_on_whole_path_elements() -> None:
    """The evaluator itself: a prefix matches whole path elements only."""
    assert prefix_matches("/api/graph", "/api/graph/stats")
    assert prefix_matches("/api/graph", "/api/graph")
    assert not prefix_matches("/api/graph", "/api/graphs")


@pytest.mark.parametrize("stack", [*GATEWAY_STACKS, "kind", "ingress"])
def test_only_search_and_graph_are_public(entry_objects: dict[str, list[dict[str, Any]]], stack: str) -> None:
    """Admin UIs (Neo4j browser, Qdrant dashboard) and the stores are never routed: port-forward only."""
    backends = set()
    for obj in entry_objects[stack]:
        if obj["kind"] == "HTTPRoute":
            backends |= {b["name"] for rule in obj["spec"]["rules"] for b in rule.get("backendRefs") or []}
        if obj["kind"] == "Ingress":
            backends |= {p["backend"]["service"]["name"] for r in obj["spec"]["rules"] for p in r["http"]["paths"]}
    assert backends == {"archivist-search", "archivist-graph"}


def test_evaluator_reproduces_the_audited_rewrite_bug() -> None:
    """The old rule (`/api/graph` with ReplacePrefixMatch "/", audit app-wiring #6) sends /api/graph/stats to /stats."""
    gateway = {"kind": "Gateway", "metadata": {"name": "g", "namespace": "gw"},
               "spec": {"listeners": [{"name": "https", "protocol": "HTTPS", "port": 443,
                                       "allowedRoutes": {"namespaces": {"from": "All"}}}]}}
    route = {"kind": "HTTPRoute", "metadata": {"name": "r", "namespace": "archivist"},
             "spec": {"parentRefs": [{"name": "g", "namespace": "gw"}], "rules": [{
                 "matches": [{"path": {"type": "PathPrefix", "value": "/api/graph"}}],
                 "filters": [{"type": "URLRewrite",
                              "urlRewrite": {"path": {"type": "ReplacePrefixMatch", "replacePrefixMatch": "/"}}}],
                 "backendRefs": [{"name": "archivist-graph", "port": 8081}]}]}}
    got = gateway_request([gateway, route], HOST, "/api/graph/stats")
    assert got is not None and got.path == "/stats"
    assert gateway_request([gateway, route], HOST, "/api/search") is None  # the search API was not routed
