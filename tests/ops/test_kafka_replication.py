"""The reassignment plan that raises replication after brokers were added (docs/data-safety-ops.md)."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

import pytest

from archivist_infra.ops.kafka_replication import main, parse_describe, plan

# `kafka-topics.sh --describe` of a stack grown from 1 to 3 brokers (Kafka 4.x columns, tab-separated).
DESCRIBE = (
    "Topic: paper.processed\tTopicId: 3hQ0pZQ9T1qGf7v8bXk2ZA\tPartitionCount: 3\tReplicationFactor: 1\tConfigs: \n"
    "\tTopic: paper.processed\tPartition: 0\tLeader: 0\tReplicas: 0\tIsr: 0\tElr: \tLastKnownElr: \n"
    "\tTopic: paper.processed\tPartition: 1\tLeader: 0\tReplicas: 0\tIsr: 0\tElr: \tLastKnownElr: \n"
    "\tTopic: paper.processed\tPartition: 2\tLeader: 0\tReplicas: 0\tIsr: 0\tElr: \tLastKnownElr: \n"
    "Topic: __consumer_offsets\tTopicId: Yb1mQw2sR8aV0cX4dE6fGg\tPartitionCount: 2\tReplicationFactor: 1\t"
    "Configs: compression.type=producer,cleanup.policy=compact\n"
    "\tTopic: __consumer_offsets\tPartition: 0\tLeader: 0\tReplicas: 0\tIsr: 0\tElr: \tLastKnownElr: \n"
    "\tTopic: __consumer_offsets\tPartition: 1\tLeader: 0\tReplicas: 0\tIsr: 0\tElr: \tLastKnownElr: \n"
    "Topic: already\tTopicId: x\tPartitionCount: 1\tReplicationFactor: 3\tConfigs: \n"
    "\tTopic: already\tPartition: 0\tLeader: 1\tReplicas: 1,2,0\tIsr: 1,2,0\tElr: \tLastKnownElr: \n"
)


def test_describe_lines_give_every_partition_with_its_replicas() -> None:
    current = parse_describe(DESCRIBE)
    assert current[("paper.processed", 2)] == [0]
    assert current[("__consumer_offsets", 1)] == [0]
    assert current[("already", 0)] == [1, 2, 0]
    assert len(current) == 6


def test_every_short_partition_gets_the_factor_on_distinct_brokers_keeping_its_leader_first() -> None:
    document = plan(parse_describe(DESCRIBE), [0, 1, 2], 3)
    assert document["version"] == 1
    moved = {(p["topic"], p["partition"]): p["replicas"] for p in document["partitions"]}
    assert ("already", 0) not in moved  # nothing to do there
    assert set(moved) == {("paper.processed", i) for i in range(3)} | {("__consumer_offsets", i) for i in range(2)}
    for replicas in moved.values():
        assert replicas[0] == 0 and sorted(replicas) == [0, 1, 2]
    assert all(p["log_dirs"] == ["any"] * 3 for p in document["partitions"])


def test_added_replicas_spread_over_the_least_loaded_brokers() -> None:
    current = {("t", i): [0] for i in range(4)}
    moved = [p["replicas"] for p in plan(current, [0, 1, 2, 3], 2)["partitions"]]
    # Broker 0 holds all four; 1, 2 and 3 take one each in turn, then the lowest of the tied ones.
    assert [r[1] for r in moved] == [1, 2, 3, 1]
    assert Counter(r[1] for r in moved) == Counter({1: 2, 2: 1, 3: 1})


def test_impossible_plans_are_refused() -> None:
    with pytest.raises(ValueError, match="needs at least 3 brokers"):
        plan({("t", 0): [0]}, [0, 1], 3)
    with pytest.raises(ValueError, match="brokers \\[5\\]"):
        plan({("t", 0): [5]}, [0, 1, 2], 3)


def test_the_command_writes_the_reassignment_file(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    describe = tmp_path / "describe.txt"
    describe.write_text(DESCRIBE)
    assert main([str(describe), "--brokers", "3", "--factor", "3"]) == 0
    document = json.loads(capsys.readouterr().out)
    assert len(document["partitions"]) == 5
    describe.write_text("nothing useful\n")
    assert main([str(describe), "--brokers", "3"]) == 2
