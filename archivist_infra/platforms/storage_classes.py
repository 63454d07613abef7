"""The program's own StorageClasses, one table per platform.

What a cluster calls "standard" differs per cloud and per cluster version (HDD on old GKE,
gp2 unencrypted on old EKS), so claims use classes this program defines: an SSD class
for ReadWriteOnce store volumes and a shared-file-system class for ReadWriteMany.
All use WaitForFirstConsumer (a zonal disk is created in the zone the pod lands in, not
a random one that the scheduler then cannot use) and allow expansion where the driver
can grow a volume (a store grows without being recreated: tiers/volume_growth.py).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import pulumi
import pulumi_kubernetes.storage.v1 as storage

from ..capacity.figures import GI, TI, BillingRule
from .common import StorageClassConfig, reclaim_policy_for
from .target import StorageClasses

RWO_CLASS = "archivist-ssd"
RWX_CLASS = "archivist-shared"


@dataclass(frozen=True)
class ClassSpec:
    provisioner: str
    parameters: Mapping[str, pulumi.Input[str]]
    mount_options: Sequence[str] = field(default_factory=tuple)
    # allowVolumeExpansion: only where the CSI driver implements EXPAND_VOLUME. pd.csi, ebs.csi,
    # disk.csi.azure.com, file.csi.azure.com and filestore.csi (kubernetes-sigs/gcp-filestore-csi-driver#54)
    # do; efs.csi does not (EFS is elastic, the claim size is ignored; an expanded claim leaves pods in
    # "NodeExpandVolume ... not support node expansion", kubernetes-sigs/aws-efs-csi-driver#1243, #668).
    expandable: bool = True


@dataclass(frozen=True)
class ClassPair:
    read_write_once: ClassSpec
    read_write_many: ClassSpec | None


# -- GKE ----------------------------------------------------------------------------------

FILESTORE_TIERS = ("standard", "premium", "enterprise", "zonal")
# Filestore's smallest instance per tier: the CSI driver rounds a smaller claim up to it
# (kubernetes-sigs/gcp-filestore-csi-driver pkg/csi_driver/controller.go:53-67, util.Gb = GiB).
# "standard" (basic HDD) is 100 GiB since driver v1.11 (commit c11a73b6, 2025-06); older
# GKE-managed drivers still create 1 TiB, which the label says.
_FILESTORE_MINIMUM = {"standard": 100 * GI, "premium": TI * 5 / 2, "enterprise": TI, "zonal": TI}
_FILESTORE_NOTE = {"standard": "100 GiB minimum; 1 TiB on drivers before v1.11"}
# The PD CSI driver's smallest disk (gcp-compute-persistent-disk-csi-driver
# pkg/gce-pd-csi-driver/controller.go: MinimumVolumeSizeInBytes = 1 GiB).
_PD_MINIMUM = GI


def gke_classes(*, filestore_tier: str, network: pulumi.Input[str], kms_key: str | None = None) -> ClassPair:
    # disk-encryption-kms-key: the PD CSI driver's CMEK parameter (GKE "Using customer-managed encryption keys").
    return ClassPair(
        ClassSpec("pd.csi.storage.gke.io", {"type": "pd-ssd", **({"disk-encryption-kms-key": kms_key} if kms_key else {})}),
        ClassSpec("filestore.csi.storage.gke.io", {"tier": filestore_tier, "network": network}),
    )


def gke_billing(filestore_tier: str) -> tuple[BillingRule, BillingRule]:
    return (
        BillingRule("GCE pd-ssd (1 GiB minimum)", minimum=_PD_MINIMUM),
        BillingRule(f"Filestore {filestore_tier} ({_FILESTORE_NOTE.get(filestore_tier, 'instance minimum')})",
                    minimum=_FILESTORE_MINIMUM[filestore_tier]),
    )


# -- EKS ----------------------------------------------------------------------------------


def eks_classes(*, file_system_id: pulumi.Input[str] | None, kms_key: str | None = None) -> ClassPair:
    rwx = None
    if file_system_id is not None:
        # efs-ap: one access point per volume, owned by a uid/gid from the class's range, so
        # pods of any uid can write without a root chown.
        rwx = ClassSpec(
            "efs.csi.aws.com",
            {"provisioningMode": "efs-ap", "fileSystemId": file_system_id, "directoryPerms": "700", "basePath": "/archivist"},
            expandable=False,
        )
    return ClassPair(
        # kmsKeyId: the EBS CSI driver's parameter for a customer-managed key (else the account's aws/ebs key).
        ClassSpec("ebs.csi.aws.com", {"type": "gp3", "encrypted": "true", "csi.storage.k8s.io/fstype": "ext4",
                                      **({"kmsKeyId": kms_key} if kms_key else {})}),
        rwx,
    )


def eks_billing() -> tuple[BillingRule, BillingRule]:
    return (BillingRule("EBS gp3"), BillingRule("EFS (bills bytes used)", metered=True))


# -- AKS ----------------------------------------------------------------------------------

AZURE_FILES_SKUS = ("Premium_LRS", "Premium_ZRS", "Standard_LRS", "Standard_ZRS")
# Premium SSD managed disks bill at the next tier size (P1 4 GiB .. P80 32 TiB).
_PREMIUM_DISK_TIERS = tuple(GI * n for n in (4, 8, 16, 32, 64, 128, 256, 512, 1024, 2048, 4096, 8192, 16384, 32767))


def aks_classes(*, files_sku: str, uid: int, gid: int) -> ClassPair:
    return ClassPair(
        ClassSpec("disk.csi.azure.com", {"skuName": "Premium_LRS", "cachingMode": "ReadOnly"}),
        # SMB ignores fsGroup: ownership has to come from mount options.
        ClassSpec(
            "file.csi.azure.com",
            {"skuName": files_sku},
            ("dir_mode=0770", "file_mode=0660", f"uid={uid}", f"gid={gid}", "mfsymlinks", "cache=strict", "actimeo=30", "nobrl"),
        ),
    )


def aks_billing(files_sku: str) -> tuple[BillingRule, BillingRule]:
    if files_sku.startswith("Premium"):
        files = BillingRule("Azure Files premium (100 GiB minimum)", minimum=100 * GI)
    else:
        files = BillingRule("Azure Files standard (bills bytes used)", metered=True)
    return (BillingRule("Azure Premium SSD (billed per P tier)", tiers=_PREMIUM_DISK_TIERS), files)


# -- creation -----------------------------------------------------------------------------


def create_classes(
    name: str,
    pair: ClassPair,
    config: StorageClassConfig,
    *,
    provider: pulumi.ProviderResource,
    parent: pulumi.Resource,
    protect: bool,
    depends_on: Sequence[pulumi.Resource] = (),
) -> tuple[StorageClasses, list[pulumi.Resource]]:
    """Create the classes config does not replace; return the names claims must use."""
    created: list[pulumi.Resource] = []

    def make(kind: str, class_name: str, spec: ClassSpec) -> str:
        sc = storage.StorageClass(
            f"{name}-{kind}",
            metadata={"name": class_name, "labels": {"app.kubernetes.io/managed-by": "pulumi", "app.kubernetes.io/part-of": "archivist"}},
            provisioner=spec.provisioner,
            parameters=dict(spec.parameters),
            mount_options=list(spec.mount_options) or None,
            reclaim_policy=reclaim_policy_for(config, protect=protect),
            volume_binding_mode="WaitForFirstConsumer",
            allow_volume_expansion=spec.expandable,
            opts=pulumi.ResourceOptions(
                parent=parent, provider=provider, protect=protect, depends_on=list(depends_on)
            ),
        )
        created.append(sc)
        return class_name

    rwo = config.read_write_once or make("rwo", RWO_CLASS, pair.read_write_once)
    rwx = config.read_write_many
    if rwx is None and pair.read_write_many is not None:
        rwx = make("rwx", RWX_CLASS, pair.read_write_many)
    return StorageClasses(read_write_once=rwo, read_write_many=rwx), created
