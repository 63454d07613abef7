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
# No ACME contact e-mail: optional since Let's Encrypt ended expiry e-mails (config/ingress.py).
EKS = {"platform": "eks", "cluster": {"region": "eu-west-1", "apiAccess": API_ACCESS}, "images": VALID_IMAGES,
       "ingress": {"host": HOST, "dns": {"zone": "Z0123456789ABCDEFGHIJ"}}}
AKS = {"platform": "aks", "cluster": {"location": "westeurope", "apiAccess": API_ACCESS}, "images": VALID_IMAGES,
       "ingress": {"host": HOST, "tls": {"acmeEmail": "ops@example.com"}, "dns": {"zone": "example.com"}}}
KIND = {"platform": "local", "images": VALID_IMAGES,
        "ingress": {"mode": "gateway", "host": "archivist.localtest.me", "tls": {"issuer": "selfSigned"}}}
INGRESS = {"images": VALID_IMAGES,
           "ingress": {"mode": "ingress", "host": HOST, "className": "traefik", "tlsIssuer": "letsencrypt"}}
WRITERS = ["ci-publisher", "alice"]
JWT = {"issuer": "https://accounts.example.com", "jwksUri": "https://accounts.example.com/.well-known/jwks.json",
       "audiences": ["archivist"]}
IAP_CLIENT = "123456789-abcdef.apps.googleusercontent.com"
# The same stacks with writes published behind each platform's authentication.
EKS_WRITES = {**EKS, "ingress": {**EKS["ingress"], "writes": "authenticated", "auth": {"writers": WRITERS}}}
AKS_WRITES = {**AKS, "ingress": {**AKS["ingress"], "writes": "authenticated",
                                 "auth": {"method": "jwt", "writers": ["alice@example.com"], "jwt": JWT}}}
KIND_WRITES = {**KIND, "ingress": {**KIND["ingress"], "writes": "authenticated", "auth": {"writers": WRITERS}}}
CONFIGS: dict[str, dict[str, Any]] = {"eks": EKS, "aks": AKS, "kind": KIND, "ingress": INGRESS,
                                      "eks-writes": EKS_WRITES, "aks-writes": AKS_WRITES, "kind-writes": KIND_WRITES}
GKE_WRITES_INGRESS = {"mode": "gateway", "host": HOST, "writes": "authenticated",
                      "auth": {"writers": ["user:alice@example.com", "group:editors@example.com"],
                               "iap": {"clientId": IAP_CLIENT}}}


def prod_with_ingress(ingress: dict[str, Any], secrets: dict[str, str]) -> engine.Run:
    """The prod stack (Pulumi.prod.yaml) with another `archivist:ingress` and extra secret keys."""
    import json
    from dataclasses import replace

    from conftest import ROOT

    from archivist_infra.offline.stackfile import read_stack
    from archivist_infra.program import main as program_main

    prod = read_stack(ROOT, "prod")
    values = {**prod.values, "archivist:ingress": json.dumps(ingress),
              **{f"archivist:{k}": v for k, v in secrets.items()}}
    return engine.run(replace(prod, values=values, secret_keys=[*prod.secret_keys, *(f"archivist:{k}" for k in secrets)]),
                      program_main)


@pytest.fixture(scope="session")
def entry_runs(prod_run: engine.Run) -> dict[str, engine.Run]:
    """gke is the prod stack (Pulumi.prod.yaml); the others are the configs above."""
    runs = {"gke": prod_run}
    runs.update({name: run_config(cfg) for name, cfg in CONFIGS.items()})
    runs["gke-writes"] = prod_with_ingress(GKE_WRITES_INGRESS, {"iapClientSecret": "[secret:iap-client-secret]"})
    return runs


@pytest.fixture(scope="session")
def entry_objects(entry_runs: dict[str, engine.Run]) -> dict[str, list[dict[str, Any]]]:
    return {name: manifests(run) for name, run in entry_runs.items()}
