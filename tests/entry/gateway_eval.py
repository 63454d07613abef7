"""An independent evaluator of where a request goes through RENDERED Gateway API objects or an Ingress.

It reads only manifests. Semantics implemented (Gateway API v1.6 `HTTPRoute` spec text,
gateway.networking.k8s.io_httproutes.yaml "matches" and "Precedence"; networking.k8s.io/v1 Ingress):
- a listener is picked by port, protocol (HTTP/HTTPS) and hostname;
- a route attaches when a parentRef names the Gateway (namespace defaults to the route's own), its
  sectionName (if any) names the listener, and the listener's allowedRoutes admits the route's namespace;
- PathPrefix matches on whole path elements (`/api` matches `/api` and `/api/x`, not `/apix`);
  Exact matches the path as is; a rule without matches is a PathPrefix `/`;
- among matching rules across all attached routes: an Exact match wins over any prefix, then the
  longest prefix (ties: the oldest route, then name, then rule order: not needed here);
- URLRewrite ReplaceFullPath replaces the path, ReplacePrefixMatch replaces the matched prefix;
  RequestRedirect answers with a redirect and reaches no backend.
Ingress: Prefix on path elements, Exact; the longest path wins and Exact beats Prefix at equal length.
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


def gateway_request(objects: list[Obj], host: str, path: str, *, port: int = 443) -> Outcome | None:
    """Where a request for http(s)://host:port/path ends up; None when nothing serves it."""
    candidates: list[tuple[tuple[int, int], Obj, Obj, str, str]] = []
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
                    if kind == "Exact" and path == value:
                        candidates.append(((1, len(value)), route, rule, kind, value))
                    elif kind == "PathPrefix" and prefix_matches(value, path):
                        candidates.append(((0, len(value.rstrip("/"))), route, rule, kind, value))
    if not candidates:
        return None
    _, route, rule, kind, value = max(candidates, key=lambda c: c[0])
    new_path = path
    for f in rule.get("filters") or []:
        if f["type"] == "RequestRedirect":
            return Outcome(None, None, None, None, redirect_scheme=f["requestRedirect"].get("scheme"))
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
    return Outcome(b["name"], b.get("namespace", route["metadata"]["namespace"]), b.get("port"), new_path)


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
