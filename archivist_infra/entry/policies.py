"""What the created entry enforces, as object specs: rate limits, body limit, authentication, headers.

Envoy Gateway v1.9.0 (eks, aks, local), schemas in tests/crds/envoy-gateway-v1.9.0/:
- one `BackendTrafficPolicy` per HTTPRoute (a second one on the same route would be ignored):
  the active health check, `rateLimit.local` rules and `requestBuffer.limit` (larger bodies: 413).
  Local limits count per proxy, so each all-clients budget is split across the fixed proxy replicas
  (config/entry_access.py ENVOY_PROXY_REPLICAS); per-client limits key on the source address
  (`sourceCIDR` type `Distinct`), which the proxy sees because its Service keeps
  `externalTrafficPolicy: Local` (set in gateway.envoy_proxy_spec).
- a `SecurityPolicy` on the write route: API keys from a Secret (`apiKeyAuth`) or JWT with an
  authorization rule allowing only the configured writers' claim values.
GKE (gke-l7-global-external-managed), schema in tests/crds/gke-gateway-api-v1.4.0/:
- a Cloud Armor security policy (compute API) attached to every backend Service through
  `GCPBackendPolicy.spec.default.securityPolicy`: `throttle` rules per budget (key ALL) and per client (key IP);
- Identity-Aware Proxy on the write backends (`GCPBackendPolicy.spec.default.iap`). IAP is a backend
  service setting, so the write routes reach the same pods through Services of their own.
Everywhere: HSTS set by a ResponseHeaderModifier filter on every rule of a TLS entry.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from ..config.entry_access import EntryAccess, EntryLimits, WriteAuth
from .routes import AppRoute, api_routes, route_match

Spec = dict[str, Any]
GATEWAY_GROUP = "gateway.networking.k8s.io"
HSTS = "max-age=31536000"  # one year; no includeSubDomains: the stack owns one host, not its subdomains
API_KEY_HEADER = "x-api-key"
WRITERS_SECRET = "archivist-writers"  # envoy apiKey: one data key per writer, the value its API key
IAP_SECRET = "archivist-iap-client"  # gke: the OAuth client's secret under data key `key`
JWT_PROVIDER = "writers"


def security_headers() -> Spec:
    return {"type": "ResponseHeaderModifier", "responseHeaderModifier": {"set": [
        {"name": "Strict-Transport-Security", "value": HSTS},
        {"name": "X-Content-Type-Options", "value": "nosniff"},
    ]}}


@dataclass(frozen=True)
class Budget:
    """An all-clients limit on some routes: at most `per_minute` requests a minute to each."""

    routes: tuple[AppRoute, ...]
    per_minute: int
    reason: str


def budgets(limits: EntryLimits) -> list[Budget]:
    """The all-clients budgets of the published quota routes.

    Gemini: the routes that call Gemini share `gemini_per_minute` calls; each may take
    budget // (sum of every route's calls per request) requests, so together they cannot exceed it.
    arXiv: `POST /api/search` makes at least one arXiv API call per cache miss."""
    quota = api_routes(("quota",))
    gemini = tuple(r for r in quota if r.gemini_calls)
    out: list[Budget] = []
    if gemini:
        calls = sum(r.gemini_calls for r in gemini)
        out.append(Budget(gemini, limits.gemini_per_minute // calls, "Gemini calls"))
    arxiv = tuple(r for r in quota if not r.gemini_calls)
    if arxiv:
        out.append(Budget(arxiv, limits.search_per_minute, "arXiv searches"))
    return out


def gemini_calls_per_minute(limits: EntryLimits, replicas: int = 1) -> int:
    """The most Gemini calls a minute the public routes can cause under these limits."""
    total = 0
    for b in budgets(limits):
        for r in b.routes:
            total += (b.per_minute // replicas) * replicas * r.gemini_calls
    return total


def _route_ref(name: str) -> Spec:
    return {"group": GATEWAY_GROUP, "kind": "HTTPRoute", "name": name}


def envoy_health_check() -> Spec:
    from .routes import HEALTH_PATH

    return {"active": {"type": "HTTP", "interval": "10s", "timeout": "5s", "healthyThreshold": 1,
                       "unhealthyThreshold": 3, "http": {"path": HEALTH_PATH, "expectedStatuses": [200]}}}


def _per_client_rules(per_minute: int) -> list[Spec]:
    # One bucket per client address, IPv4 and IPv6.
    return [{"clientSelectors": [{"sourceCIDR": {"type": "Distinct", "value": cidr}}],
             "limit": {"requests": per_minute, "unit": "Minute"}} for cidr in ("0.0.0.0/0", "::/0")]


def envoy_traffic_policy(route_name: str, access: EntryAccess, *, public: bool) -> Spec:
    """The route's BackendTrafficPolicy: health check, per-client limit, budgets (public route), body limit."""
    limits, replicas = access.limits, access.proxy_replicas
    rules = _per_client_rules(limits.per_client_per_minute)
    if public:
        for budget in budgets(limits):
            for route in budget.routes:
                m = route_match(route)
                rules.append({"clientSelectors": [{"path": {"type": m.match, "value": m.path},
                                                   "methods": [{"value": route.method}]}],
                              "limit": {"requests": budget.per_minute // replicas, "unit": "Minute"}})
    spec: Spec = {"targetRefs": [_route_ref(route_name)], "healthCheck": envoy_health_check(),
                  "rateLimit": {"local": {"rules": rules}}}
    if public:
        spec["requestBuffer"] = {"limit": limits.max_request_body}
    return spec


def envoy_security_policy(route_name: str, auth: WriteAuth) -> Spec:
    """Only the configured writers pass; every other request to the write route gets 401/403."""
    spec: Spec = {"targetRefs": [_route_ref(route_name)]}
    if auth.method == "apiKey":
        spec["apiKeyAuth"] = {"credentialRefs": [{"group": "", "kind": "Secret", "name": WRITERS_SECRET}],
                              "extractFrom": [{"headers": [API_KEY_HEADER]}]}
    else:
        assert auth.jwt is not None
        provider: Spec = {"name": JWT_PROVIDER, "issuer": auth.jwt.issuer, "remoteJWKS": {"uri": auth.jwt.jwks_uri}}
        if auth.jwt.audiences:
            provider["audiences"] = list(auth.jwt.audiences)
        spec["jwt"] = {"providers": [provider]}
        spec["authorization"] = {"defaultAction": "Deny", "rules": [{
            "name": "writers", "action": "Allow",
            "principal": {"jwt": {"provider": JWT_PROVIDER,
                                  "claims": [{"name": auth.jwt.claim, "values": list(auth.writers)}]}}}]}
    return spec


def gcp_backend_policy(service: Any, security_policy: Any, *, iap_client_id: str | None = None) -> Spec:
    default: Spec = {"securityPolicy": security_policy}
    if iap_client_id is not None:
        default["iap"] = {"enabled": True, "clientID": iap_client_id, "oauth2ClientSecret": {"name": IAP_SECRET}}
    return {"default": default, "targetRef": {"group": "", "kind": "Service", "name": service}}


@dataclass(frozen=True)
class ArmorRule:
    """One Cloud Armor throttle rule (compute SecurityPolicy rule), independent of the SDK types."""

    priority: int
    description: str
    expression: str | None  # CEL; None: every source address
    key: str  # enforce_on_key: ALL (a budget) or IP (per client)
    per_minute: int


def armor_rules(limits: EntryLimits) -> list[ArmorRule]:
    """Cloud Armor evaluates rules by priority and stops at the first match, so a budgeted route's
    requests count against its budget (ALL) and not the per-client rule (IP) that follows."""
    rules: list[ArmorRule] = []
    priority = 1000
    for budget in budgets(limits):
        for route in budget.routes:
            m = route_match(route)
            path = (f"request.path == '{m.path}'" if m.match == "Exact"
                    else f"request.path.startsWith('{m.path}/')")
            rules.append(ArmorRule(priority, f"budget: {route.method} {route.path}"[:64],
                                   f"request.method == '{route.method}' && {path}", "ALL", budget.per_minute))
            priority += 10
    rules.append(ArmorRule(2000, "per client", None, "IP", limits.per_client_per_minute))
    return rules
