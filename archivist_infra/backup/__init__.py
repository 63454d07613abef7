"""Backups: Velero in namespace `velero`, a bucket the stack owns, a daily Schedule of the stack's namespace.

- Velero v1.17.1 from the vmware-tanzu chart 11.3.2 (its appVersion 1.17.1) with the cloud's plugin v1.13.2
  (each plugin's README compatibility matrix: plugin v1.13.x <-> Velero v1.17.x).
- The bucket and the identity come from the platform's own module (gke.py / eks.py / aks.py): versioned,
  lifecycle on old versions, reached through workload identity (no keys). A local stack may name any
  S3-compatible target (`backup.s3`) and an existing credentials Secret.
- Volume data: the store claims (ReadWriteOnce disks) by CSI snapshots (a VolumeSnapshotClass per cloud
  driver, labelled for Velero); the shared ReadWriteMany volume (Filestore/EFS/Azure Files have no CSI
  snapshots Velero can use) by file-system backup through the node agent, from the always-running
  `archivist-data-keeper` pod that mounts it (tiers/shared_data.py). Local stacks have no snapshot class:
  every claim goes through the node agent there. A resource-policy ConfigMap picks the method per claim.
- Consistency: pod annotations (redis.py, qdrant.py) make Redis BGSAVE and Qdrant write collection
  snapshots before the volumes are captured; Kafka and Neo4j are crash-consistent (docs/data-safety-ops.md).
- `Schedule <namespace>-daily` in `velero`: its `spec.template` is what `ops backup` copies.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import pulumi
import pulumi_kubernetes as k8s
import yaml

from ..config.backup import BackupSettings
from ..platforms.target import ClusterTarget
from .store import VELERO_NAMESPACE, VELERO_SERVICE_ACCOUNT, BackupStore

CHART = "velero"
CHART_VERSION = "11.3.2"  # vmware-tanzu/helm-charts tag velero-11.3.2: appVersion 1.17.1
CHART_REPO = "https://vmware-tanzu.github.io/helm-charts"
VELERO_IMAGE = "velero/velero:v1.17.1"
PLUGIN_VERSION = "v1.13.2"
PLUGINS = {
    "gcp": f"velero/velero-plugin-for-gcp:{PLUGIN_VERSION}",
    "aws": f"velero/velero-plugin-for-aws:{PLUGIN_VERSION}",
    "azure": f"velero/velero-plugin-for-microsoft-azure:{PLUGIN_VERSION}",
}
# The CSI drivers of the classes the store claims use (platforms/storage_classes.py).
SNAPSHOT_DRIVERS = {"gke": "pd.csi.storage.gke.io", "eks": "ebs.csi.aws.com", "aks": "disk.csi.azure.com"}
NAMESPACE_LABEL = "archivist.io/namespace"
SNAPSHOT_CLASS_LABEL = "velero.io/csi-volumesnapshot-class"


@dataclass(frozen=True)
class MetricsScrape:
    """A prometheus-operator Prometheus scrapes Velero's server metrics (the backup alerts read them)."""

    labels: dict[str, str]  # what the Prometheus selects ServiceMonitors by (monitoring object labels)
    depends_on: list[pulumi.Resource] = field(default_factory=list)  # the release that installs the CRDs


def schedule_name(namespace: str) -> str:
    return f"{namespace}-daily"


def snapshot_class_name(platform: str) -> str:
    return f"archivist-{platform}-snapshots"


def resource_policy_name(namespace: str) -> str:
    return f"{namespace}-volume-policy"


def volume_policy(*, snapshots: bool = True) -> str:
    """Velero resource policies (v1): snapshot the store disks, file-system-back-up the shared volume.

    Claims are told apart by their labels (resource-filtering.md, `pvcLabels`, Velero >= 1.14 actions).
    Without a VolumeSnapshotClass (local stacks) a `snapshot` action captures nothing and the backup still
    ends Completed (audit D4: item_backupper.go:633-643), so there every claim goes through the node agent.
    """
    store_action = "snapshot" if snapshots else "fs-backup"
    policy = {
        "version": "v1",
        "volumePolicies": [
            {"conditions": {"pvcLabels": {"app.kubernetes.io/component": "store"}}, "action": {"type": store_action}},
            {"conditions": {"pvcLabels": {"app.kubernetes.io/component": "storage"}}, "action": {"type": "fs-backup"}},
        ],
    }
    return yaml.safe_dump(policy, sort_keys=False)


