"""Every HTTP route the two FastAPI services define at the pinned source, its class, and how the entry maps it.

`APP_ROUTES` is data read from the application at commit f27c790 (file:line of each decorator);
`tests/entry/test_app_routes.py` re-reads the decorators from a checkout (`ARCHIVIST_APP_SOURCE`)
and compares. Each route is classified read / quota / write / admin with the reason (and the
app's file:line that shows it); docs/public-entry-security.md prints the table (`route_table_markdown`).

The external mapping keeps every path unchanged (audit app-wiring #6, #7: the old
`ReplacePrefixMatch: /` turned `/api/graph/stats` into `/stats` and `POST /api/search` into `POST /`):
- Gateway API: one rule per service and route class, one match per route: its method and its
  path (Exact, or PathPrefix up to the first `{parameter}`). A method or path no rule matches is a
  404 at the Gateway, so `DELETE /api/graph/paper/{t}` stays private while `GET` is public.
- Health: both services answer `GET /health` at their root, so one external path cannot reach
  both unchanged: the Gateway rewrites `/api/search/health` and `/api/graph/health` (Exact) to it.
- A plain Ingress matches paths only: it carries the reads whose path no other route shares, and
  the search service's `/health` as is (no portable rewrite).

`/` and FastAPI's `/docs`, `/redoc`, `/openapi.json` exist on both services at the same paths, so
they are not published; use `ops port-forward` for the API docs and for writes.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

Service = Literal["search", "graph"]
SEARCH_MAIN = "services/search-engine/app/main.py"
GRAPH_MAIN = "services/graph-service/app/main.py"
APP_COMMIT = "f27c790"


Access = Literal["read", "quota", "write", "admin"]
# read: no side effect, spends nothing outside the cluster. quota: a read that spends an external
# quota per request (Gemini, arXiv). write: changes data or spends quota on the caller's behalf.
# admin: destroys data or exposes the operators' internals.
WRITE_ACCESS: tuple[Access, ...] = ("write", "admin")


@dataclass(frozen=True)
class AppRoute:
    service: Service
    method: str  # upper case, as the FastAPI decorator names it
    path: str  # FastAPI path template, e.g. /api/graph/job/{job_id}
    source: str  # file:line of the decorator at APP_COMMIT
    access: Access = "read"
    reason: str = ""  # why this class, with the file:line that shows it
    gemini_calls: int = 0  # Gemini API calls one request makes at most (quota routes)
    publishable: bool = True  # False: never through the entry, even for authenticated writers

    @property
    def is_api(self) -> bool:
        return self.path.startswith("/api/")

    @property
    def is_write(self) -> bool:
        return self.access in WRITE_ACCESS

    @property
    def static_path(self) -> str:
        """The path up to its first template parameter: `/api/graph/job/{job_id}` -> `/api/graph/job`."""
        return self.path.split("{", 1)[0].rstrip("/") or "/"

    @property
    def templated(self) -> bool:
        return "{" in self.path


def _r(service: Service, method: str, path: str, line: int, access: Access = "read", reason: str = "",
       gemini_calls: int = 0, publishable: bool = True) -> AppRoute:
    return AppRoute(service, method, path, f"{SEARCH_MAIN if service == 'search' else GRAPH_MAIN}:{line}",
                    access, reason, gemini_calls, publishable)


_S, _G = "search main.py", "graph main.py"
APP_ROUTES: tuple[AppRoute, ...] = (
    _r("search", "GET", "/", 51, reason="a banner; not published (same path on both services)"),
    _r("search", "GET", "/health", 62, reason="static health answer"),
    _r("search", "POST", "/api/search", 72, "quota",
       "reads arXiv through the API (hybrid_search.py:26-96, a new arxiv.Client per request, "
       "arxiv_provider.py:32): arXiv asks for one request every 3 s; no Gemini call; results cached in Redis"),
    # Never published: the file lands in the pod's /tmp, useless to a remote caller, and nothing
    # deletes it, so repeated calls fill the 1Gi /tmp emptyDir and the kubelet evicts the pod.
    _r("search", "POST", "/api/download", 145, "write",
       f"fetches any URL containing 'arxiv.org' ({_S}:159) into the pod's /tmp and never deletes it "
       f"({_S}:186-192); never published", publishable=False),
    _r("search", "GET", "/api/providers", 213, reason="static list"),
    _r("search", "GET", "/api/stats", 227, reason="static counters"),
    _r("search", "POST", "/api/index/paper", 238, "write",
       "writes the vector store and embeds the paper with Gemini (vector_store.py:124-168)", gemini_calls=1),
    _r("search", "POST", "/api/index/batch", 283, "write",
       "writes the vector store, one Gemini embedding per paper of an unbounded list (vector_store.py:183-197)"),
    _r("search", "POST", "/api/index/from-search", 313, "write",
       "searches arXiv and indexes up to 100 results, one Gemini embedding each (vector_store.py:183-197)"),
    _r("search", "GET", "/api/vector-store/info", 372, "admin", "the vector store's internals, for operators"),
    _r("search", "DELETE", "/api/vector-store/clear", 386, "admin", "deletes the whole vector collection"),
    _r("search", "GET", "/api/cache/stats", 411, "admin",
       "SCANs every Redis key and returns the Redis address (cache.py:198-222)"),
    _r("search", "DELETE", "/api/cache/clear", 425, "admin", "deletes every cached search result"),
    _r("graph", "GET", "/", 203, reason="a banner; not published (same path on both services)"),
    _r("graph", "GET", "/health", 213, reason="Neo4j and queue state"),
    _r("graph", "POST", "/api/graph/add-paper", 227, "write",
       "queues a paper: Gemini metadata and citation extraction (worker_queue.py:124,160), graph writes"),
    _r("graph", "POST", "/api/graph/batch-process", 263, "write", "queues an unbounded list of papers, as add-paper"),
    _r("graph", "GET", "/api/graph/job/{job_id}", 292, reason="a job's status from memory (worker_queue.py:205-212)"),
    _r("graph", "GET", "/api/graph/stats", 305, reason="graph counts"),
    _r("graph", "GET", "/api/graph/queue-stats", 329, "admin", "the worker queue's internals, for operators"),
    _r("graph", "POST", "/api/graph/query", 343,
       reason="POST, but runs only predefined read-only Cypher queries (graph_builder.py:490-533); no Gemini"),
    _r("graph", "GET", "/api/graph/paper/{paper_title}", 365, reason="reads one paper"),
    _r("graph", "DELETE", "/api/graph/paper/{paper_title}", 385, "admin", "deletes a paper from the graph"),
    _r("graph", "POST", "/api/graph/rebuild", 405, "admin", f"empties the whole graph: clear_all ({_G}:405-418)"),
    _r("graph", "POST", "/api/graph/search/semantic", 428, "quota",
       "embeds the query with Gemini, one call per request (semantic_search.py:117-126,169)", gemini_calls=1),
    _r("graph", "GET", "/api/graph/recommend/{paper_title}", 449,
       reason="Qdrant recommend from a stored vector, no Gemini (semantic_search.py:208-260)"),
    _r("graph", "GET", "/api/graph/citations/h-index/{author_name}", 478, reason="Cypher read"),
    _r("graph", "GET", "/api/graph/citations/timeline/{paper_title}", 498, reason="Cypher read"),
    _r("graph", "GET", "/api/graph/citations/influential/{paper_title}", 517, reason="Cypher read"),
    _r("graph", "GET", "/api/graph/citations/contexts/{paper_title}", 538, reason="Cypher read"),
    _r("graph", "GET", "/api/graph/citations/analysis/{paper_title}", 561, reason="Cypher read"),
    _r("graph", "GET", "/api/graph/path", 584, reason="Cypher read; `max_hops` is the caller's, unbounded (graph main.py:585): held by the per-client limit"),
    _r("graph", "GET", "/api/graph/trending/{year}", 613, reason="Cypher read"),
)

# Each service's own health route (search: main.py:62, graph: main.py:213).
HEALTH_PATH = "/health"
GRAPH_PREFIX = "/api/graph"
API_PREFIX = "/api"


@dataclass(frozen=True)
class RouteMatch:
    """One HTTPRoute match: a path (Exact, or PathPrefix up to a template parameter) and a method."""

    match: Literal["PathPrefix", "Exact"]
    path: str
    method: str | None = None  # None: any method (Ingress, health)


@dataclass(frozen=True)
class ExternalRule:
    """One rule of a public route: its matches, the service they reach, an optional full-path rewrite."""

    service: Service
    matches: tuple[RouteMatch, ...]
    rewrite_to: str | None = None  # Gateway only: URLRewrite ReplaceFullPath
    routes: tuple[AppRoute, ...] = ()  # the application routes these matches carry

    @property
    def match(self) -> str:  # single-match rules (health, Ingress paths)
        return self.matches[0].match

    @property
    def path(self) -> str:
        return self.matches[0].path


def route_match(route: AppRoute) -> RouteMatch:
    return RouteMatch("PathPrefix" if route.templated else "Exact", route.static_path, route.method)


def api_routes(access: tuple[Access, ...]) -> tuple[AppRoute, ...]:
    """The publishable API routes of these classes."""
    return tuple(r for r in APP_ROUTES if r.is_api and r.publishable and r.access in access)


def gateway_rules(access: tuple[Access, ...], *, health: bool) -> tuple[ExternalRule, ...]:
    """One rule per service with a method and path match per published route, then the health paths.

    Both services answer `GET /health` at their root: the Gateway rewrites `/api/search/health` and
    `/api/graph/health` (Exact) to it. A path and method no rule matches gets a 404 from the Gateway."""
    rules: list[ExternalRule] = []
    for service in ("search", "graph"):
        routes = tuple(r for r in api_routes(access) if r.service == service)
        if routes:
            matches = tuple(dict.fromkeys(route_match(r) for r in routes))
            rules.append(ExternalRule(service, matches, routes=routes))
    if health:
        rules += [ExternalRule("search", (RouteMatch("Exact", "/api/search/health", "GET"),), rewrite_to=HEALTH_PATH),
                  ExternalRule("graph", (RouteMatch("Exact", "/api/graph/health", "GET"),), rewrite_to=HEALTH_PATH)]
    return tuple(rules)


def _ingress_path(route: AppRoute) -> RouteMatch:
    return RouteMatch("PathPrefix" if route.templated else "Exact", route.static_path)


def _covers(m: RouteMatch, route: AppRoute) -> bool:
    """Whether a method-less Ingress path would also carry `route`."""
    path = route.static_path
    if m.match == "Exact":
        return path == m.path and not route.templated
    return path == m.path or path.startswith(m.path + "/")


def ingress_rules() -> tuple[ExternalRule, ...]:
    """A plain Ingress matches paths only, never methods: it publishes the read routes whose path no
    other route shares (e.g. not `GET /api/graph/paper/{t}`, whose path also deletes), and no quota
    route (it has no portable rate limit). The search service's `/health` is published as is."""
    rules: list[ExternalRule] = []
    for route in api_routes(("read",)):
        m = _ingress_path(route)
        if any(_covers(m, other) for other in APP_ROUTES if other.is_api and other.access != "read"):
            continue
        if all(r.matches[0] != m for r in rules):
            rules.append(ExternalRule(route.service, (m,), routes=(route,)))
    rules.append(ExternalRule("search", (RouteMatch("Exact", HEALTH_PATH),)))
    return tuple(rules)


