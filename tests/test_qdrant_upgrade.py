"""Qdrant climbs one minor release at a time; the pinned release applies the default replication factor."""

from __future__ import annotations

import itertools

import pulumi
import pytest

from archivist_infra import versions
from archivist_infra.offline.engine import Run
from archivist_infra.tiers.qdrant_upgrade import (
    UPGRADE_PATH,
    QdrantUpgradeRefusedError,
    _refuse_peer_loss,
    _refuse_skip,
    image_for,
    upgrade_problem,
    version_of,
)
from tests.conftest import find, pod_spec

STS = "kubernetes:apps/v1:StatefulSet"


def _args(old: str | None, new: str) -> pulumi.ResourceHookArgs:
    def inputs(image: str) -> dict:
        return {"spec": {"template": {"spec": {"containers": [{"name": "qdrant", "image": image}]}}}}
    return pulumi.ResourceHookArgs(urn="urn:x", id="archivist/qdrant", name="qdrant-statefulset", type=STS,
                                   old_inputs=inputs(old) if old else None, new_inputs=inputs(new), old_outputs={})


def test_the_pinned_release_is_the_end_of_the_path_and_applies_the_replication_factor() -> None:
    assert image_for(UPGRADE_PATH[-1]) == versions.QDRANT_IMAGE
    # qdrant issue 6623: the configured default replication factor reaches shard placement from v1.15.0.
    assert version_of(versions.QDRANT_IMAGE) >= (1, 15, 0)  # type: ignore[operator]


def test_the_path_moves_one_minor_per_step_from_the_first_pin() -> None:
    minors = [version_of(":" + v) for v in UPGRADE_PATH]
    assert minors[0] == (1, 13, 4)  # what stacks deployed before this change run
    for before, after in itertools.pairwise(minors):
        assert before and after and after[:2] == (before[0], before[1] + 1)


def test_every_step_of_the_path_passes_the_guard() -> None:
    for before, after in itertools.pairwise(UPGRADE_PATH):
        _refuse_skip(_args(image_for(before), image_for(after)))  # no exception


def test_an_existing_stack_skipping_a_minor_is_refused_with_the_next_step() -> None:
    with pytest.raises(QdrantUpgradeRefusedError) as err:
        _refuse_skip(_args(image_for("v1.13.4"), versions.QDRANT_IMAGE))
    message = str(err.value)
    assert "v1.13.4" in message and "one step" in message
    assert f"pulumi config set archivist:qdrant.image {image_for('v1.14.1')}" in message


def test_a_downgrade_is_refused_and_a_patch_or_a_new_stack_is_not() -> None:
    assert "downgrade" in str(upgrade_problem(image_for("v1.15.5"), image_for("v1.14.1")))
    assert upgrade_problem(image_for("v1.15.0"), image_for("v1.15.5")) is None
    assert upgrade_problem(None, versions.QDRANT_IMAGE) is None  # a new stack starts at the newest pin
    _refuse_skip(_args(None, versions.QDRANT_IMAGE))


def test_the_statefulset_runs_the_guard_before_every_update(prod_run: Run, prod_objects: list) -> None:
    recorded = prod_run.one(STS, "qdrant-statefulset")
    assert "archivist-qdrant-upgrade-guard" in recorded.before_update_hooks
    assert "archivist-data-guard" in recorded.before_delete_hooks  # the data guard stays bound beside it
    assert pod_spec(find(prod_objects, "StatefulSet", "qdrant"))["containers"][0]["image"] == versions.QDRANT_IMAGE


def _count_args(type_: str, field: str, live: int, new: int) -> pulumi.ResourceHookArgs:
    return pulumi.ResourceHookArgs(urn="urn:x", id="archivist/qdrant", name="qdrant", type=type_,
                                   old_inputs={"spec": {field: 5}}, new_inputs={"spec": {field: new}},
                                   old_outputs={"spec": {field: live}})


@pytest.mark.parametrize(("type_", "field"), [("kubernetes:autoscaling/v2:HorizontalPodAutoscaler", "maxReplicas"),
                                              (STS, "replicas")])
def test_a_lower_peer_count_in_config_waits_for_the_drain(type_: str, field: str) -> None:
    # Live (last refreshed) count 5, config 3: the peers above 3 may hold shards: refused, with the commands.
    with pytest.raises(QdrantUpgradeRefusedError) as err:
        _refuse_peer_loss(_count_args(type_, field, live=5, new=3))
    assert "ops qdrant-drain STACK --peer N --yes" in str(err.value)
    assert "ops scale STACK qdrant --replicas 3 --yes" in str(err.value) and "--refresh" in str(err.value)
    # After the drain and `ops scale ... --yes`, a refresh shows 3 live: the same config passes.
    _refuse_peer_loss(_count_args(type_, field, live=3, new=3))
    _refuse_peer_loss(_count_args(type_, field, live=3, new=5))  # growing is always fine


def test_the_hpa_and_the_statefulset_run_the_drain_guard(prod_run: Run) -> None:
    hpa = prod_run.one("kubernetes:autoscaling/v2:HorizontalPodAutoscaler", "qdrant-hpa")
    sts = prod_run.one(STS, "qdrant-statefulset")
    assert "archivist-qdrant-drain-guard" in hpa.before_update_hooks
    assert "archivist-qdrant-drain-guard" in sts.before_update_hooks
