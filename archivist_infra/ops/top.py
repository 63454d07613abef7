"""`ops top`: CPU and memory of every pod from the metrics API, beside its requests and limits.

Reads `metrics.k8s.io/v1beta1` PodMetrics (served by metrics-server, or the cloud's equivalent)
like `kubectl top pod`, and adds what `kubectl top` leaves out: the share of the limit used,
so a pod close to being throttled or OOM-killed stands out.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from rich.table import Table

from ..config.quantity import MI, parse_quantity
from .context import Ops
from .errors import OpsError

METRICS = ("metrics.k8s.io", "v1beta1")


def _q(value: Any) -> Decimal:
    return parse_quantity(value) or Decimal(0)


def _declared(pods: list[Any]) -> dict[tuple[str, str], dict[str, Decimal | None]]:
    out: dict[tuple[str, str], dict[str, Decimal | None]] = {}
    for pod in pods:
        for c in pod.spec.containers:
            res = c.resources
            req, lim = (res.requests or {}) if res else {}, (res.limits or {}) if res else {}
            out[(pod.metadata.name, c.name)] = {
                "cpuRequest": parse_quantity(req.get("cpu")), "cpuLimit": parse_quantity(lim.get("cpu")),
                "memoryRequest": parse_quantity(req.get("memory")), "memoryLimit": parse_quantity(lim.get("memory"))}
    return out


def collect(ops: Ops, *, containers: bool = False) -> list[dict[str, Any]]:
    from kubernetes.client.exceptions import ApiException

    try:
        metrics = ops.custom.list_namespaced_custom_object(*METRICS, ops.namespace, "pods")
    except ApiException as err:
        if err.status in (404, 503):
            raise OpsError("the metrics API (metrics.k8s.io) is not served on this cluster: install metrics-server "
                           "(kind and minikube: docs/getting-started/local.md, step 2)") from None
        raise
    declared = _declared(ops.core.list_namespaced_pod(ops.namespace).items)
    rows: list[dict[str, Any]] = []
    for item in sorted(metrics.get("items", []), key=lambda m: m["metadata"]["name"]):
        pod = item["metadata"]["name"]
        parts = []
        for c in item.get("containers", []):
            d = declared.get((pod, c["name"]), {})
            parts.append({"pod": pod, "container": c["name"], "cpu": _q(c["usage"].get("cpu")),
                          "memory": _q(c["usage"].get("memory")), **{k: d.get(k) for k in
                          ("cpuRequest", "cpuLimit", "memoryRequest", "memoryLimit")}})
        if containers:
            rows += parts
            continue

        def total(key: str, ps: list[dict[str, Any]] = parts) -> Decimal | None:
            values = [p[key] for p in ps]
            return None if any(v is None for v in values) or not values else sum(values, Decimal(0))

        rows.append({"pod": pod, "container": None, "cpu": total("cpu") or Decimal(0),
                     "memory": total("memory") or Decimal(0),
                     **{k: total(k) for k in ("cpuRequest", "cpuLimit", "memoryRequest", "memoryLimit")}})
    return rows


def _share(used: Decimal, of: Decimal | None) -> str:
    return f"{used / of * 100:.0f}%" if of else "-"


def top(ops: Ops, *, containers: bool = False) -> int:
    rows = collect(ops, containers=containers)
    if ops.out.json:
        ops.out.emit([{k: (float(v) if isinstance(v, Decimal) else v) for k, v in r.items()} for r in rows])
        return 0
    if not rows:
        ops.out.say(f"no pod metrics in namespace {ops.namespace} yet (metrics arrive about a minute after a pod starts)")
        return 0
    t = Table(title=f"Resource use in {ops.namespace} (metrics.k8s.io)", title_justify="left")
    for col in ("pod", *(("container",) if containers else ()), "cpu", "of request", "of limit",
                "memory", "of request", "of limit"):
        t.add_column(col, justify="left" if col in ("pod", "container") else "right")
    for r in rows:
        cpu, mem = r["cpu"], r["memory"]
        t.add_row(r["pod"], *((r["container"],) if containers else ()), f"{cpu * 1000:.0f}m",
                  _share(cpu, r["cpuRequest"]), _share(cpu, r["cpuLimit"]), f"{mem / MI:.0f}Mi",
                  _share(mem, r["memoryRequest"]), _share(mem, r["memoryLimit"]))
    ops.out.console.print(t)
    return 0
