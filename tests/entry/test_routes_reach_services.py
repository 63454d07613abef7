"""Through the RENDERED HTTPRoutes, Ingress and policies, evaluated by an independent evaluator
(gateway_eval.py): every read route reaches its service with its path unchanged; no write or
administration route is routed unless an authentication policy covers it; the cloud entries
rate-limit every published route and keep the quota routes within their budgets; TLS entries
answer with HSTS and redirect plain HTTP."""

from __future__ import annotations

from typing import Any

import pytest

from archivist_infra.config.entry_access import EntryLimits
from archivist_infra.entry.routes import APP_ROUTES, AppRoute, ingress_published
from archivist_infra.offline.mock_outputs import computed_outputs

from .conftest import HOST
from .gateway_eval import (
    armor_decision,
    authentication,
    concrete,
    envoy_rate_limits,
    gateway_request,
    gke_security_policy,
    ingress_request,
    prefix_matches,
)

Objects = dict[str, list[dict[str, Any]]]
API_ROUTES = [r for r in APP_ROUTES if r.is_api]
READS = [r for r in API_ROUTES if r.access == "read"]
QUOTA = [r for r in API_ROUTES if r.access == "quota"]
WRITES = [r for r in API_ROUTES if r.is_write]
SERVICE = {"search": "archivist-search", "graph": "archivist-graph"}
PORT = {"search": 8000, "graph": 8081}
# prod (GKE) and the EKS, AKS and kind stacks with a host: by default, and with writes published.
DEFAULT_STACKS = ["gke", "eks", "aks", "kind"]
WRITE_STACKS = ["gke-writes", "eks-writes", "aks-writes", "kind-writes"]
GATEWAY_STACKS = DEFAULT_STACKS + WRITE_STACKS
CLOUD_ENVOY = ["eks", "aks", "eks-writes", "aks-writes"]
HOSTS = {"kind": "archivist.localtest.me", "kind-writes": "archivist.localtest.me"}
DEFAULTS = EntryLimits()
ARMOR = "gcp:compute/securityPolicy:SecurityPolicy"


def _id(route: AppRoute) -> str:
    return f"{route.method} {route.path}"


def host(stack: str) -> str:
    return HOSTS.get(stack, HOST)


def request(objects: Objects, stack: str, route: AppRoute, port: int = 443):  # type: ignore[no-untyped-def]
    return gateway_request(objects[stack], host(stack), concrete(route.path), port=port, method=route.method)


@pytest.mark.parametrize("stack", GATEWAY_STACKS)
@pytest.mark.parametrize("route", READS + QUOTA, ids=_id)
def test_read_route_reaches_its_service_unchanged_and_unauthenticated(entry_objects: Objects, stack: str,
                                                                      route: AppRoute) -> None:
    got = request(entry_objects, stack, route)
    assert got is not None, f"{route.method} {route.path} is not routed ({route.source})"
    assert (got.service, got.namespace, got.port, got.path) == (
        SERVICE[route.service], "archivist", PORT[route.service], concrete(route.path))
    assert authentication(entry_objects[stack], got) == [], "reads are public"


@pytest.mark.parametrize("stack", GATEWAY_STACKS)
@pytest.mark.parametrize("route", WRITES, ids=_id)
def test_write_route_is_unrouted_or_authenticated(entry_objects: Objects, stack: str, route: AppRoute) -> None:
    got = request(entry_objects, stack, route)
    if stack in DEFAULT_STACKS or not route.publishable:
        assert got is None, f"{route.method} {route.path} ({route.access}) is public"
        return
    assert got is not None, f"{route.method} {route.path} is not published although writes are"
    assert got.path == concrete(route.path) and got.route == "archivist-write"
    assert authentication(entry_objects[stack], got), f"{route.method} {route.path} has no authentication"


@pytest.mark.parametrize("stack", GATEWAY_STACKS)
def test_a_write_method_on_a_read_path_is_not_a_read(entry_objects: Objects, stack: str) -> None:
    """`GET /api/graph/paper/{t}` is public; `DELETE` on the same path is not (method matches)."""
    got = gateway_request(entry_objects[stack], host(stack), "/api/graph/paper/x", method="DELETE")
    if stack in DEFAULT_STACKS:
        assert got is None
    else:
        assert got is not None and authentication(entry_objects[stack], got)
    assert gateway_request(entry_objects[stack], host(stack), "/api/graph/paper/x", method="PUT") is None


