"""What each platform's stack creates for its public entry, read from the recorded registrations."""

from __future__ import annotations

from collections import Counter
from typing import Any

import pulumi
import pytest
from pulumi.runtime.sync_await import _sync_await

from archivist_infra.entry import gateway as eg
from archivist_infra.offline import engine

from .conftest import HOST

Objects = dict[str, list[dict[str, Any]]]
RELEASE = "kubernetes:helm.sh/v3:Release"


def value(output: Any) -> Any:
    """An exported Output's value (the run has finished, so it is resolved)."""
    return _sync_await(output.future()) if isinstance(output, pulumi.Output) else output


def out(run: engine.Run, key: str) -> Any:
    return value(run.result.outputs()[key])


def charts_the_entry_adds(run: engine.Run, config: dict[str, Any]) -> list[str]:
    """The Helm charts `run` installs beyond the same stack without a public entry. Other tiers
    install their own (KEDA for the graph's lag scaling, kube-prometheus-stack on a local cluster)."""
    from conftest import run_config

    def charts(r: engine.Run) -> Counter[str]:
        return Counter(str(rel.inputs["chart"]) for rel in r.by_type(RELEASE))

    without = charts(run_config({**config, "ingress": {"mode": "none"}}))
    with_entry = charts(run)
    assert not without - with_entry, "the entry must not drop another tier's release"
    return sorted((with_entry - without).elements())


def kinds(objects: list[dict[str, Any]]) -> set[str]:
    return {o["kind"] for o in objects}


def one(objects: list[dict[str, Any]], kind: str) -> dict[str, Any]:
    found = [o for o in objects if o["kind"] == kind]
    assert len(found) == 1, f"{len(found)} {kind}"
    return found[0]


def test_gke_creates_the_managed_gateway_with_its_address_and_certificate(entry_runs: dict[str, engine.Run],
                                                                          entry_objects: Objects) -> None:
    run, objects = entry_runs["gke"], entry_objects["gke"]
    cluster = run.by_type("gcp:container/cluster:Cluster")[0].inputs
    assert cluster["gatewayApiConfig"] == {"channel": "CHANNEL_STANDARD"}
    address = run.by_type("gcp:compute/globalAddress:GlobalAddress")
    assert len(address) == 1 and address[0].inputs["addressType"] == "EXTERNAL"
    cert = run.by_type("gcp:certificatemanager/certificate:Certificate")[0].inputs
    assert cert["managed"] == {"domains": [HOST]}
    entry = run.by_type("gcp:certificatemanager/certificateMapEntry:CertificateMapEntry")[0].inputs
    assert entry["hostname"] == HOST
    gateway = one(objects, "Gateway")
    assert gateway["spec"]["gatewayClassName"] == "gke-l7-global-external-managed"
    assert gateway["spec"]["addresses"][0]["type"] == "NamedAddress"
    assert gateway["spec"]["addresses"][0]["value"]  # the GlobalAddress's name
    assert gateway["metadata"]["annotations"]["networking.gke.io/certmap"]
    # No in-cluster controller, no cert-manager: Google runs both.
    assert run.by_type(RELEASE) == [] or all("envoy" not in r.name and "cert-manager" not in r.name
                                             for r in run.by_type(RELEASE))
    assert not kinds(objects) & {"EnvoyProxy", "ClusterIssuer", "Certificate", "BackendTrafficPolicy"}
    checks = {o["spec"]["targetRef"]["name"]: o["spec"]["default"]["config"]["httpHealthCheck"]
              for o in objects if o["kind"] == "HealthCheckPolicy"}
    assert checks == {"archivist-search": {"port": 8000, "requestPath": "/health"},
                      "archivist-graph": {"port": 8081, "requestPath": "/health"}}
    assert out(run, "ingressUrl") == f"https://{HOST}"
    entry_out = value(run.result.outputs()["entry"])
    assert value(entry_out["addresses"]) == ["203.0.113.20"]
    assert value(entry_out["dnsRecordToCreate"]) == [f"{HOST} A 203.0.113.20"]


@pytest.mark.parametrize("platform", ["eks", "aks", "kind"])
def test_envoy_gateway_and_cert_manager_come_from_pinned_charts(entry_runs: dict[str, engine.Run], platform: str) -> None:
    releases = {r.inputs["chart"]: r.inputs for r in entry_runs[platform].by_type(RELEASE)}
    envoy = releases[eg.ENVOY_GATEWAY_CHART]
    assert (envoy["version"], envoy["namespace"]) == ("v1.9.0", "envoy-gateway-system")
    cm = releases["cert-manager"]
    assert (cm["version"], cm["repositoryOpts"]["repo"]) == ("v1.21.1", "https://charts.jetstack.io")
    assert cm["values"]["crds"]["enabled"] is True
    assert cm["values"]["config"]["gatewayAPI"] == {"enabled": True}


