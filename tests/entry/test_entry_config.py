"""`archivist:ingress`: defaults per platform, and every bad setting refused by its full key."""

from __future__ import annotations

from typing import Any

import pytest

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


def load(platform: str, ingress: dict[str, Any], cluster: dict[str, Any] | None = None) -> Settings:
    raw = {"platform": platform, "images": IMAGES, "ingress": ingress,
           **({"cluster": cluster if cluster is not None else CLUSTERS[platform]} if platform != "local" else {})}
    return load_settings(raw, project="archivist", stack="test", secrets_present={"geminiApiKey"})


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


BAD: list[tuple[str, dict[str, Any], str]] = [
    ("eks", {"host": HOST}, "archivist:ingress.tls.acmeEmail"),
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