def ingress_published() -> tuple[AppRoute, ...]:
    return tuple(r for rule in ingress_rules() for r in rule.routes)


def external_health_paths(mode: str) -> dict[Service, str]:
    """The public path that reaches each service's /health, per mode."""
    if mode == "gateway":
        return {r.service: r.path for r in gateway_rules((), health=True) if r.rewrite_to == HEALTH_PATH}
    return {"search": HEALTH_PATH}


def route_table_markdown() -> str:
    """The route table of docs/public-entry-security.md (a test keeps the page equal to this)."""
    gateway = {(r.method, r.path) for r in api_routes(("read", "quota"))}
    ingress = {(r.method, r.path) for r in ingress_published()}
    lines = ["| Method | Path | Source | Class | Gateway entry | Ingress | Why |", "|---|---|---|---|---|---|---|"]
    for r in APP_ROUTES:
        if not r.is_api:
            continue
        if (r.method, r.path) in gateway:
            published = "public" + (" (budget)" if r.access == "quota" else "")
        elif r.publishable:
            published = "writers only"
        else:
            published = "never"
        lines.append(f"| {r.method} | `{r.path}` | {r.source.replace('services/', '')} | {r.access} | {published} | "
                     f"{'public' if (r.method, r.path) in ingress else '-'} | {r.reason} |")
    return "\n".join(lines) + "\n"
