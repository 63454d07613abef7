"""The house rules of archivist_infra: no import cycles, and every room says what it is for.

A cycle (a module importing, through any chain, a module that imports it back) makes import order
matter and hides which part depends on which; grimp builds the import graph from the source.
"""

from __future__ import annotations

import ast
from pathlib import Path

import grimp

PACKAGE = "archivist_infra"
ROOT = Path(__file__).resolve().parent.parent / PACKAGE


def _cycles(graph: grimp.ImportGraph) -> list[list[str]]:
    """Strongly connected components with more than one module (Tarjan, iteratively)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []
    counter = 0
    for start in sorted(graph.modules):
        if start in index:
            continue
        work = [(start, iter(sorted(graph.find_modules_directly_imported_by(start))))]
        index[start] = low[start] = counter
        counter += 1
        stack.append(start)
        on_stack.add(start)
        while work:
            node, children = work[-1]
            child = next(children, None)
            if child is not None:
                if child not in index:
                    index[child] = low[child] = counter
                    counter += 1
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(sorted(graph.find_modules_directly_imported_by(child)))))
                elif child in on_stack:
                    low[node] = min(low[node], index[child])
                continue
            work.pop()
            if work:
                parent = work[-1][0]
                low[parent] = min(low[parent], low[node])
            if low[node] == index[node]:
                component = []
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    component.append(member)
                    if member == node:
                        break
                if len(component) > 1:
                    found.append(sorted(component))
    return found


def test_no_import_cycles():
    graph = grimp.build_graph(PACKAGE, include_external_packages=False)
    assert len(graph.modules) > 50  # the whole package was read, not an empty graph
    cycles = _cycles(graph)
    detail = []
    for cycle in cycles:
        members = set(cycle)
        edges = [f"{a} -> {b}" for a in cycle for b in sorted(graph.find_modules_directly_imported_by(a)) if b in members]
        detail.append(f"{cycle}: " + "; ".join(edges))
    assert not cycles, "import cycles in archivist_infra:\n" + "\n".join(detail)


def test_cycle_finder_finds_a_cycle():
    # The check above is only worth something if the finder sees a cycle when there is one.
    graph = grimp.ImportGraph()
    for name in ("p", "p.a", "p.b", "p.c"):
        graph.add_module(name)
    graph.add_import(importer="p.a", imported="p.b")
    graph.add_import(importer="p.b", imported="p")
    graph.add_import(importer="p", imported="p.a")
    graph.add_import(importer="p.c", imported="p.a")
    assert _cycles(graph) == [["p", "p.a", "p.b"]]


def test_every_package_says_what_it_is_for():
    missing = []
    for init in sorted(ROOT.rglob("__init__.py")):
        doc = ast.get_docstring(ast.parse(init.read_text(encoding="utf-8")))
        if not doc or len(doc.split()) < 5:
            missing.append(str(init.relative_to(ROOT.parent)))
    assert not missing, f"__init__.py without a docstring saying what the package is for: {missing}"