@pytest.mark.parametrize("stack", ["gke-writes"])
def test_gke_writes_reach_iap_services_selecting_the_same_pods(entry_runs: Any, entry_objects: Objects, stack: str) -> None:
    objects = entry_objects[stack]
    services = {o["metadata"]["name"]: o for o in objects if o["kind"] == "Service"}
    for app in ("search", "graph"):
        public, write = services[f"archivist-{app}"], services[f"archivist-{app}-write"]
        assert write["spec"]["selector"] == public["spec"]["selector"]
        assert write["spec"]["ports"][0]["port"] == public["spec"]["ports"][0]["port"]
        # GKE health-checks the write backend too, on the service's own /health.
        checks = [o for o in objects if o["kind"] == "HealthCheckPolicy"
                  and o["spec"]["targetRef"]["name"] == f"archivist-{app}-write"]
        assert len(checks) == 1
    iam = [r.inputs for r in entry_runs[stack].by_type("gcp:iap/webTypeComputeIamMember:WebTypeComputeIamMember")]
    assert sorted(m["member"] for m in iam) == ["group:editors@example.com", "user:alice@example.com"]
    assert {m["role"] for m in iam} == {"roles/iap.httpsResourceAccessor"}
    secret = next(o for o in objects if o["kind"] == "Secret" and o["metadata"]["name"] == "archivist-iap-client")
    assert set(secret.get("stringData") or secret.get("data") or {}) == {"key"}


@pytest.mark.parametrize("stack", ["eks-writes", "kind-writes"])
def test_api_keys_are_generated_per_writer_into_the_secret_the_policy_names(entry_objects: Objects, stack: str) -> None:
    objects = entry_objects[stack]
    policy = next(o for o in objects if o["kind"] == "SecurityPolicy")
    ref = policy["spec"]["apiKeyAuth"]["credentialRefs"][0]
    secret = next(o for o in objects if o["kind"] == "Secret" and o["metadata"]["name"] == ref["name"])
    assert secret["metadata"]["namespace"] == policy["metadata"]["namespace"]
    assert set(secret.get("stringData") or secret.get("data") or {}) == {"ci-publisher", "alice"}


@pytest.mark.parametrize("stack", GATEWAY_STACKS)
def test_download_is_never_published(entry_objects: Objects, stack: str) -> None:
    """POST /api/download fills the search pod's /tmp (search main.py:186-192): not even for writers."""
    assert gateway_request(entry_objects[stack], host(stack), "/api/download", method="POST") is None


def test_jwt_writers_are_the_only_allowed_principals(entry_objects: Objects) -> None:
    policy = next(o for o in entry_objects["aks-writes"] if o["kind"] == "SecurityPolicy")["spec"]
    assert policy["jwt"]["providers"][0]["remoteJWKS"]["uri"].startswith("https://")
    assert policy["authorization"]["defaultAction"] == "Deny"
    (rule,) = policy["authorization"]["rules"]
    assert rule["action"] == "Allow"
    assert rule["principal"]["jwt"]["claims"] == [{"name": "email", "values": ["alice@example.com"]}]


# -- rate limits --------------------------------------------------------------------------------


def _replicas(objects: list[dict[str, Any]]) -> int:
    proxy = next(o for o in objects if o["kind"] == "EnvoyProxy")
    return int(proxy["spec"]["provider"]["kubernetes"]["envoyDeployment"]["replicas"])


@pytest.mark.parametrize("stack", [*CLOUD_ENVOY, "kind"])
@pytest.mark.parametrize("route", READS + QUOTA + WRITES, ids=_id)
def test_envoy_limits_every_published_route_per_client(entry_objects: Objects, stack: str, route: AppRoute) -> None:
    got = request(entry_objects, stack, route)
    if got is None:
        return  # not published (writes by default)
    limits = envoy_rate_limits(entry_objects[stack], got, route.method, concrete(route.path))
    assert any(lim.per_client and lim.unit == "Minute" and lim.requests == DEFAULTS.per_client_per_minute
               for lim in limits), limits


