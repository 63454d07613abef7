"""Backups: Velero with its cloud plugin, a bucket the stack owns, workload identity, the daily Schedule."""

from __future__ import annotations

import dataclasses
import json
from typing import Any

import pytest
import yaml

from archivist_infra.backup import (
    CHART_VERSION,
    PLUGINS,
    SNAPSHOT_CLASS_LABEL,
    SNAPSHOT_DRIVERS,
    VELERO_IMAGE,
    resource_policy_name,
)
from archivist_infra.config.problems import ConfigError
from archivist_infra.offline import engine
from archivist_infra.offline.render import manifests
from archivist_infra.offline.stackfile import read_stack
from archivist_infra.program import main as program_main
from tests.conftest import ROOT, VALID_IMAGES, find, run_config

RELEASE = "kubernetes:helm.sh/v3:Release"


def _example(platform: str, extra: dict[str, str] | None = None) -> engine.Run:
    config = read_stack(ROOT, platform, ROOT / "examples" / "stacks" / f"{platform}.yaml")
    values = {**config.values, "archivist:protect": "true", **(extra or {})}
    return engine.run(dataclasses.replace(config, values=values), program_main)


@pytest.fixture(scope="module")
def eks_run() -> engine.Run:
    return _example("eks")


@pytest.fixture(scope="module")
def aks_run() -> engine.Run:
    return _example("aks")


def _velero(run: engine.Run) -> list[engine.Recorded]:
    return [r for r in run.by_type(RELEASE) if r.inputs.get("chart") == "velero"]


def _values(run: engine.Run) -> dict[str, Any]:
    (release,) = _velero(run)
    return dict(release.inputs["values"])


def _unwrap(value: Any) -> Any:
    return value["value"] if engine.is_secret_value(value) else value


def test_protected_cloud_stacks_back_up_by_default_and_dev_does_not(prod_run: engine.Run,
                                                                     dev_run: engine.Run) -> None:
    assert len(_velero(prod_run)) == 1
    assert _velero(dev_run) == []
    assert not [r for r in dev_run.resources if "velero" in r.name]


def test_velero_comes_from_the_pinned_chart_with_the_cloud_plugin(prod_run: engine.Run, eks_run: engine.Run,
                                                                   aks_run: engine.Run) -> None:
    for run, provider in ((prod_run, "gcp"), (eks_run, "aws"), (aks_run, "azure")):
        (release,) = _velero(run)
        assert release.inputs["version"] == CHART_VERSION
        assert release.inputs["repositoryOpts"]["repo"] == "https://vmware-tanzu.github.io/helm-charts"
        assert release.inputs["namespace"] == "velero"
        values = _values(run)
        assert f"{values['image']['repository']}:{values['image']['tag']}" == VELERO_IMAGE == "velero/velero:v1.17.1"
        (plugin,) = values["initContainers"]
        assert plugin["image"] == PLUGINS[provider] and plugin["image"].endswith(":v1.13.2")
        bsl = values["configuration"]["backupStorageLocation"][0]
        assert bsl["provider"] == provider and bsl["default"] is True
        assert values["configuration"]["features"] == "EnableCSI"
        assert values["deployNodeAgent"] is True  # the shared RWX volume goes through file-system backup


def test_no_static_keys_anywhere(prod_run: engine.Run, eks_run: engine.Run, aks_run: engine.Run) -> None:
    gke, eks, aks = _values(prod_run), _values(eks_run), _values(aks_run)
    assert gke["credentials"] == {"useSecret": False}
    assert eks["credentials"] == {"useSecret": False}
    # Azure's plugin reads subscription and resource group from a file; it holds no secret.
    contents = _unwrap(aks["credentials"]["secretContents"]["cloud"])
    assert "AZURE_CLIENT_SECRET" not in contents and "ACCESS_KEY" not in contents
    assert "AZURE_SUBSCRIPTION_ID=" in contents and "AZURE_CLOUD_NAME=AzurePublicCloud" in contents
    for run in (prod_run, eks_run, aks_run):
        kinds = {r.type for r in run.resources}
        assert not kinds & {"gcp:serviceaccount/key:Key", "aws:iam/accessKey:AccessKey"}


def test_gke_identity_is_workload_identity_bound_to_velero_service_account(prod_run: engine.Run) -> None:
    values = _values(prod_run)
    sa = values["serviceAccount"]["server"]
    assert sa["name"] == "velero"
    email = _unwrap(sa["annotations"]["iam.gke.io/gcp-service-account"])
    assert email.endswith(".iam.gserviceaccount.com")
    assert _unwrap(values["configuration"]["backupStorageLocation"][0]["config"]["serviceAccount"]) == email
    binding = prod_run.one("gcp:serviceaccount/iAMMember:IAMMember", "backups-velero-workload-identity")
    assert binding.inputs["role"] == "roles/iam.workloadIdentityUser"
    assert binding.inputs["member"].endswith(".svc.id.goog[velero/velero]")
    access = prod_run.one("gcp:storage/bucketIAMMember:BucketIAMMember", "backups-velero-bucket-access")
    assert access.inputs["role"] == "roles/storage.objectAdmin"  # the bucket only: snapshots are CSI's


