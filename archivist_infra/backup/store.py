"""Where Velero lives and what a cloud's backup module (gke.py, eks.py, aks.py) hands back.

Its own module so the cloud modules and the package's `Backups` (which imports them) do not import each other.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import pulumi

VELERO_NAMESPACE = "velero"
VELERO_SERVICE_ACCOUNT = "velero"  # workload identity subjects name it: system:serviceaccount:velero:velero


@dataclass(frozen=True)
class BackupStore:
    """Where Velero writes and how it authenticates, from the platform's backup module."""

    provider: str  # Velero object-store provider: gcp | aws | azure
    bucket: pulumi.Input[str]
    config: dict[str, pulumi.Input[str]]  # BackupStorageLocation config
    sa_annotations: dict[str, pulumi.Input[str]] = field(default_factory=dict)
    pod_labels: dict[str, str] = field(default_factory=dict)
    credentials_file: pulumi.Input[str] | None = None  # non-secret settings the plugin reads as a file (Azure)
    existing_secret: str | None = None  # local S3: a Secret the user made, key `cloud`
    prefix: str | None = None
    depends_on: list[pulumi.Resource] = field(default_factory=list)
    # What must exist before a VolumeSnapshotClass or a CSI snapshot: the snapshot controller and its CRDs
    # where the platform does not serve them (EKS: the snapshot-controller add-on, backup/eks.py).
    snapshot_support: list[pulumi.Resource] = field(default_factory=list)
