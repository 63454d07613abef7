"""The volume the workers share for papers, LaTeX and reports, and the pod that keeps it in every backup.

Velero's file-system backup reads a volume through the node agent from the directory of a running pod
that mounts it (velero v1.17.1 file-system-backup.md:366-369, as audit D4 cites). The workers mount `archivist-data` only
while a batch runs, so the nightly backup almost never saw the papers and reports (audit D4). A tiny
always-running reader, `archivist-data-keeper`, mounts the claim read-only and does nothing else, so
every scheduled backup captures it. Per platform: the shared claim is ReadWriteMany on Filestore
(GKE), EFS (EKS) and Azure Files (AKS), none of which Velero can CSI-snapshot, so file-system backup
through the node agent it is; local stacks back up every volume that way too (backup/__init__.py).
"""

from __future__ import annotations

import pulumi
import pulumi_kubernetes as k8s

from ..config.settings import Resources, SharedDataSettings
from .context import TierContext
from .pods import Spec, container_security

CLAIM = "archivist-data"
KEEPER = "archivist-data-keeper"
# docker-library busybox 1.37.0 (the image `ops upload` uses): sh, sleep and test in ~2 MB. Pinned 2026-12.
KEEPER_IMAGE = "busybox:1.37.0"
KEEPER_UID = 65534  # nobody: it reads nothing itself (the node agent reads the volume from the host)
MOUNT = "/data"
# It only sleeps: requests and limits far below any app's (counted in the namespace quota: demands_from_settings).
KEEPER_RESOURCES = Resources(cpu_request="5m", memory_request="8Mi", cpu_limit="20m", memory_limit="16Mi")
# Sleeps in the background so TERM ends it at once (PID 1 ignores signals it has no handler for).
KEEPER_COMMAND = ["/bin/sh", "-c", "trap 'exit 0' TERM INT; while :; do sleep 3600 & wait $!; done"]
# Alive while the mount answers: a stale network mount (NFS on Filestore/EFS) fails `test` and restarts the pod.
KEEPER_PROBE = ["/bin/test", "-d", f"{MOUNT}/."]


def beside_keeper() -> Spec:
    """Pod-spec fields for a pod that mounts a ReadWriteOnce shared claim: the keeper holds it attached to its
    node at all times, so that node is the only one where another pod can mount it too."""
    return {"affinity": {"pod_affinity": {"required_during_scheduling_ignored_during_execution": [{
        "label_selector": {"match_labels": TierContext.selector(KEEPER)},
        "topology_key": "kubernetes.io/hostname",
    }]}}}


def keeper_pod_spec(claim: pulumi.Input[str]) -> Spec:
    probe: Spec = {"exec_": {"command": KEEPER_PROBE}, "period_seconds": 60, "timeout_seconds": 10,
                   "failure_threshold": 3}
    return {
        "automount_service_account_token": False,
        "enable_service_links": False,
        "termination_grace_period_seconds": 5,
        # No fsGroup: nothing is chowned on a volume the workers own; the pod only holds the mount.
        "security_context": {"run_as_non_root": True, "run_as_user": KEEPER_UID, "run_as_group": KEEPER_UID,
                             "seccomp_profile": {"type": "RuntimeDefault"}},
        "containers": [{
            "name": "keeper",
            "image": KEEPER_IMAGE,
            "image_pull_policy": "IfNotPresent",
            "command": KEEPER_COMMAND,
            "resources": KEEPER_RESOURCES.as_k8s(),
            "security_context": container_security(read_only_root=True),
            "volume_mounts": [{"name": "data", "mount_path": MOUNT, "read_only": True}],
            "liveness_probe": probe,
            "readiness_probe": probe,
        }],
        "volumes": [{"name": "data", "persistent_volume_claim": {"claim_name": claim, "read_only": True}}],
    }


class SharedData(pulumi.ComponentResource):
    claim_name: pulumi.Output[str]

    def __init__(self, name: str, ctx: TierContext, settings: SharedDataSettings, *, storage_class: str | None,
                 opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("archivist:storage:SharedData", name, None, opts)
        spec: Spec = {
            "access_modes": [settings.access_mode],
            "resources": {"requests": {"storage": settings.size}},
        }
        if storage_class:
            spec["storage_class_name"] = storage_class
        claim = k8s.core.v1.PersistentVolumeClaim(
            f"{name}-claim",
            metadata={
                "name": CLAIM,
                "namespace": ctx.namespace,
                "labels": ctx.labels(CLAIM, "storage"),
                # Binding waits for the first consumer on WaitForFirstConsumer classes; don't hold `up` on it.
                "annotations": {"pulumi.com/skipAwait": "true"},
            },
            spec=spec,
            opts=ctx.opts(self, data=True),
        )
        self.claim_name = claim.metadata.name
        labels = ctx.labels(KEEPER, "backup")
        selector = ctx.selector(KEEPER)
        self.keeper = k8s.apps.v1.Deployment(
            f"{name}-keeper",
            metadata={"name": KEEPER, "namespace": ctx.namespace, "labels": labels,
                      # Ready once the claim binds (a Filestore share can take minutes): `ops status` reports it.
                      "annotations": {"pulumi.com/skipAwait": "true"}},
            spec={
                "replicas": 1,
                # Never two at once: on a ReadWriteOnce claim the second could not attach elsewhere.
                "strategy": {"type": "Recreate"},
                "revision_history_limit": 2,
                "selector": {"match_labels": selector},
                "template": {"metadata": {"labels": {**labels, **selector}}, "spec": keeper_pod_spec(claim.metadata.name)},
            },
            opts=ctx.opts(self, depends_on=[claim]),
        )
        self.register_outputs({"claim_name": self.claim_name})
