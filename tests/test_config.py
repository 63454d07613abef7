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
    ({"ingress": {"mode": "gateway", "host": "archivist.example.com", "gateway": {"create": False}}},
     "archivist:ingress.gateway.name"),
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


# -- what a real API server refuses, refused in config first (tests/apiserver/test_config_vs_server.py) --


@pytest.mark.parametrize("app", ["worker", "search", "graph"])
def test_user_env_repeating_a_derived_variable_is_refused_naming_the_key(app: str) -> None:
    from archivist_infra.tiers.archivist_apps import derived_env_names

    # The server refuses the Deployment: `duplicate entries for key [name="..."]`.
    for name in derived_env_names(app):
        found = problems({app: {"env": {name: "x"}}})
        assert f"already sets {name}" in found[f"archivist:{app}.env.{name}"]


def test_derived_env_names_are_the_names_the_tier_renders(dev_objects) -> None:  # type: ignore[no-untyped-def]
    from archivist_infra.tiers.archivist_apps import derived_env_names
    from tests.conftest import pod_spec

    for app in ("worker", "search", "graph"):
        # The batch worker is a CronJob, search a StatefulSet, graph a Deployment: whichever kind, one workload.
        [workload] = [o for o in dev_objects if o["metadata"]["name"] == f"archivist-{app}"
                      and o["kind"] in ("Deployment", "StatefulSet", "CronJob")]
        template = workload["spec"]["jobTemplate"] if workload["kind"] == "CronJob" else workload
        container = pod_spec(template)["containers"][0]
        assert [e["name"] for e in container["env"]] == derived_env_names(app)


def test_user_env_with_other_names_is_kept() -> None:
    s = settings({"worker": {"env": {"LOG_LEVEL": "debug", "java.opts": "-Xmx1g"}}})
    assert s.worker.extra_env == {"LOG_LEVEL": "debug", "java.opts": "-Xmx1g"}


@pytest.mark.parametrize("name", ["A=B", "1BAD", "BAD NAME", "ÄPFEL"])
def test_env_names_the_server_may_refuse_are_refused(name: str) -> None:
    assert "not a valid environment variable name" in problems({"search": {"env": {name: "x"}}})[f"archivist:search.env.{name}"]


@pytest.mark.parametrize(("raw", "key"), [
    ({"neo4j": {"storage": {"className": "Fast_SSD"}}}, "archivist:neo4j.storage.className"),
    ({"sharedData": {"className": "nfs share"}}, "archivist:sharedData.className"),
    ({"ingress": {"mode": "ingress", "host": "a.example.com", "className": "Traefik_X"}}, "archivist:ingress.className"),
    # An adopted Gateway (gateway.create: false) is referenced by name and namespace; a created one is named.
    ({"ingress": {"mode": "gateway", "host": "a.example.com", "gateway": {"create": False, "name": "Public GW"}}},
     "archivist:ingress.gateway.name"),
    ({"ingress": {"mode": "gateway", "host": "a.example.com", "gateway": {"create": False, "name": "public",
                                                                          "namespace": "Gateway_NS"}}},
     "archivist:ingress.gateway.namespace"),
    ({"ingress": {"mode": "gateway", "host": "a.example.com", "gateway": {"create": False, "name": "public",
                                                                          "namespace": "g" * 64}}},
     "archivist:ingress.gateway.namespace"),
    ({"ingress": {"mode": "gateway", "host": "a.example.com", "gateway": {"name": "Public GW"}}},
     "archivist:ingress.gateway.name"),
    ({"ingress": {"mode": "gateway", "host": "a.example.com", "gateway": {"namespace": "Gateway_NS"}}},
     "archivist:ingress.gateway.namespace"),
    ({"ingress": {"mode": "ingress", "host": "a.example.com", "annotations": {"bad key": "v"}}},
     "archivist:ingress.annotations.bad key"),
    ({"ingress": {"mode": "ingress", "host": "a.example.com", "annotations": {"Not_A_Domain/x": "v"}}},
     "archivist:ingress.annotations.Not_A_Domain/x"),
    ({"namespace": "n" * 64}, "archivist:namespace"),
    ({"neo4j": {"database": "Papers_DB"}}, "archivist:neo4j.database"),
])
def test_names_that_are_not_valid_kubernetes_names_are_refused(raw: dict, key: str) -> None:
    assert key in problems(raw)


