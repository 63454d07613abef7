"""The stores: Neo4j, Kafka (KRaft), Qdrant, Redis, as rendered."""

from __future__ import annotations

from typing import Any

from archivist_infra.offline.render import manifests
from archivist_infra.tiers.kafka import cluster_id, quorum_voters, replication
from archivist_infra.tiers.neo4j import memory_plan
from tests.conftest import VALID_IMAGES, env_of, find, pod_spec, run_config


def container(obj: dict[str, Any]) -> dict[str, Any]:
    return pod_spec(obj)["containers"][0]


def test_neo4j_auth_comes_from_the_secret_in_user_slash_password_form(dev_objects: list) -> None:
    sts = find(dev_objects, "StatefulSet", "neo4j")
    env = env_of(container(sts))
    assert env["NEO4J_AUTH"] == ("secret", "NEO4J_AUTH")
    secret = find(dev_objects, "Secret", "archivist-secrets")
    assert set(secret["stringData"]) == {"GEMINI_API_KEY", "NEO4J_PASSWORD", "NEO4J_AUTH"}
    ports = {p["name"]: p["containerPort"] for p in container(sts)["ports"]}
    assert ports == {"http": 7474, "bolt": 7687}
    assert container(sts)["startupProbe"]["tcpSocket"]["port"] == 7687
    # The default database stays `neo4j`, the one the graph service opens (graph-service/app/main.py:121-127).
    assert "NEO4J_initial_dbms_default__database" not in env


def test_neo4j_memory_follows_the_limit(dev_objects: list) -> None:
    assert memory_plan("4Gi") == ("2048m", "1024m")
    env = env_of(container(find(dev_objects, "StatefulSet", "neo4j")))
    assert env["NEO4J_server_memory_heap_max__size"] == "768m"  # dev limit 1536Mi
    assert env["NEO4J_server_memory_pagecache_size"] == "384m"


def test_store_volumes_come_from_claim_templates_and_survive(dev_objects: list) -> None:
    sizes = {"neo4j": ("2Gi", "/data"), "kafka": ("2Gi", "/var/lib/kafka/data"),
             "qdrant": ("1Gi", "/qdrant/storage"), "redis": ("512Mi", "/data")}
    for name, (size, path) in sizes.items():
        sts = find(dev_objects, "StatefulSet", name)
        (claim,) = sts["spec"]["volumeClaimTemplates"]
        assert claim["spec"]["resources"]["requests"]["storage"] == size
        assert claim["spec"]["accessModes"] == ["ReadWriteOnce"]
        assert {"name": "data", "mountPath": path} in container(sts)["volumeMounts"]
        assert sts["spec"]["persistentVolumeClaimRetentionPolicy"] == {"whenDeleted": "Retain", "whenScaled": "Retain"}


def test_kafka_single_broker(dev_objects: list) -> None:
    sts = find(dev_objects, "StatefulSet", "kafka")
    env = env_of(container(sts))
    assert sts["spec"]["replicas"] == 1
    assert env["KAFKA_CONTROLLER_QUORUM_VOTERS"] == "0@kafka-0.kafka-headless.archivist.svc.cluster.local:9093"
    assert env["KAFKA_OFFSETS_TOPIC_REPLICATION_FACTOR"] == "1"
    assert 'KAFKA_PROCESS_ROLES="broker,controller"' in container(sts)["command"][-1]
    assert env["KAFKA_NUM_PARTITIONS"] == "3"
    assert env["CLUSTER_ID"] == cluster_id("archivist", "dev") and len(env["CLUSTER_ID"]) == 22
    assert "${HOSTNAME##*-}" in container(sts)["command"][-1]  # node id from the pod ordinal
    assert container(sts)["readinessProbe"] == {"tcpSocket": {"port": 9092}, "periodSeconds": 10,
                                                 "timeoutSeconds": 5, "failureThreshold": 3}


def test_kafka_three_brokers_form_a_quorum(prod_objects: list) -> None:
    sts = find(prod_objects, "StatefulSet", "kafka")
    env = env_of(container(sts))
    assert sts["spec"]["replicas"] == 3 and sts["spec"]["podManagementPolicy"] == "Parallel"
    assert env["KAFKA_CONTROLLER_QUORUM_VOTERS"] == quorum_voters(3, "archivist")
    assert env["KAFKA_CONTROLLER_QUORUM_VOTERS"].count("@") == 3
    assert (env["KAFKA_DEFAULT_REPLICATION_FACTOR"], env["KAFKA_MIN_INSYNC_REPLICAS"]) == ("3", "2")
    assert find(prod_objects, "PodDisruptionBudget", "kafka")["spec"]["maxUnavailable"] == 1
    headless = find(prod_objects, "Service", "kafka-headless")
    assert headless["spec"]["clusterIP"] == "None" and headless["spec"]["publishNotReadyAddresses"] is True


