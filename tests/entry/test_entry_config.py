"""`archivist:ingress`: defaults per platform, and every bad setting refused by its full key."""

from __future__ import annotations

from typing import Any

import pytest

from archivist_infra.config.entry_access import EntryLimits
from archivist_infra.config.ingress import ACME_SERVERS
from archivist_infra.config.load import load_settings
from archivist_infra.config.problems import ConfigError
from archivist_infra.config.settings import Settings

IMAGES = {"worker": "r.example.com/w:1.0.0", "search": "r.example.com/s:1.0.0", "graph": "r.example.com/g:1.0.0"}
CLUSTERS: dict[str, dict[str, Any]] = {
    "local": {},
    "gke": {"project": "my-gcp-project", "region": "europe-west1", "apiAccess": {"allowedCidrs": ["203.0.113.7/32"]}},
    "eks": {"region": "eu-west-1", "apiAccess": {"allowedCidrs": ["203.0.113.7/32"]}},
    "aks": {"location": "westeurope", "apiAccess": {"allowedCidrs": ["203.0.113.7/32"]}},
}
HOST = "archivist.example.com"


def load(platform: str, ingress: dict[str, Any], cluster: dict[str, Any] | None = None,
         secrets: set[str] | None = None) -> Settings:
    raw = {"platform": platform, "images": IMAGES, "ingress": ingress,
           **({"cluster": cluster if cluster is not None else CLUSTERS[platform]} if platform != "local" else {})}
    present = secrets or {"geminiApiKey"}
    raw.update({k: "<secret>" for k in present if k != "geminiApiKey"})
    return load_settings(raw, project="archivist", stack="test", secrets_present=present)


def problems(platform: str, ingress: dict[str, Any], cluster: dict[str, Any] | None = None) -> list[str]:
    with pytest.raises(ConfigError) as err:
        load(platform, ingress, cluster)
    return err.value.keys


def test_clouds_create_the_entry_once_a_host_is_set() -> None:
    gke = load("gke", {"host": HOST}).ingress
    assert gke.mode == "gateway" and gke.entry.controller == "gke" and gke.entry.tls == "managed"
    eks = load("eks", {"host": HOST, "tls": {"acmeEmail": "ops@example.com"}}).ingress
    assert eks.entry.controller == "envoy" and eks.entry.tls == "acme"
    assert eks.entry.acme_server == ACME_SERVERS["production"]
    assert eks.entry.address_count == 3  # one Elastic IP per zone of the stack's VPC (zoneCount default 3)
    assert load("eks", {"host": HOST, "tls": {"acmeEmail": "o@example.com"}},
                {"region": "eu-west-1", "network": {"zoneCount": 2}, "apiAccess": {"allowedCidrs": ["203.0.113.7/32"]}}).ingress.entry.address_count == 2


def test_without_a_host_nothing_is_public() -> None:
    assert load("gke", {}).ingress.mode == "none"
    assert load("local", {}).ingress.mode == "none"


def test_local_gateway_is_an_option_and_plain_http_by_default() -> None:
    local = load("local", {"mode": "gateway", "host": "archivist.localtest.me"}).ingress
    assert local.entry.controller == "envoy" and local.entry.tls == "none" and not local.entry.serves_tls


def test_adopting_a_gateway_creates_none() -> None:
    s = load("gke", {"host": HOST, "gateway": {"create": False, "name": "shared", "namespace": "platform-gw",
                                               "sectionName": "https", "https": True}}).ingress
    assert s.entry is None
    assert (s.adopted.name, s.adopted.namespace, s.adopted.section_name, s.adopted.https) == (
        "shared", "platform-gw", "https", True)


def test_acme_needs_no_contact_email() -> None:
    """Let's Encrypt ended expiry e-mails on 2025-06-04; cert-manager's ACMEIssuer `email` is optional."""
    eks = load("eks", {"host": HOST}).ingress
    assert eks.entry.tls == "acme" and eks.entry.acme_email is None


def test_entry_publishes_reads_only_by_default_with_limits() -> None:
    for platform in ("gke", "eks"):
        access = load(platform, {"host": HOST}).ingress.access
        assert access.writes == "none" and access.auth is None and not access.publishes_writes
        assert access.limits == EntryLimits()
    assert load("eks", {"host": HOST}).ingress.access.proxy_replicas == 2
    assert load("local", {"mode": "gateway", "host": HOST}).ingress.access.proxy_replicas == 1