@pytest.mark.parametrize("stack", [*CLOUD_ENVOY, "kind"])
def test_a_search_storm_cannot_spend_more_than_the_gemini_budget_on_envoy(entry_objects: Objects, stack: str) -> None:
    """Summed over every proxy, the all-clients buckets of the Gemini-spending routes allow at most
    the configured Gemini calls a minute; POST /api/search stays within the arXiv budget."""
    objects = entry_objects[stack]
    replicas = _replicas(objects)
    gemini = 0
    for route in QUOTA:
        got = request(entry_objects, stack, route)
        assert got is not None
        budgets = [lim for lim in envoy_rate_limits(objects, got, route.method, concrete(route.path))
                   if not lim.per_client]
        assert budgets, f"{route.method} {route.path} has no all-clients budget"
        allowed = min(lim.requests for lim in budgets) * replicas  # a minute, across proxies
        gemini += allowed * route.gemini_calls
        if route.gemini_calls == 0:
            assert allowed <= DEFAULTS.search_per_minute
    assert 0 < gemini <= DEFAULTS.gemini_per_minute


@pytest.mark.parametrize("stack", ["gke", "gke-writes"])
@pytest.mark.parametrize("route", READS + QUOTA + WRITES, ids=_id)
def test_gke_cloud_armor_throttles_every_published_route(entry_runs: Any, entry_objects: Objects, stack: str,
                                                         route: AppRoute) -> None:
    got = request(entry_objects, stack, route)
    if got is None:
        return
    name = gke_security_policy(entry_objects[stack], got)
    (recorded,) = entry_runs[stack].by_type(ARMOR)
    armor = recorded.inputs
    # The policy is auto-named: its name is the one the (mock) provider gives it.
    assert name == computed_outputs(ARMOR, recorded.name, armor)["name"], f"{got.service} has no Cloud Armor policy"
    rule = armor_decision(armor["rules"], route.method, concrete(route.path))
    assert rule["action"] == "throttle"
    options = rule["rateLimitOptions"]
    assert options["rateLimitThreshold"]["intervalSec"] == 60 and options["exceedAction"] == "deny(429)"
    if route.access == "quota":
        assert options["enforceOnKey"] == "ALL"
        budget = DEFAULTS.gemini_per_minute if route.gemini_calls else DEFAULTS.search_per_minute
        assert options["rateLimitThreshold"]["count"] * max(route.gemini_calls, 1) <= budget
    else:
        assert (options["enforceOnKey"], options["rateLimitThreshold"]["count"]) == ("IP", DEFAULTS.per_client_per_minute)


def test_envoy_rejects_bodies_over_the_limit_on_the_public_route(entry_objects: Objects) -> None:
    policy = next(o for o in entry_objects["eks"] if o["kind"] == "BackendTrafficPolicy"
                  and o["spec"]["targetRefs"][0]["name"] == "archivist")
    assert policy["spec"]["requestBuffer"] == {"limit": DEFAULTS.max_request_body}


# -- headers and redirects ------------------------------------------------------------------------


@pytest.mark.parametrize("stack", GATEWAY_STACKS)
@pytest.mark.parametrize("route", READS + QUOTA + WRITES, ids=_id)
def test_tls_entries_answer_with_hsts(entry_objects: Objects, stack: str, route: AppRoute) -> None:
    got = request(entry_objects, stack, route)
    if got is None:
        return
    assert ("Strict-Transport-Security", "max-age=31536000") in got.response_headers


@pytest.mark.parametrize("stack", GATEWAY_STACKS)
@pytest.mark.parametrize("path", ["/api/graph/stats", "/api/search", "/", "/.well-known/acme-challenge/x"])
@pytest.mark.parametrize("method", ["GET", "POST", "DELETE"])
def test_plain_http_only_redirects_to_https(entry_objects: Objects, stack: str, path: str, method: str) -> None:
    got = gateway_request(entry_objects[stack], host(stack), path, port=80, method=method)
    assert got is not None and got.redirect_scheme == "https" and got.service is None


def test_plain_http_entry_sets_no_hsts() -> None:
    from conftest import VALID_IMAGES, run_config

    from archivist_infra.offline.render import manifests

    objects = manifests(run_config({"images": VALID_IMAGES, "ingress": {"mode": "gateway", "host": "archivist.localtest.me"}}))
    got = gateway_request(objects, "archivist.localtest.me", "/api/graph/stats", port=80)
    assert got is not None and got.service == "archivist-graph"
    assert not [h for h, _ in got.response_headers if h == "Strict-Transport-Security"]


