"""Every HTTP route the two FastAPI services define at the pinned source, and how the entry maps them.

`APP_ROUTES` is data read from the application at commit f27c790 (file:line of each decorator);
`tests/entry/test_app_routes.py` re-reads the decorators from a checkout (`ARCHIVIST_APP_SOURCE`)
and compares. The external mapping keeps every path unchanged (audit app-wiring #6, #7: the old
`ReplacePrefixMatch: /` turned `/api/graph/stats` into `/stats` and `POST /api/search` into `POST /`):

- `/api/graph` (PathPrefix) -> graph: every graph API route starts with it;
- `/api` (PathPrefix) -> search: every other API route is the search service's, and the longer
  `/api/graph` prefix wins for graph (Gateway API and Ingress both pick the longest matching prefix);
- one health path per service. Both services answer `GET /health` at their root, so one external
  path cannot reach both unchanged: the Gateway rewrites `/api/search/health` and `/api/graph/health`
  (Exact matches) to `/health`; a plain Ingress has no portable rewrite and exposes the search
  service's `/health` as is (see README, "Public entry").

`/` and FastAPI's `/docs`, `/redoc`, `/openapi.json` exist on both services at the same paths, so
they are not published; use `kubectl port-forward` for the API docs.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

Service = Literal["search", "graph"]
SEARCH_MAIN = "services/search-engine/app/main.py"
GRAPH_MAIN = "services/graph-service/app/main.py"
APP_COMMIT = "f27c790"


@dataclass(frozen=True)
class AppRoute:
    service: Service
    method: str  # upper case, as the FastAPI decorator names it
    path: str  # FastAPI path template, e.g. /api/graph/job/{job_id}
    source: str  # file:line of the decorator at APP_COMMIT

    @property
    def is_api(self) -> bool:
        return self.path.startswith("/api/")


def _r(service: Service, method: str, path: str, line: int) -> AppRoute:
    return AppRoute(service, method, path, f"{SEARCH_MAIN if service == 'search' else GRAPH_MAIN}:{line}")


APP_ROUTES: tuple[AppRoute, ...] = (
    _r("search", "GET", "/", 51),
    _r("search", "GET", "/health", 62),
    _r("search", "POST", "/api/search", 72),
    _r("search", "POST", "/api/download", 145),
    _r("search", "GET", "/api/providers", 213),
    _r("search", "GET", "/api/stats", 227),
    _r("search", "POST", "/api/index/paper", 238),
    _r("search", "POST", "/api/index/batch", 283),
    _r("search", "POST", "/api/index/from-search", 313),
    _r("search", "GET", "/api/vector-store/info", 372),
    _r("search", "DELETE", "/api/vector-store/clear", 386),
    _r("search", "GET", "/api/cache/stats", 411),
    _r("search", "DELETE", "/api/cache/clear", 425),
    _r("graph", "GET", "/", 203),
    _r("graph", "GET", "/health", 213),
    _r("graph", "POST", "/api/graph/add-paper", 227),
    _r("graph", "POST", "/api/graph/batch-process", 263),
    _r("graph", "GET", "/api/graph/job/{job_id}", 292),
    _r("graph", "GET", "/api/graph/stats", 305),
    _r("graph", "GET", "/api/graph/queue-stats", 329),
    _r("graph", "POST", "/api/graph/query", 343),
    _r("graph", "GET", "/api/graph/paper/{paper_title}", 365),
    _r("graph", "DELETE", "/api/graph/paper/{paper_title}", 385),
    _r("graph", "POST", "/api/graph/rebuild", 405),
    _r("graph", "POST", "/api/graph/search/semantic", 428),
    _r("graph", "GET", "/api/graph/recommend/{paper_title}", 449),
    _r("graph", "GET", "/api/graph/citations/h-index/{author_name}", 478),
    _r("graph", "GET", "/api/graph/citations/timeline/{paper_title}", 498),
    _r("graph", "GET", "/api/graph/citations/influential/{paper_title}", 517),
    _r("graph", "GET", "/api/graph/citations/contexts/{paper_title}", 538),
    _r("graph", "GET", "/api/graph/citations/analysis/{paper_title}", 561),
    _r("graph", "GET", "/api/graph/path", 584),
    _r("graph", "GET", "/api/graph/trending/{year}", 613),
)

# Each service's own health route (search: main.py:62, graph: main.py:213).
HEALTH_PATH = "/health"
GRAPH_PREFIX = "/api/graph"
API_PREFIX = "/api"


@dataclass(frozen=True)
class ExternalRule:
    """One rule of the public route: a match and the service it reaches, with an optional full-path rewrite."""

    match: Literal["PathPrefix", "Exact"]
    path: str
    service: Service
    rewrite_to: str | None = None  # Gateway only: URLRewrite ReplaceFullPath


def gateway_rules() -> tuple[ExternalRule, ...]:
    return (
        ExternalRule("PathPrefix", GRAPH_PREFIX, "graph"),
        ExternalRule("PathPrefix", API_PREFIX, "search"),
        ExternalRule("Exact", "/api/search/health", "search", rewrite_to=HEALTH_PATH),
        ExternalRule("Exact", "/api/graph/health", "graph", rewrite_to=HEALTH_PATH),
    )


def ingress_rules() -> tuple[ExternalRule, ...]:
    return (
        ExternalRule("PathPrefix", GRAPH_PREFIX, "graph"),
        ExternalRule("PathPrefix", API_PREFIX, "search"),
        ExternalRule("Exact", HEALTH_PATH, "search"),
    )


def external_health_paths(mode: str) -> dict[Service, str]:
    """The public path that reaches each service's /health, per mode."""
    if mode == "gateway":
        return {r.service: r.path for r in gateway_rules() if r.rewrite_to == HEALTH_PATH}
    return {"search": HEALTH_PATH}