def test_writers_and_their_authentication_per_platform() -> None:
    gke = load("gke", {"host": HOST, "writes": "authenticated", "auth": {
        "writers": ["user:a@example.com"], "iap": {"clientId": "1-abc.apps.googleusercontent.com"}}},
        secrets={"geminiApiKey", "iapClientSecret"}).ingress.access
    assert gke.auth.method == "iap" and gke.auth.writers == ("user:a@example.com",)
    eks = load("eks", {"host": HOST, "writes": "authenticated", "auth": {"writers": ["ci"]}}).ingress.access
    assert eks.auth.method == "apiKey"
    jwt = load("aks", {"host": HOST, "writes": "authenticated", "auth": {
        "method": "jwt", "writers": ["a@example.com"],
        "jwt": {"issuer": "https://id.example.com", "jwksUri": "https://id.example.com/jwks"}}}).ingress.access
    assert jwt.auth.jwt.claim == "email" and jwt.publishes_writes


def test_partial_auth_config_reports_every_missing_key_at_once() -> None:
    keys = problems("aks", {"host": HOST, "writes": "authenticated", "auth": {"method": "jwt", "jwt": {}}})
    assert {"archivist:ingress.auth.writers", "archivist:ingress.auth.jwt.issuer",
            "archivist:ingress.auth.jwt.jwksUri"} <= set(keys)


def test_iap_needs_its_client_secret_as_a_secret() -> None:
    ingress = {"host": HOST, "writes": "authenticated",
               "auth": {"writers": ["user:a@example.com"], "iap": {"clientId": "1-abc.apps.googleusercontent.com"}}}
    assert "archivist:iapClientSecret" in problems("gke", ingress)


