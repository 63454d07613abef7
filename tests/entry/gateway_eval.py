"""An independent evaluator of where a request goes through RENDERED Gateway API objects or an Ingress.

It reads only manifests. Semantics implemented (Gateway API v1.6 `HTTPRoute` spec text,
gateway.networking.k8s.io_httproutes.yaml "matches" and "Precedence"; networking.k8s.io/v1 Ingress):
- a listener is picked by port, protocol (HTTP/HTTPS) and hostname;
- a route attaches when a parentRef names the Gateway (namespace defaults to the route's own), its
  sectionName (if any) names the listener, and the listener's allowedRoutes admits the route's namespace;
- PathPrefix matches on whole path elements (`/api` matches `/api` and `/api/x`, not `/apix`);
  Exact matches the path as is; a rule without matches is a PathPrefix `/`; a match with a
  `method` matches only that method;
- among matching rules across all attached routes: an Exact match wins over any prefix, then the
  longest prefix, then a match with a method over one without (ties: the oldest route, then name,
  then rule order: not needed here);
- URLRewrite ReplaceFullPath replaces the path, ReplacePrefixMatch replaces the matched prefix;
  RequestRedirect answers with a redirect and reaches no backend.
Ingress: Prefix on path elements, Exact; the longest path wins and Exact beats Prefix at equal length.

Policies attached to what a request reaches (policy attachment, GEP-713):
- Envoy Gateway: a SecurityPolicy / BackendTrafficPolicy whose targetRefs name the HTTPRoute (same
  namespace) applies to every request that route carries; a local rate-limit rule applies when all
  its clientSelectors hold (sourceCIDR `Distinct` holds for every client, keyed per client).
- GKE: a GCPBackendPolicy whose targetRef names the backend Service applies to every request sent
  to it: `iap.enabled` authenticates, `securityPolicy` names the Cloud Armor policy; Cloud Armor
  rules are evaluated by ascending priority and the first match decides.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

Obj = dict[str, Any]


@dataclass(frozen=True)
class Outcome:
    service: str | None  # backend Service name
    namespace: str | None
    port: int | None
    path: str | None  # the path the backend sees
    redirect_scheme: str | None = None
    route: str | None = None  # the HTTPRoute that carried the request
    response_headers: tuple[tuple[str, str], ...] = ()  # set by ResponseHeaderModifier filters


def prefix_matches(prefix: str, path: str) -> bool:
    prefix = prefix.rstrip("/") or "/"
    if prefix == "/":
        return True
    return path == prefix or path.startswith(prefix + "/")


def _listener(gateway: Obj, host: str, port: int) -> Obj | None:
    for listener in gateway["spec"]["listeners"]:
        if listener["port"] != port or listener["protocol"] not in ("HTTP", "HTTPS"):
            continue
        if listener.get("hostname") not in (None, host):
            continue
        return listener
    return None


def _admits(gateway: Obj, listener: Obj, route_ns: str) -> bool:
    allowed = (listener.get("allowedRoutes") or {}).get("namespaces") or {"from": "Same"}
    source = allowed.get("from", "Same")
    if source == "All":
        return True
    if source == "Same":
        return route_ns == gateway["metadata"]["namespace"]
    labels = {"kubernetes.io/metadata.name": route_ns}
    selector = allowed.get("selector") or {}
    return all(labels.get(k) == v for k, v in (selector.get("matchLabels") or {}).items()) and not selector.get(
        "matchExpressions")


def attached_routes(objects: list[Obj], gateway: Obj, listener: Obj) -> list[Obj]:
    gw_name, gw_ns = gateway["metadata"]["name"], gateway["metadata"]["namespace"]
    out = []
    for route in (o for o in objects if o["kind"] == "HTTPRoute"):
        route_ns = route["metadata"]["namespace"]
        for ref in route["spec"].get("parentRefs") or []:
            if ref.get("kind", "Gateway") != "Gateway" or ref["name"] != gw_name:
                continue
            if ref.get("namespace", route_ns) != gw_ns:
                continue
            if ref.get("sectionName") not in (None, listener["name"]):
                continue
            if _admits(gateway, listener, route_ns):
                out.append(route)
                break
    return out


def gateway_request(objects: list[Obj], host: str, path: str, *, port: int = 443,
                    method: str = "GET") -> Outcome | None:
    """Where a request `method` http(s)://host:port/path ends up; None when nothing serves it (404)."""
    candidates: list[tuple[tuple[int, int, int], Obj, Obj, str, str]] = []
    for gateway in (o for o in objects if o["kind"] == "Gateway"):
        listener = _listener(gateway, host, port)
        if listener is None:
            continue
        for route in attached_routes(objects, gateway, listener):
            if host not in (route["spec"].get("hostnames") or [host]):
                continue
            for rule in route["spec"].get("rules") or []:
                for match in rule.get("matches") or [{"path": {"type": "PathPrefix", "value": "/"}}]:
                    p = match.get("path") or {"type": "PathPrefix", "value": "/"}
                    kind, value = p.get("type", "PathPrefix"), p.get("value", "/")
                    if match.get("method") not in (None, method):
                        continue
                    has_method = int("method" in match)
                    if kind == "Exact" and path == value:
                        candidates.append(((1, len(value), has_method), route, rule, kind, value))
                    elif kind == "PathPrefix" and prefix_matches(value, path):
                        candidates.append(((0, len(value.rstrip("/")), has_method), route, rule, kind, value))
    if not candidates:
        return None
    _, route, rule, kind, value = max(candidates, key=lambda c: c[0])
    new_path = path
    headers: list[tuple[str, str]] = []
    for f in rule.get("filters") or []:
        if f["type"] == "RequestRedirect":
            return Outcome(None, None, None, None, redirect_scheme=f["requestRedirect"].get("scheme"),
                           route=route["metadata"]["name"])
        if f["type"] == "ResponseHeaderModifier":
            headers += [(h["name"], h["value"]) for h in f["responseHeaderModifier"].get("set") or []]
        if f["type"] == "URLRewrite":
            rewrite = f["urlRewrite"].get("path") or {}
            if rewrite.get("type") == "ReplaceFullPath":
                new_path = rewrite["replaceFullPath"]
            elif rewrite.get("type") == "ReplacePrefixMatch":
                rest = path[len(value.rstrip("/")):]
                new_path = (rewrite["replacePrefixMatch"].rstrip("/") + rest) or "/"
    backends = rule.get("backendRefs") or []
    assert len(backends) == 1, f"expected one backend per rule, got {backends}"
    b = backends[0]
    return Outcome(b["name"], b.get("namespace", route["metadata"]["namespace"]), b.get("port"), new_path,
                   route=route["metadata"]["name"], response_headers=tuple(headers))


