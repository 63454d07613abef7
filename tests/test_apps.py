"""The three Archivist services: env wiring, probes, autoscaling, disruption budgets, rollouts."""

from __future__ import annotations

from typing import Any

from archivist_infra.offline.render import manifests
from tests.conftest import VALID_IMAGES, env_of, find, pod_spec, run_config

SERVICES = ("archivist-search", "archivist-graph")  # the worker is a CronJob (tests/test_worker.py)


def main_container(obj: dict[str, Any]) -> dict[str, Any]:
    return pod_spec(obj)["containers"][0]


def worker_pod(objects: list) -> dict[str, Any]:
    return find(objects, "CronJob", "archivist-worker")["spec"]["jobTemplate"]["spec"]["template"]["spec"]


def test_each_service_gets_exactly_the_env_its_code_reads(dev_objects: list) -> None:
    # Worker: GEMINI_API_KEY is its only os.Getenv (internal/app/config.go:197); viper binds no env.
    # HOME is for Go's os.UserHomeDir and TeX under a read-only root.
    worker = env_of(worker_pod(dev_objects)["containers"][0])
    assert worker == {"GEMINI_API_KEY": ("secret", "GEMINI_API_KEY"), "HOME": "/tmp"}
    # Search: app/cache.py:28 REDIS_URL, app/vector_store.py:46 GEMINI_API_KEY.
    search = env_of(main_container(find(dev_objects, "StatefulSet", "archivist-search")))
    # REDIS_URL carries the generated Redis password, so it comes from a Secret (redis.py).
    # GEMINI_EMBEDDING_*: the patched vector_store.py (notes/app-contract.md).
    assert search == {"REDIS_URL": ("secret", "REDIS_URL"), "GEMINI_API_KEY": ("secret", "GEMINI_API_KEY"),
                      "HOME": "/tmp", "GEMINI_EMBEDDING_MODEL": ("config", "GEMINI_EMBEDDING_MODEL"),
                      "GEMINI_EMBEDDING_DIMENSIONS": ("config", "GEMINI_EMBEDDING_DIMENSIONS")}
    # Graph: app/main.py:114-117,160, metadata_extractor.py:36; no Redis client anywhere. The patched
    # metadata_extractor.py / semantic_search.py / kafka_consumer.py read GEMINI_* and SEARCH_SERVICE_URL.
    graph = env_of(main_container(find(dev_objects, "Deployment", "archivist-graph")))
    assert set(graph) == {"NEO4J_URI", "NEO4J_USER", "NEO4J_PASSWORD", "KAFKA_BOOTSTRAP_SERVERS", "QDRANT_URL",
                          "GEMINI_API_KEY", "HOME", "GEMINI_GENERATION_MODEL", "GEMINI_EMBEDDING_MODEL",
                          "GEMINI_EMBEDDING_DIMENSIONS", "SEARCH_SERVICE_URL"}


def test_configmap_addresses_are_derived_from_the_store_services(dev_objects: list) -> None:
    data = find(dev_objects, "ConfigMap", "archivist-config")["data"]
    services = {o["metadata"]["name"]: o for o in dev_objects if o["kind"] == "Service"}
    assert data["NEO4J_URI"] == "bolt://neo4j.archivist.svc.cluster.local:7687"
    assert data["KAFKA_BOOTSTRAP_SERVERS"] == "kafka.archivist.svc.cluster.local:9092"
    assert data["QDRANT_URL"] == "http://qdrant.archivist.svc.cluster.local:6333"
    assert "REDIS_URL" not in data and "config.yaml" not in data  # both carry the Redis password: a Secret
    for svc, port in (("neo4j", 7687), ("kafka", 9092), ("qdrant", 6333), ("redis", 6379)):
        assert port in {p["port"] for p in services[svc]["spec"]["ports"]}


def test_a_renamed_namespace_flows_into_every_address() -> None:
    objects = manifests(run_config({"images": VALID_IMAGES, "namespace": "papers"}))
    data = find(objects, "ConfigMap", "archivist-config")["data"]
    assert data["NEO4J_URI"] == "bolt://neo4j.papers.svc.cluster.local:7687"
    assert {o["metadata"].get("namespace") for o in objects if o["kind"] != "Namespace"} == {"papers"}


def test_worker_mounts_shared_data_and_config_and_prepares_dirs(dev_objects: list) -> None:
    spec = worker_pod(dev_objects)
    mounts = {m["mountPath"]: m["name"] for m in spec["containers"][0]["volumeMounts"]}
    assert mounts["/data"] == "shared-data" and mounts["/app/config"] == "config"
    volumes = {v["name"]: v for v in spec["volumes"]}
    assert volumes["shared-data"]["persistentVolumeClaim"]["claimName"] == "archivist-data"
    assert "mkdir -p /data/lib /data/tex_files /data/reports /data/logs" in spec["initContainers"][0]["command"][-1]
    claim = find(dev_objects, "PersistentVolumeClaim", "archivist-data")
    assert claim["spec"]["accessModes"] == ["ReadWriteOnce"]  # dev: one node


