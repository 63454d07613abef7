"""The Archivist workloads against a real kube-apiserver: the batch worker's CronJob, an on-demand
run made from it the way the README and `ops process` make one, and the services' controllers
creating pods that Pod Security, the quota and the LimitRange admit."""

from __future__ import annotations

import time
import uuid
from typing import Any

import pytest

from archivist_infra.offline.render import manifests
from archivist_infra.tiers.worker import job_name, on_demand_job
from tests.conftest import run_config

from .kube import Cluster, wait_for

# The dev stack's figures (Pulumi.dev.yaml) and the guide's defaults (prod sizes on `local`).
STACKS: dict[str, dict[str, Any]] = {
    "dev-sizes": {
        "sharedData": {"size": "5Gi", "accessMode": "ReadWriteOnce"},
        "worker": {"resources": {"cpuRequest": "200m", "memoryRequest": "384Mi", "cpuLimit": "1", "memoryLimit": "1Gi"}},
        "search": {"autoscaling": {"minReplicas": 1, "maxReplicas": 2}},
        "graph": {"autoscaling": {"minReplicas": 1, "maxReplicas": 2}},
    },
    "guide-sizes": {},
}


def _events(cluster: Cluster, namespace: str) -> list[dict[str, Any]]:
    return cluster.items("events", namespace=namespace)



@pytest.fixture(scope="module", params=sorted(STACKS))
def deployed(request: pytest.FixtureRequest, cluster: Cluster) -> tuple[str, list[dict[str, Any]]]:
    namespace = f"app-{uuid.uuid4().hex[:8]}"
    objects = manifests(run_config({"namespace": namespace, **STACKS[request.param]}))
    result = cluster.apply(objects)
    assert result.ok, result.stderr
    assert result.warnings == [], result.warnings
    return namespace, objects


def test_the_batch_worker_cronjob_is_accepted_as_rendered(cluster: Cluster, deployed: tuple[str, list]) -> None:
    namespace, _ = deployed
    cron = cluster.get("cronjob", "archivist-worker", namespace=namespace)
    assert cron["spec"]["concurrencyPolicy"] == "Forbid"
    job = cron["spec"]["jobTemplate"]["spec"]
    assert job["activeDeadlineSeconds"] > 0
    assert job["template"]["spec"]["containers"][0]["args"][0] == "process"


def test_an_on_demand_run_from_the_cronjob_gets_an_admitted_pod(cluster: Cluster, deployed: tuple[str, list]) -> None:
    namespace, _ = deployed
    name = job_name(time.strftime("%Y%m%d%H%M%S", time.gmtime()))
    created = cluster.run("create", "job", "--from=cronjob/archivist-worker", name, "-n", namespace)
    assert created.ok, created.stderr
    pods = wait_for(f"a pod of job {name}", lambda: [
        p for p in cluster.items("pods", namespace=namespace)
        if p["metadata"].get("labels", {}).get("job-name") == name])
    assert pods[0]["spec"]["restartPolicy"] == "Never"
    refused = [e["message"] for e in _events(cluster, namespace)
               if e["reason"] == "FailedCreate" and e["involvedObject"]["name"] == name]
    assert refused == []


def test_the_services_controllers_create_admitted_pods(cluster: Cluster, deployed: tuple[str, list]) -> None:
    namespace, _ = deployed

    def pods_of(app: str) -> list[dict[str, Any]]:
        return [p for p in cluster.items("pods", namespace=namespace)
                if p["metadata"].get("labels", {}).get("app.kubernetes.io/name") == app]

    # No HPA acts without metrics here: the controllers create one pod each (replicas default to 1).
    wait_for("a graph pod", lambda: pods_of("archivist-graph"))
    wait_for("a search pod", lambda: pods_of("archivist-search"))
    # The search StatefulSet makes the replica's own index claim.
    claims = {c["metadata"]["name"] for c in cluster.items("persistentvolumeclaims", namespace=namespace)}
    assert "index-archivist-search-0" in claims
    failed = [e["message"] for e in _events(cluster, namespace) if e["reason"] == "FailedCreate"]
    assert failed == []


def test_the_ops_job_built_from_the_live_cronjob_is_admitted(cluster: Cluster, deployed: tuple[str, list]) -> None:
    namespace, _ = deployed
    cron = cluster.get("cronjob", "archivist-worker", namespace=namespace)
    job = on_demand_job(cron, "20000101000000")
    created = cluster.apply([job])
    assert created.ok, created.stderr
    wait_for("the ops job's pod", lambda: [
        p for p in cluster.items("pods", namespace=namespace)
        if p["metadata"].get("labels", {}).get("job-name") == job["metadata"]["name"]])
