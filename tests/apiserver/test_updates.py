"""Updates on a real API server: a stack is applied, then applied again from a changed config.

Each case asserts what the server says to the second apply (accepted, or refused for an
immutable field) and what it then holds. Every refusal must be one the program handles on
purpose; the two store cases record today's verdict for the data branch (see their docstrings).
"""

from __future__ import annotations

import time
from typing import Any

from .kube import Cluster
from .stacks import ROOT, config_value, read_stack_file, snapshot, with_config
from .updates import Update, apply_then_update, replaced_by_the_provider

# The kind example renders quickly (local platform, no cloud SDK) and runs every tier.
BASE = read_stack_file(ROOT / "examples" / "stacks" / "kind.yaml")
# Ready-made references (all three, pinned by tag) instead of the stack's own build from the pinned source.
IMAGES = {app: f"registry.example.com/archivist/{app}:1.0.0" for app in ("worker", "search", "graph")}


def _images(**changes: str) -> dict[str, str]:
    return {**IMAGES, **changes}


def _container_images(obj: dict[str, Any]) -> list[str]:
    spec = obj["spec"]["template"]["spec"]
    return [c["image"] for c in [*spec.get("initContainers", []), *spec["containers"]]]


def _wait(check: Any, what: str, timeout: float = 60) -> Any:
    deadline = time.monotonic() + timeout
    while not (found := check()):
        if time.monotonic() > deadline:
            raise AssertionError(f"after {timeout} s: {what}")
        time.sleep(1)
    return found


def _assert_accepted(update: Update) -> None:
    assert update.accepted, "the server refused the update:\n" + "\n".join(update.errors)
    assert not update.warnings, "the server warned:\n" + "\n".join(update.warnings)


def test_another_image_tag_is_accepted_and_rolls_only_that_deployment(cluster: Cluster) -> None:
    new = "registry.example.com/archivist/graph:1.0.1"
    before = with_config(BASE, images=_images())
    after = with_config(BASE, images=_images(graph=new))
    with apply_then_update(cluster, before, after) as up:
        assert up.changed() == ["Deployment/archivist-graph"]
        _assert_accepted(up)
        live = up.live("deployment", "archivist-graph")
        assert set(_container_images(live)) == {new}
        # The Deployment controller rolls it: a new ReplicaSet with the new image gets a pod.
        def new_pods() -> list[dict[str, Any]]:
            snap = snapshot(cluster, up.namespace)
            sets = [rs["metadata"]["name"] for rs in snap.get("ReplicaSet", [])
                    if new in _container_images(rs)
                    and any(o["name"] == "archivist-graph" for o in rs["metadata"].get("ownerReferences", []))]
            return [p for p in snap.get("Pod", [])
                    if any(o["name"] in sets for o in p["metadata"].get("ownerReferences", []))]
        _wait(new_pods, "no pod of the new graph ReplicaSet")


def test_another_ingress_host_is_accepted_in_place_for_an_ingress(cluster: Cluster) -> None:
    ingress = {"mode": "ingress", "host": "archivist.example.com", "className": "traefik"}
    before = with_config(BASE, ingress=ingress)
    after = with_config(BASE, ingress={**ingress, "host": "papers.example.org"})
    with apply_then_update(cluster, before, after) as up:
        assert up.changed() == ["Ingress/archivist"]
        _assert_accepted(up)
        live = up.live("ingress.networking.k8s.io", "archivist")
        assert [r["host"] for r in live["spec"]["rules"]] == ["papers.example.org"]


def test_another_ingress_host_is_accepted_in_place_for_a_gateway_route(cluster: Cluster) -> None:
    # A platform team's shared Gateway, adopted: the stack renders only the route.
    gateway = {"mode": "gateway", "host": "archivist.example.com",
               "gateway": {"create": False, "name": "public", "namespace": "gateway-system"}}
    before = with_config(BASE, ingress=gateway)
    after = with_config(BASE, ingress={**gateway, "host": "papers.example.org"})
    with apply_then_update(cluster, before, after) as up:
        # The route and the blackbox probe of the public host (monitoring) follow the host.
        assert up.changed() == ["HTTPRoute/archivist", "Probe/archivist-public"]
        _assert_accepted(up)
        live = up.live("httproute.gateway.networking.k8s.io", "archivist")
        assert live["spec"]["hostnames"] == ["papers.example.org"]


def test_a_bigger_claim_template_is_refused_which_is_why_pulumi_never_sends_it(cluster: Cluster) -> None:
    """The server never lets a StatefulSet's volumeClaimTemplates change. A plain apply of the render
    (what kubectl sends) is refused for it and the claim keeps its size; the program therefore tells
    Pulumi to ignore that field and patches each claim instead (tiers/volume_growth.py), which
    tests/apiserver/test_volume_growth.py proves on this server (accepted, same uid, claim grown)."""
    neo4j = {**(config_value(BASE, "neo4j") or {}), "storage": {"size": "2Gi"}}
    before = with_config(BASE, neo4j=neo4j)
    after = with_config(BASE, neo4j={**neo4j, "storage": {"size": "4Gi"}})
    with apply_then_update(cluster, before, after) as up:
        # The namespace quota's storage ceiling follows the size too (and is accepted).
        assert up.changed() == ["ResourceQuota/archivist-capacity", "StatefulSet/neo4j"]
        refusals = up.refusals()
        assert list(refusals) == ["StatefulSet/neo4j"], up.errors
        assert "Forbidden: updates to statefulset spec for fields other than" in refusals["StatefulSet/neo4j"]
        claim = _wait(lambda: [c for c in cluster.items("pvc", namespace=up.namespace)
                               if c["metadata"]["name"].endswith("neo4j-0")], "no neo4j claim")[0]
        assert claim["spec"]["resources"]["requests"]["storage"] == "2Gi"


def test_more_kafka_brokers_with_a_fixed_quorum_are_accepted_in_place(cluster: Cluster) -> None:
    """1 -> 3 brokers with the controller quorum held at 1 (`kafka.controllers`): the new pods are
    brokers only, the voter set is untouched, and every changed field is one the server lets change.
    (A changed voter count is refused on purpose: tests/apiserver/test_volume_growth.py.)"""
    kafka = {**(config_value(BASE, "kafka") or {}), "brokers": 1, "controllers": 1}
    before = with_config(BASE, kafka=kafka)
    after = with_config(BASE, kafka={**kafka, "brokers": 3})
    with apply_then_update(cluster, before, after) as up:
        assert "StatefulSet/kafka" in up.changed()
        # The topic Job's replication follows the brokers: Pulumi replaces it (its template is immutable).
        assert ("job", "archivist-kafka-topic") in replaced_by_the_provider(up.before.objects, up.after.objects)
        _assert_accepted(up)
        live = up.live("statefulset", "kafka")
        assert live["spec"]["replicas"] == 3
        _wait(lambda: {p["metadata"]["name"] for p in cluster.items("pods", namespace=up.namespace)}
              >= {"kafka-0", "kafka-1", "kafka-2"}, "the StatefulSet controller made no pods for the new brokers")