def test_gke_bucket_is_versioned_private_with_lifecycle_and_protected(prod_run: engine.Run) -> None:
    bucket = prod_run.one("gcp:storage/bucket:Bucket", "backups-bucket")
    assert bucket.protect
    assert bucket.inputs["versioning"] == {"enabled": True}
    assert bucket.inputs["publicAccessPrevention"] == "enforced"
    (rule,) = bucket.inputs["lifecycleRules"]
    assert rule["action"]["type"] == "Delete" and rule["condition"]["daysSinceNoncurrentTime"] == 90


def test_eks_role_trusts_only_velero_service_account_and_bucket_is_versioned(eks_run: engine.Run) -> None:
    role = eks_run.one("aws:iam/role:Role", "backups-velero-role")
    trust = json.loads(role.inputs["assumeRolePolicy"])
    (statement,) = trust["Statement"]
    assert statement["Action"] == "sts:AssumeRoleWithWebIdentity"
    subjects = [v for k, v in statement["Condition"]["StringEquals"].items() if k.endswith(":sub")]
    assert subjects == ["system:serviceaccount:velero:velero"]
    assert eks_run.one("aws:s3/bucketVersioning:BucketVersioning", "backups-bucket-versioning").inputs[
        "versioningConfiguration"] == {"status": "Enabled"}
    lifecycle = eks_run.one("aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration",
                            "backups-bucket-lifecycle")
    assert lifecycle.inputs["rules"][0]["noncurrentVersionExpiration"] == {"noncurrentDays": 90}
    policy = json.loads(eks_run.one("aws:iam/rolePolicy:RolePolicy", "backups-velero-bucket-access").inputs["policy"])
    actions = {a for s in policy["Statement"] for a in s["Action"]}
    assert not [a for a in actions if not a.startswith("s3:")]
    annotations = _values(eks_run)["serviceAccount"]["server"]["annotations"]
    assert _unwrap(annotations["eks.amazonaws.com/role-arn"]).startswith("arn:aws:iam::")
    # EKS's explicit provider (pinned region) reaches the backup resources too.
    assert eks_run.one("aws:s3/bucket:Bucket", "backups-bucket").provider is not None


def test_aks_uses_a_federated_identity_and_blob_versioning(aks_run: engine.Run) -> None:
    fed = aks_run.one("azure-native:managedidentity:FederatedIdentityCredential", "backups-velero-federated")
    assert fed.inputs["subject"] == "system:serviceaccount:velero:velero"
    assert fed.inputs["audiences"] == ["api://AzureADTokenExchange"]
    account = aks_run.one("azure-native:storage:StorageAccount", "backups-account")
    assert account.inputs["allowSharedKeyAccess"] is False and account.inputs["allowBlobPublicAccess"] is False
    service = aks_run.one("azure-native:storage:BlobServiceProperties", "backups-blob-service")
    assert service.inputs["isVersioningEnabled"] is True
    values = _values(aks_run)
    assert values["podLabels"] == {"azure.workload.identity/use": "true"}
    assert values["configuration"]["backupStorageLocation"][0]["config"]["useAAD"] == "true"


@pytest.mark.parametrize("platform", ["gke", "eks", "aks"])
def test_a_snapshot_class_per_cloud_driver_labelled_for_velero(platform: str, prod_run: engine.Run,
                                                               eks_run: engine.Run, aks_run: engine.Run) -> None:
    run = {"gke": prod_run, "eks": eks_run, "aks": aks_run}[platform]
    (vsc,) = [o for o in manifests(run) if o["kind"] == "VolumeSnapshotClass"]
    assert vsc["apiVersion"] == "snapshot.storage.k8s.io/v1"
    assert vsc["driver"] == SNAPSHOT_DRIVERS[platform]
    assert vsc["metadata"]["labels"][SNAPSHOT_CLASS_LABEL] == "true"
    assert vsc["deletionPolicy"] == "Retain"


def test_the_daily_schedule_backs_up_the_stack_namespace_with_config_retention() -> None:
    run = run_config({"images": VALID_IMAGES, "namespace": "papers", "backup": {
        "enabled": True, "schedule": "30 1 * * *", "ttl": "336h",
        "s3": {"bucket": "b", "url": "http://minio.minio.svc:9000", "credentialsSecret": "minio-creds"}}})
    objects = manifests(run)
    schedule = find(objects, "Schedule", "papers-daily")
    assert schedule["metadata"]["namespace"] == "velero"
    assert schedule["spec"]["schedule"] == "30 1 * * *"
    template = schedule["spec"]["template"]
    assert template["includedNamespaces"] == ["papers"] and template["ttl"] == "336h"
    assert template["metadata"]["labels"] == {"archivist.io/namespace": "papers"}
    assert template["resourcePolicy"] == {"kind": "configmap", "name": resource_policy_name("papers")}
    policy = yaml.safe_load(find(objects, "ConfigMap", "papers-volume-policy")["data"]["policy.yaml"])
    actions = {p["conditions"]["pvcLabels"]["app.kubernetes.io/component"]: p["action"]["type"]
               for p in policy["volumePolicies"]}
    # A local stack has no VolumeSnapshotClass: its store claims go through the node agent too.
    assert actions == {"store": "fs-backup", "storage": "fs-backup"}
    values = _values(run)
    assert values["credentials"] == {"useSecret": True, "existingSecret": "minio-creds"}
    assert values["configuration"]["backupStorageLocation"][0]["config"]["s3Url"] == "http://minio.minio.svc:9000"
    assert not [o for o in objects if o["kind"] == "VolumeSnapshotClass"]  # local: the user's CSI, if any


