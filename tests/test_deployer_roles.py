"""The GKE deployer's roles come from the resources the stack registers (audit N9)."""

from __future__ import annotations

import pytest

from archivist_infra.offline import engine
from archivist_infra.platforms.deployer_roles import UnknownResourceTypeError, gcp_deployer_roles
from tests.conftest import ROOT


def test_every_gcp_resource_of_the_prod_stack_has_a_deployer_role(prod_run: engine.Run) -> None:
    roles = gcp_deployer_roles(r.type for r in prod_run.resources)
    # what the audit found missing from the hand-written list: Secret Manager, Storage, Certificate Manager
    for role in ("roles/secretmanager.admin", "roles/storage.admin", "roles/certificatemanager.editor",
                 "roles/container.admin", "roles/iam.serviceAccountUser"):
        assert role in roles


def test_a_resource_type_without_a_role_is_refused_by_name() -> None:
    with pytest.raises(UnknownResourceTypeError, match="gcp:kms/cryptoKey:CryptoKey"):
        gcp_deployer_roles(["gcp:kms/cryptoKey:CryptoKey", "gcp:container/cluster:Cluster"])


def test_docs_list_the_roles_of_the_prod_stack(prod_run: engine.Run) -> None:
    page = (ROOT / "docs" / "clouds.md").read_text()
    for role in gcp_deployer_roles(r.type for r in prod_run.resources):
        assert f"`{role}`" in page, role
