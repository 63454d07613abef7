"""The appsource stores are the versions the stack deploys (offline; part of the default run).

Kafka's broker jars (tests/appsource/stores/kafka/pom.xml) are the release of the deployed
`apache/kafka` image, and neo4j-harness is the deployed Neo4j's release (archivist_infra/versions.py),
so the loopback tests exercise the clients against the servers users run.
"""

from __future__ import annotations

import re
from pathlib import Path

from archivist_infra.versions import KAFKA_IMAGE, NEO4J_IMAGE

STORES = Path(__file__).resolve().parent / "stores"


def dependency_version(pom: Path, artifact: str) -> str:
    text = pom.read_text()
    match = re.search(rf"<artifactId>{re.escape(artifact)}</artifactId>\s*<version>([^<]+)</version>", text)
    assert match, f"{pom}: no {artifact}"
    return match.group(1)


def test_kafka_jars_are_the_deployed_kafka_release() -> None:
    deployed = re.fullmatch(r"apache/kafka:([0-9.]+)", KAFKA_IMAGE)
    assert deployed
    assert dependency_version(STORES / "kafka/pom.xml", "kafka_2.13") == deployed.group(1)


def test_neo4j_harness_is_the_deployed_neo4j_release() -> None:
    deployed = re.fullmatch(r"neo4j:([0-9.]+)-community", NEO4J_IMAGE)
    assert deployed
    assert dependency_version(STORES / "neo4j/pom.xml", "neo4j-harness") == deployed.group(1)