BAD: list[tuple[str, dict[str, Any], str]] = [
    ("eks", {"host": HOST, "writes": "maybe"}, "archivist:ingress.writes"),
    ("eks", {"host": HOST, "writes": "authenticated"}, "archivist:ingress.auth.writers"),
    ("eks", {"host": HOST, "auth": {"writers": ["ci"]}}, "archivist:ingress.auth"),
    ("eks", {"host": HOST, "writes": "authenticated", "auth": {"method": "iap", "writers": ["ci"]}},
     "archivist:ingress.auth.method"),
    ("gke", {"host": HOST, "writes": "authenticated", "auth": {"method": "apiKey", "writers": ["ci"]}},
     "archivist:ingress.auth.method"),
    ("gke", {"host": HOST, "writes": "authenticated", "auth": {"writers": ["alice@example.com"],
                                                                "iap": {"clientId": "1-abc.apps.googleusercontent.com"}}},
     "archivist:ingress.auth.writers"),
    ("gke", {"host": HOST, "writes": "authenticated", "auth": {"writers": ["user:a@example.com"]}},
     "archivist:ingress.auth.iap.clientId"),
    ("gke", {"host": HOST, "writes": "authenticated", "auth": {"writers": ["user:a@example.com"],
                                                                "iap": {"clientId": "my-client"}}},
     "archivist:ingress.auth.iap.clientId"),
    ("eks", {"host": HOST, "writes": "authenticated", "auth": {"writers": ["CI Bot"]}}, "archivist:ingress.auth.writers"),
    ("eks", {"host": HOST, "writes": "authenticated", "auth": {"writers": ["ci", "ci"]}}, "archivist:ingress.auth.writers"),
    ("eks", {"host": HOST, "writes": "authenticated", "auth": {
        "method": "jwt", "writers": ["a"], "jwt": {"issuer": "http://id.example.com", "jwksUri": "https://id.example.com/k"}}},
     "archivist:ingress.auth.jwt.issuer"),
    ("eks", {"host": HOST, "writes": "authenticated", "auth": {"writers": ["ci"], "jwt": {"issuer": "https://x.example"}}},
     "archivist:ingress.auth.jwt"),
    ("eks", {"host": HOST, "writes": "authenticated", "auth": {"writers": ["ci"], "password": "x"}},
     "archivist:ingress.auth.password"),
    ("gke", {"mode": "ingress", "host": HOST, "writes": "authenticated"}, "archivist:ingress.writes"),
    ("gke", {"host": HOST, "gateway": {"create": False, "name": "g"}, "writes": "authenticated"},
     "archivist:ingress.writes"),
    ("gke", {"mode": "ingress", "host": HOST, "limits": {"perClientPerMinute": 10}}, "archivist:ingress.limits"),
    ("eks", {"host": HOST, "limits": {"geminiPerMinute": 0}}, "archivist:ingress.limits.geminiPerMinute"),
    ("eks", {"host": HOST, "limits": {"geminiPerMinute": 1}}, "archivist:ingress.limits.geminiPerMinute"),
    ("eks", {"host": HOST, "limits": {"searchPerMinute": 300, "perClientPerMinute": 100}},
     "archivist:ingress.limits.searchPerMinute"),
    ("eks", {"host": HOST, "limits": {"perClientPerMinute": "lots"}}, "archivist:ingress.limits.perClientPerMinute"),
    ("eks", {"host": HOST, "limits": {"maxRequestBody": "big"}}, "archivist:ingress.limits.maxRequestBody"),
    ("gke", {"host": HOST, "limits": {"maxRequestBody": "1Mi"}}, "archivist:ingress.limits.maxRequestBody"),
    ("eks", {"host": HOST, "limits": {"searchPerMinit": 5}}, "archivist:ingress.limits.searchPerMinit"),
    ("eks", {"host": HOST, "tls": {"acmeEmail": "not-an-email"}}, "archivist:ingress.tls.acmeEmail"),
    ("eks", {"host": HOST, "tls": {"issuer": "managed"}}, "archivist:ingress.tls.issuer"),
    ("gke", {"host": HOST, "tls": {"issuer": "acme", "acmeEmail": "o@example.com"}}, "archivist:ingress.tls.issuer"),
    ("gke", {"host": HOST, "tls": {"acmeEmail": "o@example.com"}}, "archivist:ingress.tls.acmeEmail"),
    ("gke", {"host": HOST, "tls": {"acmeServer": "beta"}}, "archivist:ingress.tls.acmeServer"),
    ("gke", {"host": HOST, "tls": {"isuer": "managed"}}, "archivist:ingress.tls.isuer"),
    ("aks", {"host": HOST, "gateway": {"controller": "gke"}, "tls": {"acmeEmail": "o@example.com"}},
     "archivist:ingress.gateway.controller"),
    ("gke", {"host": HOST, "gateway": {"controller": "nginx"}}, "archivist:ingress.gateway.controller"),
    ("gke", {"host": HOST, "gateway": {"namespace": "Bad_NS"}}, "archivist:ingress.gateway.namespace"),
    ("gke", {"host": HOST, "gateway": {"sectionName": "https"}}, "archivist:ingress.gateway.sectionName"),
    ("gke", {"host": HOST, "gateway": {"create": False}}, "archivist:ingress.gateway.name"),
    ("gke", {"host": HOST, "gateway": {"create": False, "name": "g", "controller": "gke"}},
     "archivist:ingress.gateway.controller"),
    ("gke", {"host": HOST, "gateway": {"create": False, "name": "g"}, "dns": {"zone": "example-com"}},
     "archivist:ingress.dns"),
    ("gke", {"host": HOST, "gatewayName": "public"}, "archivist:ingress.gatewayName"),
    ("gke", {"host": HOST, "gatewayNamespace": "gateway-system"}, "archivist:ingress.gatewayNamespace"),
    ("gke", {"host": HOST, "dns": {"zone": "Example.com"}}, "archivist:ingress.dns.zone"),
    ("eks", {"host": HOST, "tls": {"acmeEmail": "o@example.com"}, "dns": {"zone": "example.com"}},
     "archivist:ingress.dns.zone"),
    ("aks", {"host": HOST, "tls": {"acmeEmail": "o@example.com"}, "dns": {"zone": "other.org"}},
     "archivist:ingress.dns.zone"),
    ("gke", {"host": HOST, "dns": {"zone": "example-com", "resourceGroup": "rg"}}, "archivist:ingress.dns.resourceGroup"),
    ("local", {"mode": "gateway", "host": HOST, "dns": {"zone": "example-com"}}, "archivist:ingress.dns.zone"),
    ("gke", {"host": HOST, "publicSubnetIds": ["subnet-0abc12345"]}, "archivist:ingress.publicSubnetIds"),
    ("eks", {"host": HOST, "tls": {"acmeEmail": "o@example.com"}, "publicSubnetIds": ["sub-1"]},
     "archivist:ingress.publicSubnetIds"),
    ("gke", {"mode": "ingress", "host": HOST, "tls": {"issuer": "managed"}}, "archivist:ingress.tls"),
    ("gke", {"host": HOST, "className": "traefik"}, "archivist:ingress.className"),
    ("local", {"mode": "gateway"}, "archivist:ingress.host"),
]


@pytest.mark.parametrize(("platform", "ingress", "key"), BAD, ids=[f"{p}-{k}" for p, _, k in BAD])
def test_bad_setting_is_refused_by_its_key(platform: str, ingress: dict[str, Any], key: str) -> None:
    assert key in problems(platform, ingress)


def test_adopted_eks_cluster_needs_the_public_subnets() -> None:
    keys = problems("eks", {"host": HOST, "tls": {"acmeEmail": "o@example.com"}},
                    {"region": "eu-west-1", "create": False, "efs": {"fileSystemId": "fs-0123456789abcdef0"}})
    assert "archivist:ingress.publicSubnetIds" in keys
    ok = load("eks", {"host": HOST, "tls": {"acmeEmail": "o@example.com"},
                      "publicSubnetIds": ["subnet-0aaa11112222333a", "subnet-0bbb11112222333b"]},
              {"region": "eu-west-1", "create": False, "efs": {"fileSystemId": "fs-0123456789abcdef0"}})
    assert ok.ingress.entry.address_count == 2