def test_prod_shared_data_is_read_write_many_20gi(prod_objects: list) -> None:
    claim = find(prod_objects, "PersistentVolumeClaim", "archivist-data")
    assert claim["spec"]["accessModes"] == ["ReadWriteMany"]
    assert claim["spec"]["resources"]["requests"]["storage"] == "20Gi"


def test_http_services_are_probed_where_they_listen(dev_objects: list) -> None:
    for name, kind, port in (("archivist-search", "StatefulSet", 8000), ("archivist-graph", "Deployment", 8081)):
        c = main_container(find(dev_objects, kind, name))
        for probe in ("startupProbe", "readinessProbe", "livenessProbe"):
            assert c[probe]["httpGet"] == {"path": "/health", "port": port}
        svc = find(dev_objects, "Service", name)
        assert svc["spec"]["ports"][0]["port"] == port
    # The worker serves no HTTP: no Service, no fake HTTP probe.
    assert not [o for o in dev_objects if o["kind"] == "Service" and o["metadata"]["name"] == "archivist-worker"]


def test_autoscaling_follows_the_guide(prod_objects: list) -> None:
    # The batch worker has no autoscaler (tests/test_worker.py covers the service mode's 2-20), and the
    # graph scales on its consumer lag instead (tests/test_secrets_keda.py).
    assert not [o for o in prod_objects if o["kind"] == "HorizontalPodAutoscaler"
                and o["metadata"]["name"] in ("archivist-worker", "archivist-graph")]
    expected = {"archivist-search": (2, 10)}
    for name, (lo, hi) in expected.items():
        hpa = find(prod_objects, "HorizontalPodAutoscaler", name)["spec"]
        assert (hpa["minReplicas"], hpa["maxReplicas"]) == (lo, hi)
        kind = "StatefulSet" if name == "archivist-search" else "Deployment"
        assert hpa["scaleTargetRef"] == {"apiVersion": "apps/v1", "kind": kind, "name": name}
        targets = {m["resource"]["name"]: m["resource"]["target"]["averageUtilization"] for m in hpa["metrics"]}
        assert targets == {"cpu": 70, "memory": 80}
        up, down = hpa["behavior"]["scaleUp"], hpa["behavior"]["scaleDown"]
        assert up["selectPolicy"] == "Max"
        assert {(p["type"], p["value"], p["periodSeconds"]) for p in up["policies"]} == {
            ("Percent", 100, 60), ("Pods", 4, 60)}
        assert down["policies"] == [{"type": "Percent", "value": 50, "periodSeconds": 300}]
        assert down["stabilizationWindowSeconds"] == 300


def test_deployments_leave_replicas_to_the_autoscaler_and_roll_without_downtime(prod_run, prod_objects: list) -> None:  # type: ignore[no-untyped-def]
    spec = find(prod_objects, "Deployment", "archivist-graph")["spec"]
    assert "replicas" not in spec
    assert spec["strategy"]["rollingUpdate"] == {"maxUnavailable": 0, "maxSurge": 1}
    assert prod_run.one("kubernetes:apps/v1:Deployment", "archivist-graph-deployment").ignore_changes == ["spec.replicas"]
    assert "replicas" not in find(prod_objects, "StatefulSet", "archivist-search")["spec"]
    assert prod_run.one("kubernetes:apps/v1:StatefulSet", "archivist-search-statefulset").ignore_changes == [
        "spec.replicas", "spec.volumeClaimTemplates[0].spec.resources.requests.storage"]  # index claims grow by patch


def test_search_index_lives_on_a_volume_per_replica_that_outlives_pods(prod_objects: list) -> None:
    spec = find(prod_objects, "StatefulSet", "archivist-search")["spec"]
    [claim] = spec["volumeClaimTemplates"]
    assert claim["metadata"]["name"] == "index" and claim["spec"]["accessModes"] == ["ReadWriteOnce"]
    assert claim["spec"]["resources"]["requests"]["storage"] == "2Gi"
    assert spec["persistentVolumeClaimRetentionPolicy"] == {"whenDeleted": "Retain", "whenScaled": "Retain"}
    mounts = {m["mountPath"]: m["name"] for m in spec["template"]["spec"]["containers"][0]["volumeMounts"]}
    assert mounts["/app/data"] == "index"  # ./data/qdrant under WORKDIR /app (app/vector_store.py:27-31)
    assert "index" not in {v["name"] for v in spec["template"]["spec"]["volumes"]}


def test_disruption_budgets_never_block_a_drain(prod_objects: list) -> None:
    for name in SERVICES:
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


def test_extra_env_reaches_the_worker() -> None:
    objects = manifests(run_config({"images": VALID_IMAGES, "worker": {"env": {"LOG_LEVEL": "debug"}}}))
    assert env_of(worker_pod(objects)["containers"][0])["LOG_LEVEL"] == "debug"
