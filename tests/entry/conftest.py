"""Stacks with a public entry on each platform, run once per session through the mock engine."""

from __future__ import annotations

from typing import Any

import pytest
from conftest import VALID_IMAGES, run_config

from archivist_infra.offline import engine
from archivist_infra.offline.render import manifests

HOST = "archivist.example.com"
# Created clusters need the API server's allowed ranges (a documentation address here).
API_ACCESS = {"allowedCidrs": ["203.0.113.7/32"]}
EKS = {"platform": "eks", "cluster": {"region": "eu-west-1", "apiAccess": API_ACCESS}, "images": VALID_IMAGES,
       "ingress": {"host": HOST, "tls": {"acmeEmail": "ops@example.com"}, "dns": {"zone": "Z0123456789ABCDEFGHIJ"}}}
AKS = {"platform": "aks", "cluster": {"location": "westeurope", "apiAccess": API_ACCESS}, "images": VALID_IMAGES,
       "ingress": {"host": HOST, "tls": {"acmeEmail": "ops@example.com"}, "dns": {"zone": "example.com"}}}
KIND = {"platform": "local", "images": VALID_IMAGES,
        "ingress": {"mode": "gateway", "host": "archivist.localtest.me", "tls": {"issuer": "selfSigned"}}}
INGRESS = {"images": VALID_IMAGES,
           "ingress": {"mode": "ingress", "host": HOST, "className": "traefik", "tlsIssuer": "letsencrypt"}}
CONFIGS: dict[str, dict[str, Any]] = {"eks": EKS, "aks": AKS, "kind": KIND, "ingress": INGRESS}


@pytest.fixture(scope="session")
def entry_runs(prod_run: engine.Run) -> dict[str, engine.Run]:
    """gke is the prod stack (Pulumi.prod.yaml); the others are the configs above."""
    runs = {"gke": prod_run}
    runs.update({name: run_config(cfg) for name, cfg in CONFIGS.items()})
    return runs


@pytest.fixture(scope="session")
def entry_objects(entry_runs: dict[str, engine.Run]) -> dict[str, list[dict[str, Any]]]:
    return {name: manifests(run) for name, run in entry_runs.items()}
