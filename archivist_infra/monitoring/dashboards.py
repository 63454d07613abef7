"""Grafana dashboards (JSON model, schemaVersion 39) built from the same expressions the alerts use.

One overview and one per tier: apps, worker jobs, and each store. Panels query the
Prometheus data source through a `datasource` variable, so the dashboards work with any
Prometheus the Grafana sidecar's Grafana has (kube-prometheus-stack's, or your own).
"""

from __future__ import annotations

import json
from typing import Any

from ..config.monitoring import Thresholds
from . import metrics as m

SCHEMA_VERSION = 39
_DS = {"type": "prometheus", "uid": "${datasource}"}


def _panel(pid: int, title: str, exprs: list[tuple[str, str]], *, kind: str = "timeseries", unit: str = "short",
           x: int = 0, y: int = 0, w: int = 12, h: int = 8, threshold: float | None = None) -> dict[str, Any]:
    steps: list[dict[str, Any]] = [{"color": "green", "value": None}]
    if threshold is not None:
        steps.append({"color": "red", "value": threshold})
    return {
        "id": pid,
        "type": kind,
        "title": title,
        "datasource": _DS,
        "gridPos": {"h": h, "w": w, "x": x, "y": y},
        "targets": [
            {"refId": chr(ord("A") + n), "datasource": _DS, "expr": expr, "legendFormat": legend}
            for n, (expr, legend) in enumerate(exprs)
        ],
        "fieldConfig": {
            "defaults": {"unit": unit, "thresholds": {"mode": "absolute", "steps": steps}},
            "overrides": [],
        },
    }


def _dashboard(uid: str, title: str, panels: list[dict[str, Any]]) -> dict[str, Any]:
    return {
        "uid": uid,
        "title": title,
        "tags": ["archivist"],
        "editable": True,
        "timezone": "browser",
        "schemaVersion": SCHEMA_VERSION,
        "refresh": "1m",
        "time": {"from": "now-6h", "to": "now"},
        "templating": {"list": [{
            "name": "datasource",
            "label": "Data source",
            "type": "datasource",
            "query": "prometheus",
            "hide": 0,
            "skipUrlSync": False,
        }]},
        "annotations": {"list": []},
        "panels": panels,
    }