@pytest.mark.parametrize("platform", ["eks", "aks"])
def test_acme_certificate_is_solved_through_the_gateway(entry_objects: Objects, platform: str) -> None:
    objects = entry_objects[platform]
    gateway, issuer, cert = one(objects, "Gateway"), one(objects, "ClusterIssuer"), one(objects, "Certificate")
    solver = issuer["spec"]["acme"]["solvers"][0]["http01"]["gatewayHTTPRoute"]["parentRefs"][0]
    assert (solver["name"], solver["namespace"], solver["sectionName"]) == (
        gateway["metadata"]["name"], gateway["metadata"]["namespace"], "http")
    assert issuer["spec"]["acme"]["server"] == "https://acme-v02.api.letsencrypt.org/directory"
    # The contact e-mail is optional: the EKS stack sets none, the AKS stack one.
    assert issuer["spec"]["acme"].get("email") == {"eks": None, "aks": "ops@example.com"}[platform]
    assert cert["metadata"]["namespace"] == gateway["metadata"]["namespace"]
    https = next(ln for ln in gateway["spec"]["listeners"] if ln["name"] == "https")
    assert https["tls"]["certificateRefs"][0]["name"] == cert["spec"]["secretName"]
    assert cert["spec"]["issuerRef"]["name"] == issuer["metadata"]["name"]
    assert cert["spec"]["dnsNames"] == [HOST]
    # The gateway class is Envoy Gateway's, parameterised by this stack's EnvoyProxy.
    gc = one(objects, "GatewayClass")
    assert gc["spec"]["controllerName"] == "gateway.envoyproxy.io/gatewayclass-controller"
    assert gateway["spec"]["gatewayClassName"] == gc["metadata"]["name"]
    health = one(objects, "BackendTrafficPolicy")["spec"]
    assert health["targetRefs"] == [{"group": "gateway.networking.k8s.io", "kind": "HTTPRoute", "name": "archivist"}]
    assert health["healthCheck"]["active"]["http"]["path"] == "/health"


def test_eks_gives_the_load_balancer_an_elastic_ip_per_zone_and_a_route53_record(
        entry_runs: dict[str, engine.Run], entry_objects: Objects) -> None:
    run = entry_runs["eks"]
    eips = [e for e in run.by_type("aws:ec2/eip:Eip") if "PublicEntry" in e.urn]  # not the NAT gateway's
    assert len(eips) == 3 and all(e.provider for e in eips)  # the stack's explicit AWS provider
    annotations = one(entry_objects["eks"], "EnvoyProxy")["spec"]["provider"]["kubernetes"]["envoyService"]["annotations"]
    assert annotations["service.beta.kubernetes.io/aws-load-balancer-type"] == "nlb"
    assert len(annotations["service.beta.kubernetes.io/aws-load-balancer-eip-allocations"].split(",")) == 3
    record = run.by_type("aws:route53/record:Record")[0].inputs
    assert (record["zoneId"], record["name"], record["type"]) == ("Z0123456789ABCDEFGHIJ", HOST, "A")
    assert len(record["records"]) == 3
    assert out(run, "ingressUrl") == f"https://{HOST}"
    assert value(value(run.result.outputs()["entry"])["dnsRecord"]) == HOST


def test_aks_uses_a_static_public_ip_the_cluster_may_attach(entry_runs: dict[str, engine.Run],
                                                           entry_objects: Objects) -> None:
    run = entry_runs["aks"]
    ip = run.by_type("azure-native:network:PublicIPAddress")[0].inputs
    assert ip["publicIPAllocationMethod"] == "Static" and ip["sku"]["name"] == "Standard"
    role = run.by_type("azure-native:authorization:RoleAssignment")
    grants = [r.inputs for r in role if r.inputs["roleDefinitionId"].endswith("4d97b98b-1d4f-4787-a291-c67834d212e7")]
    assert len(grants) == 1 and grants[0]["principalId"]  # Network Contributor for the cluster identity
    # ...on the address only, not on the resource group that also holds Key Vault, backups and registry
    (address,) = run.by_type("azure-native:network:PublicIPAddress")
    assert grants[0]["scope"] == f"{address.name}-id"
    annotations = one(entry_objects["aks"], "EnvoyProxy")["spec"]["provider"]["kubernetes"]["envoyService"]["annotations"]
    assert annotations["service.beta.kubernetes.io/azure-pip-name"]
    assert annotations["service.beta.kubernetes.io/azure-load-balancer-resource-group"] == ip["resourceGroupName"]
    record = run.by_type("azure-native:dns:RecordSet")[0].inputs
    assert (record["zoneName"], record["relativeRecordSetName"], record["recordType"]) == ("example.com", "archivist", "A")


