"""A changed Kafka voter count cannot be applied in place: the server refuses the claim-template change,
so Pulumi must replace the StatefulSet, which the data guard refuses (tests/test_kafka_quorum.py)."""

from __future__ import annotations

from archivist_infra.offline.render import manifests
from tests.conftest import VALID_IMAGES, run_config

from .kube import Cluster


def _kafka(namespace: str, brokers: int, controllers: int) -> dict:
    run = run_config({"images": VALID_IMAGES, "namespace": namespace,
                      "kafka": {"brokers": brokers, "controllers": controllers}})
    return next(o for o in manifests(run) if o["kind"] == "StatefulSet" and o["metadata"]["name"] == "kafka")


def test_more_brokers_apply_in_place_but_a_new_voter_count_is_refused(cluster: Cluster) -> None:
    ns = cluster.create_namespace("kafka")
    assert cluster.apply([_kafka(ns, 3, 3)]).ok
    uid = cluster.get("statefulset", "kafka", namespace=ns)["metadata"]["uid"]
    grown = cluster.apply([_kafka(ns, 5, 3)])
    assert grown.ok, grown.stderr
    assert cluster.get("statefulset", "kafka", namespace=ns)["metadata"]["uid"] == uid
    refused = cluster.apply([_kafka(ns, 5, 5)])
    assert not refused.ok
    assert "updates to statefulset spec for fields other than" in refused.stderr