def test_replication_follows_the_broker_count() -> None:
    assert replication(1) == {"default_replication": 1, "min_insync": 1}
    assert replication(2) == {"default_replication": 2, "min_insync": 1}
    assert replication(5) == {"default_replication": 3, "min_insync": 2}


def test_qdrant_single_node_in_dev(dev_objects: list) -> None:
    sts = find(dev_objects, "StatefulSet", "qdrant")
    assert sts["spec"]["replicas"] == 1
    assert "command" not in container(sts)
    assert container(sts)["readinessProbe"]["httpGet"] == {"path": "/readyz", "port": 6333}
    assert container(sts)["livenessProbe"]["httpGet"] == {"path": "/", "port": 6333}  # as the official chart
    assert not [o for o in dev_objects if o["kind"] == "HorizontalPodAutoscaler" and o["metadata"]["name"] == "qdrant"]


def test_qdrant_scales_in_distributed_mode(prod_objects: list) -> None:
    sts = find(prod_objects, "StatefulSet", "qdrant")
    assert "replicas" not in sts["spec"]  # the HPA owns it
    env = env_of(container(sts))
    assert env["QDRANT__CLUSTER__ENABLED"] == "true"
    script = container(sts)["command"][-1]
    assert "--bootstrap" in script and "qdrant-0.qdrant-headless.archivist.svc.cluster.local:6335" in script
    assert {p["name"]: p["containerPort"] for p in container(sts)["ports"]}["p2p"] == 6335
    hpa = find(prod_objects, "HorizontalPodAutoscaler", "qdrant")
    assert hpa["spec"]["scaleTargetRef"] == {"apiVersion": "apps/v1", "kind": "StatefulSet", "name": "qdrant"}
    assert (hpa["spec"]["minReplicas"], hpa["spec"]["maxReplicas"]) == (2, 5)  # 2 copies from the start
    client = find(prod_objects, "Service", "qdrant")
    assert {p["port"] for p in client["spec"]["ports"]} == {6333, 6334}


def test_redis_persists_with_aof_and_never_evicts(dev_objects: list) -> None:
    sts = find(dev_objects, "StatefulSet", "redis")
    args = container(sts)["args"]
    assert args[args.index("--appendonly") + 1] == "yes"
    assert args[args.index("--maxmemory") + 1] == "96mb"
    # noeviction: the worker's analysis cache is never evicted by search's traffic (tiers/redis.py, audit F3).
    assert args[args.index("--maxmemory-policy") + 1] == "noeviction"
    assert "redis-cli ping" in container(sts)["livenessProbe"]["exec"]["command"][-1]
    assert pod_spec(sts)["securityContext"]["runAsUser"] == 999


def test_store_images_are_pinned_and_overridable() -> None:
    objects = manifests(run_config({"images": VALID_IMAGES, "neo4j": {"image": "neo4j:5.26.9-community"}}))
    assert container(find(objects, "StatefulSet", "neo4j"))["image"] == "neo4j:5.26.9-community"
    for name in ("kafka", "qdrant", "redis"):
        image = container(find(objects, "StatefulSet", name))["image"]
        assert ":" in image and not image.endswith(":latest")


def test_kafka_runs_with_a_read_only_root_and_writable_scratch(dev_objects: list) -> None:
    sts = find(dev_objects, "StatefulSet", "kafka")
    c = container(sts)
    assert c["securityContext"]["readOnlyRootFilesystem"] is True
    mounts = {m["mountPath"]: m["name"] for m in c["volumeMounts"]}
    assert {"/opt/kafka/config", "/opt/kafka/logs", "/tmp"} <= set(mounts)
    scratch = {v["name"] for v in pod_spec(sts)["volumes"] if "emptyDir" in v}
    assert {mounts["/opt/kafka/config"], mounts["/opt/kafka/logs"], mounts["/tmp"]} <= scratch


def test_qdrant_writes_only_to_volumes_under_a_read_only_root(dev_objects: list) -> None:
    sts = find(dev_objects, "StatefulSet", "qdrant")
    c = container(sts)
    assert c["securityContext"]["readOnlyRootFilesystem"] is True
    init_file = env_of(c)["QDRANT_INIT_FILE_PATH"]
    mounts = {m["mountPath"]: m["name"] for m in c["volumeMounts"]}
    assert init_file.rsplit("/", 1)[0] in mounts  # the marker lands on a scratch volume
    assert {"/qdrant/storage", "/tmp"} <= set(mounts)  # snapshots: under /qdrant/storage (data volume)
