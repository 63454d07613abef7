"""Every config the checker accepts, the real API server accepts too (hypothesis, bounded and seeded).

Configs are generated over the keys whose values reach Kubernetes objects (names, env, sizes,
images, probes, ingress), mixing ordinary values with the edge cases the server is strict about.
A config the checker refuses proves nothing here (the unit tests in tests/test_config.py pin each
refusal); a config it accepts is rendered by the real program and sent with `--dry-run=server`
(plus one pod per workload template, which the server validates more strictly than the template):
the server must neither refuse nor warn about anything.
"""

from __future__ import annotations

import uuid
from typing import Any

from hypothesis import HealthCheck, Phase, given, note, settings
from hypothesis import strategies as st

from archivist_infra.config.problems import ConfigError

from .kube import Cluster
from .stacks import ROOT, apply_render, cleanup, read_stack_file, render, with_config

BASE = read_stack_file(ROOT / "examples" / "stacks" / "kind.yaml")
# Ready-made references (all three, pinned) so the worker's can vary; the stack file builds from source.
IMAGES = {app: f"registry.example.com/archivist/{app}:1.0.0" for app in ("worker", "search", "graph")}

# Values a user may plausibly type, good and bad, for each kind of field.
NAME_LIKE = ["standard", "fast.ssd", "premium-rwo", "Fast_SSD", "a" * 63, "a" * 64, "x", "-x", "traefik"]
ENV_NAMES = ["LOG_LEVEL", "java.opts", "_X", "a-b", "A=B", "1X", "HOME", "NEO4J_URI", "REDIS_URL", "MY VAR", "Ü"]
CPU = ["1m", "0.0001", "100m", "1", "2.5", "1500m", "0.5", "250m"]
MEMORY = ["1Mi", "128Mi", "1.5Gi", "1500m", "1000", "256M", "2Gi", "0.5Ki"]
SIZES = ["1Gi", "1.5Gi", "1m", "1", "10G", "512Mi", "1Ti"]
HOSTS = ["archivist.example.com", "a.b", "x" * 63 + ".example.com", "Upper.Example.com", "localhost"]
ANNOTATION_KEYS = ["simple", "example.com/setting", "traefik.ingress.kubernetes.io/router.tls", "bad key",
                   "Not_A_Domain/x", "a/b/c", "x" * 64]
IMAGE_REFS = ["registry.example.com/archivist/worker:1.0.0", "localhost:5000/w:dev-1", "w:1",
              "ghcr.io/a/b@sha256:" + "a" * 64, "w:latest", "W:1", "w"]

text = st.text(st.characters(codec="utf-8", exclude_categories=("Cs",)), max_size=20)


def _resources() -> st.SearchStrategy[dict[str, str]]:
    return st.fixed_dictionaries({}, optional={
        "cpuRequest": st.sampled_from(CPU), "cpuLimit": st.sampled_from(CPU),
        "memoryRequest": st.sampled_from(MEMORY), "memoryLimit": st.sampled_from(MEMORY)})


def _app(port: int | None) -> st.SearchStrategy[dict[str, Any]]:
    health = st.one_of(
        st.fixed_dictionaries({"kind": st.just("http"), "path": st.sampled_from(["/health", "/he alth", "/ü", "/"]),
                               "port": st.sampled_from([port or 8080, 1, 65535])}),
        st.fixed_dictionaries({"kind": st.just("tcp"), "port": st.sampled_from([port or 8080, 65535])}),
        st.fixed_dictionaries({"kind": st.just("exec"), "command": st.lists(text, min_size=1, max_size=3)}),
        st.fixed_dictionaries({"kind": st.just("none")}),
    )
    return st.fixed_dictionaries({}, optional={
        "env": st.dictionaries(st.sampled_from(ENV_NAMES), text, max_size=3),
        "resources": _resources(),
        "autoscaling": st.fixed_dictionaries({"minReplicas": st.integers(1, 3), "maxReplicas": st.integers(1, 1000)}),
        "healthCheck": health,
        "runAsUser": st.sampled_from([1, 1000, 2**31 - 1]),
    })


