"""The `monitoring` section: how the stack is scraped, what it alerts on, and where dashboards go."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Literal

from .reader import ConfigReader

# Monitoring objects (PodMonitor, Probe, PrometheusRule, the Velero chart's ServiceMonitor) need an operator
# whose CRDs exist on the cluster, which no platform has out of the box (docs/platform-support.md):
# - prometheus-operator: the stack installs one (kube-prometheus-stack, `install`, the default);
# - attach: the user's own Prometheus Operator runs on the cluster (it selects `selectorLabels`);
# - gmp: Google Managed Prometheus, GKE only (its CRDs come with managed collection);
# - none: no monitoring objects at all.
MonitoringMode = Literal["prometheus-operator", "attach", "gmp", "none"]
MODES: tuple[MonitoringMode, ...] = ("prometheus-operator", "attach", "gmp", "none")

# The kube-prometheus-stack release this stack installs when asked; its Prometheus selects
# objects labelled `release: <release name>` (the chart's *SelectorNilUsesHelmValues default).
RELEASE_NAME = "kube-prometheus-stack"

_DURATION = re.compile(r"^[0-9]+(s|m|h)$")
_LABEL_KEY = re.compile(r"^([a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*/)?[A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?$")


@dataclass(frozen=True)
class Thresholds:
    """Alert thresholds; every alert reads its figure from here (docs/runbooks.md, one section per alert)."""

    cpu_percent: int = 90  # of the container's CPU limit, over 15 minutes
    memory_percent: int = 90  # working set, of the memory limit
    restarts_per_hour: int = 3  # restart burst
    pvc_used_percent: int = 85
    pvc_full_hours: int = 24  # predicted full within
    latency_seconds: float = 1.0  # blackbox /health round trip
    probe_failure_minutes: int = 5  # API down for this long
    kafka_lag_messages: int = 1000  # graph-builder lag on paper.processed
    worker_max_age_hours: int = 26  # the batch worker's last successful run
    backup_max_age_hours: int = 26  # the daily backup's last success
    cert_expiry_days: int = 14


@dataclass(frozen=True)
class MonitoringSettings:
    mode: MonitoringMode = "prometheus-operator"
    install: bool = True  # install kube-prometheus-stack (prometheus-operator mode)
    namespace: str = "monitoring"  # where Prometheus runs (or is installed): its pods may scrape
    selector_labels: dict[str, str] = field(default_factory=dict)  # labels an existing Prometheus selects
    scrape_interval: str = "30s"
    dashboards: bool = True
    thresholds: Thresholds = Thresholds()

    @property
    def enabled(self) -> bool:
        return self.mode != "none"

    @property
    def prometheus_operator(self) -> bool:
        """The stack creates monitoring.coreos.com objects (installed or attached operator)."""
        return self.mode in ("prometheus-operator", "attach")

    @property
    def object_labels(self) -> dict[str, str]:
        """Labels every monitoring object carries so the Prometheus picks it up."""
        return {"release": RELEASE_NAME} if self.install else dict(self.selector_labels)


def parse_monitoring(root: ConfigReader, *, platform: str) -> MonitoringSettings:
    section = root.section("monitoring")
    mode = section.choice("mode", "prometheus-operator", MODES)
    if mode == "gmp" and platform != "gke":
        section.problems.add(section.key("mode"),
                             f"'gmp' (Google Managed Prometheus) needs platform 'gke', not '{platform}'; "
                             "use 'prometheus-operator'")
    # No platform serves the Prometheus Operator's CRDs out of the box: in this mode the stack installs it.
    install = section.boolean("install", mode == "prometheus-operator")
    if install and mode != "prometheus-operator":
        section.problems.add(section.key("install"), f"installs kube-prometheus-stack, which mode '{mode}' does not use; "
                             "set mode 'prometheus-operator' or install false")
    if mode == "prometheus-operator" and not install:
        section.problems.add(section.key("install"),
                             "false leaves no Prometheus Operator on the cluster, so its objects (and Velero's "
                             "ServiceMonitor) would be refused; keep install true, set mode 'attach' if your "
                             "cluster runs a Prometheus Operator, or mode 'none'")
    default_ns = "gmp-system" if mode == "gmp" else "monitoring"
    namespace = section.dns_label("namespace", default_ns)
    labels = section.mapping_of_strings("selectorLabels")
    bad = [k for k in labels if not _LABEL_KEY.match(k) or len(k.split("/")[-1]) > 63]
    if bad:
        section.problems.add(section.key("selectorLabels"), f"{', '.join(map(repr, bad))} not valid label keys")
    if labels and install:
        section.problems.add(section.key("selectorLabels"),
                             f"the installed Prometheus selects 'release: {RELEASE_NAME}'; "
                             "drop selectorLabels, or set mode 'attach' to use your own Prometheus")
    interval = section.string("scrapeInterval", "30s", pattern=_DURATION, hint="write it like '30s' or '1m'")
    dashboards = section.boolean("dashboards", True)
    thresholds = _thresholds(section.section("thresholds"))
    section.reject_unknown()
    return MonitoringSettings(mode=mode, install=install, namespace=namespace, selector_labels=labels,
                              scrape_interval=interval, dashboards=dashboards, thresholds=thresholds)


def _thresholds(t: ConfigReader) -> Thresholds:
    d = Thresholds()
    latency_ms = t.integer("latencyMilliseconds", int(d.latency_seconds * 1000), minimum=10, maximum=60000)
    out = Thresholds(
        cpu_percent=t.integer("cpuPercent", d.cpu_percent, minimum=1, maximum=100),
        memory_percent=t.integer("memoryPercent", d.memory_percent, minimum=1, maximum=100),
        restarts_per_hour=t.integer("restartsPerHour", d.restarts_per_hour, minimum=1, maximum=1000),
        pvc_used_percent=t.integer("pvcUsedPercent", d.pvc_used_percent, minimum=1, maximum=99),
        pvc_full_hours=t.integer("pvcFullHours", d.pvc_full_hours, minimum=1, maximum=24 * 30),
        latency_seconds=latency_ms / 1000,
        probe_failure_minutes=t.integer("probeFailureMinutes", d.probe_failure_minutes, minimum=1, maximum=1440),
        kafka_lag_messages=t.integer("kafkaLagMessages", d.kafka_lag_messages, minimum=1),
        worker_max_age_hours=t.integer("workerMaxAgeHours", d.worker_max_age_hours, minimum=1, maximum=24 * 31),
        backup_max_age_hours=t.integer("backupMaxAgeHours", d.backup_max_age_hours, minimum=1, maximum=24 * 31),
        cert_expiry_days=t.integer("certExpiryDays", d.cert_expiry_days, minimum=1, maximum=365),
    )
    t.reject_unknown()
    return out
