"""Whole stacks: valid manifests, budgets, pod security, dependency shape, protection, outputs."""

from __future__ import annotations

import json
import subprocess
import sys
from decimal import Decimal
from typing import Any

import kubernetes_validate
import pulumi
import pytest

from archivist_infra.config.quantity import parse_quantity
from archivist_infra.offline.graph import graph, mermaid
from tests.conftest import CRD_KINDS, ROOT, VALID_IMAGES, find, pod_spec, run_config

WORKLOAD_KINDS = ("Deployment", "StatefulSet")


@pytest.mark.parametrize("version", ["1.29", "1.33", "1.37"])
@pytest.mark.parametrize("stack", ["dev_objects", "prod_objects"])
def test_every_rendered_object_passes_strict_schema_validation(stack: str, version: str,
                                                               request: pytest.FixtureRequest) -> None:
    objects = request.getfixturevalue(stack)
    checked = 0
    for obj in objects:
        if obj["kind"] in CRD_KINDS:
            continue
        kubernetes_validate.validate(obj, version, strict=True)
        checked += 1
    assert checked >= 30


def test_http_route_attaches_to_the_gateway_the_stack_creates_without_rewriting_api_paths(prod_objects: list) -> None:
    route = find(prod_objects, "HTTPRoute", "archivist")
    gateway = find(prod_objects, "Gateway", "archivist")
    assert route["apiVersion"] == "gateway.networking.k8s.io/v1"
    assert route["spec"]["parentRefs"] == [{"name": "archivist", "namespace": gateway["metadata"]["namespace"],
                                            "sectionName": "https"}]
    # One match per published route, by method and path (entry/routes.py); no catch-all `/api` prefix.
    backend = {(m.get("method"), m["path"]["value"]): r["backendRefs"] for r in route["spec"]["rules"] for m in r["matches"]}
    assert backend[("GET", "/api/graph/stats")] == [{"name": "archivist-graph", "port": 8081}]
    assert backend[("POST", "/api/search")] == [{"name": "archivist-search", "port": 8000}]
    assert not [key for key in backend if key[1] in ("/api", "/api/graph")]
    # Audit app-wiring #6/#7: no rewrite on any API rule (only the two health paths are rewritten).
    for rule in route["spec"]["rules"]:
        rewrites = [f for f in rule.get("filters") or [] if f["type"] == "URLRewrite"]
        assert not rewrites or [m["path"]["value"] for m in rule["matches"]] in (["/api/search/health"], ["/api/graph/health"])


def test_ingress_mode_routes_each_path_without_a_global_rewrite() -> None:
    from archivist_infra.offline.render import manifests

    objects = manifests(run_config({"images": VALID_IMAGES, "ingress": {
        "mode": "ingress", "host": "archivist.example.com", "className": "traefik", "tlsIssuer": "letsencrypt"}}))
    ing = find(objects, "Ingress", "archivist")
    kubernetes_validate.validate(ing, "1.29", strict=True)
    paths = {(p["path"], p["pathType"]): p["backend"]["service"] for p in ing["spec"]["rules"][0]["http"]["paths"]}
    # Only the read routes whose path carries nothing else (an Ingress cannot match methods).
    assert paths[("/api/graph/stats", "Exact")] == {"name": "archivist-graph", "port": {"number": 8081}}
    assert paths[("/api/providers", "Exact")] == {"name": "archivist-search", "port": {"number": 8000}}
    assert paths[("/health", "Exact")] == {"name": "archivist-search", "port": {"number": 8000}}
    assert not {("/api", "Prefix"), ("/api/graph", "Prefix"), ("/api/graph/paper", "Prefix")} & set(paths)
    assert ing["metadata"]["annotations"] == {"cert-manager.io/cluster-issuer": "letsencrypt"}
    assert ing["spec"]["tls"] == [{"hosts": ["archivist.example.com"], "secretName": "archivist-tls"}]
    assert ing["spec"]["ingressClassName"] == "traefik"


def _requests(objects: list, replicas_of: dict[str, int]) -> tuple[Decimal, Decimal]:
    cpu = mem = Decimal(0)
    for obj in objects:
        if obj["kind"] not in WORKLOAD_KINDS:
            continue
        n = obj["spec"].get("replicas", replicas_of.get(obj["metadata"]["name"], 1))
        for c in pod_spec(obj)["containers"]:
            cpu += n * parse_quantity(c["resources"]["requests"]["cpu"])  # type: ignore[operator]
            mem += n * parse_quantity(c["resources"]["requests"]["memory"])  # type: ignore[operator]
    return cpu, mem


