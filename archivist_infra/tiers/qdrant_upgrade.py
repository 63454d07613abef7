"""Qdrant upgrades one minor release at a time: the path, and the hook that refuses a skipped minor.

Why a path: Qdrant guarantees storage compatibility for one minor release only. "When upgrading Qdrant,
upgrade to the latest patch version of each intermediate minor version first ... A Qdrant node with
version 1.17 will be compatible with a node with version 1.16, but not with a node with version 1.15. If
you run a single node cluster, you also cannot skip versions" (qdrant.tech/documentation/upgrades/,
read 2026-12-06). So a stack that runs v1.13.4 reaches v1.15.x through v1.14.x, each step rolled out
completely before the next.

Why 1.15 at least: below it, distributed Qdrant ignores the configured default replication factor when
it places shards (qdrant/qdrant issue 6623, "Replicas not created when collection uses the default value
for replication_factor from Qdrant's config", fixed by PR 6632, first released in v1.15.0; audit D1:
v1.13.4 dispatcher.rs:100 -> toc/mod.rs:375-379 uses `replication_factor.unwrap_or_else(default)` = 1).
The worker creates its collection without a replication factor (app f27c790
internal/vectorstore/qdrant_client.go:91-106), so only a release that applies the configured default
keeps two copies.

The hook: the StatefulSet's `before_update` compares the image of the running stack (old inputs) with
the new one and refuses a jump of more than one minor, or a downgrade, naming the next image to set.
A new stack has no old inputs and starts at the newest pin.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

import pulumi

# Latest patch of each minor on the way from the first pin to today's (Docker Hub tags
# `qdrant/qdrant:<tag>-unprivileged`, published for every release tag by .github/workflows/docker-image.yml).
# v1.14.1: 2025-05 (qdrant/qdrant releases); v1.15.5: newest 1.15 patch (renovate "v1.15.5 -> v1.16.3",
# Aviator-Coding/home-ops#461, 2026-01-25). Extend the path one minor at a time.
UPGRADE_PATH: tuple[str, ...] = ("v1.13.4", "v1.14.1", "v1.15.5")
IMAGE_REPOSITORY = "qdrant/qdrant"
SUFFIX = "-unprivileged"
_VERSION = re.compile(r":v?(\d+)\.(\d+)\.(\d+)")


def image_for(version: str) -> str:
    return f"{IMAGE_REPOSITORY}:{version}{SUFFIX}"


def version_of(image: str | None) -> tuple[int, int, int] | None:
    """(major, minor, patch) from an image tag such as `qdrant/qdrant:v1.15.5-unprivileged`; None for a digest."""
    m = _VERSION.search(image or "")
    return (int(m.group(1)), int(m.group(2)), int(m.group(3))) if m else None


def next_step(current: tuple[int, int, int]) -> str | None:
    """The pinned image one minor above `current` (None when the path does not know one)."""
    for version in UPGRADE_PATH:
        v = version_of(":" + version)
        if v and v[0] == current[0] and v[1] == current[1] + 1:
            return image_for(version)
    return None


def upgrade_problem(old_image: str | None, new_image: str | None) -> str | None:
    """Why the running Qdrant must not go from `old_image` to `new_image` in one rollout, or None."""
    old, new = version_of(old_image), version_of(new_image)
    if old is None or new is None:
        return None  # a digest: the person pinning it owns the path
    if old[0] != new[0]:
        return (f"refusing to change Qdrant from {old_image} to {new_image}: a major release needs Qdrant's own "
                f"migration notes. Set archivist:qdrant.image to {old_image}.")
    if new[1] < old[1]:
        return (f"refusing to downgrade Qdrant from {old_image} to {new_image}: storage written by a newer minor "
                f"is not readable by an older one. Set archivist:qdrant.image back to {old_image}.")
    if new[1] > old[1] + 1:
        step = next_step(old) or f"{IMAGE_REPOSITORY}:v{old[0]}.{old[1] + 1}.<latest patch>{SUFFIX}"
        return (f"refusing to upgrade Qdrant from {old_image} to {new_image} in one step: Qdrant keeps storage "
                "compatible across one minor release only (qdrant.tech/documentation/upgrades). Upgrade through "
                f"each minor: `pulumi config set archivist:qdrant.image {step}`, `pulumi up`, wait until every "
                "qdrant pod is Ready on it (`ops status STACK`), then repeat with the next minor "
                "(docs/data-safety-ops.md, 'Qdrant upgrades'); remove the key once at the default.")
    return None


def _image(inputs: Mapping[str, Any] | None) -> str | None:
    spec = ((inputs or {}).get("spec") or {}).get("template") or {}
    containers = (spec.get("spec") or {}).get("containers") or []
    for c in containers:
        if c.get("name") == "qdrant":
            image = c.get("image")
            return image if isinstance(image, str) else None
    return None


class QdrantUpgradeRefusedError(Exception):
    pass


def _refuse_skip(args: pulumi.ResourceHookArgs) -> None:
    problem = upgrade_problem(_image(args.old_inputs), _image(args.new_inputs))
    if problem:
        raise QdrantUpgradeRefusedError(problem)


def _count(values: Mapping[str, Any] | None, field: str) -> int | None:
    value = ((values or {}).get("spec") or {}).get(field)
    return int(value) if isinstance(value, int | float) and not isinstance(value, bool) else None


def peer_loss_problem(kind: str, field: str, old_outputs: Mapping[str, Any] | None,
                      new_inputs: Mapping[str, Any] | None) -> str | None:
    """Why lowering Qdrant's pod count from the last known live value must wait for a drain, or None.

    `old_outputs` is the object as Pulumi last saw it; after `ops scale STACK qdrant --replicas N --yes`
    (which refuses while a peer at or above N is still a cluster member) and `pulumi up --refresh` it shows
    N, and the config's N passes. Lowering it in config first would let the HPA controller stop peers
    that hold shards and Raft votes at once (audit D2).
    """
    before, after = _count(old_outputs, field), _count(new_inputs, field)
    if before is None or after is None or after >= before:
        return None
    return (f"refusing to lower Qdrant's {kind} {field} from {before} to {after} in config: the pods above "
            f"{after} are Qdrant peers that may hold shards and are Raft voters. Drain them from the highest "
            f"down with `python -m archivist_infra ops qdrant-drain STACK --peer N --yes`, then `python -m "
            f"archivist_infra ops scale STACK qdrant --replicas {after} --yes` (refused while a peer is "
            "undrained), then `pulumi up --refresh` (docs/data-safety-ops.md, 'Removing peers').")


def _refuse_peer_loss(args: pulumi.ResourceHookArgs) -> None:
    if args.type.endswith(":HorizontalPodAutoscaler"):
        problem = peer_loss_problem("HorizontalPodAutoscaler", "maxReplicas", args.old_outputs, args.new_inputs)
    else:
        problem = peer_loss_problem("StatefulSet", "replicas", args.old_outputs, args.new_inputs)
    if problem:
        raise QdrantUpgradeRefusedError(problem)


def drain_guard() -> pulumi.ResourceHook:
    """The `before_update` hook of Qdrant's StatefulSet and autoscaler: no peer leaves undrained."""
    return pulumi.ResourceHook("archivist-qdrant-drain-guard", _refuse_peer_loss)


def upgrade_guard() -> pulumi.ResourceHook:
    """The `before_update` hook of the Qdrant StatefulSet (one per program: hook names are unique)."""
    return pulumi.ResourceHook("archivist-qdrant-upgrade-guard", _refuse_skip)
