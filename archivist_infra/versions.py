"""Everything the stack pins, with the date each fact was checked, its source, and when it expires.

Changing a pin is a deliberate, reviewed upgrade: Renovate (renovate.json) proposes it, and
tests/test_lifecycle.py checks that every pin here matches the code that uses it and that no
default has passed its end of (standard) support today. docs/lifecycle.md is generated from
this module (`python -m archivist_infra.lifecycle_doc`) and checked against it.

The store images keep their module constants here (the tiers import them); the other pins live
beside the code that uses them and are listed in PINS with `where` naming the constant or file.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

NEO4J_IMAGE = "neo4j:5.26.2-community"  # 5.26 is Neo4j's LTS line
KAFKA_IMAGE = "apache/kafka:4.3.1"  # KRaft only; runs as uid 1000; newest 4.x patch (4.3.2 only as rc)
# uid 1000, no root chown at start. >= 1.15.0 applies the default replication factor (qdrant#6623); a running
# stack climbs one minor at a time (tiers/qdrant_upgrade.py UPGRADE_PATH, refused otherwise).
QDRANT_IMAGE = "qdrant/qdrant:v1.15.5-unprivileged"
REDIS_IMAGE = "redis:7.4.11-alpine"  # uid 999; >= 7.4.6 fixes CVE-2025-49844 (docker-library/official-images library/redis @37079fb L77)

# When the facts below were last read from their sources.
CHECKED = date(2026, 12, 6)


@dataclass(frozen=True)
class KubernetesMinor:
    """One Kubernetes minor on one managed cloud: when its standard support ends (extended support,
    where the cloud offers it, costs extra: EKS ~6x the control-plane fee, AKS needs the LTS tier)."""

    cloud: str
    minor: str
    standard_support_end: date
    source: str


# EKS: 14 months of standard support from the EKS release (docs.aws.amazon.com/eks/latest/userguide/
# kubernetes-versions.html, "Amazon EKS Kubernetes release calendar"; the same dates on
# endoflife.date/amazon-eks, stored copy of 2026-02).
_EKS_CAL = "docs.aws.amazon.com/eks/latest/userguide/kubernetes-versions.html release calendar; endoflife.date/amazon-eks"
# AKS: "End of life" column of the AKS Kubernetes release calendar; a month means its last day
# (MicrosoftDocs/azure-aks-docs articles/aks/supported-kubernetes-versions.md, stored copy listing 1.32-1.37).
_AKS_CAL = "learn.microsoft.com/azure/aks/supported-kubernetes-versions (AKS Kubernetes release calendar, End of life)"
KUBERNETES: tuple[KubernetesMinor, ...] = (
    KubernetesMinor("eks", "1.33", date(2026, 7, 29), _EKS_CAL),
    KubernetesMinor("eks", "1.34", date(2026, 12, 2), _EKS_CAL),
    KubernetesMinor("eks", "1.35", date(2027, 3, 27), _EKS_CAL),
    KubernetesMinor("aks", "1.33", date(2026, 7, 31), _AKS_CAL),
    KubernetesMinor("aks", "1.34", date(2026, 11, 30), _AKS_CAL),
    KubernetesMinor("aks", "1.35", date(2027, 3, 31), _AKS_CAL),
    KubernetesMinor("aks", "1.36", date(2027, 6, 30), _AKS_CAL),
    KubernetesMinor("aks", "1.37", date(2027, 10, 31), _AKS_CAL),
)
# GKE pins no minor by default: the REGULAR release channel picks and upgrades it (its default for
# new clusters was 1.35.7-gke.1222000 with 1.34-1.36 available: docs.cloud.google.com/kubernetes-engine/
# docs/release-notes "Current versions", stored copy). `cluster.kubernetesVersion` only sets a floor.

# The minors the defaults and examples use: newest on each cloud with a cluster-autoscaler chart.
EKS_DEFAULT_VERSION = "1.35"
AKS_EXAMPLE_VERSION = "1.35"

# cluster-autoscaler embeds the scheduler, so its minor must match the cluster's (kubernetes/autoscaler
# cluster-autoscaler/README.md "Releases"). Chart per Kubernetes minor: the newest chart whose appVersion
# is that minor, read from Chart.yaml at the tags cluster-autoscaler-chart-<v> (kubernetes/autoscaler
# snapshot of 2026-08-22): 9.43.0 -> 1.31.0, 9.46.6 -> 1.32.x, 9.50.1 -> 1.33.0, 9.53.0 -> 1.34.2,
# 9.59.0 -> 1.35.0. No chart ships CA 1.36 yet (9.59.0, the newest, still has appVersion 1.35.0).
AUTOSCALER_CHARTS = {"1.31": "9.43.0", "1.32": "9.46.6", "1.33": "9.50.1", "1.34": "9.53.0", "1.35": "9.59.0"}


@dataclass(frozen=True)
class Pin:
    """One pinned version. `where`: `module:CONSTANT` (compared with the code) or a repository path."""

    kind: str  # image | chart | crds | action | base-image
    name: str
    version: str
    where: str
    source: str
    end: date | None = None  # end of upstream support / security fixes, where one is published
    checked: date = CHECKED


_ESO = "archivist_infra.secrets_backend.external"
_MON = "archivist_infra.tiers.monitoring"
_GW = "archivist_infra.entry.gateway"
PINS: tuple[Pin, ...] = (
    # Store images (no published end date for these lines: Neo4j 5.26 is the 5.x LTS; Redis SECURITY.md
    # lists 7.4.x as supported; Kafka and Qdrant fix only their newest releases).
    Pin("image", "neo4j", NEO4J_IMAGE, "archivist_infra.versions:NEO4J_IMAGE",
        "neo4j.com/release-notes/database/neo4j-5 (5.26 LTS)"),
    Pin("image", "kafka", KAFKA_IMAGE, "archivist_infra.versions:KAFKA_IMAGE", "hub.docker.com/r/apache/kafka tags"),
    Pin("image", "qdrant", QDRANT_IMAGE, "archivist_infra.versions:QDRANT_IMAGE", "github.com/qdrant/qdrant releases"),
    Pin("image", "redis", REDIS_IMAGE, "archivist_infra.versions:REDIS_IMAGE",
        "github.com/redis/redis SECURITY.md (7.4.x supported); docker-library/official-images library/redis"),
    Pin("image", "busybox (ops upload)", "busybox:1.37.0", "archivist_infra.ops.upload:UPLOADER_IMAGE",
        "hub.docker.com/_/busybox"),
    Pin("image", "busybox (data keeper)", "busybox:1.37.0", "archivist_infra.tiers.shared_data:KEEPER_IMAGE",
        "hub.docker.com/_/busybox"),
    Pin("image", "redis_exporter", "oliver006/redis_exporter:v1.88.0", f"{_MON}:REDIS_EXPORTER_IMAGE",
        "github.com/oliver006/redis_exporter releases"),
    Pin("image", "kafka-exporter", "danielqsj/kafka-exporter:v1.9.0", f"{_MON}:KAFKA_EXPORTER_IMAGE",
        "github.com/danielqsj/kafka_exporter releases"),
    Pin("image", "blackbox-exporter", "prom/blackbox-exporter:v0.28.0", f"{_MON}:BLACKBOX_EXPORTER_IMAGE",
        "github.com/prometheus/blackbox_exporter releases"),
    Pin("image", "velero", "velero/velero:v1.17.1", "archivist_infra.backup:VELERO_IMAGE",
        "vmware-tanzu/helm-charts velero-11.3.2 appVersion"),
    Pin("image", "velero plugins", "v1.13.2", "archivist_infra.backup:PLUGIN_VERSION",
        "velero-plugin-for-{gcp,aws,microsoft-azure} compatibility tables (Velero 1.17)"),
    # Helm charts.
    Pin("chart", "external-secrets", "2.9.0", f"{_ESO}:ESO_CHART_VERSION", "charts.external-secrets.io index"),
    Pin("chart", "reloader", "2.2.16", f"{_ESO}:RELOADER_CHART_VERSION", "stakater.github.io/stakater-charts index"),
    Pin("chart", "envoy gateway", "v1.9.0", f"{_GW}:ENVOY_GATEWAY_VERSION",
        "docker.io/envoyproxy/gateway-helm (OCI); envoyproxy/gateway install-helm.md"),
    Pin("chart", "cert-manager", "v1.21.1", f"{_GW}:CERT_MANAGER_VERSION", "charts.jetstack.io index"),
    Pin("chart", "kube-prometheus-stack", "88.3.0", f"{_MON}:KUBE_PROMETHEUS_STACK_CHART",
        "prometheus-community.github.io/helm-charts index"),
    Pin("chart", "keda", "2.20.2", "archivist_infra.tiers.lag_scaling:KEDA_CHART_VERSION", "kedacore.github.io/charts index"),
    Pin("chart", "velero", "11.3.2", "archivist_infra.backup:CHART_VERSION", "vmware-tanzu/helm-charts tag velero-11.3.2"),
    *(Pin("chart", f"cluster-autoscaler (Kubernetes {minor})", chart, f"archivist_infra.versions:AUTOSCALER_CHARTS[{minor}]",
          f"kubernetes/autoscaler tag cluster-autoscaler-chart-{chart} Chart.yaml appVersion")
      for minor, chart in AUTOSCALER_CHARTS.items()),
    # CRDs the real-API-server suite applies (tests/crds/<name>-<version>), taken from each release.
    Pin("crds", "cert-manager", "v1.21.1", "tests/crds/cert-manager-v1.21.1", "cert-manager release v1.21.1 cert-manager.crds.yaml"),
    Pin("crds", "envoy-gateway", "v1.9.0", "tests/crds/envoy-gateway-v1.9.0", "envoyproxy/gateway v1.9.0 charts/gateway-crds-helm"),
    Pin("crds", "external-secrets", "v2.9.0", "tests/crds/external-secrets-v2.9.0", "external-secrets v2.9.0 deploy/crds"),
    Pin("crds", "external-snapshotter", "v8.6.0", "tests/crds/external-snapshotter-v8.6.0",
        "kubernetes-csi/external-snapshotter v8.6.0 client/config/crd"),
    Pin("crds", "gke-gateway-api", "v1.4.0", "tests/crds/gke-gateway-api-v1.4.0", "kubernetes-sigs/gateway-api v1.4.0 standard-install"),
    Pin("crds", "keda", "v2.20.2", "tests/crds/keda-v2.20.2", "kedacore/keda v2.20.2 config/crd"),
    Pin("crds", "prometheus-engine", "v0.17.2", "tests/crds/prometheus-engine-v0.17.2", "GoogleCloudPlatform/prometheus-engine v0.17.2"),
    Pin("crds", "prometheus-operator", "v0.93.0", "tests/crds/prometheus-operator-v0.93.0",
        "prometheus-operator v0.93.0 example/prometheus-operator-crd"),
    Pin("crds", "velero", "v1.17.1", "tests/crds/velero-v1.17.1", "vmware-tanzu/velero v1.17.1 config/crd"),
    # Base images of the application images (Renovate's dockerfile manager updates them).
    Pin("base-image", "python", "3.11.13-slim-bookworm", "images/graph.Dockerfile",
        "peps.python.org/pep-0664 (3.11 security fixes until 2027-10)", end=date(2027, 10, 31)),
    Pin("base-image", "golang", "1.24.5-bookworm", "images/worker.Dockerfile",
        "go.dev/doc/devel/release#policy (supported until two newer majors exist); endoflife.date/api/go.json: "
        "1.24 eol 2026-02-11 (go1.26.0 released)", end=date(2026, 2, 11)),
    Pin("base-image", "debian", "bookworm-20250520-slim", "images/worker.Dockerfile",
        "wiki.debian.org/LTS (Debian 12 LTS until 2028-06-30)", end=date(2028, 6, 30)),
    # GitHub Actions, pinned by commit (the tag in the workflow's comment).
    Pin("action", "actions/checkout", "3d3c42e5aac5ba805825da76410c181273ba90b1", ".github/workflows", "v7.0.1"),
    Pin("action", "actions/setup-python", "5fda3b95a4ea91299a34e894583c3862153e4b97", ".github/workflows", "v7.0.0"),
    Pin("action", "google-github-actions/auth", "7c6bc770dae815cd3e89ee6cdf493a5fab2cc093", ".github/workflows", "v3.0.0"),
    Pin("action", "google-github-actions/setup-gcloud", "aa5489c8933f4cc7a4f7d45035b3b1440c9c10db", ".github/workflows",
        "v3.0.1"),
    Pin("action", "pulumi/actions", "8e5e406f4007fca908480587cb9893c07090f58d", ".github/workflows", "v7.0.0"),
)

# Pins known to be past their end, each with why it cannot move yet and until when that excuse holds.
# The expiry test fails for a pin past its end that is not here, and for a waiver past its own date.
WAIVERS: dict[str, tuple[str, date]] = {
    "golang": ("the worker's build stage; moving to golang:1.26 needs the image digest from Docker Hub, "
               "which this build machine cannot reach (images/ belongs to the app-patches work)", date(2026, 12, 31)),
}


def kubernetes_minor(cloud: str, minor: str) -> KubernetesMinor | None:
    for row in KUBERNETES:
        if row.cloud == cloud and row.minor == ".".join(minor.split(".")[:2]):
            return row
    return None
