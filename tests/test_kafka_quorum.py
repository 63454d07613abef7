"""Kafka: a fixed controller quorum, so the broker count changes safely and a quorum change is refused."""

from __future__ import annotations

import os
import subprocess
from typing import Any

import pytest

from archivist_infra import versions
from archivist_infra.config.problems import ConfigError
from archivist_infra.offline.render import manifests
from archivist_infra.tiers.data_guard import explain
from archivist_infra.tiers.kafka import LOG4J2_YAML, VOTERS_LABEL, start_command
from tests.conftest import VALID_IMAGES, env_of, find, pod_spec, run_config


def _kafka(config: dict[str, Any]) -> dict[str, Any]:
    return find(manifests(run_config({"images": VALID_IMAGES, "kafka": config})), "StatefulSet", "kafka")


def _start(ordinal: int, controllers: int) -> dict[str, str]:
    """Run the pod's start script with the launcher replaced by `env`: the environment Kafka would get."""
    script = start_command("archivist", controllers)[-1].replace("exec /etc/kafka/docker/run", "exec env")
    out = subprocess.run(["/bin/sh", "-c", script], env={"HOSTNAME": f"kafka-{ordinal}", "PATH": os.environ["PATH"]},
                         capture_output=True, text=True, check=True).stdout
    return dict(line.split("=", 1) for line in out.splitlines() if line.startswith("KAFKA_"))


def test_ordinals_below_the_quorum_are_controllers_and_the_rest_brokers_only() -> None:
    voter = _start(2, 3)
    assert voter["KAFKA_NODE_ID"] == "2" and voter["KAFKA_PROCESS_ROLES"] == "broker,controller"
    assert "CONTROLLER://:9093" in voter["KAFKA_LISTENERS"]
    broker = _start(4, 3)
    assert broker["KAFKA_NODE_ID"] == "4" and broker["KAFKA_PROCESS_ROLES"] == "broker"
    # KafkaConfig refuses a broker-only node whose listeners include the controller listener.
    assert "CONTROLLER" not in broker["KAFKA_LISTENERS"]
    assert broker["KAFKA_ADVERTISED_LISTENERS"] == (
        "PLAINTEXT://kafka-4.kafka-headless.archivist.svc.cluster.local:9092")


def test_more_brokers_keep_the_voter_set_and_the_claim_template() -> None:
    three, five = _kafka({"brokers": 3, "controllers": 3}), _kafka({"brokers": 5, "controllers": 3})
    voters = [env_of(pod_spec(s)["containers"][0])["KAFKA_CONTROLLER_QUORUM_VOTERS"] for s in (three, five)]
    assert voters[0] == voters[1] and voters[0].count("@") == 3
    # Same claim template: the StatefulSet is updated in place (replicas 3 -> 5), never replaced.
    assert three["spec"]["volumeClaimTemplates"] == five["spec"]["volumeClaimTemplates"]
    assert five["spec"]["replicas"] == 5


def test_a_changed_voter_count_changes_the_claim_template_which_forces_a_refused_replacement() -> None:
    one, three = _kafka({"brokers": 3, "controllers": 1}), _kafka({"brokers": 3, "controllers": 3})
    labels = [s["spec"]["volumeClaimTemplates"][0]["metadata"]["labels"][VOTERS_LABEL] for s in (one, three)]
    assert labels == ["1", "3"]
    message = explain("kubernetes:apps/v1:StatefulSet", "kafka-statefulset")
    assert "Kafka" in message and "docs/data-safety.md" in message


def test_growing_brokers_from_one_to_three_leaves_the_default_voter_set_alone() -> None:
    # audit D8: the default followed the broker count (3 if brokers >= 3), so 1 -> 3 brokers asked for
    # a new quorum. The default is now independent of the brokers.
    one, three = _kafka({"brokers": 1}), _kafka({"brokers": 3})
    voters = [env_of(pod_spec(s)["containers"][0])["KAFKA_CONTROLLER_QUORUM_VOTERS"] for s in (one, three)]
    assert voters[0] == voters[1] and voters[0].count("@") == 1
    assert one["spec"]["volumeClaimTemplates"] == three["spec"]["volumeClaimTemplates"]  # updated in place
    assert three["spec"]["replicas"] == 3


def test_prod_states_its_three_voters_explicitly(prod_objects: list) -> None:
    sts = find(prod_objects, "StatefulSet", "kafka")
    assert env_of(pod_spec(sts)["containers"][0])["KAFKA_CONTROLLER_QUORUM_VOTERS"].count("@") == 3
    assert sts["spec"]["volumeClaimTemplates"][0]["metadata"]["labels"][VOTERS_LABEL] == "3"


def test_growing_a_dev_stack_from_one_broker_keeps_its_single_voter_when_pinned() -> None:
    # dev defaults to 1 voter; 1 -> 3 brokers with controllers pinned at 1 keeps the quorum.
    grown = _kafka({"brokers": 3, "controllers": 1})
    assert env_of(pod_spec(grown)["containers"][0])["KAFKA_CONTROLLER_QUORUM_VOTERS"].count("@") == 1
    assert grown["spec"]["volumeClaimTemplates"][0]["metadata"]["labels"][VOTERS_LABEL] == "1"


@pytest.mark.parametrize(("config", "key"), [
    ({"brokers": 2, "controllers": 3}, "archivist:kafka.brokers"),
    ({"brokers": 4, "controllers": 2}, "archivist:kafka.controllers"),
])
def test_impossible_quorums_are_refused_by_key(config: dict, key: str) -> None:
    with pytest.raises(ConfigError) as err:
        run_config({"images": VALID_IMAGES, "kafka": config})
    assert key in err.value.keys


def test_kafka_logs_only_to_stdout(dev_objects: list) -> None:
    sts = find(dev_objects, "StatefulSet", "kafka")
    c = pod_spec(sts)["containers"][0]
    env = env_of(c)
    assert env["KAFKA_LOG4J_OPTS"] == "-Dlog4j2.configurationFile=/etc/kafka/archivist/log4j2.yaml"
    assert env["KAFKA_GC_LOG_OPTS"].startswith("-Xlog:gc:stdout")
    mounts = {m["mountPath"]: m["name"] for m in c["volumeMounts"]}
    volume = next(v for v in pod_spec(sts)["volumes"] if v["name"] == mounts["/etc/kafka/archivist"])
    cm = find(dev_objects, "ConfigMap", volume["configMap"]["name"])
    assert cm["data"]["log4j2.yaml"] == LOG4J2_YAML
    assert "File" not in LOG4J2_YAML and "Console" in LOG4J2_YAML


def test_kafka_image_is_a_4x_release() -> None:
    assert versions.KAFKA_IMAGE.startswith("apache/kafka:4.")
