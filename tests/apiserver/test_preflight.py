"""The pre-flight Jobs (tiers/preflight.py) and their NetworkPolicies against a real kube-apiserver:
accepted as rendered, and the Job controller's pods admitted by Pod Security `restricted`."""

from __future__ import annotations

import uuid
from typing import Any

import pytest

from archivist_infra.offline.render import manifests
from archivist_infra.tiers.preflight import KAFKA_TOPIC, MODEL_CHECK
from tests.conftest import run_config

from .kube import Cluster, wait_for


@pytest.fixture(scope="module")
def deployed(cluster: Cluster) -> tuple[str, list[dict[str, Any]]]:
    namespace = f"pre-{uuid.uuid4().hex[:8]}"
    objects = manifests(run_config({"namespace": namespace, "kafka": {"brokers": 3, "partitions": 10}}))
    result = cluster.apply(objects)
    assert result.ok, result.stderr
    assert result.warnings == [], result.warnings
    return namespace, objects


@pytest.mark.parametrize("job", [MODEL_CHECK, KAFKA_TOPIC])
def test_the_job_is_accepted_and_its_pod_admitted(cluster: Cluster, deployed: tuple[str, list], job: str) -> None:
    namespace, _ = deployed
    served = cluster.get("job", job, namespace=namespace)
    assert served["spec"]["backoffLimit"] >= 1 and served["spec"]["activeDeadlineSeconds"] > 0
    pods = wait_for(f"a pod of job {job}", lambda: [
        p for p in cluster.items("pods", namespace=namespace)
        if p["metadata"].get("labels", {}).get("job-name") == job])
    spec = pods[0]["spec"]
    assert spec["restartPolicy"] == "Never" and spec["securityContext"]["runAsNonRoot"] is True
    refused = [e["message"] for e in cluster.items("events", namespace=namespace)
               if e["reason"] == "FailedCreate" and e["involvedObject"]["name"] == job]
    assert refused == []


def test_the_topic_job_asks_for_the_brokers_replication(cluster: Cluster, deployed: tuple[str, list]) -> None:
    namespace, _ = deployed
    served = cluster.get("job", KAFKA_TOPIC, namespace=namespace)
    script = served["spec"]["template"]["spec"]["containers"][0]["command"][2]
    assert "--partitions 10 --replication-factor 3" in script and "--if-not-exists" in script


def test_the_job_policies_are_served(cluster: Cluster, deployed: tuple[str, list]) -> None:
    namespace, _ = deployed
    check = cluster.get("networkpolicy", f"{MODEL_CHECK}-egress", namespace=namespace)
    [rule] = check["spec"]["egress"]
    assert rule["ports"] == [{"protocol": "TCP", "port": 443}]
    assert "169.254.169.254/32" in rule["to"][0]["ipBlock"]["except"]
    topic = cluster.get("networkpolicy", f"{KAFKA_TOPIC}-egress", namespace=namespace)
    assert [r["ports"] for r in topic["spec"]["egress"]] == [[{"protocol": "TCP", "port": 9092}]]
    worker = cluster.get("networkpolicy", "archivist-worker-egress", namespace=namespace)
    assert {"protocol": "TCP", "port": 9092} in [p for r in worker["spec"]["egress"] for p in r["ports"]]
