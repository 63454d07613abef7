"""The stack's alerts as Prometheus rule groups, from the settings alone.

Every alert reads its threshold from `archivist:monitoring.thresholds`, carries a summary,
and links to its runbook in docs/runbooks.md (the anchor is the alert name, lower-cased).
The same groups go into a PrometheusRule (Prometheus Operator) or a GMP ClusterRules.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from ..config.monitoring import Thresholds
from . import metrics as m


@dataclass(frozen=True)
class RuleInputs:
    namespace: str
    thresholds: Thresholds
    kafka_brokers: int
    public_entry: bool  # a TLS entry is probed (certificate expiry)
    runbook_base: str = "docs/runbooks.md"


def runbook_anchor(alert: str) -> str:
    return alert.lower()


def _alert(i: RuleInputs, name: str, expr: str, for_: str, severity: str, summary: str,
           description: str) -> dict[str, Any]:
    return {
        "alert": name,
        "expr": expr,
        "for": for_,
        "labels": {"severity": severity, "namespace": i.namespace},
        "annotations": {
            "summary": summary,
            "description": description,
            "runbook_url": f"{i.runbook_base}#{runbook_anchor(name)}",
        },
    }


def rule_groups(i: RuleInputs) -> list[dict[str, Any]]:
    t, x, ns = i.thresholds, m.Expressions(i.namespace), i.namespace
    workloads = [
        _alert(i, "ArchivistCpuNearLimit", f"{x.cpu_of_limit('15m')} > {t.cpu_percent / 100}", "15m", "warning",
               "{{ $labels.pod }}/{{ $labels.container }} uses over " f"{t.cpu_percent}% of its CPU limit",
               "Sustained CPU near the limit means throttling: requests slow down before the autoscaler reacts."),
        _alert(i, "ArchivistMemoryNearLimit", f"{x.memory_of_limit()} > {t.memory_percent / 100}", "10m", "warning",
               "{{ $labels.pod }}/{{ $labels.container }} uses over " f"{t.memory_percent}% of its memory limit",
               "A container at its memory limit is OOM-killed next."),
        _alert(i, "ArchivistPodCrashLooping", f"{x.crash_looping()} == 1", "5m", "critical",
               "{{ $labels.pod }}/{{ $labels.container }} is in CrashLoopBackOff",
               "The container exits right after starting and Kubernetes backs off restarting it."),
        _alert(i, "ArchivistPodRestartBurst", f"{x.restarts('1h')} >= {t.restarts_per_hour}", "0m", "warning",
               "{{ $labels.pod }}/{{ $labels.container }} restarted {{ $value }} times in the last hour",
               f"More than {t.restarts_per_hour - 1} restarts within an hour (OOM kills, failed liveness probes)."),
        _alert(i, "ArchivistHpaAtMaximum", f"{x.hpa_current()} >= {x.hpa_max()}", "15m", "warning",
               "Autoscaler {{ $labels.horizontalpodautoscaler }} has been at its maximum for 15 minutes",
               "Load exceeds what the configured maxReplicas can serve; raise it or find the bottleneck."),
    ]
    storage = [
        _alert(i, "ArchivistPvcAlmostFull", f"{x.pvc_used_ratio()} > {t.pvc_used_percent / 100}", "5m", "warning",
               "Volume {{ $labels.persistentvolumeclaim }} is over " f"{t.pvc_used_percent}% full",
               "A full volume stops the store that writes to it."),
        _alert(i, "ArchivistPvcFillingUp",
               f"({x.pvc_predicted_available(t.pvc_full_hours)} < 0) and ({x.pvc_used_ratio()} > 0.5)", "1h",
               "warning",
               "Volume {{ $labels.persistentvolumeclaim }} is predicted to fill within " f"{t.pvc_full_hours}h",
               "Linear prediction over the last 6 hours of free space."),
    ]
    apis = "|".join(m.API_TARGETS)
    api = [
        _alert(i, "ArchivistApiDown", f"{x.api_up(apis + '|' + m.NEO4J_TARGET)} == 0", f"{t.probe_failure_minutes}m",
               "critical", "{{ $labels.probe_target }} does not answer its health check",
               "The blackbox exporter's probe of the service fails (no answer, or not 2xx)."),
        _alert(i, "ArchivistApiSlow", f"{x.api_latency(apis)} > {t.latency_seconds}", "10m", "warning",
               "{{ $labels.probe_target }} answers /health in {{ $value | humanizeDuration }} on average",
               f"Above the {t.latency_seconds}s threshold for 10 minutes, measured from outside the pods."),
    ]
    if i.public_entry:
        api.append(_alert(
            i, "ArchivistCertificateExpiring", f"{x.cert_days_left()} < {t.cert_expiry_days}", "1h", "warning",
            "The public entry's certificate expires in {{ $value | humanize }} days",
            "cert-manager (or whoever issues it) has not renewed the certificate in time."))
    pipeline = [
        _alert(i, "ArchivistGraphConsumerLag", f"{x.graph_lag()} > {t.kafka_lag_messages}", "15m", "warning",
               f"The graph service is {{{{ $value }}}} messages behind on {m.GRAPH_TOPIC}",
               f"Consumer group {m.GRAPH_CONSUMER_GROUP} falls behind what the worker publishes."),
        _alert(i, "ArchivistWorkerRunOverdue",
               f"(time() - {x.worker_last_success()} > {t.worker_max_age_hours * 3600}) or "
               f"((time() - {x.worker_created()} > {t.worker_max_age_hours * 3600}) "
               f"unless on (namespace) {x.worker_last_success()})",
               "10m", "warning",
               f"The batch worker has not completed a run in {t.worker_max_age_hours}h",
               "Its CronJob's last successful time is too old, or it never succeeded since it was created."),
        _alert(i, "ArchivistWorkerRunFailed",
               f"({x.worker_last_failed_start()} > on (namespace) {x.worker_last_success()}) or "
               f"({x.worker_last_failed_start()} unless on (namespace) {x.worker_last_success()})",
               "0m", "warning", "The batch worker's latest run failed",
               "A worker Job newer than the last successful run has failed pods and no success."),
        _alert(i, "ArchivistPreflightJobFailed", f"{x.preflight_failed()} == 1", "0m", "warning",
               "Pre-flight Job {{ $labels.job_name }} failed",
               "A check `pulumi up` awaits before the apps roll (Gemini key and models, the graph's Kafka topic) "
               "failed; the apps it guards were not rolled."),
    ]
    stores = [
        _alert(i, "ArchivistKafkaBrokerMissing",
               f"({x.kafka_brokers()} or on () vector(0)) < {i.kafka_brokers}", "5m", "critical",
               f"Kafka reports {{{{ $value }}}} of {i.kafka_brokers} brokers",
               "A broker left the cluster (or the exporter cannot reach any)."),
        _alert(i, "ArchivistQdrantPeerMissing",
               f"(({x.qdrant_peers_up()} or on (namespace) (0 * {x.qdrant_replicas()})) < on (namespace) "
               f"{x.qdrant_replicas()}) or ({x.qdrant_peers_known()} < on (namespace) {x.qdrant_replicas()})",
               "5m", "critical",
               "Fewer Qdrant peers answer than the StatefulSet runs",
               "A Qdrant pod is down or has not joined the cluster."),
        _alert(i, "ArchivistBackupStale",
               f"{m.backup_age_seconds(ns)} > {t.backup_max_age_hours * 3600}", "10m", "warning",
               f"No successful backup of {ns} in {t.backup_max_age_hours}h",
               f"Velero schedule {m.backup_schedule(ns)} has not completed a backup in time."),
        _alert(i, "ArchivistBackupFailed",
               f"{m.backup_failures(ns, f'{t.backup_max_age_hours}h')} > 0", "0m", "warning",
               f"A backup of {ns} failed",
               f"Velero schedule {m.backup_schedule(ns)} reported a failed backup."),
    ]
    return [
        {"name": "archivist.workloads", "rules": workloads},
        {"name": "archivist.storage", "rules": storage},
        {"name": "archivist.api", "rules": api},
        {"name": "archivist.pipeline", "rules": pipeline},
        {"name": "archivist.stores", "rules": stores},
    ]


def alert_names(groups: list[dict[str, Any]]) -> list[str]:
    return [r["alert"] for g in groups for r in g["rules"]]
