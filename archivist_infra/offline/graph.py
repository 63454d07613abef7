"""The resource graph of a stack: parents, dependencies, providers, protection (and, on request,
what each resource is registered with)."""

from __future__ import annotations

import re
from typing import Any

from .engine import Run, is_secret_value

SECRET = "[secret]"


def shown_inputs(value: Any) -> Any:
    """Registered inputs as JSON: a secret (at any depth) is shown as "[secret]", never its value."""
    if is_secret_value(value):
        return SECRET
    if isinstance(value, dict):
        return {str(k): shown_inputs(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [shown_inputs(v) for v in value]
    if isinstance(value, float) and value.is_integer():
        return int(value)  # protobuf carries every number as a double: show 3, not 3.0
    if value is None or isinstance(value, bool | int | float | str):
        return value
    return str(value)  # an unknown or an asset: its description, never a value the engine hid


def graph(run: Run, *, inputs: bool = False) -> dict[str, Any]:
    names = {r.urn: r.name for r in run.resources}
    resources = []
    # Logical names are unique in a stack; sorting by them makes the output stable across runs.
    for r in sorted(run.resources, key=lambda res: res.name):
        parent = names.get(r.parent_urn) if r.parent_urn else None
        resources.append({
            "type": r.type,
            "name": r.name,
            "parent": parent,
            "dependsOn": sorted({names[d] for d in r.dependencies if d in names}),
            "provider": r.provider if r.provider and not r.provider.startswith("default") else None,
            "protect": r.protect,
            **({"inputs": shown_inputs(r.inputs), "ignoreChanges": list(r.ignore_changes), "hooks": dict(r.hooks)}
               if inputs else {}),
        })
    return {"resources": resources}


def _node_id(name: str) -> str:
    return re.sub(r"[^A-Za-z0-9_]", "_", name)


def mermaid(data: dict[str, Any]) -> str:
    """Components become subgraphs; edges point from a resource to what it depends on."""
    resources = data["resources"]
    children: dict[str | None, list[dict[str, Any]]] = {}
    for r in resources:
        children.setdefault(r["parent"], []).append(r)
    components = {r["name"] for r in resources if r["type"].startswith("archivist:")}
    lines = ["flowchart LR"]

    def emit(parent: str | None, indent: str) -> None:
        for r in children.get(parent, []):
            nid = _node_id(r["name"])
            if r["name"] in components:
                lines.append(f'{indent}subgraph {nid}["{r["name"]} ({r["type"].split(":")[-1]})"]')
                emit(r["name"], indent + "  ")
                lines.append(f"{indent}end")
            else:
                kind = r["type"].split(":")[-1]
                lock = " 🔒" if r["protect"] else ""
                lines.append(f'{indent}{nid}["{r["name"]}<br/>{kind}{lock}"]')

    emit(None, "  ")
    for r in resources:
        for dep in r["dependsOn"]:
            lines.append(f"  {_node_id(r['name'])} --> {_node_id(dep)}")
    return "\n".join(lines) + "\n"