@pytest.mark.parametrize("stack", GATEWAY_STACKS)
@pytest.mark.parametrize("service", ["search", "graph"])
def test_each_service_health_is_reachable_through_the_gateway(entry_objects: Objects, stack: str, service: str) -> None:
    got = gateway_request(entry_objects[stack], host(stack), f"/api/{service}/health", port=443)
    assert got is not None
    assert (got.service, got.path) == (SERVICE[service], "/health")  # the services' own /health route


@pytest.mark.parametrize("stack", GATEWAY_STACKS)
def test_routes_answer_only_for_the_configured_host(entry_objects: Objects, stack: str) -> None:
    assert gateway_request(entry_objects[stack], "other.example.com", "/api/search", port=443, method="POST") is None


# -- a plain Ingress --------------------------------------------------------------------------------


@pytest.mark.parametrize("route", ingress_published(), ids=_id)
def test_ingress_publishes_reads_unchanged(entry_objects: Objects, route: AppRoute) -> None:
    assert route.access == "read"
    path = concrete(route.path)
    got = ingress_request(entry_objects["ingress"], HOST, path)
    assert got is not None, f"{path} is not routed ({route.source})"
    assert (got.service, got.port, got.path) == (SERVICE[route.service], PORT[route.service], path)


@pytest.mark.parametrize("route", WRITES + QUOTA, ids=_id)
def test_ingress_routes_no_write_and_no_quota_path(entry_objects: Objects, route: AppRoute) -> None:
    """An Ingress cannot match methods: no published path may also carry a write (or an unlimited quota route)."""
    assert ingress_request(entry_objects["ingress"], HOST, concrete(route.path)) is None


def test_ingress_leaves_out_a_read_whose_path_also_writes() -> None:
    published = {(r.method, r.path) for r in ingress_published()}
    assert ("GET", "/api/graph/paper/{paper_title}") not in published
    assert ("GET", "/api/graph/stats") in published


def test_search_health_is_reachable_through_the_ingress(entry_objects: Objects) -> None:
    got = ingress_request(entry_objects["ingress"], HOST, "/health")
    assert got is not None and (got.service, got.path) == ("archivist-search", "/health")


# -- the evaluator itself --------------------------------------------------------------------------


def test_evaluator_matches_prefixes_on_whole_path_elements() -> None:
    assert prefix_matches("/api/graph", "/api/graph/stats")
    assert prefix_matches("/api/graph", "/api/graph")
    assert not prefix_matches("/api/graph", "/api/graphs")


@pytest.mark.parametrize("stack", [*GATEWAY_STACKS, "ingress"])
def test_only_search_and_graph_are_public(entry_objects: Objects, stack: str) -> None:
    """Admin UIs (Neo4j browser, Qdrant dashboard) and the stores are never routed: port-forward only."""
    backends = set()
    for obj in entry_objects[stack]:
        if obj["kind"] == "HTTPRoute":
            backends |= {b["name"] for rule in obj["spec"]["rules"] for b in rule.get("backendRefs") or []}
        if obj["kind"] == "Ingress":
            backends |= {p["backend"]["service"]["name"] for r in obj["spec"]["rules"] for p in r["http"]["paths"]}
    allowed = {"archivist-search", "archivist-graph", "archivist-search-write", "archivist-graph-write"}
    assert backends <= allowed and {"archivist-search", "archivist-graph"} <= backends


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


def test_evaluator_finds_an_unauthenticated_write_in_the_old_catch_all_route() -> None:
    """The route before this change (`/api` PathPrefix to search) carried DELETE /api/cache/clear unauthenticated."""
    gateway = {"kind": "Gateway", "metadata": {"name": "g", "namespace": "gw"},
               "spec": {"listeners": [{"name": "https", "protocol": "HTTPS", "port": 443,
                                       "allowedRoutes": {"namespaces": {"from": "All"}}}]}}
    route = {"kind": "HTTPRoute", "metadata": {"name": "archivist", "namespace": "archivist"},
             "spec": {"parentRefs": [{"name": "g", "namespace": "gw"}], "rules": [{
                 "matches": [{"path": {"type": "PathPrefix", "value": "/api"}}],
                 "backendRefs": [{"name": "archivist-search", "port": 8000}]}]}}
    got = gateway_request([gateway, route], HOST, "/api/cache/clear", method="DELETE")
    assert got is not None and authentication([gateway, route], got) == []
