"""Startup order and no paper paid for twice, as rendered: the pre-flight Jobs gate the apps, the
topic exists with the brokers' replication, Redis never evicts, a failed batch fails once."""

from __future__ import annotations

import re
import subprocess
from typing import Any

import pytest

from archivist_infra.offline.engine import Run
from archivist_infra.tiers.kafka import replication
from archivist_infra.tiers.preflight import CHECK_SCRIPT, KAFKA_TOPIC, MODEL_CHECK, topic_script
from tests.conftest import env_of, find, pod_spec, run_config

JOB = "kubernetes:batch/v1:Job"


def _job(run: Run, name: str) -> Any:
    [job] = [r for r in run.by_type(JOB) if r.inputs["metadata"]["name"] == name]
    return job


@pytest.mark.parametrize("stack", ["dev", "prod"])
def test_the_apps_wait_for_the_preflight_jobs(stack: str, request: pytest.FixtureRequest) -> None:
    run: Run = request.getfixturevalue(f"{stack}_run")
    check, topic = _job(run, MODEL_CHECK).urn, _job(run, KAFKA_TOPIC).urn
    deps = {r.inputs["metadata"]["name"]: set(r.dependencies) for r in run.resources
            if r.type.startswith("kubernetes:apps/v1:") or r.type == "kubernetes:batch/v1:CronJob"}
    assert {check, topic} <= deps["archivist-graph"]
    assert {check, topic} <= deps["archivist-worker"]
    assert check in deps["archivist-search"]
    # Pulumi awaits a Job unless told to skip: nothing may say so.
    for name in (MODEL_CHECK, KAFKA_TOPIC):
        annotations = _job(run, name).inputs["metadata"].get("annotations") or {}
        assert "pulumi.com/skipAwait" not in annotations
        # ...and a failed one is replaced (run again) on the next up instead of awaited again.
        assert annotations.get("pulumi.com/replaceUnready") == "true"


@pytest.mark.parametrize("stack", ["dev", "prod"])
def test_the_jobs_pods_hold_the_pod_rules(stack: str, request: pytest.FixtureRequest) -> None:
    objects = request.getfixturevalue(f"{stack}_objects")
    for name in (MODEL_CHECK, KAFKA_TOPIC):
        pod = pod_spec(find(objects, "Job", name))
        assert pod["securityContext"]["runAsNonRoot"] is True
        assert pod["securityContext"]["seccompProfile"] == {"type": "RuntimeDefault"}
        assert pod["automountServiceAccountToken"] is False
        [container] = pod["containers"]
        sc = container["securityContext"]
        assert sc["readOnlyRootFilesystem"] is True and sc["capabilities"] == {"drop": ["ALL"]}
        assert sc["allowPrivilegeEscalation"] is False
        assert set(container["resources"]) == {"requests", "limits"}


def test_the_model_check_runs_the_shipped_script_with_an_image_we_deploy(dev_objects: list) -> None:
    job = find(dev_objects, "Job", MODEL_CHECK)
    [container] = pod_spec(job)["containers"]
    search = pod_spec(find(dev_objects, "StatefulSet", "archivist-search"))["containers"][0]
    assert container["image"] == search["image"]
    assert container["command"] == ["python", "/check/gemini_check.py"]
    assert find(dev_objects, "ConfigMap", MODEL_CHECK)["data"]["gemini_check.py"] == CHECK_SCRIPT.read_text()
    env = env_of(container)
    assert env["GEMINI_API_KEY"] == ("secret", "GEMINI_API_KEY")
    assert env["GEMINI_MODELS"] == "gemini-3.5-flash:generateContent,gemini-embedding-001:embedContent"
    assert "gemini-2.0-flash=gemini-3.5-flash" in env["GEMINI_REPLACEMENTS"].split(",")


