"""Configuration: defaults from the guide, every problem reported with its key, nothing registered."""

from __future__ import annotations

from pathlib import Path

import pytest

from archivist_infra.config.load import load_settings
from archivist_infra.config.problems import ConfigError
from archivist_infra.config.quantity import parse_quantity
from archivist_infra.offline.stackfile import read_stack
from tests.conftest import VALID_IMAGES, run_config


def settings(raw: dict, secrets: set[str] | None = None):  # type: ignore[no-untyped-def]
    return load_settings({"images": VALID_IMAGES, **raw}, project="archivist", stack="t",
                         secrets_present={"geminiApiKey"} if secrets is None else secrets)


def problems(raw: dict, secrets: set[str] | None = None) -> dict[str, str]:
    with pytest.raises(ConfigError) as err:
        settings(raw, secrets)
    return {p.key: p.message for p in err.value.problems}


def test_defaults_are_the_guides_production_figures() -> None:
    s = settings({})
    assert (s.worker.autoscaling.min_replicas, s.worker.autoscaling.max_replicas) == (2, 20)
    assert (s.search.autoscaling.min_replicas, s.search.autoscaling.max_replicas) == (2, 10)
    assert (s.graph.autoscaling.min_replicas, s.graph.autoscaling.max_replicas) == (2, 10)
    assert (s.qdrant.autoscaling.min_replicas, s.qdrant.autoscaling.max_replicas) == (2, 5)
    assert (s.worker.autoscaling.cpu_percent, s.worker.autoscaling.memory_percent) == (70, 80)
    assert [s.neo4j.storage.size, s.kafka.storage.size, s.qdrant.storage.size, s.redis.storage.size] == [
        "10Gi", "10Gi", "5Gi", "2Gi"]
    assert s.shared_data.size == "20Gi" and s.shared_data.access_mode == "ReadWriteMany"
    assert s.worker.resources.as_k8s() == {"requests": {"cpu": "500m", "memory": "1Gi"},
                                           "limits": {"cpu": "2", "memory": "4Gi"}}
    assert s.redis.max_memory == "512mb" and s.kafka.brokers == 1


def test_every_problem_is_reported_at_once_with_its_key() -> None:
    found = problems({
        "platform": "gcp",
        "neo4j": {"storage": {"size": "10 GB"}},
        "worker": {"autoscaling": {"minReplicas": 5, "maxReplicas": 2}},
        "search": {"resources": {"cpuRequest": "2", "cpuLimit": "1"}},
        "kafka": {"brokers": 0},
        "redis": {"maxMemory": "lots"},
        "kafak": {},
    })
    assert "is not one of" in found["archivist:platform"]
    assert "'10Gi'" in found["archivist:neo4j.storage.size"]
    assert "below minReplicas 5" in found["archivist:worker.autoscaling.maxReplicas"]
    assert "above the cpu limit" in found["archivist:search.resources.cpuRequest"]
    assert "at least 1" in found["archivist:kafka.brokers"]
    assert "512mb" in found["archivist:redis.maxMemory"]
    assert "did you mean 'kafka'" in found["archivist:kafak"]


def test_missing_or_plain_text_secrets_are_refused_with_the_fix() -> None:
    assert "pulumi config set --secret archivist:geminiApiKey" in problems({}, secrets=set())["archivist:geminiApiKey"]
    found = problems({"neo4jPassword": "plain-text-example"}, secrets={"geminiApiKey"})
    assert "plain text" in found["archivist:neo4jPassword"]


@pytest.mark.parametrize(("raw", "key"), [
    ({"images": {"worker": "archivist/worker:latest", "search": VALID_IMAGES["search"],
                 "graph": VALID_IMAGES["graph"]}}, "archivist:images.worker"),
    ({"images": {"search": VALID_IMAGES["search"], "graph": VALID_IMAGES["graph"]}}, "archivist:images.worker"),
    ({"graph": {"healthCheck": {"kind": "http", "port": 99999}}}, "archivist:graph.healthCheck.port"),
    ({"worker": {"healthCheck": {"kind": "exec", "command": []}}}, "archivist:worker.healthCheck.command"),
    ({"ingress": {"mode": "gateway", "host": "archivist.example.com"}}, "archivist:ingress.gatewayName"),
    ({"ingress": {"mode": "ingress", "host": "Not A Host"}}, "archivist:ingress.host"),
    ({"namespace": "Archivist_NS"}, "archivist:namespace"),
    ({"neo4j": {"resources": {"memoryLimit": "512Mi", "memoryRequest": "256Mi"}}}, "archivist:neo4j.resources.memoryLimit"),
    ({"redis": {"maxMemory": "2gb"}}, "archivist:redis.maxMemory"),
    ({"protect": "yes"}, "archivist:protect"),
    ({"worker": {"autoscaling": {"cpuPercent": 0}}}, "archivist:worker.autoscaling.cpuPercent"),
    ({"qdrant": "big"}, "archivist:qdrant"),
])
def test_user_mistakes_name_the_key(raw: dict, key: str) -> None:
    assert key in problems(raw)


def test_health_check_can_be_switched_per_service() -> None:
    s = settings({"worker": {"port": 8080, "healthCheck": {"kind": "http", "path": "/healthz", "port": 8080}},
                  "graph": {"healthCheck": {"kind": "none"}}})
    assert (s.worker.health.kind, s.worker.health.path, s.worker.health.port) == ("http", "/healthz", 8080)
    assert s.graph.health.kind == "none"


def test_bad_config_registers_no_resource() -> None:
    with pytest.raises(ConfigError):
        run = run_config({"platform": "local", "images": VALID_IMAGES, "kafka": {"brokers": "three"}})
        pytest.fail(f"rendered {len(run.resources)} resources")


def test_quantities() -> None:
    assert parse_quantity("1Gi") == 2**30
    assert parse_quantity("250m") == parse_quantity("0.25")
    assert parse_quantity("10 GB") is None and parse_quantity(True) is None and parse_quantity("-1") is None


def test_stack_file_secure_values_become_placeholders(tmp_path: Path) -> None:
    (tmp_path / "Pulumi.yaml").write_text("name: archivist\nruntime: python\n"
                                          "config:\n  archivist:platform:\n    type: string\n    default: local\n")
    (tmp_path / "Pulumi.x.yaml").write_text(
        "config:\n  archivist:geminiApiKey:\n    secure: v1:abc\n  archivist:kafka:\n    brokers: 3\n")
    cfg = read_stack(tmp_path, "x")
    assert cfg.values["archivist:geminiApiKey"] == "[secret:archivist:geminiApiKey]"
    assert cfg.values["archivist:platform"] == "local"
    assert cfg.values["archivist:kafka"] == '{"brokers": 3}'
    assert cfg.secret_keys == ["archivist:geminiApiKey"]