def _targets_route(policy: Obj, route: str, namespace: str) -> bool:
    refs = policy["spec"].get("targetRefs") or ([policy["spec"]["targetRef"]] if "targetRef" in policy["spec"] else [])
    return policy["metadata"]["namespace"] == namespace and any(
        r.get("kind") == "HTTPRoute" and r.get("name") == route for r in refs)


def _targets_service(policy: Obj, service: str, namespace: str) -> bool:
    ref = policy["spec"].get("targetRef") or {}
    return (policy["metadata"]["namespace"] == namespace and ref.get("kind") == "Service"
            and ref.get("group", "") == "" and ref.get("name") == service)


def authentication(objects: list[Obj], outcome: Outcome) -> list[str]:
    """The authentication every request of `outcome` must pass, e.g. ['envoy:apiKeyAuth'] or ['gke:iap']."""
    found: list[str] = []
    for o in objects:
        if o["kind"] == "SecurityPolicy" and outcome.route and _targets_route(o, outcome.route, outcome.namespace or ""):
            for method in ("apiKeyAuth", "jwt", "oidc", "basicAuth", "extAuth"):
                if method in o["spec"]:
                    found.append(f"envoy:{method}")
        if o["kind"] == "GCPBackendPolicy" and _targets_service(o, outcome.service or "", outcome.namespace or ""):
            iap = (o["spec"].get("default") or {}).get("iap") or {}
            if iap.get("enabled") and iap.get("clientID") and (iap.get("oauth2ClientSecret") or {}).get("name"):
                found.append("gke:iap")
    return found


class UnmodelledRuleError(AssertionError):
    """The render uses a construct this evaluator does not model: fail loudly rather than misjudge it."""