def test_dev_fits_a_laptop_at_minimum_replicas(dev_objects: list) -> None:
    minimum = {o["spec"]["scaleTargetRef"]["name"]: o["spec"]["minReplicas"]
               for o in dev_objects if o["kind"] == "HorizontalPodAutoscaler"}
    cpu, mem = _requests(dev_objects, minimum)
    assert cpu <= 2, cpu
    assert mem <= 4 * 2**30, mem / 2**30


def test_every_pod_runs_restricted(dev_objects: list, prod_objects: list) -> None:
    for obj in [*dev_objects, *prod_objects]:
        if obj["kind"] not in WORKLOAD_KINDS:
            continue
        spec = pod_spec(obj)
        assert spec["securityContext"]["runAsNonRoot"] is True
        assert spec["securityContext"]["runAsUser"] > 0
        assert spec["securityContext"]["seccompProfile"] == {"type": "RuntimeDefault"}
        assert spec["automountServiceAccountToken"] is False
        for c in [*spec["containers"], *spec.get("initContainers", [])]:
            sc = c["securityContext"]
            assert sc["allowPrivilegeEscalation"] is False, c["name"]
            assert sc["capabilities"] == {"drop": ["ALL"]}, c["name"]
            assert sc["seccompProfile"] == {"type": "RuntimeDefault"}
            assert set(c["resources"]["requests"]) == {"cpu", "memory"} == set(c["resources"]["limits"])
            assert c["image"].rsplit(":", 1)[-1] != "latest" and c["imagePullPolicy"] == "IfNotPresent"
        for c in spec["containers"]:
            assert "livenessProbe" in c and "readinessProbe" in c, (obj["metadata"]["name"], c["name"])
            # Only Neo4j's entrypoint needs to write into its image (it edits its conf dir in place).
            assert c["securityContext"]["readOnlyRootFilesystem"] is (c["name"] != "neo4j"), c["name"]


def test_namespace_enforces_pod_security_restricted(dev_objects: list) -> None:
    labels = find(dev_objects, "Namespace", "archivist")["metadata"]["labels"]
    for mode in ("enforce", "audit", "warn"):
        assert labels[f"pod-security.kubernetes.io/{mode}"] == "restricted"


def test_render_order_puts_referenced_objects_first(dev_objects: list) -> None:
    kinds = [o["kind"] for o in dev_objects]
    assert kinds[0] == "Namespace"
    assert kinds.index("Secret") < kinds.index("Deployment")
    assert kinds.index("ConfigMap") < kinds.index("StatefulSet")
    assert max(i for i, k in enumerate(kinds) if k == "ServiceAccount") < kinds.index("Deployment")


def _deps(run: Any, type_token: str, name: str) -> set[str]:
    return {d.rsplit("::", 1)[-1] for d in run.one(type_token, name).dependencies}


def test_apps_wait_for_store_services_not_store_pods(dev_run: Any) -> None:
    """The original deployed in seven phases with two five-minute waits; here apps and stores start together.
    One exception: the apps follow Redis's StatefulSet (tiers/credentials.py), so that a new Redis password
    restarts Redis before its clients (audit stores-ops D5); Redis is ready in seconds."""
    all_deps: set[str] = set()
    for kind, name in (("batch/v1:CronJob", "archivist-worker-cronjob"),
                       ("apps/v1:StatefulSet", "archivist-search-statefulset"),
                       ("apps/v1:Deployment", "archivist-graph-deployment")):
        deps = _deps(dev_run, f"kubernetes:{kind}", name)
        assert {d for d in deps if d.endswith("-statefulset")} <= {"redis-statefulset"}, deps
        all_deps |= deps
    config_deps = _deps(dev_run, "kubernetes:core/v1:ConfigMap", "app-config-configmap")
    # REDIS_URL and config.yaml carry the Redis password, so they sit in the config Secret.
    config_deps |= _deps(dev_run, "kubernetes:core/v1:Secret", "app-config-secret")
    assert {"neo4j-service", "redis-service", "qdrant-service", "kafka-service"} <= config_deps
    assert {"app-config-configmap", "app-secrets-secret"} <= all_deps
    for store in ("neo4j", "kafka", "qdrant", "redis"):
        deps = _deps(dev_run, "kubernetes:apps/v1:StatefulSet", f"{store}-statefulset")
        assert not {d for d in deps if d.endswith("-deployment")}


def test_every_kubernetes_resource_is_a_child_of_a_component(dev_run: Any) -> None:
    components = {r.urn: r for r in dev_run.resources if not r.custom}
    assert {c.type.split(":")[0] for c in components.values()} == {"archivist"}
    for r in dev_run.resources:
        if r.type.startswith("kubernetes:") and not r.type.startswith("kubernetes:providers"):
            assert r.parent_urn in components, r.name


