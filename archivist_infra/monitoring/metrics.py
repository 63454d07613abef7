"""Every metric name and PromQL expression the alerts and the dashboards use, in one place.

Each name is checked against the source of the exporter that emits it (the pinned release):
- cAdvisor via the kubelet, and the kubelet's volume stats: as used by the rules of the pinned
  kube-prometheus-stack chart (88.3.0, templates/prometheus/rules-1.14/
  k8s.rules.container_cpu_usage_seconds_total.yaml:26, k8s.rules.container_memory_working_set_bytes.yaml:26,
  kubernetes-storage.yaml:51-56).
- kube-state-metrics v2.19.1 (chart 8.2.0, bundled by kube-prometheus-stack 88.3.0) internal/store/:
  pod.go:170,432,557,633; horizontalpodautoscaler.go:149,309 (label `horizontalpodautoscaler`);
  cronjob.go:115,176 (label `cronjob`); job.go:189,205,339 (label `job_name`); statefulset.go:162.
- blackbox_exporter v0.28.0: prober/handler.go:79,83 (probe_success, probe_duration_seconds),
  prober/prober.go:36 (probe_ssl_earliest_cert_expiry; set for a `tcp` module with `tls: true` at
  prober/query_response.go:98), prober/http.go:323 (probe_http_status_code).
- kafka_exporter v1.9.0 kafka_exporter.go:35 (namespace "kafka"), :854 (kafka_brokers),
  :922/:934 (kafka_consumergroup_lag / lag_sum; labels consumergroup, topic[, partition]).
- redis_exporter v1.88.0 exporter/exporter.go:634,711 (redis_up), :200 (memory_used_bytes),
  :216 (memory_max_bytes), :171 (connected_clients); namespace "redis" (main.go flag default).
- Qdrant v1.13.4 src/common/metrics.rs: :131 app_info, :166 collections_total, :206 cluster_peers_total,
  :433/:441/:473 rest_responses_total / rest_responses_fail_total / rest_responses_duration_seconds
  (no prefix in this release).
- Velero v1.17.1 pkg/metrics/metrics.go:31 (namespace "velero"), :39 backup_failure_total,
  :45 backup_last_successful_timestamp, :83 (label `schedule`).
- Prometheus itself: `up` for every scrape target.
"""

from __future__ import annotations

from dataclasses import dataclass

# -- names --------------------------------------------------------------------------------
CPU_USAGE = "container_cpu_usage_seconds_total"
MEMORY_WORKING_SET = "container_memory_working_set_bytes"
RESOURCE_LIMITS = "kube_pod_container_resource_limits"
RESTARTS = "kube_pod_container_status_restarts_total"
POD_INFO = "kube_pod_info"
WAITING_REASON = "kube_pod_container_status_waiting_reason"
PVC_USED = "kubelet_volume_stats_used_bytes"
PVC_CAPACITY = "kubelet_volume_stats_capacity_bytes"
PVC_AVAILABLE = "kubelet_volume_stats_available_bytes"
HPA_CURRENT = "kube_horizontalpodautoscaler_status_current_replicas"
HPA_MAX = "kube_horizontalpodautoscaler_spec_max_replicas"
STS_REPLICAS = "kube_statefulset_replicas"
STS_READY = "kube_statefulset_status_replicas_ready"
CRONJOB_CREATED = "kube_cronjob_created"
CRONJOB_LAST_SUCCESS = "kube_cronjob_status_last_successful_time"
JOB_FAILED = "kube_job_status_failed"
JOB_SUCCEEDED = "kube_job_status_succeeded"
JOB_START = "kube_job_status_start_time"
JOB_FAILED_CONDITION = "kube_job_failed"  # kube-state-metrics: 1 with condition="true" once the Job is Failed
PROBE_SUCCESS = "probe_success"
PROBE_DURATION = "probe_duration_seconds"
PROBE_CERT_EXPIRY = "probe_ssl_earliest_cert_expiry"
KAFKA_BROKERS = "kafka_brokers"
KAFKA_LAG = "kafka_consumergroup_lag"
REDIS_UP = "redis_up"
REDIS_MEMORY_USED = "redis_memory_used_bytes"
REDIS_MEMORY_MAX = "redis_memory_max_bytes"
REDIS_CLIENTS = "redis_connected_clients"
QDRANT_PEERS = "cluster_peers_total"
QDRANT_COLLECTIONS = "collections_total"
QDRANT_REST_RESPONSES = "rest_responses_total"
QDRANT_REST_FAILURES = "rest_responses_fail_total"
VELERO_LAST_SUCCESS = "velero_backup_last_successful_timestamp"
VELERO_FAILURES = "velero_backup_failure_total"
UP = "up"
_REAL_CONTAINER = 'container!=""'  # cAdvisor's pod-level cgroup has no container name

