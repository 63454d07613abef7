"""The route list in entry/routes.py is the application's: re-read from the FastAPI source when given.

Set ARCHIVIST_APP_SOURCE to a checkout of the pinned application (commit f27c790 of
shyan23/Archivist--Research-Paper-Tool) to compare; CI sets it. Without it only the data's own
consistency is checked here.
"""

from __future__ import annotations

import ast
import os
from pathlib import Path

import pytest

from archivist_infra.entry.routes import APP_ROUTES, GRAPH_MAIN, SEARCH_MAIN, AppRoute

HTTP_METHODS = {"get", "post", "put", "delete", "patch", "head", "options"}


def decorated_routes(path: Path, service: str, relative: str) -> set[AppRoute]:
    """Every `@app.<method>("<path>")` decorator in a FastAPI module, with its line."""
    tree = ast.parse(path.read_text(), filename=str(path))
    found: set[AppRoute] = set()
    for node in ast.walk(tree):
        if not isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            continue
        for dec in node.decorator_list:
            if not (isinstance(dec, ast.Call) and isinstance(dec.func, ast.Attribute)):
                continue
            if not (isinstance(dec.func.value, ast.Name) and dec.func.value.id == "app"):
                continue
            method = dec.func.attr
            if method not in HTTP_METHODS:
                continue  # e.g. @app.on_event("startup")
            assert dec.args and isinstance(dec.args[0], ast.Constant), f"{relative}:{dec.lineno}: non-literal path"
            found.add(AppRoute(service, method.upper(), str(dec.args[0].value), f"{relative}:{dec.lineno}"))  # type: ignore[arg-type]
    return found


@pytest.fixture(scope="module")
def app_source() -> Path:
    given = os.environ.get("ARCHIVIST_APP_SOURCE")
    if not given:
        pytest.skip("ARCHIVIST_APP_SOURCE is not set: no checkout of the application to compare with")
    root = Path(given)
    assert (root / SEARCH_MAIN).is_file() and (root / GRAPH_MAIN).is_file(), f"{root} is not an Archivist checkout"
    return root


def test_route_list_is_exactly_the_fastapi_decorators_of_both_services(app_source: Path) -> None:
    found = decorated_routes(app_source / SEARCH_MAIN, "search", SEARCH_MAIN)
    found |= decorated_routes(app_source / GRAPH_MAIN, "graph", GRAPH_MAIN)
    listed = {AppRoute(r.service, r.method, r.path, r.source) for r in APP_ROUTES}  # without the classification
    assert found == listed


@pytest.mark.parametrize("relative", [SEARCH_MAIN, GRAPH_MAIN])
def test_no_router_or_mount_adds_routes_the_list_would_miss(app_source: Path, relative: str) -> None:
    service_dir = (app_source / relative).parent
    for module in service_dir.rglob("*.py"):
        text = module.read_text()
        for marker in ("APIRouter", "include_router", ".mount(", "add_api_route", "root_path"):
            assert marker not in text, f"{module}: {marker} adds or moves routes"


def test_every_api_route_sits_under_its_service_prefix() -> None:
    for route in APP_ROUTES:
        if route.service == "graph" and route.is_api:
            assert route.path.startswith("/api/graph/"), route
        if route.service == "search" and route.is_api:
            assert not route.path.startswith("/api/graph"), route


def test_every_api_route_is_classified_with_a_reason() -> None:
    for route in APP_ROUTES:
        if route.is_api:
            assert route.reason, f"{route.method} {route.path} has no reason for its class {route.access}"
        if route.access == "quota":
            assert route.method == "POST" or route.gemini_calls, route  # spends per request


def test_route_list_has_no_duplicates_and_cites_a_line_per_route() -> None:
    keys = [(r.service, r.method, r.path) for r in APP_ROUTES]
    assert len(keys) == len(set(keys))
    assert all(r.source.rsplit(":", 1)[1].isdigit() for r in APP_ROUTES)


def test_security_page_shows_the_current_route_table() -> None:
    from pathlib import Path

    from archivist_infra.entry.routes import route_table_markdown

    page = (Path(__file__).resolve().parents[2] / "docs" / "public-entry-security.md").read_text()
    assert route_table_markdown() in page, "regenerate the table in docs/public-entry-security.md"