def test_production_protects_data_and_dev_does_not(prod_run: Any, dev_run: Any) -> None:
    protected = {(r.type, r.name) for r in prod_run.resources if r.protect}
    for store in ("neo4j", "kafka", "qdrant", "redis"):
        assert ("kubernetes:apps/v1:StatefulSet", f"{store}-statefulset") in protected
    assert ("kubernetes:core/v1:Namespace", "archivist-namespace") in protected
    assert ("kubernetes:core/v1:PersistentVolumeClaim", "shared-data-claim") in protected
    assert ("random:index/randomPassword:RandomPassword", "app-secrets-neo4j-password") in protected
    assert not [r for r in dev_run.resources if r.protect]
    # Fixed names: a replacement must delete first, so the data guard's before_delete hook speaks
    # before anything changes (create-before-delete fails with an apply conflict: tests/engine).
    data = {("kubernetes:core/v1:Namespace", "archivist-namespace"),
            ("kubernetes:core/v1:PersistentVolumeClaim", "shared-data-claim"),
            *(("kubernetes:apps/v1:StatefulSet", f"{s}-statefulset") for s in ("neo4j", "kafka", "qdrant", "redis", "archivist-search"))}
    assert {(r.type, r.name) for r in prod_run.resources if r.delete_before_replace} >= data


def test_secrets_stay_secret_in_outputs_and_manifests(dev_run: Any, dev_objects: list) -> None:
    text = json.dumps(dev_objects)
    assert "[secret:archivist:geminiApiKey]" in text  # placeholder, never a value
    generated = find(dev_objects, "Secret", "archivist-secrets")["stringData"]
    assert generated["NEO4J_PASSWORD"].startswith("[generated:")
    for res in dev_run.resources:
        if res.type == "kubernetes:core/v1:Secret":
            assert res.inputs["stringData"].get("4dabf18193072939515e22adb298388d"), "stringData is not marked secret"


@pulumi.runtime.test
def test_stack_outputs_carry_no_secret_and_name_every_endpoint(dev_run: Any) -> Any:
    outputs = dev_run.result.outputs()

    def check(values: list[Any]) -> None:
        endpoints, forwards, namespace = values
        assert namespace == "archivist"
        assert endpoints["neo4j"] == "bolt://neo4j.archivist.svc.cluster.local:7687"
        assert endpoints["search"] == "http://archivist-search.archivist.svc.cluster.local:8000"
        assert "worker" not in endpoints
        assert forwards["neo4jBrowser"] == "kubectl -n archivist port-forward svc/neo4j 7474:7474 7687:7687"
        assert "[secret" not in json.dumps(values)

    return pulumi.Output.all(pulumi.Output.from_input(outputs["endpoints"]),
                             pulumi.Output.from_input(outputs["portForward"]), outputs["namespace"]).apply(check)


def test_graph_lists_parents_dependencies_and_protection(prod_run: Any) -> None:
    data = graph(prod_run)
    by_name = {r["name"]: r for r in data["resources"]}
    assert set(by_name["neo4j-statefulset"]) == {"type", "name", "parent", "dependsOn", "provider", "protect"}
    assert by_name["neo4j-statefulset"]["parent"] == "neo4j"
    assert by_name["neo4j-statefulset"]["protect"] is True
    assert "app-config-configmap" in by_name["archivist-graph-deployment"]["dependsOn"]
    assert by_name["neo4j"]["type"] == "archivist:stores:Neo4jStore"
    chart = mermaid(data)
    assert chart.startswith("flowchart LR") and "subgraph neo4j" in chart


def _cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "archivist_infra", *args], cwd=ROOT, capture_output=True,
                          text=True, timeout=60)


def test_cli_bad_config_exits_1_listing_every_problem_without_traceback(tmp_path: Any) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text("config:\n  archivist:platform: gcp\n  archivist:kafka:\n    brokers: -1\n"
                   "  archivist:images:\n    worker: w:latest\n")
    result = _cli("render", "dev", "--config-file", str(bad))
    assert result.returncode == 1
    assert "Traceback" not in result.stderr
    for key in ("archivist:platform", "archivist:kafka.brokers", "archivist:images.worker",
                "archivist:images.search", "archivist:geminiApiKey"):
        assert key in result.stderr
    assert result.stdout == ""


def test_cli_render_and_graph(tmp_path: Any) -> None:
    out = tmp_path / "dev.yaml"
    assert _cli("render", "dev", "-o", str(out)).returncode == 0
    assert out.read_text().startswith("apiVersion: v1\nkind: Namespace")
    result = _cli("graph", "dev", "--format", "json")
    assert result.returncode == 0
    assert {"type", "name", "parent", "dependsOn", "provider", "protect"} == set(
        json.loads(result.stdout)["resources"][0])


