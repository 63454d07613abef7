"""promtool unit-test cases: for every alert, series on which it fires and series on which it stays quiet.

The expectations (which labels fire, what the summary says) are written here by hand against the
prod stack's defaults (namespace `archivist`, 3 Kafka brokers, distributed Qdrant, a TLS entry,
thresholds from `archivist:monitoring.thresholds`). `generate.py` turns them into
tests/monitoring/rules_test.yaml next to rules.yaml, the rendered PrometheusRule's groups.
"""

from __future__ import annotations

from dataclasses import dataclass, field

NS = 'namespace="archivist"'


@dataclass(frozen=True)
class Case:
    alert: str
    series: dict[str, str]  # series -> promtool values notation
    eval_time: str
    fires: list[dict[str, str]] = field(default_factory=list)  # expected alert labels -> summary under "summary"
    interval: str = "1m"
    note: str = ""


def fire(summary: str, **labels: str) -> dict[str, str]:
    return {"summary": summary, **labels}


CPU = f'container_cpu_usage_seconds_total{{{NS}, pod="search-1", container="search"}}'
CPU_LIMIT = f'kube_pod_container_resource_limits{{{NS}, pod="search-1", container="search", resource="cpu", unit="core"}}'
MEM = f'container_memory_working_set_bytes{{{NS}, pod="neo4j-0", container="neo4j"}}'
MEM_LIMIT = (f'kube_pod_container_resource_limits{{{NS}, pod="neo4j-0", container="neo4j", resource="memory", '
             'unit="byte"}')
HPA_CUR = f'kube_horizontalpodautoscaler_status_current_replicas{{{NS}, horizontalpodautoscaler="archivist-search"}}'
HPA_MAX = f'kube_horizontalpodautoscaler_spec_max_replicas{{{NS}, horizontalpodautoscaler="archivist-search"}}'
PVC = 'persistentvolumeclaim="data-qdrant-0"'
DAY = 86400
H27 = "27h"  # beyond the 26 h thresholds of the worker and the backups

