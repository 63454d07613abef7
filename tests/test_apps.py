"""The three Archivist services: env wiring, probes, autoscaling, disruption budgets, rollouts."""

from __future__ import annotations

from typing import Any

from archivist_infra.offline.render import manifests
from tests.conftest import VALID_IMAGES, env_of, find, pod_spec, run_config

APPS = ("archivist-worker", "archivist-search", "archivist-graph")


def main_container(obj: dict[str, Any]) -> dict[str, Any]:
    return pod_spec(obj)["containers"][0]


def test_each_service_gets_exactly_the_env_its_code_reads(dev_objects: list) -> None:
    worker = env_of(main_container(find(dev_objects, "Deployment", "archivist-worker")))
    assert worker == {
        "GEMINI_API_KEY": ("secret", "GEMINI_API_KEY"), "NEO4J_URI": ("config", "NEO4J_URI"),
        "NEO4J_PASSWORD": ("secret", "NEO4J_PASSWORD"), "REDIS_URL": ("config", "REDIS_URL"),
        "QDRANT_HOST": ("config", "QDRANT_HOST"), "QDRANT_PORT": ("config", "QDRANT_PORT"),
        "KAFKA_BOOTSTRAP_SERVERS": ("config", "KAFKA_BOOTSTRAP_SERVERS"), "MODE": "worker",
        "WORKER_ID": ("field", "metadata.name"), "HOME": "/tmp",
    }
    search = env_of(main_container(find(dev_objects, "Deployment", "archivist-search")))
    assert search == {"REDIS_URL": ("config", "REDIS_URL"), "GEMINI_API_KEY": ("secret", "GEMINI_API_KEY"),
                      "HOME": "/tmp"}
    graph = env_of(main_container(find(dev_objects, "Deployment", "archivist-graph")))
    assert set(graph) == {"NEO4J_URI", "NEO4J_USER", "NEO4J_PASSWORD", "KAFKA_BOOTSTRAP_SERVERS", "QDRANT_URL",
                          "REDIS_URL", "GEMINI_API_KEY", "HOME"}


def test_configmap_addresses_are_derived_from_the_store_services(dev_objects: list) -> None:
    data = find(dev_objects, "ConfigMap", "archivist-config")["data"]
    services = {o["metadata"]["name"]: o for o in dev_objects if o["kind"] == "Service"}
    assert data["NEO4J_URI"] == "bolt://neo4j.archivist.svc.cluster.local:7687"
    assert data["KAFKA_BOOTSTRAP_SERVERS"] == "kafka.archivist.svc.cluster.local:9092"
    assert data["QDRANT_URL"] == "http://qdrant.archivist.svc.cluster.local:6333"
    assert data["REDIS_URL"] == "redis://redis.archivist.svc.cluster.local:6379"
    for svc, port in (("neo4j", 7687), ("kafka", 9092), ("qdrant", 6333), ("redis", 6379)):
        assert port in {p["port"] for p in services[svc]["spec"]["ports"]}
    assert "uri: bolt://neo4j.archivist.svc.cluster.local:7687" in data["config.yaml"]
    assert "addr: redis.archivist.svc.cluster.local:6379" in data["config.yaml"]


def test_a_renamed_namespace_flows_into_every_address() -> None:
    objects = manifests(run_config({"images": VALID_IMAGES, "namespace": "papers"}))
    data = find(objects, "ConfigMap", "archivist-config")["data"]
    assert data["NEO4J_URI"] == "bolt://neo4j.papers.svc.cluster.local:7687"
    assert {o["metadata"].get("namespace") for o in objects if o["kind"] != "Namespace"} == {"papers"}


def test_worker_mounts_shared_data_and_config_and_prepares_dirs(dev_objects: list) -> None:
    spec = pod_spec(find(dev_objects, "Deployment", "archivist-worker"))
    mounts = {m["mountPath"]: m["name"] for m in spec["containers"][0]["volumeMounts"]}
    assert mounts["/data"] == "shared-data" and mounts["/app/config"] == "config"
    volumes = {v["name"]: v for v in spec["volumes"]}
    assert volumes["shared-data"]["persistentVolumeClaim"]["claimName"] == "archivist-data"
    assert "mkdir -p /data/lib /data/tex_files /data/reports /data/logs" in spec["initContainers"][0]["command"][-1]
    claim = find(dev_objects, "PersistentVolumeClaim", "archivist-data")
    assert claim["spec"]["accessModes"] == ["ReadWriteOnce"]  # dev: one node
    assert spec["containers"][0]["livenessProbe"]["exec"]["command"][-1].startswith("test -w /data")