def test_preflight_false_drops_the_check_and_its_egress() -> None:
    from archivist_infra.offline.render import manifests

    objects = manifests(run_config({"gemini": {"preflight": False}}))
    assert not [o for o in objects if o["metadata"]["name"] == MODEL_CHECK]
    assert find(objects, "Job", KAFKA_TOPIC)


@pytest.mark.parametrize(("stack", "brokers"), [("dev", 1), ("prod", 3)])
def test_the_topic_job_creates_the_configured_topic(stack: str, brokers: int, request: pytest.FixtureRequest) -> None:
    """Prod: replication 3 on 3 brokers, so the Job retries until all three are registered (audit S1)."""
    objects = request.getfixturevalue(f"{stack}_objects")
    kafka = pod_spec(find(objects, "StatefulSet", "kafka"))["containers"][0]
    kafka_env = {e["name"]: e.get("value") for e in kafka["env"]}
    assert find(objects, "StatefulSet", "kafka")["spec"]["replicas"] == brokers
    [container] = pod_spec(find(objects, "Job", KAFKA_TOPIC))["containers"]
    script = container["command"][2]
    partitions, rf = kafka_env["KAFKA_NUM_PARTITIONS"], replication(brokers)["default_replication"]
    assert f"--topic paper.processed --partitions {partitions} --replication-factor {rf}" in script
    assert str(rf) == kafka_env["KAFKA_DEFAULT_REPLICATION_FACTOR"]
    assert container["image"] == kafka["image"]
    service = find(objects, "Service", "kafka")
    port = next(p["port"] for p in service["spec"]["ports"] if p["name"] == "client")
    assert env_of(container)["BOOTSTRAP"] == f"kafka.archivist.svc.cluster.local:{port}"


def test_the_topic_script_retries_until_created_then_raises_partitions(tmp_path: Any) -> None:
    """The script as the Job runs it, against a stand-in kafka-topics.sh (fails twice, then reports 3 partitions)."""
    tool = tmp_path / "kafka-topics.sh"
    log = tmp_path / "calls"
    tool.write_text(f"""#!/bin/sh
echo "$@" >> {log}
case "$*" in
  *--create*) n=$(grep -c -- --create {log}); [ "$n" -ge 3 ] || exit 1 ;;
  *--describe*) echo "Topic: paper.processed TopicId: x PartitionCount: 3 ReplicationFactor: 1" ;;
esac
""")
    tool.chmod(0o755)
    script = topic_script(partitions=10, replicas=1).replace("/opt/kafka/bin/kafka-topics.sh", str(tool))
    script = script.replace("sleep 5", "sleep 0")
    done = subprocess.run(["sh", "-c", script], env={"BOOTSTRAP": "kafka:9092", "PATH": "/usr/bin:/bin"},
                          capture_output=True, text=True, timeout=30, check=False)
    assert done.returncode == 0, done.stderr
    calls = log.read_text().splitlines()
    assert [c for c in calls if "--create" in c] == [
        "--bootstrap-server kafka:9092 --create --if-not-exists --topic paper.processed --partitions 10 "
        "--replication-factor 1"] * 3
    assert calls[-1] == "--bootstrap-server kafka:9092 --alter --topic paper.processed --partitions 10"
    assert "topic paper.processed: 10 partitions (had 3)" in done.stdout


def test_redis_never_evicts(dev_objects: list, prod_objects: list) -> None:
    """The worker's analysis cache must not be evicted by search's traffic (audit F3; redis.py)."""
    for objects in (dev_objects, prod_objects):
        args = pod_spec(find(objects, "StatefulSet", "redis"))["containers"][0]["args"]
        policy = args[args.index("--maxmemory-policy") + 1]
        assert policy == "noeviction"
        assert not [a for a in args if re.search("lru|lfu|random", a)]


def test_a_failed_batch_fails_once(dev_objects: list) -> None:
    job = find(dev_objects, "CronJob", "archivist-worker")["spec"]["jobTemplate"]["spec"]
    assert job["backoffLimit"] == 0