def dashboards(namespace: str, thresholds: Thresholds, *, public_entry: bool) -> dict[str, dict[str, Any]]:
    """Dashboard key (also the ConfigMap's file name stem) -> dashboard JSON model."""
    x, t = m.Expressions(namespace), thresholds
    apis = "|".join(m.API_TARGETS)
    pod = "{{pod}}/{{container}}"
    cpu = _panel(1, "CPU of limit", [(x.cpu_of_limit(), pod)], unit="percentunit", threshold=t.cpu_percent / 100)
    memory = _panel(2, "Memory of limit", [(x.memory_of_limit(), pod)], unit="percentunit",
                    threshold=t.memory_percent / 100)
    restarts = _panel(3, "Restarts (1h)", [(x.restarts(), pod)], threshold=t.restarts_per_hour)
    api_up = _panel(4, "API health (probe success)", [(x.api_up(apis + "|" + m.NEO4J_TARGET), "{{probe_target}}")],
                    kind="stat")
    latency = _panel(5, "API /health latency", [(x.api_latency(apis), "{{probe_target}}")], unit="s",
                     threshold=t.latency_seconds)
    hpa = _panel(6, "Autoscalers: current vs max", [(x.hpa_current(), "{{horizontalpodautoscaler}} current"),
                                                    (x.hpa_max(), "{{horizontalpodautoscaler}} max")])
    pvc = _panel(7, "Volumes used", [(x.pvc_used_ratio(), "{{persistentvolumeclaim}}")], unit="percentunit",
                 threshold=t.pvc_used_percent / 100)
    lag = _panel(8, f"Graph consumer lag ({m.GRAPH_TOPIC})", [(x.graph_lag(), "{{consumergroup}}")],
                 threshold=t.kafka_lag_messages)
    worker_age = _panel(9, "Hours since the worker's last successful run (or its creation)",
                        [(f"(time() - ({x.worker_last_success()} or {x.worker_created()})) / 3600", "hours")],
                        unit="h", threshold=t.worker_max_age_hours)
    worker_failed = _panel(10, "Newest failed worker run (start)",
                           [(f"{x.worker_last_failed_start()} * 1000", "failed run")], kind="stat", unit="dateTimeAsIso")
    preflight_failed = _panel(24, "Failed pre-flight Jobs (awaited by pulumi up)",
                              [(f"sum by (namespace) ({x.preflight_failed()}) or on () vector(0)", "failed")],
                              kind="stat", threshold=1)
    backup_age = _panel(11, "Hours since the last successful backup",
                        [(f"({m.backup_age_seconds(namespace)}) / 3600", "{{schedule}}")], unit="h",
                        threshold=t.backup_max_age_hours)
    backup_failures = _panel(21, "Failed backups", [(m.backup_failures(namespace, f"{t.backup_max_age_hours}h"),
                                                     "{{schedule}}")], kind="stat", threshold=1)
    crash = _panel(22, "Containers in CrashLoopBackOff", [(f"{x.crash_looping()} == 1", pod)], kind="stat")
    pvc_forecast = _panel(23, f"Free space predicted in {t.pvc_full_hours}h",
                          [(x.pvc_predicted_available(t.pvc_full_hours), "{{persistentvolumeclaim}}")], unit="bytes")
    brokers = _panel(12, "Kafka brokers", [(x.kafka_brokers(), "brokers")], kind="stat")
    qdrant_peers = _panel(13, "Qdrant peers answering vs replicas",
                          [(x.qdrant_peers_up(), "answering"), (x.qdrant_replicas(), "replicas"),
                           (x.qdrant_peers_known(), "in consensus")])
    qdrant_rest = _panel(14, "Qdrant REST requests/s", [(x.qdrant_rest_rate(), "{{endpoint}}"),
                                                        (x.qdrant_rest_failure_rate(), "{{endpoint}} failed")],
                         unit="reqps")
    qdrant_collections = _panel(15, "Qdrant collections", [(x.qdrant_collections(), "collections")], kind="stat")
    redis_memory = _panel(16, "Redis memory of maxmemory", [(x.redis_memory_of_max(), "used")], unit="percentunit")
    redis_clients = _panel(17, "Redis clients", [(x.redis_clients(), "clients")])
    redis_up = _panel(18, "Redis up", [(x.redis_up(), "up")], kind="stat")
    neo4j_up = _panel(19, "Neo4j bolt reachable (probe)", [(x.api_up(m.NEO4J_TARGET), "bolt")], kind="stat")

    def store_resources(app: str) -> list[dict[str, Any]]:
        sel = x.sel(pod=f"{app}-[0-9]+")
        return [
            _panel(30, f"{app} CPU of limit", [(f"({x.cpu_of_limit()}) and on (pod) {m.POD_INFO}{sel}", pod)],
                   unit="percentunit", threshold=t.cpu_percent / 100),
            _panel(31, f"{app} memory of limit", [(f"({x.memory_of_limit()}) and on (pod) {m.POD_INFO}{sel}", pod)],
                   unit="percentunit", threshold=t.memory_percent / 100),
            _panel(32, f"{app} volumes used",
                   [(f"({x.pvc_used_ratio()}) and on (persistentvolumeclaim) "
                     f'label_replace({m.POD_INFO}{sel}, "persistentvolumeclaim", "data-$1", "pod", "(.*)")',
                     "{{persistentvolumeclaim}}")], unit="percentunit", threshold=t.pvc_used_percent / 100),
        ]

    overview = [api_up, latency, cpu, memory, crash, restarts, hpa, pvc, pvc_forecast, lag, worker_age, backup_age,
                backup_failures, brokers, qdrant_peers]
    if public_entry:
        overview.append(_panel(20, "Days until the public certificate expires", [(x.cert_days_left(), "days")],
                               kind="stat", threshold=t.cert_expiry_days))
    boards = {
        "overview": _dashboard("archivist-overview", "Archivist / Overview", overview),
        "apps": _dashboard("archivist-apps", "Archivist / Apps",
                               [api_up, latency, hpa, cpu, memory, crash, restarts]),
        "worker-jobs": _dashboard("archivist-worker-jobs", "Archivist / Worker jobs",
                                  [worker_age, worker_failed, preflight_failed, lag]),
        "qdrant": _dashboard("archivist-qdrant", "Archivist / Qdrant",
                             [qdrant_peers, qdrant_rest, qdrant_collections, *store_resources("qdrant")]),
        "kafka": _dashboard("archivist-kafka", "Archivist / Kafka", [brokers, lag, *store_resources("kafka")]),
        "redis": _dashboard("archivist-redis", "Archivist / Redis",
                            [redis_up, redis_memory, redis_clients, *store_resources("redis")]),
        "neo4j": _dashboard("archivist-neo4j", "Archivist / Neo4j", [neo4j_up, *store_resources("neo4j")]),
    }
    # Panels are shared between dashboards; give each its own copy with ids unique per dashboard.
    out: dict[str, dict[str, Any]] = {}
    for key, board in boards.items():
        board = json.loads(json.dumps(board))
        for n, panel in enumerate(board["panels"], start=1):
            panel["id"] = n
            panel["gridPos"]["x"] = ((n - 1) % 2) * 12
            panel["gridPos"]["y"] = ((n - 1) // 2) * 8
        out[key] = board
    return out


def dashboard_file(key: str) -> str:
    return f"archivist-{key}.json"