CASES: list[Case] = [
    Case("ArchivistCpuNearLimit", {CPU: "0+57x60", CPU_LIMIT: "1x60"}, "45m",
         [fire("search-1/search uses over 90% of its CPU limit", pod="search-1", container="search")],
         note="0.95 of a 1-core limit for 30 minutes"),
    Case("ArchivistCpuNearLimit", {CPU: "0+30x60", CPU_LIMIT: "1x60"}, "45m", note="half the limit"),
    Case("ArchivistMemoryNearLimit", {MEM: "996147200x30", MEM_LIMIT: "1073741824x30"}, "20m",
         [fire("neo4j-0/neo4j uses over 90% of its memory limit", pod="neo4j-0", container="neo4j")],
         note="950Mi of 1Gi"),
    Case("ArchivistMemoryNearLimit", {MEM: "524288000x30", MEM_LIMIT: "1073741824x30"}, "20m", note="500Mi of 1Gi"),
    Case("ArchivistPodCrashLooping",
         {f'kube_pod_container_status_waiting_reason{{{NS}, pod="graph-1", container="graph", reason="CrashLoopBackOff"}}':
          "1x20"}, "10m",
         [fire("graph-1/graph is in CrashLoopBackOff", pod="graph-1", container="graph")]),
    Case("ArchivistPodCrashLooping",
         {f'kube_pod_container_status_waiting_reason{{{NS}, pod="graph-1", container="graph", reason="CrashLoopBackOff"}}':
          "0x20"}, "10m"),
    Case("ArchivistPodRestartBurst",
         {f'kube_pod_container_status_restarts_total{{{NS}, pod="worker-1", container="worker"}}': "0 0 1 2 3 4 4 4"},
         "7m", [fire("worker-1/worker restarted 4 times in the last hour", pod="worker-1", container="worker")]),
    Case("ArchivistPodRestartBurst",
         {f'kube_pod_container_status_restarts_total{{{NS}, pod="worker-1", container="worker"}}': "0 0 1 1 1 1 1 1"},
         "7m", note="one restart"),
    Case("ArchivistHpaAtMaximum", {HPA_CUR: "10x30", HPA_MAX: "10x30"}, "20m",
         [fire("Autoscaler archivist-search has been at its maximum for 15 minutes",
               horizontalpodautoscaler="archivist-search")]),
    Case("ArchivistHpaAtMaximum", {HPA_CUR: "5x30", HPA_MAX: "10x30"}, "20m"),
    Case("ArchivistPvcAlmostFull", {f"kubelet_volume_stats_used_bytes{{{NS}, {PVC}}}": "90x20",
                                    f"kubelet_volume_stats_capacity_bytes{{{NS}, {PVC}}}": "100x20"}, "10m",
         [fire("Volume data-qdrant-0 is over 85% full", persistentvolumeclaim="data-qdrant-0")]),
    Case("ArchivistPvcAlmostFull", {f"kubelet_volume_stats_used_bytes{{{NS}, {PVC}}}": "50x20",
                                    f"kubelet_volume_stats_capacity_bytes{{{NS}, {PVC}}}": "100x20"}, "10m"),
    Case("ArchivistPvcFillingUp", {f"kubelet_volume_stats_available_bytes{{{NS}, {PVC}}}": "400-1x150",
                                   f"kubelet_volume_stats_used_bytes{{{NS}, {PVC}}}": "600+1x150",
                                   f"kubelet_volume_stats_capacity_bytes{{{NS}, {PVC}}}": "1000x150"}, "2h",
         [fire("Volume data-qdrant-0 is predicted to fill within 24h", persistentvolumeclaim="data-qdrant-0")],
         note="one unit a minute less free space: empty long before 24 h"),
    Case("ArchivistPvcFillingUp", {f"kubelet_volume_stats_available_bytes{{{NS}, {PVC}}}": "400x150",
                                   f"kubelet_volume_stats_used_bytes{{{NS}, {PVC}}}": "600x150",
                                   f"kubelet_volume_stats_capacity_bytes{{{NS}, {PVC}}}": "1000x150"}, "2h",
         note="full to 60 % but not growing"),
    Case("ArchivistApiDown", {f'probe_success{{{NS}, probe_target="search"}}': "0x15",
                              f'probe_success{{{NS}, probe_target="graph"}}': "1x15"}, "10m",
         [fire("search does not answer its health check", probe_target="search")]),
    Case("ArchivistApiDown", {f'probe_success{{{NS}, probe_target="neo4j"}}': "0x15"}, "10m",
         [fire("neo4j does not answer its health check", probe_target="neo4j")], note="Neo4j's bolt port"),
    Case("ArchivistApiDown", {f'probe_success{{{NS}, probe_target="search"}}': "1x15",
                              'probe_success{namespace="other", probe_target="search"}': "0x15"}, "10m",
         note="another namespace's outage is not ours"),
    Case("ArchivistApiSlow", {f'probe_duration_seconds{{{NS}, probe_target="graph"}}': "1.5x30"}, "20m",
         [fire("graph answers /health in 1.5s on average", probe_target="graph")]),
    Case("ArchivistApiSlow", {f'probe_duration_seconds{{{NS}, probe_target="graph"}}': "0.2x30"}, "20m"),
    Case("ArchivistCertificateExpiring",
         {f'probe_ssl_earliest_cert_expiry{{{NS}, probe_target="public"}}': f"{7200 + 7 * DAY}x150"}, "2h",
         [fire("The public entry's certificate expires in 7 days", probe_target="public")]),
    Case("ArchivistCertificateExpiring",
         {f'probe_ssl_earliest_cert_expiry{{{NS}, probe_target="public"}}': f"{30 * DAY}x150"}, "2h"),
    Case("ArchivistGraphConsumerLag",
         {f'kafka_consumergroup_lag{{{NS}, consumergroup="graph-builder", topic="paper.processed", partition="0"}}':
          "800x30",
          f'kafka_consumergroup_lag{{{NS}, consumergroup="graph-builder", topic="paper.processed", partition="1"}}':
          "700x30"}, "20m",
         [fire("The graph service is 1500 messages behind on paper.processed",
               consumergroup="graph-builder", topic="paper.processed")]),
    Case("ArchivistGraphConsumerLag",
         {f'kafka_consumergroup_lag{{{NS}, consumergroup="graph-builder", topic="paper.processed", partition="0"}}':
          "10x30",
          f'kafka_consumergroup_lag{{{NS}, consumergroup="someone-else", topic="paper.processed", partition="0"}}':
          "99999x30"}, "20m", note="only the graph service's group counts"),
    Case("ArchivistWorkerRunOverdue",
         {f'kube_cronjob_status_last_successful_time{{{NS}, cronjob="archivist-worker"}}': "0x405",
          f'kube_cronjob_created{{{NS}, cronjob="archivist-worker"}}': "0x405"}, H27,
         [fire("The batch worker has not completed a run in 26h")], interval="4m"),
    Case("ArchivistWorkerRunOverdue",
         {f'kube_cronjob_created{{{NS}, cronjob="archivist-worker"}}': "0x405"}, H27,
         [fire("The batch worker has not completed a run in 26h")], interval="4m", note="never succeeded"),
    Case("ArchivistWorkerRunOverdue",
         {f'kube_cronjob_status_last_successful_time{{{NS}, cronjob="archivist-worker"}}': "93600x405",
          f'kube_cronjob_created{{{NS}, cronjob="archivist-worker"}}': "0x405"}, H27,
         interval="4m", note="succeeded an hour ago"),
    Case("ArchivistWorkerRunFailed",
         {f'kube_job_status_start_time{{{NS}, job_name="archivist-worker-29000"}}': "1000x10",
          f'kube_job_status_failed{{{NS}, job_name="archivist-worker-29000", reason="BackoffLimitExceeded"}}': "1x10",
          f'kube_job_status_succeeded{{{NS}, job_name="archivist-worker-29000"}}': "0x10",
          f'kube_cronjob_status_last_successful_time{{{NS}, cronjob="archivist-worker"}}': "500x10"}, "5m",
         [fire("The batch worker's latest run failed")]),
    Case("ArchivistWorkerRunFailed",
         {f'kube_job_status_start_time{{{NS}, job_name="archivist-worker-29000"}}': "1000x10",
          f'kube_job_status_failed{{{NS}, job_name="archivist-worker-29000", reason=""}}': "1x10",
          f'kube_job_status_succeeded{{{NS}, job_name="archivist-worker-29000"}}': "0x10"}, "5m",
         [fire("The batch worker's latest run failed")], note="no run ever succeeded"),
    Case("ArchivistWorkerRunFailed",
         {f'kube_job_status_start_time{{{NS}, job_name="archivist-worker-29000"}}': "1000x10",
          f'kube_job_status_failed{{{NS}, job_name="archivist-worker-29000", reason="BackoffLimitExceeded"}}': "1x10",
          f'kube_job_status_succeeded{{{NS}, job_name="archivist-worker-29000"}}': "0x10",
          f'kube_cronjob_status_last_successful_time{{{NS}, cronjob="archivist-worker"}}': "2000x10"}, "5m",
         note="a later run succeeded"),
    Case("ArchivistWorkerRunFailed",
         {f'kube_job_status_start_time{{{NS}, job_name="archivist-worker-29000"}}': "1000x10",
          f'kube_job_status_failed{{{NS}, job_name="archivist-worker-29000", reason=""}}': "1x10",
          f'kube_job_status_succeeded{{{NS}, job_name="archivist-worker-29000"}}': "1x10"}, "5m",
         note="one pod failed, the retry succeeded"),
    Case("ArchivistPreflightJobFailed",
         {f'kube_job_failed{{{NS}, job_name="archivist-model-check", condition="true"}}': "1x10",
          f'kube_job_failed{{{NS}, job_name="archivist-model-check", condition="false"}}': "0x10"}, "5m",
         [fire("Pre-flight Job archivist-model-check failed", job_name="archivist-model-check")]),
    Case("ArchivistPreflightJobFailed",
         {f'kube_job_failed{{{NS}, job_name="archivist-kafka-topic", condition="true"}}': "0x10",
          f'kube_job_failed{{{NS}, job_name="archivist-worker-29000", condition="true"}}': "1x10"}, "5m",
         note="the topic Job did not fail; a failed worker run is ArchivistWorkerRunFailed's"),
    Case("ArchivistKafkaBrokerMissing", {f"kafka_brokers{{{NS}}}": "2x15"}, "10m",
         [fire("Kafka reports 2 of 3 brokers")]),
    Case("ArchivistKafkaBrokerMissing", {'kafka_brokers{namespace="other"}': "3x15"}, "10m",
         [fire("Kafka reports 0 of 3 brokers")], note="no exporter answering for our namespace"),
    Case("ArchivistKafkaBrokerMissing", {f"kafka_brokers{{{NS}}}": "3x15"}, "10m"),
    Case("ArchivistQdrantPeerMissing",
         {f'up{{{NS}, pod="qdrant-0"}}': "1x15", f'up{{{NS}, pod="qdrant-1"}}': "1x15",
          f'up{{{NS}, pod="qdrant-2"}}': "0x15",
          f'kube_statefulset_replicas{{{NS}, statefulset="qdrant"}}': "3x15"}, "10m",
         [fire("Fewer Qdrant peers answer than the StatefulSet runs")]),
    Case("ArchivistQdrantPeerMissing",
         {f'kube_statefulset_replicas{{{NS}, statefulset="qdrant"}}': "3x15"}, "10m",
         [fire("Fewer Qdrant peers answer than the StatefulSet runs")], note="no Qdrant pod is scraped at all"),
    Case("ArchivistQdrantPeerMissing",
         {f'up{{{NS}, pod="qdrant-0"}}': "1x15", f'up{{{NS}, pod="qdrant-1"}}': "1x15",
          f'up{{{NS}, pod="qdrant-2"}}': "1x15",
          f'cluster_peers_total{{{NS}, pod="qdrant-0"}}': "3x15",
          f'cluster_peers_total{{{NS}, pod="qdrant-1"}}': "3x15",
          f'cluster_peers_total{{{NS}, pod="qdrant-2"}}': "2x15",
          f'kube_statefulset_replicas{{{NS}, statefulset="qdrant"}}': "3x15"}, "10m",
         [fire("Fewer Qdrant peers answer than the StatefulSet runs")], note="a pod answers but never joined"),
    Case("ArchivistQdrantPeerMissing",
         {f'up{{{NS}, pod="qdrant-0"}}': "1x15", f'up{{{NS}, pod="qdrant-1"}}': "1x15",
          f'up{{{NS}, pod="qdrant-2"}}': "1x15",
          f'cluster_peers_total{{{NS}, pod="qdrant-0"}}': "3x15",
          f'kube_statefulset_replicas{{{NS}, statefulset="qdrant"}}': "3x15"}, "10m"),
    Case("ArchivistBackupStale",
         {'velero_backup_last_successful_timestamp{namespace="velero", schedule="archivist-daily"}': "0x405"}, H27,
         [fire("No successful backup of archivist in 26h", schedule="archivist-daily")], interval="4m"),
    Case("ArchivistBackupStale",
         {'velero_backup_last_successful_timestamp{namespace="velero", schedule="archivist-daily"}': "93600x405",
          'velero_backup_last_successful_timestamp{namespace="velero", schedule="other-daily"}': "0x405"}, H27,
         interval="4m", note="only this stack's schedule counts"),
    Case("ArchivistBackupFailed",
         {'velero_backup_failure_total{namespace="velero", schedule="archivist-daily"}': "0 0 0 1 1 1"}, "5m",
         [fire("A backup of archivist failed", schedule="archivist-daily")]),
    Case("ArchivistBackupFailed",
         {'velero_backup_failure_total{namespace="velero", schedule="archivist-daily"}': "0 0 0 0 0 0",
          'velero_backup_failure_total{namespace="velero", schedule="other-daily"}': "0 0 1 2 3 4"}, "5m"),
]