def _store(**extra: st.SearchStrategy[Any]) -> st.SearchStrategy[dict[str, Any]]:
    return st.fixed_dictionaries({}, optional={
        "resources": _resources(),
        "storage": st.fixed_dictionaries({"size": st.sampled_from(SIZES)},
                                         optional={"className": st.sampled_from(NAME_LIKE)}),
        **extra,
    })


ingress = st.one_of(
    st.fixed_dictionaries({"mode": st.just("ingress"), "host": st.sampled_from(HOSTS)}, optional={
        "className": st.sampled_from(NAME_LIKE), "tlsIssuer": text,
        "annotations": st.dictionaries(st.sampled_from(ANNOTATION_KEYS), text, max_size=2)}),
    # An adopted Gateway (ingress.gateway.create: false): names the route's parentRef carries.
    st.fixed_dictionaries({"mode": st.just("gateway"), "host": st.sampled_from(HOSTS),
                           "gateway": st.fixed_dictionaries(
                               {"create": st.just(False), "name": st.sampled_from(NAME_LIKE)},
                               optional={"namespace": st.sampled_from(NAME_LIKE)})}),
)

configs = st.fixed_dictionaries(
    {"namespace": st.from_regex(r"[a-z0-9]([-a-z0-9]{0,52}[a-z0-9])?", fullmatch=True)},
    optional={
        "images": st.fixed_dictionaries({"worker": st.sampled_from(IMAGE_REFS)}).map(lambda d: {**IMAGES, **d}),
        "worker": _app(None), "search": _app(8000), "graph": _app(8081),
        "neo4j": _store(plugins=st.lists(st.sampled_from(["apoc", "graph-data-science", "bad plugin"]), max_size=2),
                        database=st.sampled_from(["archivist", "papers", "Papers_DB", "a" * 63])),
        "kafka": _store(brokers=st.integers(1, 3), partitions=st.integers(1, 1000)),
        "qdrant": _store(autoscaling=st.fixed_dictionaries({"minReplicas": st.just(1), "maxReplicas": st.integers(1, 3)})),
        "redis": _store(maxMemory=st.sampled_from(["64mb", "100mb", "1gb"])),
        "sharedData": st.fixed_dictionaries({}, optional={"size": st.sampled_from(SIZES),
                                                          "className": st.sampled_from(NAME_LIKE)}),
        "ingress": ingress,
        "networkPolicy": st.fixed_dictionaries({"ingressControllerNamespaces": st.lists(st.sampled_from(NAME_LIKE), max_size=2)}),
        "quota": st.fixed_dictionaries({"enabled": st.booleans()}),
        "spreadAcrossNodes": st.booleans(),
    },
)


# Bounded for CI: a seeded run of 25 configs, without shrinking (each step is a render and a server
# round trip; the failing config is printed whole by `note`).
@settings(max_examples=25, derandomize=True, deadline=None, database=None, phases=[Phase.explicit, Phase.generate],
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(config=configs)
def test_every_config_the_checker_accepts_the_server_accepts(cluster: Cluster, config: dict[str, Any]) -> None:
    # A unique namespace per example (the generated stem plus a suffix, at most 63 characters).
    config = {**config, "namespace": f"{config['namespace'][:54]}-{uuid.uuid4().hex[:8]}"}
    note(f"config: {config}")
    try:
        rendered = render(with_config(BASE, **config))
    except ConfigError as refused:
        note(f"refused by the checker: {refused}")
        return
    try:
        results = apply_render(cluster, rendered, dry_run=True)
        errors = [e for r in results for e in r.errors]
        warnings = [w for r in results for w in r.warnings]
        assert not errors, "the checker accepted a config the server refuses:\n" + "\n".join(errors)
        assert not warnings, "the checker accepted a config the server warns about:\n" + "\n".join(warnings)
    finally:
        cleanup(cluster, rendered)