def _selector_holds(selector: Obj, method: str, path: str) -> bool:
    if "path" in selector:
        p = selector["path"]
        kind, value = p.get("type", "PathPrefix"), p.get("value", "/")
        if (kind == "Exact" and path != value) or (kind == "PathPrefix" and not prefix_matches(value, path)):
            return False
        if kind not in ("Exact", "PathPrefix"):
            raise UnmodelledRuleError(f"path match type {kind}")
    if "methods" in selector and method not in [m["value"] for m in selector["methods"]]:
        return False
    if "headers" in selector or "queryParams" in selector:
        raise UnmodelledRuleError("header and query selectors")
    return True  # sourceCIDR Distinct 0.0.0.0/0 or ::/0: every client, one bucket each


@dataclass(frozen=True)
class Limit:
    requests: int
    unit: str
    per_client: bool  # keyed per client address (else one bucket for every client)


def envoy_rate_limits(objects: list[Obj], outcome: Outcome, method: str, path: str) -> list[Limit]:
    """The local rate limits (per Envoy proxy) that count a request carried to `outcome`."""
    limits: list[Limit] = []
    for o in objects:
        if o["kind"] != "BackendTrafficPolicy" or not outcome.route:
            continue
        if not _targets_route(o, outcome.route, outcome.namespace or ""):
            continue
        for rule in ((o["spec"].get("rateLimit") or {}).get("local") or {}).get("rules") or []:
            selectors = rule.get("clientSelectors") or []
            if all(_selector_holds(sel, method, path) for sel in selectors):
                per_client = any((sel.get("sourceCIDR") or {}).get("type") == "Distinct" for sel in selectors)
                limits.append(Limit(rule["limit"]["requests"], rule["limit"]["unit"], per_client))
    return limits


def gke_security_policy(objects: list[Obj], outcome: Outcome) -> str | None:
    """The Cloud Armor policy name the backend Service of `outcome` is attached to."""
    for o in objects:
        if o["kind"] == "GCPBackendPolicy" and _targets_service(o, outcome.service or "", outcome.namespace or ""):
            return (o["spec"].get("default") or {}).get("securityPolicy")
    return None


def _cel(expression: str, method: str, path: str) -> bool:
    """The subset of Cloud Armor's CEL the stack writes: `a && b` of method/path comparisons."""
    import re

    for term in (t.strip() for t in expression.split("&&")):
        if m := re.fullmatch(r"request\.method == '([A-Z]+)'", term):
            ok = method == m.group(1)
        elif m := re.fullmatch(r"request\.path == '([^']+)'", term):
            ok = path == m.group(1)
        elif m := re.fullmatch(r"request\.path\.startsWith\('([^']+)'\)", term):
            ok = path.startswith(m.group(1))
        else:
            raise UnmodelledRuleError(f"CEL term {term!r}")
        if not ok:
            return False
    return True


def armor_decision(rules: list[Obj], method: str, path: str) -> Obj:
    """The Cloud Armor rule (Pulumi SecurityPolicy `rules` input) that decides a request."""
    for rule in sorted(rules, key=lambda r: r["priority"]):
        match = rule["match"]
        if "expr" in match:
            if _cel(match["expr"]["expression"], method, path):
                return rule
        elif match.get("versionedExpr") == "SRC_IPS_V1" and "*" in match["config"]["srcIpRanges"]:
            return rule
        else:
            raise UnmodelledRuleError(f"Cloud Armor match {match!r}")
    raise AssertionError("no Cloud Armor rule matched (the default rule is missing)")


def ingress_request(objects: list[Obj], host: str, path: str) -> Outcome | None:
    best: tuple[tuple[int, int], Obj, Obj] | None = None
    for ing in (o for o in objects if o["kind"] == "Ingress"):
        for rule in ing["spec"].get("rules") or []:
            if rule.get("host") not in (None, host):
                continue
            for p in rule["http"]["paths"]:
                kind, value = p["pathType"], p["path"]
                if kind == "Exact" and path == value:
                    key = (len(value), 1)
                elif kind == "Prefix" and prefix_matches(value, path):
                    key = (len(value.rstrip("/")), 0)
                else:
                    continue
                if best is None or key > best[0]:
                    best = (key, ing, p)
    if best is None:
        return None
    _, ing, p = best
    svc = p["backend"]["service"]
    return Outcome(svc["name"], ing["metadata"]["namespace"], svc["port"]["number"], path)


def concrete(path_template: str) -> str:
    """A request path for a FastAPI template: each {param} becomes one sample path element."""
    import re

    return re.sub(r"\{[^}/]+\}", "sample-1", path_template)
