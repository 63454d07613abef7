"""Each platform's public-entry objects, as rendered, are accepted by a real kube-apiserver with the
vendored CRDs (Gateway API v1.6.1 from envtest, Envoy Gateway v1.9.0, cert-manager v1.21.1,
gke-gateway-api v1.4.0): every field exists in the pinned schema and passes its CEL rules. The
stacks that publish writes add the authentication policies (SecurityPolicy, GCPBackendPolicy with
IAP), the write route and its Secrets."""

from __future__ import annotations

import json
import uuid
from typing import Any

import pytest
from entry.conftest import AKS, AKS_WRITES, EKS, EKS_WRITES, GKE_WRITES_INGRESS, KIND, KIND_WRITES, prod_with_ingress

from archivist_infra.offline import engine
from archivist_infra.offline.render import manifests

from .kube import Cluster

ENTRY_KINDS = {"Gateway", "GatewayClass", "HTTPRoute", "EnvoyProxy", "BackendTrafficPolicy", "HealthCheckPolicy",
               "ClusterIssuer", "Certificate", "SecurityPolicy", "GCPBackendPolicy"}
# Core objects the entry adds next to its policies: the write Services (GKE IAP) and the Secrets
# the policies name (API keys, the IAP client's secret).
ENTRY_CORE = {("Service", "archivist-search-write"), ("Service", "archivist-graph-write"),
              ("Secret", "archivist-writers"), ("Secret", "archivist-iap-client")}
CONFIGS = {"eks": EKS, "aks": AKS, "kind": KIND, "eks-writes": EKS_WRITES, "aks-writes": AKS_WRITES,
           "kind-writes": KIND_WRITES}
Obj = dict[str, Any]


def _run(platform: str) -> engine.Run:
    from conftest import run_config

    from archivist_infra.__main__ import run_stack

    if platform == "gke":
        return run_stack("prod")
    if platform == "gke-writes":
        return prod_with_ingress(GKE_WRITES_INGRESS, {"iapClientSecret": "[secret:iap-client-secret]"})
    return run_config(CONFIGS[platform])


def _isolated(objects: list[Obj], prefix: str) -> list[Obj]:
    """The same objects in namespaces (and cluster-scoped names) of their own, so tests cannot collide."""
    text = json.dumps(objects).replace("archivist-entry", f"{prefix}-entry")
    out: list[Obj] = json.loads(text)

    def fix(node: Any) -> Any:
        if isinstance(node, dict):
            return {k: (f"{prefix}-app" if k in ("namespace", "kubernetes.io/metadata.name") and v == "archivist"
                        else fix(v)) for k, v in node.items()}
        if isinstance(node, list):
            return [fix(v) for v in node]
        return node

    return [fix(o) for o in out]


EXPECTED = {
    "gke": {"GCPBackendPolicy"}, "gke-writes": {"GCPBackendPolicy", "Secret", "Service"},
    "eks": {"BackendTrafficPolicy"}, "aks": {"BackendTrafficPolicy"}, "kind": {"BackendTrafficPolicy"},
    "eks-writes": {"SecurityPolicy", "Secret"}, "aks-writes": {"SecurityPolicy"}, "kind-writes": {"SecurityPolicy", "Secret"},
}


@pytest.mark.parametrize("platform", ["gke", "eks", "aks", "kind", "gke-writes", "eks-writes", "aks-writes", "kind-writes"])
def test_server_accepts_every_entry_object(cluster: Cluster, platform: str) -> None:
    objects = manifests(_run(platform))
    entry = [o for o in objects
             if o["kind"] in ENTRY_KINDS or (o["kind"], o["metadata"].get("name")) in ENTRY_CORE]
    kinds = {o["kind"] for o in entry}
    assert {"Gateway", "HTTPRoute"} | EXPECTED[platform] <= kinds
    prefix = f"{platform}-{uuid.uuid4().hex[:6]}"
    entry = _isolated(entry, prefix)
    namespaces = [{"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": n}}
                  for n in (f"{prefix}-app", f"{prefix}-entry")]
    assert cluster.apply(namespaces).ok
    result = cluster.apply(entry)
    assert result.ok, result.stderr
    assert result.warnings == []
    for obj in entry:
        ns = obj["metadata"].get("namespace")
        got = cluster.get(obj["kind"].lower() + "." + obj["apiVersion"].split("/")[0] if "/" in obj["apiVersion"]
                          else obj["kind"].lower(), obj["metadata"]["name"], namespace=ns)
        assert got["metadata"]["name"] == obj["metadata"]["name"]
        if obj["kind"] != "Secret":
            assert got["spec"] is not None


def test_server_refuses_a_field_the_pinned_health_check_policy_lacks(cluster: Cluster) -> None:
    """The vendored CRDs are enforced: a misspelt field would not pass silently."""
    ns = f"hc-{uuid.uuid4().hex[:6]}"
    assert cluster.apply([{"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": ns}}]).ok
    bad = {"apiVersion": "networking.gke.io/v1", "kind": "HealthCheckPolicy", "metadata": {"name": "x", "namespace": ns},
           "spec": {"default": {"config": {"type": "HTTP", "httpHealthCheck": {"path": "/health"}}},
                    "targetRef": {"group": "", "kind": "Service", "name": "s"}}}
    result = cluster.apply([bad])
    assert not result.ok and "path" in result.stderr


def test_server_enforces_the_security_policy_cel_rules(cluster: Cluster) -> None:
    """The vendored SecurityPolicy CRD is enforced: a JWT authorization rule without a JWT provider is refused."""
    ns = f"sp-{uuid.uuid4().hex[:6]}"
    assert cluster.apply([{"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": ns}}]).ok
    bad = {"apiVersion": "gateway.envoyproxy.io/v1alpha1", "kind": "SecurityPolicy",
           "metadata": {"name": "x", "namespace": ns},
           "spec": {"targetRefs": [{"group": "gateway.networking.k8s.io", "kind": "HTTPRoute", "name": "r"}],
                    "authorization": {"defaultAction": "Deny", "rules": [{
                        "action": "Allow", "principal": {"jwt": {"provider": "p", "claims": [{"name": "email", "values": ["a"]}]}}}]}}}
    result = cluster.apply([bad])
    assert not result.ok and "jwt must be defined" in result.stderr
