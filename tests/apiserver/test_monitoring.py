"""The rendered monitoring objects against the real API server and the vendored CRDs
(prometheus-operator v0.93.0, prometheus-engine v0.17.2): accepted as rendered, and the CRDs'
schemas really check them (a wrong field is refused)."""

from __future__ import annotations

import copy
import dataclasses
import json
from pathlib import Path
from typing import Any

import pytest

from archivist_infra.offline import engine
from archivist_infra.offline.render import manifests
from archivist_infra.offline.stackfile import read_stack
from archivist_infra.program import main as program_main

from .kube import Cluster

ROOT = Path(__file__).resolve().parents[2]
OPERATOR_KINDS = {"PodMonitor", "Probe", "PrometheusRule"}
GMP_KINDS = {"PodMonitoring", "ClusterRules"}
EXPORTERS = {"redis-exporter", "kafka-exporter", "blackbox-exporter"}


def _render(stack: str, monitoring: dict[str, Any] | None = None) -> list[dict[str, Any]]:
    config = read_stack(ROOT, stack)
    if monitoring is not None:
        config = dataclasses.replace(config, values={**config.values, "archivist:monitoring": json.dumps(monitoring)})
    return manifests(engine.run(config, program_main))


def _monitoring_objects(objects: list[dict[str, Any]], kinds: set[str], namespace: str) -> list[dict[str, Any]]:
    """The monitoring tier's objects, moved into `namespace` (cluster-scoped ones renamed to stay unique)."""
    out = []
    for obj in objects:
        name = obj["metadata"]["name"]
        is_exporter = obj["kind"] in ("Deployment", "ServiceAccount", "Service", "ConfigMap") and (
            name in EXPORTERS or name.startswith("archivist-dashboard-"))
        if obj["kind"] in kinds or is_exporter:
            obj = copy.deepcopy(obj)
            if obj["kind"] == "ClusterRules":
                obj["metadata"]["name"] = f"{namespace}-{name}"
            else:
                obj["metadata"]["namespace"] = namespace
            out.append(obj)
    return out


@pytest.fixture(scope="module")
def prod_objects() -> list[dict[str, Any]]:
    return _render("prod")


def test_prod_monitoring_objects_are_accepted(cluster: Cluster, prod_objects: list[dict[str, Any]]) -> None:
    ns = cluster.create_namespace("mon")
    objects = _monitoring_objects(prod_objects, OPERATOR_KINDS, ns)
    assert {o["kind"] for o in objects} >= OPERATOR_KINDS | {"Deployment", "ConfigMap"}
    result = cluster.apply(objects)
    assert result.ok, result.stderr
    assert result.warnings == []
    for kind in ("podmonitors", "probes", "prometheusrules"):
        stored = cluster.items(kind, namespace=ns)
        assert len(stored) == sum(1 for o in objects if o["kind"].lower() + "s" == kind), kind
    # The exporters pass Pod Security "restricted": their ReplicaSets create pods (which stay Pending).
    deployments = {d["metadata"]["name"] for d in cluster.items("deployments", namespace=ns)}
    assert deployments == EXPORTERS


def test_dev_monitoring_objects_are_accepted(cluster: Cluster) -> None:
    ns = cluster.create_namespace("mondev")
    result = cluster.apply(_monitoring_objects(_render("dev"), OPERATOR_KINDS, ns))
    assert result.ok, result.stderr


def test_gmp_objects_are_accepted(cluster: Cluster) -> None:
    ns = cluster.create_namespace("gmp")
    objects = _monitoring_objects(_render("prod", {"mode": "gmp"}), GMP_KINDS, ns)
    assert {o["kind"] for o in objects} >= GMP_KINDS
    result = cluster.apply(objects)
    assert result.ok, result.stderr
    assert len(cluster.items("podmonitorings", namespace=ns)) == sum(o["kind"] == "PodMonitoring" for o in objects)


def test_the_crd_schemas_refuse_a_wrong_field(cluster: Cluster, prod_objects: list[dict[str, Any]]) -> None:
    """Acceptance above means something: the vendored schemas do check these objects."""
    ns = cluster.create_namespace("monbad")
    [probe] = [o for o in _monitoring_objects(prod_objects, {"Probe"}, ns)
               if o["kind"] == "Probe" and o["metadata"]["name"] == "archivist-neo4j"]
    probe["spec"]["interval"] = "every minute"  # not a Prometheus duration
    result = cluster.apply([probe])
    assert not result.ok
    assert "interval" in result.stderr