def backup_template(namespace: str, settings: BackupSettings) -> dict[str, Any]:
    """The Backup spec of the stack's namespace; `ops backup` creates Backups from exactly this."""
    return {
        "includedNamespaces": [namespace],

        "storageLocation": "default",
        "snapshotVolumes": True,
        "defaultVolumesToFsBackup": False,
        "resourcePolicy": {"kind": "configmap", "name": resource_policy_name(namespace)},
        "ttl": settings.ttl,
        "csiSnapshotTimeout": "30m",
        "itemOperationTimeout": "4h",
        "metadata": {"labels": {NAMESPACE_LABEL: namespace}},
        "hooks": {},  # the pre-backup hooks are pod annotations on the stores
    }


def chart_values(store: BackupStore, *, node_agent: bool, scrape: MetricsScrape | None = None) -> dict[str, Any]:
    repo, tag = VELERO_IMAGE.split(":")
    hardened = {
        "allowPrivilegeEscalation": False,
        "readOnlyRootFilesystem": True,
        "capabilities": {"drop": ["ALL"]},
        "runAsNonRoot": True,
        "seccompProfile": {"type": "RuntimeDefault"},
    }
    values: dict[str, Any] = {
        "image": {"repository": repo, "tag": tag, "pullPolicy": "IfNotPresent"},
        "initContainers": [{
            "name": f"velero-plugin-for-{store.provider}",
            "image": PLUGINS[store.provider],
            "imagePullPolicy": "IfNotPresent",
            "volumeMounts": [{"mountPath": "/target", "name": "plugins"}],
            "securityContext": hardened,
            "resources": {"requests": {"cpu": "50m", "memory": "64Mi"}, "limits": {"cpu": "200m", "memory": "128Mi"}},
        }],
        "podSecurityContext": {"runAsNonRoot": True, "runAsUser": 65532, "runAsGroup": 65532, "fsGroup": 65532,
                               "seccompProfile": {"type": "RuntimeDefault"}},
        "containerSecurityContext": hardened,
        "resources": {"requests": {"cpu": "250m", "memory": "256Mi"}, "limits": {"cpu": "1", "memory": "1Gi"}},
        "podLabels": dict(store.pod_labels),
        "serviceAccount": {"server": {"create": True, "name": VELERO_SERVICE_ACCOUNT,
                                      "annotations": dict(store.sa_annotations)}},
        "configuration": {
            "backupStorageLocation": [{
                "name": "default",
                "provider": store.provider,
                "bucket": store.bucket,
                **({"prefix": store.prefix} if store.prefix else {}),
                "default": True,
                "config": dict(store.config),
            }],
            # Volume data goes through CSI snapshots, so Velero needs no native snapshot location (and its
            # identity no compute/disk permissions).
            "volumeSnapshotLocation": [],
            "features": "EnableCSI",  # csi.md: CSI snapshots need the EnableCSI feature flag
            "uploaderType": "kopia",
            "defaultVolumesToFsBackup": False,
        },
        "snapshotsEnabled": False,
        "backupsEnabled": True,
        "deployNodeAgent": node_agent,
        "schedules": {},  # the stack's Schedule is its own resource, named for `ops`
        # Helm installs the chart's crds/ on first install. The upgrade job would run an unpinned kubectl image
        # (its tag defaults to the cluster's version); a chart bump applies the new CRDs first (docs/known-gaps.md).
        "upgradeCRDs": False,
    }
    if node_agent:
        values["nodeAgent"] = {
            "resources": {"requests": {"cpu": "100m", "memory": "128Mi"}, "limits": {"cpu": "1", "memory": "1Gi"}},
            "podLabels": dict(store.pod_labels),
        }
    if scrape is not None:
        # Chart 11.3.2 values.yaml `metrics.serviceMonitor`: a ServiceMonitor on the server's metrics Service
        # (port http-monitoring). Without autodetect, a missing ServiceMonitor CRD fails the install instead of
        # silently leaving the backup alerts without data.
        values["metrics"] = {"enabled": True, "serviceMonitor": {
            "enabled": True, "autodetect": False, "additionalLabels": dict(scrape.labels)}}
    if store.existing_secret:
        values["credentials"] = {"useSecret": True, "existingSecret": store.existing_secret}
    elif store.credentials_file is not None:
        values["credentials"] = {"useSecret": True, "secretContents": {"cloud": store.credentials_file}}
    else:
        values["credentials"] = {"useSecret": False}  # workload identity: no key anywhere
    return values


