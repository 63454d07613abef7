"""A bigger storage.size grows the claims in place; the claim template never changes; shrinking is refused."""

from __future__ import annotations

import pulumi
import pytest

from archivist_infra.offline.engine import Run
from archivist_infra.offline.render import manifests, patches
from archivist_infra.tiers.volume_growth import (
    PATCH_FORCE,
    TEMPLATE_SIZE_PATH,
    ClaimShrinkRefusedError,
    _refuse_shrink,
    claim_name,
    shrink_problem,
)
from tests.conftest import VALID_IMAGES, run_config

PATCH_TYPE = "kubernetes:core/v1:PersistentVolumeClaimPatch"


def _claim_patches(run: Run) -> dict[str, dict]:
    return {p["metadata"]["name"]: p for p in patches(run)}


def test_every_store_statefulset_keeps_its_created_claim_size(dev_run: Run, prod_run: Run) -> None:
    for run in (dev_run, prod_run):
        for store in ("neo4j", "kafka", "qdrant", "redis"):
            sts = run.one("kubernetes:apps/v1:StatefulSet", f"{store}-statefulset")
            assert TEMPLATE_SIZE_PATH in sts.ignore_changes


def test_each_ordinal_that_always_runs_gets_a_claim_patch_with_the_configured_size(prod_run: Run) -> None:
    found = _claim_patches(prod_run)
    # prod: 3 Kafka brokers, Qdrant under an HPA with minReplicas 2, one Neo4j and one Redis
    expected = {claim_name("data", "kafka", i) for i in range(3)} | {claim_name("data", "qdrant", i) for i in range(2)} | {
        claim_name("data", s, 0) for s in ("neo4j", "redis")}
    assert {n for n in found if not n.startswith("index-")} == expected
    found = {n: p for n, p in found.items() if n in expected}  # search's index claims: the test below
    sts = {o["metadata"]["name"]: o for o in manifests(prod_run) if o["kind"] == "StatefulSet"}
    for name, patch in found.items():
        store = name.split("-")[1]
        template = sts[store]["spec"]["volumeClaimTemplates"][0]
        assert template["metadata"]["name"] == "data"
        assert patch["spec"] == {"resources": {"requests": template["spec"]["resources"]["requests"]}}
        assert patch["metadata"]["namespace"] == "archivist"
        assert patch["metadata"]["annotations"] == {PATCH_FORCE: "true"}


def test_patches_are_not_rendered_as_claims_the_stack_creates(prod_run: Run) -> None:
    claims = [o["metadata"]["name"] for o in manifests(prod_run) if o["kind"] == "PersistentVolumeClaim"]
    assert claims and not [c for c in claims if c.startswith("data-")]


def test_a_bigger_size_changes_the_patch_and_the_patch_waits_for_the_statefulset() -> None:
    run = run_config({"images": VALID_IMAGES, "redis": {"storage": {"size": "7Gi"}}})
    patch = _claim_patches(run)["data-redis-0"]
    assert patch["spec"]["resources"]["requests"]["storage"] == "7Gi"
    recorded = run.one(PATCH_TYPE, "data-redis-0-size")
    sts = run.one("kubernetes:apps/v1:StatefulSet", "redis-statefulset")
    assert sts.urn in recorded.dependencies
    assert recorded.retain_on_delete  # a deleted patch would strip the request from the claim
    assert recorded.before_update_hooks == ["archivist-redis-claim-shrink-guard"]


def test_an_autoscaled_store_patches_only_its_minimum_ordinals() -> None:
    run = run_config({"images": VALID_IMAGES, "qdrant": {"autoscaling": {"minReplicas": 2, "maxReplicas": 4}}})
    assert {n for n in _claim_patches(run) if "qdrant" in n} == {"data-qdrant-0", "data-qdrant-1"}


def _hook_args(old: str, new: str) -> pulumi.ResourceHookArgs:
    def inputs(size: str) -> dict:
        return {"metadata": {"name": "data-kafka-2"}, "spec": {"resources": {"requests": {"storage": size}}}}
    return pulumi.ResourceHookArgs(urn="urn:x", id="archivist/data-kafka-2", name="data-kafka-2-size",
                                   type=PATCH_TYPE, old_inputs=inputs(old), new_inputs=inputs(new), old_outputs={})


def test_shrinking_a_claim_is_refused_by_name_before_the_update() -> None:
    with pytest.raises(ClaimShrinkRefusedError) as err:
        _refuse_shrink(_hook_args("20Gi", "10Gi"))
    message = str(err.value)
    assert "data-kafka-2" in message and "20Gi" in message and "10Gi" in message


@pytest.mark.parametrize(("old", "new"), [("10Gi", "20Gi"), ("10Gi", "10Gi"), ("1Gi", "1024Mi"), ("10G", "10Gi")])
def test_growing_or_keeping_a_claim_passes_the_guard(old: str, new: str) -> None:
    _refuse_shrink(_hook_args(old, new))  # no exception


def test_the_guard_compares_quantities_not_strings() -> None:
    assert shrink_problem("c", {"spec": {"resources": {"requests": {"storage": "2Gi"}}}},
                          {"spec": {"resources": {"requests": {"storage": "1500Mi"}}}}) is not None
    assert shrink_problem("c", None, {"spec": {"resources": {"requests": {"storage": "1Gi"}}}}) is None


def test_classes_allow_expansion_only_where_the_driver_can_grow_a_volume() -> None:
    from archivist_infra.platforms.storage_classes import aks_classes, eks_classes, gke_classes

    eks = eks_classes(file_system_id="fs-12345678")
    assert eks.read_write_once.expandable  # ebs.csi.aws.com
    assert eks.read_write_many is not None and not eks.read_write_many.expandable  # efs.csi.aws.com: no EXPAND_VOLUME
    for pair in (gke_classes(filestore_tier="standard", network="n"), aks_classes(files_sku="Premium_LRS", uid=1, gid=1)):
        assert pair.read_write_once.expandable
        assert pair.read_write_many is not None and pair.read_write_many.expandable


def test_search_index_claims_grow_in_place_like_the_stores(prod_run: Run, prod_objects: list) -> None:
    sts = prod_run.one("kubernetes:apps/v1:StatefulSet", "archivist-search-statefulset")
    assert TEMPLATE_SIZE_PATH in sts.ignore_changes  # a size change never asks for a forbidden template update
    search = next(o for o in prod_objects if o["kind"] == "StatefulSet" and o["metadata"]["name"] == "archivist-search")
    template = search["spec"]["volumeClaimTemplates"][0]
    minimum = next(o for o in prod_objects if o["kind"] == "HorizontalPodAutoscaler"
                   and o["metadata"]["name"] == "archivist-search")["spec"]["minReplicas"]
    found = {n: p for n, p in _claim_patches(prod_run).items() if "archivist-search" in n}
    assert set(found) == {claim_name(template["metadata"]["name"], "archivist-search", i) for i in range(minimum)}
    for patch in found.values():
        assert patch["spec"] == {"resources": {"requests": template["spec"]["resources"]["requests"]}}
    recorded = prod_run.one(PATCH_TYPE, "index-archivist-search-0-size")
    assert recorded.before_update_hooks == ["archivist-archivist-search-claim-shrink-guard"]
    assert sts.urn in recorded.dependencies


def test_a_bigger_search_index_patches_the_claims_not_the_template() -> None:
    run = run_config({"images": VALID_IMAGES, "search": {"storage": {"size": "9Gi"}}})
    assert _claim_patches(run)["index-archivist-search-0"]["spec"]["resources"]["requests"]["storage"] == "9Gi"