def test_every_claim_the_policy_routes_carries_the_label_it_matches(prod_objects: list) -> None:
    sts = [o for o in prod_objects if o["kind"] == "StatefulSet"]
    for s in sts:
        assert s["spec"]["volumeClaimTemplates"][0]["metadata"]["labels"]["app.kubernetes.io/component"] == "store"
    shared = find(prod_objects, "PersistentVolumeClaim", "archivist-data")
    assert shared["metadata"]["labels"]["app.kubernetes.io/component"] == "storage"


@pytest.mark.parametrize(("config", "key"), [
    ({"backup": {"enabled": True}}, "archivist:backup.enabled"),
    ({"backup": {"schedule": "daily please"}}, "archivist:backup.schedule"),
    ({"backup": {"ttl": "30d"}}, "archivist:backup.ttl"),
    ({"backup": {"enabled": True, "ttl": "2400h", "bucketRetentionDays": 90,
                 "s3": {"bucket": "b", "url": "http://m:9000", "credentialsSecret": "c"}}},
     "archivist:backup.bucketRetentionDays"),
    ({"backup": {"s3": {"bucket": "b"}}}, "archivist:backup.s3.url"),
])
def test_bad_backup_config_is_refused_by_key(config: dict, key: str) -> None:
    with pytest.raises(ConfigError) as err:
        run_config({"images": VALID_IMAGES, **config})
    assert key in err.value.keys


def test_the_chart_runs_no_unpinned_images(prod_run: engine.Run) -> None:
    values = _values(prod_run)
    assert values["upgradeCRDs"] is False  # the CRD job's kubectl image tag follows the cluster version
    images = [values["initContainers"][0]["image"], f"{values['image']['repository']}:{values['image']['tag']}"]
    assert all(":" in i and not i.endswith(":latest") for i in images)
    assert values["containerSecurityContext"]["allowPrivilegeEscalation"] is False
    assert values["containerSecurityContext"]["capabilities"] == {"drop": ["ALL"]}


def _prod_monitoring(monitoring: dict[str, Any]) -> engine.Run:
    config = read_stack(ROOT, "prod")
    return engine.run(dataclasses.replace(config, values={**config.values,
                                                          "archivist:monitoring": json.dumps(monitoring)}),
                      program_main)


def test_the_installed_prometheus_scrapes_velero_after_its_crds_exist(prod_run: engine.Run) -> None:
    # The backup alerts read velero_backup_* (monitoring/metrics.py): something must scrape Velero's server.
    [velero] = _velero(prod_run)
    [stack] = [r for r in prod_run.by_type(RELEASE) if r.inputs.get("chart") == "kube-prometheus-stack"]
    metrics = _values(prod_run)["metrics"]
    monitor = metrics["serviceMonitor"]
    assert metrics["enabled"] is True and monitor["enabled"] is True
    assert monitor["autodetect"] is False  # a missing CRD fails the install rather than dropping the monitor
    spec = _unwrap(stack.inputs["values"])["prometheus"]["prometheusSpec"]
    assert spec["serviceMonitorSelector"]["matchLabels"].items() <= monitor["additionalLabels"].items()
    assert spec["serviceMonitorNamespaceSelector"] == {}  # the ServiceMonitor lives in `velero`
    assert stack.urn in velero.dependencies


@pytest.mark.parametrize(("monitoring", "labels"), [
    ({"mode": "attach", "selectorLabels": {"prometheus": "main"}}, {"prometheus": "main"}),
    ({"mode": "gmp"}, None),
    ({"mode": "none"}, None),
])
def test_velero_is_scraped_by_the_prometheus_the_stack_attaches_to(monitoring: dict[str, Any],
                                                                    labels: dict[str, str] | None) -> None:
    run = _prod_monitoring(monitoring)
    values = _values(run)
    assert not [r for r in run.by_type(RELEASE) if r.inputs.get("chart") == "kube-prometheus-stack"]
    if labels is None:  # no prometheus-operator: the chart's default (no ServiceMonitor)
        assert "metrics" not in values
    else:
        assert values["metrics"]["serviceMonitor"]["enabled"] is True
        assert values["metrics"]["serviceMonitor"]["additionalLabels"] == labels