# -- what this deployment names ----------------------------------------------------------
# The graph service consumes `paper.processed` as group `graph-builder`
# (app-src services/graph-service/app/main.py:150-151).
GRAPH_CONSUMER_GROUP = "graph-builder"
GRAPH_TOPIC = "paper.processed"
# The batch worker: a CronJob named like the worker workload (app branch); its Jobs get a
# timestamp suffix. The pattern tolerates both the bare name and any suffix.
WORKER_PATTERN = "archivist-worker.*"
QDRANT_POD_PATTERN = "qdrant-[0-9]+"
# The Jobs `pulumi up` awaits before the apps roll (tiers/preflight.py MODEL_CHECK, KAFKA_TOPIC).
PREFLIGHT_JOBS = ("archivist-model-check", "archivist-kafka-topic")
# The `probe_target` label each blackbox probe carries (tiers/monitoring.py sets it).
API_TARGETS = ("search", "graph")
PUBLIC_TARGET = "public"
NEO4J_TARGET = "neo4j"


def backup_schedule(namespace: str) -> str:
    """The Velero Schedule the data branch creates for the stack's namespace."""
    return f"{namespace}-daily"


@dataclass(frozen=True)
class Expressions:
    """PromQL over one namespace. Alerts compare these with thresholds; dashboards plot them."""

    namespace: str

    def sel(self, *raw: str, **labels: str) -> str:
        """A label selector for this namespace; regex values are matched with =~, `raw` matchers as given."""
        parts = [f'namespace="{self.namespace}"', *raw]
        for key, value in labels.items():
            op = "=~" if any(c in value for c in "*+|[") else "="
            parts.append(f'{key}{op}"{value}"')
        return "{" + ", ".join(parts) + "}"

    # Resource use, per container, as a fraction of its limit.
    def cpu_of_limit(self, window: str = "5m") -> str:
        by = "namespace, pod, container"
        return (f'sum by ({by}) (rate({CPU_USAGE}{self.sel(_REAL_CONTAINER)}[{window}])) '
                f'/ sum by ({by}) ({RESOURCE_LIMITS}{self.sel(resource="cpu")})')

    def memory_of_limit(self) -> str:
        by = "namespace, pod, container"
        return (f'sum by ({by}) ({MEMORY_WORKING_SET}{self.sel(_REAL_CONTAINER)}) '
                f'/ sum by ({by}) ({RESOURCE_LIMITS}{self.sel(resource="memory")})')

    def crash_looping(self) -> str:
        return f'max by (namespace, pod, container) ({WAITING_REASON}{self.sel(reason="CrashLoopBackOff")})'

    def restarts(self, window: str = "1h") -> str:
        return f'sum by (namespace, pod, container) (increase({RESTARTS}{self.sel()}[{window}]))'

    def pvc_used_ratio(self) -> str:
        by = "namespace, persistentvolumeclaim"
        return f'max by ({by}) ({PVC_USED}{self.sel()}) / max by ({by}) ({PVC_CAPACITY}{self.sel()})'

    def pvc_predicted_available(self, hours: int) -> str:
        return (f'max by (namespace, persistentvolumeclaim) '
                f'(predict_linear({PVC_AVAILABLE}{self.sel()}[6h], {hours} * 3600))')

    def api_up(self, target: str) -> str:
        return f'max by (namespace, probe_target) ({PROBE_SUCCESS}{self.sel(probe_target=target)})'

    def api_latency(self, target: str, window: str = "5m") -> str:
        return (f'max by (namespace, probe_target) '
                f'(avg_over_time({PROBE_DURATION}{self.sel(probe_target=target)}[{window}]))')

    def cert_days_left(self) -> str:
        return f'min by (namespace, probe_target) ({PROBE_CERT_EXPIRY}{self.sel(probe_target=PUBLIC_TARGET)} - time()) / 86400'

    def hpa_current(self) -> str:
        return f'max by (namespace, horizontalpodautoscaler) ({HPA_CURRENT}{self.sel()})'

    def hpa_max(self) -> str:
        return f'max by (namespace, horizontalpodautoscaler) ({HPA_MAX}{self.sel()})'

    def graph_lag(self) -> str:
        return (f'sum by (namespace, consumergroup, topic) '
                f'({KAFKA_LAG}{self.sel(consumergroup=GRAPH_CONSUMER_GROUP, topic=GRAPH_TOPIC)})')

    def kafka_brokers(self) -> str:
        return f'max by (namespace) ({KAFKA_BROKERS}{self.sel()})'

    def qdrant_replicas(self) -> str:
        return f'max by (namespace) ({STS_REPLICAS}{self.sel(statefulset="qdrant")})'

    def qdrant_peers_up(self) -> str:
        """Qdrant pods answering /metrics (a dead peer stays in the consensus, so count scrapes)."""
        return f'count by (namespace) ({UP}{self.sel(pod=QDRANT_POD_PATTERN)} == 1)'

    def qdrant_peers_known(self) -> str:
        return f'min by (namespace) ({QDRANT_PEERS}{self.sel(pod=QDRANT_POD_PATTERN)})'

    def worker_last_success(self) -> str:
        return f'max by (namespace) ({CRONJOB_LAST_SUCCESS}{self.sel(cronjob=WORKER_PATTERN)})'

    def worker_created(self) -> str:
        return f'max by (namespace) ({CRONJOB_CREATED}{self.sel(cronjob=WORKER_PATTERN)})'

    def worker_last_failed_start(self) -> str:
        """Start time of the newest worker Job that failed and never succeeded."""
        jobs = self.sel(job_name=WORKER_PATTERN)
        failed = (f'(max by (namespace, job_name) ({JOB_FAILED}{jobs}) > 0) '
                  f'unless on (namespace, job_name) ({JOB_SUCCEEDED}{jobs} > 0)')
        return f'max by (namespace) ({JOB_START}{jobs} and on (namespace, job_name) ({failed}))'

    def preflight_failed(self) -> str:
        """1 per pre-flight Job whose Failed condition is true (it stays so until `pulumi up` replaces it)."""
        jobs = self.sel('condition="true"', job_name="|".join(PREFLIGHT_JOBS))
        return f'max by (namespace, job_name) ({JOB_FAILED_CONDITION}{jobs})'

    def redis_memory_of_max(self) -> str:
        return f'max by (namespace) ({REDIS_MEMORY_USED}{self.sel()}) / max by (namespace) ({REDIS_MEMORY_MAX}{self.sel()})'

    def redis_clients(self) -> str:
        return f'sum by (namespace) ({REDIS_CLIENTS}{self.sel()})'

    def redis_up(self) -> str:
        return f'max by (namespace) ({REDIS_UP}{self.sel()})'

    def qdrant_rest_rate(self) -> str:
        return f'sum by (namespace, endpoint) (rate({QDRANT_REST_RESPONSES}{self.sel()}[5m]))'

    def qdrant_rest_failure_rate(self) -> str:
        return f'sum by (namespace, endpoint) (rate({QDRANT_REST_FAILURES}{self.sel()}[5m]))'

    def qdrant_collections(self) -> str:
        return f'max by (namespace) ({QDRANT_COLLECTIONS}{self.sel()})'


def backup_selector(namespace: str) -> str:
    """Velero's metrics live in Velero's namespace; the schedule name ties them to this stack."""
    return f'{{schedule="{backup_schedule(namespace)}"}}'


def backup_age_seconds(namespace: str) -> str:
    return f'time() - max by (schedule) ({VELERO_LAST_SUCCESS}{backup_selector(namespace)})'


def backup_failures(namespace: str, window: str = "26h") -> str:
    return f'sum by (schedule) (increase({VELERO_FAILURES}{backup_selector(namespace)}[{window}]))'
