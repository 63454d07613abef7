"""Deleting or replacing what holds data fails with an explanation unless the user allows it."""

from __future__ import annotations

from typing import Any

import pulumi
import pytest

from archivist_infra.config.problems import ConfigError
from archivist_infra.tiers.data_guard import ALLOW_KEY, DataLossRefusedError, _refuse
from tests.conftest import VALID_IMAGES, run_config

DATA_BEARING = {
    ("kubernetes:core/v1:Namespace", "archivist-namespace"),
    ("kubernetes:core/v1:PersistentVolumeClaim", "shared-data-claim"),
    *{("kubernetes:apps/v1:StatefulSet", f"{s}-statefulset") for s in ("neo4j", "kafka", "qdrant", "redis")},
    ("kubernetes:apps/v1:StatefulSet", "archivist-search-statefulset"),  # its per-replica index claims
}


def guarded(run: Any) -> set[tuple[str, str]]:
    return {(r.type, r.name) for r in run.resources if "archivist-data-guard" in r.before_delete_hooks}


@pytest.mark.parametrize("stack", ["dev_run", "prod_run"])
def test_every_data_bearing_resource_and_only_those_is_guarded(stack: str, request: pytest.FixtureRequest) -> None:
    assert guarded(request.getfixturevalue(stack)) == DATA_BEARING


def test_allow_data_loss_lifts_the_guard() -> None:
    run = run_config({"images": VALID_IMAGES, "allowDataLoss": True})
    assert guarded(run) == set()
    assert run.resources  # the stack itself is still built


def test_allow_data_loss_must_be_a_boolean() -> None:
    with pytest.raises(ConfigError) as err:
        run_config({"images": VALID_IMAGES, "allowDataLoss": "perhaps"})
    assert err.value.keys == ["archivist:allowDataLoss"]


@pytest.mark.parametrize(("type_token", "name", "says"), [
    ("kubernetes:core/v1:PersistentVolumeClaim", "shared-data-claim", "would be deleted"),
    ("kubernetes:apps/v1:StatefulSet", "neo4j-statefulset", "changed claim template"),
    ("kubernetes:core/v1:Namespace", "archivist-namespace", "every claim in it"),
])
def test_the_hook_refuses_with_what_would_happen_and_how_to_proceed(type_token: str, name: str, says: str) -> None:
    args = pulumi.ResourceHookArgs(urn=f"urn:pulumi:dev::archivist::{type_token}::{name}", id="x", name=name,
                                   type=type_token, old_inputs={}, old_outputs={})
    with pytest.raises(DataLossRefusedError) as err:
        _refuse(args)
    message = str(err.value)
    assert name in message and says in message
    assert f"pulumi config set {ALLOW_KEY} true" in message


def test_every_prod_statefulset_with_volumes_is_protected_and_guarded(prod_run: Any, prod_objects: list) -> None:
    with_volumes = [o["metadata"]["name"] for o in prod_objects
                    if o["kind"] == "StatefulSet" and o["spec"].get("volumeClaimTemplates")]
    assert "archivist-search" in with_volumes  # its index claims are data too
    for name in with_volumes:
        urn_name = f"{name}-statefulset"
        recorded = prod_run.one("kubernetes:apps/v1:StatefulSet", urn_name)
        assert recorded.protect, name
        assert "archivist-data-guard" in recorded.before_delete_hooks, name
