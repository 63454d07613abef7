"""Volumes grow in place: a bigger `<store>.storage.size` patches the claims that exist.

The API server refuses any change to a StatefulSet's `volumeClaimTemplates` ("updates to
statefulset spec for fields other than 'replicas', 'ordinals', 'template', 'updateStrategy',
'persistentVolumeClaimRetentionPolicy' and 'minReadySeconds' are forbidden", proven in
tests/apiserver/test_volume_growth.py), so the StatefulSet keeps the size it was created with
(`ignore_changes` on that one path) and each ordinal's claim `<template>-<statefulset>-<i>`
gets a server-side-apply patch of `spec.resources.requests.storage` instead. The server
accepts it for a bound claim whose StorageClass has `allowVolumeExpansion: true`; the CSI
driver then grows the disk and the file system, online on every class this program creates.

A smaller size is refused twice: here, before the update runs (a `before_update` hook that
compares the claim's old and new size, naming the claim), and by the API server, which never
lets a bound claim's request drop below its capacity. What the program cannot see is the
live capacity of a claim it did not patch before (first growth after an import, claims of
ordinals above the patched count): for those the server's refusal is the check.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import pulumi
import pulumi_kubernetes as k8s

from ..config.quantity import parse_quantity
from .context import TierContext

# The path `ignore_changes` pins on the StatefulSet: the size the claims were created with.
TEMPLATE_SIZE_PATH = "spec.volumeClaimTemplates[0].spec.resources.requests.storage"
# pulumi-kubernetes Patch resources refuse to take a field another manager owns unless forced;
# the StatefulSet controller created each claim and owns its request until the first patch.
PATCH_FORCE = "pulumi.com/patchForce"


class ClaimShrinkRefusedError(Exception):
    pass


def claim_name(template: str, statefulset: str, ordinal: int) -> str:
    """The StatefulSet controller's name for an ordinal's claim (`getPersistentVolumeClaimName`)."""
    return f"{template}-{statefulset}-{ordinal}"


def _requested(inputs: Mapping[str, Any] | None) -> str | None:
    spec = (inputs or {}).get("spec") or {}
    requests = (spec.get("resources") or {}).get("requests") or {}
    value = requests.get("storage")
    return value if isinstance(value, str) else None


def shrink_problem(name: str, old_inputs: Mapping[str, Any] | None, new_inputs: Mapping[str, Any] | None) -> str | None:
    """Why an update from `old_inputs` to `new_inputs` must not run, or None when it may."""
    old, new = _requested(old_inputs), _requested(new_inputs)
    old_q, new_q = parse_quantity(old), parse_quantity(new)
    if old_q is None or new_q is None or new_q >= old_q:
        return None
    return (
        f"refusing to shrink PersistentVolumeClaim '{name}' from {old} to {new}: Kubernetes cannot shrink a "
        f"volume (the API server refuses a request below the claim's capacity) and the data would not fit. "
        f"Set the store's storage.size back to {old} or larger. To move to a smaller disk, back up, then "
        "restore into a new stack (docs/data-safety.md, 'Restore runbook')."
    )


def _refuse_shrink(args: pulumi.ResourceHookArgs) -> None:
    claim = ((args.new_inputs or {}).get("metadata") or {}).get("name") or args.name
    problem = shrink_problem(str(claim), args.old_inputs, args.new_inputs)
    if problem:
        raise ClaimShrinkRefusedError(problem)


def shrink_guard(app: str) -> pulumi.ResourceHookBinding:
    """A `before_update` hook for one store's claim patches (hook names are unique per program)."""
    return pulumi.ResourceHookBinding(before_update=[pulumi.ResourceHook(f"archivist-{app}-claim-shrink-guard",
                                                                         _refuse_shrink)])


def claim_patches(parent: pulumi.Resource, ctx: TierContext, *, app: str, template: str, size: str, ordinals: int,
                  depends_on: Sequence[pulumi.Resource]) -> list[k8s.core.v1.PersistentVolumeClaimPatch]:
    """One patch per ordinal that always exists: its claim's request is `size`.

    `retain_on_delete`: deleting a Patch makes its field manager apply an empty object, which
    would drop the request from a claim it alone owns (refused by the server); when an ordinal
    goes away its claim is retained anyway (`whenScaled: Retain`), so Pulumi just forgets it.
    """
    patches = []
    guard = shrink_guard(app)
    for i in range(ordinals):
        name = claim_name(template, app, i)
        patches.append(k8s.core.v1.PersistentVolumeClaimPatch(
            f"{name}-size",
            metadata={"name": name, "namespace": ctx.namespace, "annotations": {PATCH_FORCE: "true"}},
            spec={"resources": {"requests": {"storage": size}}},
            opts=ctx.opts(parent, depends_on=list(depends_on), retain_on_delete=True, hooks=guard),
        ))
    return patches
