"""Cloud names and identities that must hold for any stack name, and inputs that must stay stable.

Audit clouds-2026-12 N5 (Key Vault names), N8 (per-stack Velero identity), N10 (GKE cluster stable on
the second `up`), N17 (Velero's GCP account can sign URLs).
"""

from __future__ import annotations

import dataclasses
import re

import pytest

from archivist_infra.backup.gke import velero_account_id
from archivist_infra.config.secrets import _VAULT_NAME, default_vault_name
from archivist_infra.offline import engine
from archivist_infra.offline.stackfile import read_stack
from archivist_infra.platforms import gke
from archivist_infra.program import main as program_main
from tests.conftest import ROOT

# Stack names people use, and the edges: empty after dropping symbols, very long, mixed case, digits.
STACK_NAMES = ["dev", "prod", "staging", "production", "pr-1234", "Prod_EU-West", "x", "---",
               "a-very-long-stack-name-for-the-european-production-region", "1st", "ÄÖÜ-münchen"]
PROJECTS = ["archivist-infra", "archivist", "a", "my-company-research-paper-platform"]

# Azure: "Vault name must be a 3-24 character string, containing only 0-9, a-z, A-Z, and -"
# (learn.microsoft.com/azure/key-vault/general/common-error-codes, VaultNameNotValid); it must start
# with a letter, end with a letter or digit and hold no "--" (Key Vault naming rules).
@pytest.mark.parametrize("project", PROJECTS)
@pytest.mark.parametrize("stack", STACK_NAMES)
def test_default_key_vault_name_fits_azure_rules_for_any_stack_name(project: str, stack: str) -> None:
    name = default_vault_name(project, stack)
    assert 3 <= len(name) <= 24, name
    assert re.fullmatch(r"[a-zA-Z][a-zA-Z0-9-]*[a-zA-Z0-9]", name) and "--" not in name, name
    assert _VAULT_NAME.match(name), name  # the program's own check of a configured name accepts it too


def test_default_key_vault_names_differ_between_stacks_of_one_project() -> None:
    names = {default_vault_name("archivist-infra", s) for s in STACK_NAMES}
    assert len(names) == len(STACK_NAMES)


# serviceaccount/account.py (pulumi_gcp 10.2.0), account_id: 6-30 characters, [a-z]([-a-z0-9]*[a-z0-9]).
@pytest.mark.parametrize("project", PROJECTS)
@pytest.mark.parametrize("stack", STACK_NAMES)
def test_velero_service_account_id_is_valid_for_any_stack_name(project: str, stack: str) -> None:
    account = velero_account_id(project, stack)
    assert re.fullmatch(r"[a-z][-a-z0-9]{4,28}[a-z0-9]", account), account


def test_velero_service_account_ids_differ_between_stacks_sharing_a_gcp_project() -> None:
    ids = {velero_account_id("archivist-infra", s) for s in STACK_NAMES}
    assert len(ids) == len(STACK_NAMES)


def _prod(stack: str) -> engine.Run:
    config = read_stack(ROOT, "prod")
    return engine.run(dataclasses.replace(config, stack=stack), program_main)


def test_two_gke_stacks_in_one_project_create_different_velero_accounts() -> None:
    ids = []
    for stack in ("prod", "staging"):
        run = _prod(stack)
        account = run.one("gcp:serviceaccount/account:Account", "backups-velero-sa")
        ids.append(account.inputs["accountId"])
        assert account.inputs["accountId"] == velero_account_id(read_stack(ROOT, "prod").project, stack)
    assert ids[0] != ids[1]


def test_velero_gcp_account_may_sign_urls_as_itself(prod_run: engine.Run) -> None:
    grant = prod_run.one("gcp:serviceaccount/iAMMember:IAMMember", "backups-velero-sign-urls")
    # roles/iam.serviceAccountTokenCreator holds iam.serviceAccounts.signBlob, granted on the account itself.
    assert grant.inputs["role"] == "roles/iam.serviceAccountTokenCreator"
    assert grant.inputs["member"].startswith("serviceAccount:")
    # The grant is on the Velero account (its parent's child, depending on it), not on the project.
    account = prod_run.one("gcp:serviceaccount/account:Account", "backups-velero-sa")
    assert account.urn in grant.dependencies


def test_gke_cluster_ignores_the_default_pool_config_so_the_second_up_does_not_replace_it(
        prod_run: engine.Run) -> None:
    (cluster,) = prod_run.by_type("gcp:container/cluster:Cluster")
    assert cluster.inputs["removeDefaultNodePool"] is True
    # Either no nodeConfig at all, or one the engine never diffs (it is ForceNew and read back empty).
    assert "nodeConfig" not in cluster.inputs or "nodeConfig" in cluster.ignore_changes
    assert set(gke.CLUSTER_CREATION_ONLY) <= set(cluster.ignore_changes)
