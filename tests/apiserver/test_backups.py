"""The Velero objects the stacks render are accepted by the real API server with Velero v1.17.1's CRDs."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from archivist_infra.__main__ import run_stack
from archivist_infra.backup import VELERO_NAMESPACE
from archivist_infra.offline.render import manifests

from .kube import Cluster

VELERO_KINDS = ("Schedule", "VolumeSnapshotClass", "ConfigMap")


def _velero_objects(objects: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [o for o in objects if o["kind"] in ("Schedule", "VolumeSnapshotClass")
            or (o["kind"] == "ConfigMap" and o["metadata"].get("namespace") == VELERO_NAMESPACE)]


@pytest.fixture(scope="module")
def velero_namespace(cluster: Cluster) -> str:
    created = cluster.apply([{"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": VELERO_NAMESPACE}}])
    assert created.ok, created.stderr
    return VELERO_NAMESPACE


def test_prod_schedule_snapshot_class_and_volume_policy_are_accepted(cluster: Cluster, velero_namespace: str) -> None:
    objects = _velero_objects(manifests(run_stack("prod")))
    assert sorted(o["kind"] for o in objects) == sorted(VELERO_KINDS)
    dry = cluster.apply(objects, dry_run=True)
    assert dry.ok, dry.stderr
    applied = cluster.apply(objects)
    assert applied.ok, applied.stderr
    assert not applied.warnings, applied.warnings  # no unknown fields pruned by the CRD schemas
    schedule = cluster.get("schedule.velero.io", "archivist-daily", namespace=velero_namespace)
    assert schedule["spec"]["template"]["includedNamespaces"] == ["archivist"]
    vsc = cluster.get("volumesnapshotclass", "archivist-gke-snapshots")
    assert vsc["driver"] == "pd.csi.storage.gke.io" and vsc["deletionPolicy"] == "Retain"


def test_a_backup_made_from_the_schedule_template_is_valid(cluster: Cluster, velero_namespace: str) -> None:
    """What `ops backup` does: a Backup whose spec is the Schedule's template, read back from the server."""
    objects = _velero_objects(manifests(run_stack("prod")))
    assert cluster.apply(objects).ok
    template = cluster.get("schedule.velero.io", "archivist-daily", namespace=velero_namespace)["spec"]["template"]
    spec = copy.deepcopy(template)
    labels = spec.pop("metadata", {}).get("labels", {})
    backup = {"apiVersion": "velero.io/v1", "kind": "Backup",
              "metadata": {"name": "archivist-manual-1", "namespace": velero_namespace, "labels": labels},
              "spec": spec}
    created = cluster.apply([backup])
    assert created.ok, created.stderr
    stored = cluster.get("backup.velero.io", "archivist-manual-1", namespace=velero_namespace)
    assert stored["metadata"]["labels"] == {"archivist.io/namespace": "archivist"}
    assert stored["spec"]["resourcePolicy"]["name"] == "archivist-volume-policy"


def test_the_server_refuses_a_schedule_with_a_wrong_field_type(cluster: Cluster, velero_namespace: str) -> None:
    (schedule,) = [o for o in _velero_objects(manifests(run_stack("prod"))) if o["kind"] == "Schedule"]
    broken = copy.deepcopy(schedule)
    broken["metadata"]["name"] = "broken-daily"
    broken["spec"]["template"]["includedNamespaces"] = "archivist"  # must be a list
    refused = cluster.apply([broken])
    assert not refused.ok
    assert "includedNamespaces" in refused.stderr