def test_valid_names_and_annotation_keys_pass() -> None:
    s = settings({"ingress": {"mode": "ingress", "host": "a.example.com", "className": "traefik.v2",
                              "annotations": {"traefik.ingress.kubernetes.io/router.tls": "true", "simple": "x"}},
                  "neo4j": {"storage": {"className": "premium-rwo"}}, "namespace": "n" * 63})
    assert s.ingress.class_name == "traefik.v2" and s.neo4j.storage.storage_class == "premium-rwo"


def test_an_adopted_gateway_may_have_a_dotted_name_and_listener() -> None:
    # An HTTPRoute's parentRef takes the Gateway's object name (a DNS subdomain, up to 253) and a
    # sectionName of the same form (Gateway API v1 httproutes CRD); only the namespace is a DNS label.
    s = settings({"ingress": {"mode": "gateway", "host": "a.example.com", "gateway": {
        "create": False, "name": "public.gw", "namespace": "gateway-system", "sectionName": "https.archivist"}}})
    assert s.ingress.adopted is not None
    assert (s.ingress.adopted.name, s.ingress.adopted.section_name) == ("public.gw", "https.archivist")


@pytest.mark.parametrize(("raw", "key"), [
    # The server warns `fractional byte value "1500m" is invalid, must be an integer`.
    ({"search": {"resources": {"memoryRequest": "1500m"}}}, "archivist:search.resources.memoryRequest"),
    ({"redis": {"storage": {"size": "1m"}}}, "archivist:redis.storage.size"),
    ({"sharedData": {"size": "0.5"}}, "archivist:sharedData.size"),
])
def test_fractional_byte_sizes_are_refused(raw: dict, key: str) -> None:
    assert "whole number of bytes" in problems(raw)[key]


def test_whole_byte_sizes_with_a_fraction_in_the_spelling_pass() -> None:
    assert settings({"neo4j": {"storage": {"size": "1.5Gi"}}}).neo4j.storage.size == "1.5Gi"


@pytest.mark.parametrize("image", [" redis:7.4 ", "Redis Latest", "redis", "redis:latest"])
def test_store_images_must_be_pinned_references(image: str) -> None:
    # A Deployment/StatefulSet template takes any string; the pods made from it are refused.
    assert "not a pinned image reference" in problems({"redis": {"image": image}})["archivist:redis.image"]


@pytest.mark.parametrize(("raw", "key"), [
    # Found by tests/apiserver/test_config_vs_server.py: the server refuses the whole apply with
    # "error decoding YAML: ... yaml: control characters are not allowed".
    ({"search": {"env": {"LOG_LEVEL": "a\x8eb"}}}, "archivist:search.env.LOG_LEVEL"),
    ({"worker": {"healthCheck": {"kind": "exec", "command": ["/bin/true", "\x1c"]}}}, "archivist:worker.healthCheck.command[1]"),
    ({"ingress": {"mode": "ingress", "host": "a.example.com", "tlsIssuer": "le\x00"}}, "archivist:ingress.tlsIssuer"),
])
def test_control_characters_the_server_refuses_are_refused(raw: dict, key: str) -> None:
    assert "control character" in problems(raw)[key]


def test_printable_unicode_tabs_and_newlines_pass() -> None:
    assert settings({"search": {"env": {"GREETING": "grüß\tdich\n😀"}}}).search.extra_env == {"GREETING": "grüß\tdich\n😀"}