class Backups(pulumi.ComponentResource):
    """Velero, the stack's bucket and identity, the daily Schedule."""

    def __init__(self, name: str, *, target: ClusterTarget, settings: BackupSettings, namespace: str,
                 stack: str, protect: bool, scrape: MetricsScrape | None = None,
                 opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("archivist:backup:Backups", name, None, opts)
        store = self._store(name, target, settings, stack=stack, protect=protect)
        # The node agent (file-system backup of the shared volume; on local stacks of every volume, which
        # have no snapshot class) mounts the kubelet's pod directory from the host, which only the
        # privileged Pod Security level admits.
        driver = SNAPSHOT_DRIVERS.get(target.platform)
        node_agent = target.storage.read_write_many is not None or driver is None
        level = "privileged" if node_agent else "restricted"
        ns = k8s.core.v1.Namespace(
            f"{name}-namespace",
            metadata={"name": VELERO_NAMESPACE, "labels": {
                "app.kubernetes.io/part-of": "velero", "app.kubernetes.io/managed-by": "pulumi",
                **{f"pod-security.kubernetes.io/{m}": level for m in ("enforce", "warn", "audit")}}},
            opts=target.options(parent=self, depends_on=list(target.ready)),
        )
        release = k8s.helm.v3.Release(
            f"{name}-velero",
            name="velero",
            chart=CHART,
            version=CHART_VERSION,
            repository_opts={"repo": CHART_REPO},
            namespace=VELERO_NAMESPACE,
            create_namespace=False,
            atomic=True,
            values=chart_values(store, node_agent=node_agent, scrape=scrape),
            # EnableCSI: Velero watches VolumeSnapshots, so their CRDs and controller come first.
            opts=target.options(parent=self, depends_on=[ns, *store.depends_on, *store.snapshot_support,
                                                         *(scrape.depends_on if scrape else [])]),
        )
        after_crds = target.options(parent=self, depends_on=[release])
        if driver is not None:
            # A VolumeSnapshotClass has top-level fields (driver, deletionPolicy) that the SDK's CustomResource
            # (spec only) cannot carry, so it is registered with the provider's generic CR type directly.
            pulumi.CustomResource(
                "kubernetes:snapshot.storage.k8s.io/v1:VolumeSnapshotClass",
                f"{name}-snapshot-class",
                {
                    "apiVersion": "snapshot.storage.k8s.io/v1",
                    "kind": "VolumeSnapshotClass",
                    "metadata": {"name": snapshot_class_name(target.platform),
                                 "labels": {SNAPSHOT_CLASS_LABEL: "true", "app.kubernetes.io/part-of": "archivist"}},
                    "driver": driver,
                    # csi.md: Velero sets Delete on the content when the backup expires; Retain keeps a snapshot
                    # if the VolumeSnapshot object is deleted another way.
                    "deletionPolicy": "Retain",
                },
                opts=target.options(parent=self, depends_on=[*target.ready, *store.snapshot_support]),
            )
        k8s.core.v1.ConfigMap(
            f"{name}-volume-policy",
            metadata={"name": resource_policy_name(namespace), "namespace": VELERO_NAMESPACE,
                      "labels": {NAMESPACE_LABEL: namespace}},
            data={"policy.yaml": volume_policy(snapshots=driver is not None)},
            opts=target.options(parent=self, depends_on=[ns]),
        )
        self.schedule = k8s.apiextensions.CustomResource(
            f"{name}-schedule",
            api_version="velero.io/v1",
            kind="Schedule",
            metadata={"name": schedule_name(namespace), "namespace": VELERO_NAMESPACE,
                      "labels": {NAMESPACE_LABEL: namespace}},
            spec={
                "schedule": settings.schedule,
                "useOwnerReferencesInBackup": False,  # backups outlive a deleted Schedule
                "template": backup_template(namespace, settings),
            },
            opts=after_crds,
        )
        self.bucket = store.bucket
        self.register_outputs({"bucket": store.bucket, "schedule": schedule_name(namespace)})

    def _store(self, name: str, target: ClusterTarget, settings: BackupSettings, *, stack: str,
               protect: bool) -> BackupStore:
        if settings.s3 is not None:
            s3 = settings.s3
            return BackupStore(
                provider="aws", bucket=s3.bucket, prefix=stack, existing_secret=s3.credentials_secret,
                config={"region": s3.region, "s3Url": s3.url, "s3ForcePathStyle": "true"},
            )
        cloud = target.cloud
        if cloud is None:
            raise ValueError("backups on a stack without a cloud need backup.s3")  # config refuses this earlier
        if cloud.platform == "gke":
            from . import gke

            return gke.backup_store(name, self, cloud, settings, protect=protect)
        if cloud.platform == "eks":
            from . import eks

            return eks.backup_store(name, self, cloud, settings, protect=protect)
        from . import aks

        return aks.backup_store(name, self, cloud, settings, protect=protect)