def test_render_and_graph_are_byte_stable_across_runs(dev_run: Any) -> None:
    from archivist_infra.__main__ import run_stack
    from archivist_infra.offline.render import manifests, to_yaml

    again = run_stack("dev")
    assert to_yaml(manifests(again)) == to_yaml(manifests(dev_run))
    assert json.dumps(graph(again)) == json.dumps(graph(dev_run))


@pytest.mark.parametrize("stack", ["dev_run", "prod_run"])
def test_logical_names_are_unique_so_graph_references_are_unambiguous(stack: str,
                                                                      request: pytest.FixtureRequest) -> None:
    names = [r.name for r in request.getfixturevalue(stack).resources]
    assert len(names) == len(set(names))


def test_cli_capacity_prints_the_figures_and_refuses_bad_config(tmp_path: Any) -> None:
    result = _cli("capacity", "prod")
    assert result.returncode == 0, result.stderr
    assert "platform gke" in result.stdout
    lines = result.stdout.splitlines()
    # CPU requests, min..max replicas (config/load.py defaults, prod's 3 Kafka brokers; every figure per pod):
    #   search 250m x 2..10, graph 250m x 2..10 (KEDA keeps the guide's 2-10: kafka.partitions defaults
    #   to max(3, 10) = 10), qdrant 250m x 2..5, kafka 500m x 3, neo4j 500m, redis 100m, the monitoring
    #   exporters (monitoring/exporters.py) redis 25m + kafka 50m + blackbox 25m = 100m, archivist-data-keeper
    #   5m (tiers/shared_data.py), the pre-flight Jobs 0..1 each during an `up` (tiers/preflight.py: model check
    #   50m, topic 100m), and the batch worker 500m x 0..2 (a scheduled and an on-demand run at most):
    #   min 500+500+500+1500+500+100+100+5 = 3705m; max 2500+2500+1250+1500+500+100+100+5+150+1000 = 9605m.
    cpu = next(line for line in lines if line.startswith("cpu requested"))
    assert cpu.split()[2:] == ["3705m", "9605m"]
    # prod has a spot pool: the worker (interruptible; 2 x 500m, 2 x 1Gi at most) fits one spot node, and
    # the on-demand pool of e2-standard-4 (3720m, 12.8Gi to pods after GKE's and the DaemonSets' reserve)
    # carries the rest: min 3705m <= 3720m and 6.9Gi -> 1 node; max 9605m - 1000m = 8605m / 3720m = 2.3
    # -> 3 nodes (memory 16.8Gi - 2Gi = 14.8Gi / 12.8Gi -> 2, so CPU decides).
    nodes = next(line for line in lines if line.startswith("workload nodes"))
    assert nodes.split()[2:] == ["1", "3"]
    spot = next(line for line in lines if line.startswith("spot nodes"))
    assert spot.split()[-2:] == ["0", "1"]
    # Filestore standard bills its 100 GiB minimum for the 20 Gi shared claim (driver v1.11+), on top of
    # pd-ssd billed as asked (1 GiB minimum): search's 2 Gi index x 2..10, qdrant 5 Gi x 2..5 (a distributed
    # Qdrant starts with 2 peers), kafka 10 Gi x 3, neo4j 10 Gi, redis 2 Gi:
    # min 100 + 4 + 10 + 30 + 10 + 2 = 156 Gi; max 100 + 20 + 25 + 30 + 10 + 2 = 187 Gi.
    billed = next(line for line in lines if line.startswith("storage billed "))
    assert billed.split()[2:] == ["156Gi", "187Gi"]

    bad = tmp_path / "bad.yaml"
    bad.write_text("config:\n  archivist:platform: gke\n  archivist:cluster:\n    region: europe-west1\n"
                   "  archivist:source:\n    commit: f27c790\n")
    result = _cli("capacity", "prod", "--config-file", str(bad))
    assert result.returncode == 1 and "Traceback" not in result.stderr
    assert "archivist:cluster.project" in result.stderr and "archivist:source.commit" in result.stderr


def _flatten(value: Any) -> list[Any]:
    if isinstance(value, dict):
        return [leaf for v in value.values() for leaf in _flatten(v)]
    return [value]


def test_every_output_that_carries_a_secret_is_secret(prod_run: Any) -> None:
    # The run has finished, so every Output is resolved; await them on Pulumi's own loop.
    from pulumi.runtime.sync_await import _sync_await

    outputs = prod_run.result.outputs()
    assert "kubeconfig" in outputs  # prod creates its GKE cluster, so it exports the kubeconfig
    assert _sync_await(outputs["kubeconfig"].is_secret()) is True
    others = [v for k, v in outputs.items() if k != "kubeconfig" for v in _flatten(v) if isinstance(v, pulumi.Output)]
    assert others, "the other outputs are Outputs too"
    assert not any(_sync_await(v.is_secret()) for v in others), "only the kubeconfig may be secret"