def test_kind_entry_is_self_signed_https_without_cloud_resources(entry_runs: dict[str, engine.Run],
                                                                 entry_objects: Objects) -> None:
    run, objects = entry_runs["kind"], entry_objects["kind"]
    assert not [r for r in run.resources if r.type.split(":")[0] in ("gcp", "aws", "azure-native")]
    assert one(objects, "ClusterIssuer")["spec"] == {"selfSigned": {}}
    assert "annotations" not in one(objects, "EnvoyProxy")["spec"]["provider"]["kubernetes"]["envoyService"]
    assert out(run, "ingressUrl") == "https://archivist.localtest.me"


def test_entry_namespace_enforces_the_restricted_pod_security_level(entry_objects: Objects) -> None:
    ns = [o for o in entry_objects["eks"] if o["kind"] == "Namespace" and o["metadata"]["name"] == "archivist-entry"]
    assert ns and ns[0]["metadata"]["labels"]["pod-security.kubernetes.io/enforce"] == "restricted"


def test_url_is_http_when_the_entry_serves_no_tls() -> None:
    from conftest import VALID_IMAGES, run_config

    config = {"images": VALID_IMAGES, "ingress": {"mode": "gateway", "host": "archivist.localtest.me"}}
    run = run_config(config)
    assert out(run, "ingressUrl") == "http://archivist.localtest.me"
    from archivist_infra.offline.render import manifests

    objects = manifests(run)
    assert not kinds(objects) & {"ClusterIssuer", "Certificate"}
    assert [ln["name"] for ln in one(objects, "Gateway")["spec"]["listeners"]] == ["http"]
    assert charts_the_entry_adds(run, config) == [eg.ENVOY_GATEWAY_CHART]  # no cert-manager without TLS


def test_adopted_gateway_creates_nothing_but_the_route() -> None:
    from conftest import VALID_IMAGES, run_config

    from archivist_infra.offline.render import manifests

    config = {"images": VALID_IMAGES, "ingress": {"mode": "gateway", "host": HOST, "gateway": {
        "create": False, "name": "shared", "namespace": "platform-gw", "sectionName": "websecure", "https": True}}}
    run = run_config(config)
    objects = manifests(run)
    assert kinds(objects) & {"Gateway", "GatewayClass", "EnvoyProxy", "ClusterIssuer", "Certificate"} == set()
    assert charts_the_entry_adds(run, config) == []  # neither a gateway controller nor cert-manager
    route = [o for o in objects if o["kind"] == "HTTPRoute"]
    assert len(route) == 1
    assert route[0]["spec"]["parentRefs"] == [{"name": "shared", "namespace": "platform-gw", "sectionName": "websecure"}]
    # No policy can be attached to a Gateway the stack does not know: plain reads only, no quota route.
    from archivist_infra.entry.routes import APP_ROUTES

    classes = {(r.method, r.path.split("{")[0].rstrip("/")): r.access for r in APP_ROUTES if r.is_api}
    matched = [(m.get("method"), m["path"]["value"]) for rule in route[0]["spec"]["rules"] for m in rule["matches"]]
    assert matched and all(classes.get(key, "read") == "read" for key in matched), matched
    assert ("POST", "/api/search") not in matched
    assert out(run, "ingressUrl") == f"https://{HOST}"


@pytest.mark.parametrize("name", ["gke", "gke-writes"])
def test_gke_entry_enables_and_waits_for_every_google_api_it_calls(entry_runs: dict[str, engine.Run], name: str) -> None:
    """Cloud Armor (compute) and the writers' IAP grants (iap) wait for their APIs, which the stack enables."""
    from tests.platform_support import google_api_gaps

    run = entry_runs[name]
    assert google_api_gaps(run) == []
    enabled = {str(r.inputs["service"]) for r in run.by_type("gcp:projects/service:Service")}
    assert ("iap.googleapis.com" in enabled) == (name == "gke-writes")