def test_prod_shared_data_is_read_write_many_20gi(prod_objects: list) -> None:
    claim = find(prod_objects, "PersistentVolumeClaim", "archivist-data")
    assert claim["spec"]["accessModes"] == ["ReadWriteMany"]
    assert claim["spec"]["resources"]["requests"]["storage"] == "20Gi"


def test_http_services_are_probed_where_they_listen(dev_objects: list) -> None:
    for name, port in (("archivist-search", 8000), ("archivist-graph", 8081)):
        c = main_container(find(dev_objects, "Deployment", name))
        for probe in ("startupProbe", "readinessProbe", "livenessProbe"):
            assert c[probe]["httpGet"] == {"path": "/health", "port": port}
        svc = find(dev_objects, "Service", name)
        assert svc["spec"]["ports"][0]["port"] == port
    # The worker serves no HTTP: no Service, no fake HTTP probe.
    assert not [o for o in dev_objects if o["kind"] == "Service" and o["metadata"]["name"] == "archivist-worker"]


def test_autoscaling_follows_the_guide(prod_objects: list) -> None:
    # The graph scales on its consumer lag instead (tests/test_secrets_keda.py).
    expected = {"archivist-worker": (2, 20), "archivist-search": (2, 10)}
    for name, (lo, hi) in expected.items():
        hpa = find(prod_objects, "HorizontalPodAutoscaler", name)["spec"]
        assert (hpa["minReplicas"], hpa["maxReplicas"]) == (lo, hi)
        assert hpa["scaleTargetRef"] == {"apiVersion": "apps/v1", "kind": "Deployment", "name": name}
        targets = {m["resource"]["name"]: m["resource"]["target"]["averageUtilization"] for m in hpa["metrics"]}
        assert targets == {"cpu": 70, "memory": 80}
        up, down = hpa["behavior"]["scaleUp"], hpa["behavior"]["scaleDown"]
        assert up["selectPolicy"] == "Max"
        assert {(p["type"], p["value"], p["periodSeconds"]) for p in up["policies"]} == {
            ("Percent", 100, 60), ("Pods", 4, 60)}
        assert down["policies"] == [{"type": "Percent", "value": 50, "periodSeconds": 300}]
        assert down["stabilizationWindowSeconds"] == 300


def test_deployments_leave_replicas_to_the_autoscaler_and_roll_without_downtime(prod_run, prod_objects: list) -> None:  # type: ignore[no-untyped-def]
    for name in APPS:
        spec = find(prod_objects, "Deployment", name)["spec"]
        assert "replicas" not in spec
        assert spec["strategy"]["rollingUpdate"] == {"maxUnavailable": 0, "maxSurge": 1}
        assert prod_run.one("kubernetes:apps/v1:Deployment", f"{name}-deployment").ignore_changes == ["spec.replicas"]


def test_disruption_budgets_never_block_a_drain(prod_objects: list) -> None:
    for name in APPS:
        pdb = find(prod_objects, "PodDisruptionBudget", name)["spec"]
        assert pdb["maxUnavailable"] == 1 and "minAvailable" not in pdb
        assert pdb["unhealthyPodEvictionPolicy"] == "AlwaysAllow"


def test_config_changes_roll_the_pods() -> None:
    def checksum(objects: list) -> str:
        meta = find(objects, "Deployment", "archivist-graph")["spec"]["template"]["metadata"]
        return str(meta["annotations"]["archivist.dev/config-checksum"])

    a = checksum(manifests(run_config({"images": VALID_IMAGES})))
    b = checksum(manifests(run_config({"images": VALID_IMAGES, "namespace": "other"})))
    assert a != b and len(a) == 16


def test_extra_env_and_port_for_a_future_worker_server() -> None:
    objects = manifests(run_config({"images": VALID_IMAGES, "worker": {
        "port": 8080, "env": {"LOG_LEVEL": "debug"},
        "healthCheck": {"kind": "http", "path": "/health", "port": 8080}}}))
    worker = main_container(find(objects, "Deployment", "archivist-worker"))
    assert env_of(worker)["LOG_LEVEL"] == "debug"
    assert worker["readinessProbe"]["httpGet"] == {"path": "/health", "port": 8080}
    assert find(objects, "Service", "archivist-worker")["spec"]["ports"][0]["port"] == 8080
