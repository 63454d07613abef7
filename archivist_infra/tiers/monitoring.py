"""Monitoring: scrape targets for every component, exporters where a store has none, alerts, dashboards.

- Qdrant serves its own Prometheus metrics on the REST port (6333, /metrics).
- Redis and Kafka have no native endpoint: redis_exporter and kafka_exporter run beside them.
- Neo4j Community has no Prometheus endpoint (metrics are an Enterprise feature), so its bolt
  port is probed from outside, like the search and graph APIs' /health, by a blackbox exporter.
- Mode `prometheus-operator`: PodMonitor / Probe / PrometheusRule (monitoring.coreos.com/v1),
  optionally with kube-prometheus-stack installed from a pinned chart. Mode `gmp`: Google Managed
  Prometheus PodMonitoring and ClusterRules (monitoring.googleapis.com/v1).
- Dashboards: ConfigMaps labelled `grafana_dashboard: "1"` for the Grafana sidecar.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from typing import Any

import pulumi
import pulumi_kubernetes as k8s
import pulumi_random as random
from pulumi_kubernetes.helm.v3 import Release, ReleaseArgs, RepositoryOptsArgs

from ..config.monitoring import RELEASE_NAME, MonitoringSettings
from ..config.settings import HealthCheck, Settings
from ..monitoring import metrics as m
from ..monitoring.dashboards import dashboard_file, dashboards
from ..monitoring.exporters import (
    BLACKBOX,
    BLACKBOX_PORT,
    EXPORTER_RESOURCES,
    KAFKA_EXPORTER,
    KAFKA_EXPORTER_PORT,
    REDIS_EXPORTER,
    REDIS_EXPORTER_PORT,
    probes_public_entry,
)
from ..monitoring.rules import RuleInputs, rule_groups
from .context import TierContext
from .credentials import StoreCredentials
from .kafka import CLIENT_PORT as KAFKA_PORT
from .neo4j import BOLT_PORT
from .pods import Spec, container_security, pod_security, probes, resources
from .qdrant import HTTP_PORT as QDRANT_PORT
from .redis import PORT as REDIS_PORT

# Pinned exporters (flags and ports checked against each release's source, see docs/monitoring.md).
REDIS_EXPORTER_IMAGE = "oliver006/redis_exporter:v1.88.0"  # main.go:158,173; USER 59000 (Dockerfile)
KAFKA_EXPORTER_IMAGE = "danielqsj/kafka-exporter:v1.9.0"  # kafka_exporter.go: --kafka.server, :9308; USER nobody
BLACKBOX_EXPORTER_IMAGE = "prom/blackbox-exporter:v0.28.0"  # main.go:51,60 (:9115); no USER: we set 65534
KUBE_PROMETHEUS_STACK_CHART = "88.3.0"  # bundles prometheus-operator v0.93.0 (the vendored CRDs)
PROMETHEUS_COMMUNITY_REPO = "https://prometheus-community.github.io/helm-charts"

NOBODY = 65534
REDIS_PASSWORD_ENV = "REDIS_PASSWORD"  # what redis_exporter reads its password from
# Kafka 4 refuses the protocol versions of sarama's default (2.0.0); speak a 3.x dialect.
KAFKA_PROTOCOL_VERSION = "3.9.0"

BLACKBOX_CONFIG = {
    "modules": {
        "http_2xx": {"prober": "http", "timeout": "5s",
                     "http": {"preferred_ip_protocol": "ip4"}},
        "tcp_connect": {"prober": "tcp", "timeout": "5s", "tcp": {"preferred_ip_protocol": "ip4"}},
        # TLS handshake only: reports the certificate's expiry whatever the path answers.
        "tls_connect": {"prober": "tcp", "timeout": "5s", "tcp": {"preferred_ip_protocol": "ip4", "tls": True}},
    },
}


@dataclass(frozen=True)
class ProbeTarget:
    name: str  # the `probe_target` label
    module: str
    target: str  # URL or host:port


def probe_targets(settings: Settings) -> list[ProbeTarget]:
    ns = settings.namespace
    out = []
    for app in (settings.search, settings.graph):
        if app.port is None:
            continue
        path = app.health.path if app.health.kind == "http" else "/health"
        out.append(ProbeTarget(app.name, "http_2xx", f"http://archivist-{app.name}.{ns}.svc.cluster.local:{app.port}{path}"))
    out.append(ProbeTarget(m.NEO4J_TARGET, "tcp_connect", f"neo4j.{ns}.svc.cluster.local:{BOLT_PORT}"))
    if probes_public_entry(settings):
        out.append(ProbeTarget(m.PUBLIC_TARGET, "tls_connect", f"{settings.ingress.host}:443"))
    return out


def monitoring_settings(settings: Settings) -> MonitoringSettings:
    return getattr(settings, "monitoring", None) or MonitoringSettings()


def exporter_names() -> tuple[str, ...]:
    return (REDIS_EXPORTER, KAFKA_EXPORTER, BLACKBOX)


def rule_inputs(settings: Settings, monitoring: MonitoringSettings, runbook_base: str = "docs/runbooks.md") -> RuleInputs:
    return RuleInputs(namespace=settings.namespace, thresholds=monitoring.thresholds,
                      kafka_brokers=settings.kafka.brokers, public_entry=probes_public_entry(settings),
                      runbook_base=runbook_base)


class Monitoring(pulumi.ComponentResource):
    """Every monitoring object of the stack; depends on nothing but the namespace."""

    def __init__(self, name: str, ctx: TierContext, settings: Settings, monitoring: MonitoringSettings, *,
                 redis: StoreCredentials, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("archivist:monitoring:Monitoring", name, None, opts)
        self._ctx, self._settings, self._mon = ctx, settings, monitoring
        ns = settings.namespace
        self.release: Release | None = None
        if monitoring.install:
            self.release = self._kube_prometheus_stack()
        # Custom resources need their CRDs: the chart installs them, so wait for it when we install it.
        self._cr_deps: list[pulumi.Resource] = [self.release] if self.release is not None else []

        # Redis requires a password: redis_exporter's --redis.password defaults to $REDIS_PASSWORD (main.go,
        # `flag.String("redis.password", getEnv("REDIS_PASSWORD", ""), ...)`); from the Secret, never a flag.
        self._exporter(REDIS_EXPORTER, REDIS_EXPORTER_IMAGE, 59000, REDIS_EXPORTER_PORT, "/health",
                       args=[f"--redis.addr=redis://redis.{ns}.svc.cluster.local:{REDIS_PORT}"],
                       env=[redis.env(REDIS_PASSWORD_ENV)], annotations=redis.client_annotation())
        self._exporter(KAFKA_EXPORTER, KAFKA_EXPORTER_IMAGE, NOBODY, KAFKA_EXPORTER_PORT, "/healthz",
                       args=[f"--kafka.server=kafka.{ns}.svc.cluster.local:{KAFKA_PORT}",
                             f"--kafka.version={KAFKA_PROTOCOL_VERSION}"])
        config = k8s.core.v1.ConfigMap(
            f"{BLACKBOX}-config",
            metadata={"name": BLACKBOX, "namespace": ctx.namespace, "labels": ctx.labels(BLACKBOX, "monitoring")},
            data={"blackbox.yml": json.dumps(BLACKBOX_CONFIG, indent=2, sort_keys=True)},
            opts=ctx.opts(self),
        )
        self._exporter(BLACKBOX, BLACKBOX_EXPORTER_IMAGE, NOBODY, BLACKBOX_PORT, "/-/healthy",
                       args=["--config.file=/config/blackbox.yml"],
                       volumes=[{"name": "config", "config_map": {"name": config.metadata.name}}],
                       mounts=[{"name": "config", "mount_path": "/config", "read_only": True}],
                       checksum=json.dumps(BLACKBOX_CONFIG, sort_keys=True))
        k8s.core.v1.Service(
            f"{BLACKBOX}-service",
            metadata={"name": BLACKBOX, "namespace": ctx.namespace, "labels": ctx.labels(BLACKBOX, "monitoring")},
            spec={"type": "ClusterIP", "selector": ctx.selector(BLACKBOX),
                  "ports": [{"name": "http", "port": BLACKBOX_PORT, "target_port": "http"}]},
            opts=ctx.opts(self),
        )

        scraped = {"qdrant": ("http", QDRANT_PORT), REDIS_EXPORTER: ("http", REDIS_EXPORTER_PORT),
                   KAFKA_EXPORTER: ("http", KAFKA_EXPORTER_PORT)}
        groups = rule_groups(rule_inputs(settings, monitoring))
        if monitoring.mode == "gmp":
            for app, (port_name, _) in scraped.items():
                self._pod_monitoring(app, port_name)
            for target in probe_targets(settings):
                self._gmp_probe(target)
            self._custom("cluster-rules", "ClusterRules", {"name": f"archivist-{ns}-alerts"}, {"groups": groups})
        else:
            for app, (port_name, _) in scraped.items():
                self._pod_monitor(app, port_name)
            for target in probe_targets(settings):
                self._probe(target)
            self._custom("prometheus-rule", "PrometheusRule", self._meta("archivist-alerts"), {"groups": groups})

        if monitoring.dashboards:
            for key, board in dashboards(ns, monitoring.thresholds, public_entry=probes_public_entry(settings)).items():
                k8s.core.v1.ConfigMap(
                    f"dashboard-{key}",
                    metadata={"name": f"archivist-dashboard-{key}", "namespace": ctx.namespace,
                              "labels": {**ctx.labels("archivist", "dashboard"), "grafana_dashboard": "1"}},
                    data={dashboard_file(key): json.dumps(board, indent=1, sort_keys=True)},
                    opts=ctx.opts(self),
                )
        self.register_outputs({"mode": monitoring.mode})

    # -- pieces ------------------------------------------------------------------------

    def _meta(self, name: str) -> Spec:
        return {"name": name, "namespace": self._ctx.namespace,
                "labels": {**self._ctx.labels("archivist", "monitoring"), **self._mon.object_labels}}

    def _custom(self, logical: str, kind: str, metadata: Spec, spec: Spec) -> k8s.apiextensions.CustomResource:
        group = "monitoring.googleapis.com/v1" if self._mon.mode == "gmp" else "monitoring.coreos.com/v1"
        return k8s.apiextensions.CustomResource(
            logical, api_version=group, kind=kind, metadata=metadata, spec=spec,
            opts=self._ctx.opts(self, depends_on=self._cr_deps),
        )

    def _exporter(self, app: str, image: str, uid: int, port: int, health_path: str, *, args: list[str],
                  volumes: list[Spec] | None = None, mounts: list[Spec] | None = None, checksum: str = "",
                  env: list[Spec] | None = None, annotations: dict[str, pulumi.Input[str]] | None = None) -> None:
        ctx = self._ctx
        labels = ctx.labels(app, "monitoring")
        k8s.core.v1.ServiceAccount(
            f"{app}-sa", metadata={"name": app, "namespace": ctx.namespace, "labels": labels},
            automount_service_account_token=False, opts=ctx.opts(self),
        )
        check = HealthCheck(kind="http", path=health_path, port=port, startup_seconds=120)
        container: Spec = {
            "name": app,
            "image": image,
            "image_pull_policy": "IfNotPresent",
            "args": args,
            "env": env or [],
            "ports": [{"name": "http", "container_port": port}],
            "resources": resources(EXPORTER_RESOURCES[app]),
            "security_context": container_security(read_only_root=True),
            "volume_mounts": mounts or [],
            **probes(check),
        }
        template_meta: Spec = {"labels": {**labels, **ctx.selector(app)}}
        pod_annotations: dict[str, pulumi.Input[str]] = dict(annotations or {})
        if checksum:
            pod_annotations["archivist.dev/config-checksum"] = hashlib.sha256(checksum.encode()).hexdigest()
        if pod_annotations:
            template_meta["annotations"] = pod_annotations
        k8s.apps.v1.Deployment(
            f"{app}-deployment",
            metadata={"name": app, "namespace": ctx.namespace, "labels": labels},
            spec={
                "replicas": 1,
                "selector": {"match_labels": ctx.selector(app)},
                "revision_history_limit": 3,
                "template": {
                    "metadata": template_meta,
                    "spec": {
                        "service_account_name": app,
                        "automount_service_account_token": False,
                        "security_context": pod_security(uid),
                        "enable_service_links": False,
                        "containers": [container],
                        "volumes": volumes or [],
                    },
                },
            },
            opts=ctx.opts(self),
        )

    def _pod_monitor(self, app: str, port_name: str) -> None:
        self._custom(f"{app}-podmonitor", "PodMonitor", self._meta(app), {
            "selector": {"matchLabels": self._ctx.selector(app)},
            "podMetricsEndpoints": [{"port": port_name, "path": "/metrics", "interval": self._mon.scrape_interval}],
        })

    def _probe(self, target: ProbeTarget) -> None:
        ns = self._settings.namespace
        self._custom(f"probe-{target.name}", "Probe", self._meta(f"archivist-{target.name}"), {
            "jobName": f"archivist-{target.name}",
            "interval": self._mon.scrape_interval,
            "module": target.module,
            "prober": {"url": f"{BLACKBOX}.{ns}.svc.cluster.local:{BLACKBOX_PORT}", "path": "/probe"},
            "targets": {"staticConfig": {"static": [target.target], "labels": {"probe_target": target.name}}},
        })

    def _pod_monitoring(self, app: str, port_name: str) -> None:
        self._custom(f"{app}-podmonitoring", "PodMonitoring", self._meta(app), {
            "selector": {"matchLabels": self._ctx.selector(app)},
            "endpoints": [{"port": port_name, "path": "/metrics", "interval": self._mon.scrape_interval}],
            "targetLabels": {"metadata": ["pod", "container"]},
        })

    def _gmp_probe(self, target: ProbeTarget) -> None:
        """GMP has no Probe: scrape the blackbox exporter's /probe with the target as a parameter."""
        self._custom(f"probe-{target.name}-podmonitoring", "PodMonitoring", self._meta(f"archivist-{target.name}"), {
            "selector": {"matchLabels": self._ctx.selector(BLACKBOX)},
            "endpoints": [{
                "port": "http", "path": "/probe", "interval": self._mon.scrape_interval,
                "params": {"module": [target.module], "target": [target.target]},
                "metricRelabeling": [{"action": "replace", "targetLabel": "probe_target",
                                      "replacement": target.name}],
            }],
        })

    def _kube_prometheus_stack(self) -> Release:
        ns = self._mon.namespace
        password = random.RandomPassword("grafana-admin-password", length=24, special=False,
                                         opts=pulumi.ResourceOptions(parent=self))
        select = {"matchLabels": {"release": RELEASE_NAME}}
        values: dict[str, Any] = {
            "crds": {"enabled": True},
            "prometheus": {"prometheusSpec": {
                # Select our objects (labelled `release`) in every namespace, as the chart's own.
                "ruleSelector": select, "serviceMonitorSelector": select,
                "podMonitorSelector": select, "probeSelector": select,
                "ruleNamespaceSelector": {}, "serviceMonitorNamespaceSelector": {},
                "podMonitorNamespaceSelector": {}, "probeNamespaceSelector": {},
                "retention": "15d",
            }},
            "grafana": {
                "adminPassword": pulumi.Output.secret(password.result),
                "sidecar": {"dashboards": {"enabled": True, "label": "grafana_dashboard", "labelValue": "1",
                                           "searchNamespace": "ALL"}},
            },
        }
        return Release(
            "kube-prometheus-stack",
            ReleaseArgs(
                name=RELEASE_NAME,
                chart="kube-prometheus-stack",
                version=KUBE_PROMETHEUS_STACK_CHART,
                namespace=ns,
                create_namespace=True,
                repository_opts=RepositoryOptsArgs(repo=PROMETHEUS_COMMUNITY_REPO),
                values=values,
            ),
            opts=self._ctx.opts(self),
        )
