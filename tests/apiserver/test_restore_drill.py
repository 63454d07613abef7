"""The restore drill against the real API server and Velero's v1.17.1 CRDs: the Restore's filters and
namespace mapping are accepted, and the address rewrites it hands Velero are valid JSON patches that leave
no address of the source namespace in the restored objects.

Velero's server is absent, so the test plays its restore step: it puts the dev stack's objects into the
drill namespace as backed up, then applies each resource-modifier rule as Velero would (a JSON patch per
matching object), on the server, which refuses a path that does not exist.
"""

from __future__ import annotations

import json
import re

import yaml

from archivist_infra.offline.render import manifests
from archivist_infra.ops import velero
from tests.conftest import VALID_IMAGES, run_config

from .kube import Cluster
from .test_ops import in_namespace, make_backup, ops_for

CHECKED = ("statefulsets", "deployments", "configmaps")


def test_a_drill_restore_maps_filters_and_rewrites_every_address(cluster: Cluster) -> None:
    source = cluster.create_namespace("drill-src")
    drill = cluster.create_namespace("drill-dst")
    # The stack as deployed in `source`: every address names that namespace.
    objects = manifests(run_config({"images": VALID_IMAGES, "namespace": source}))
    applied = cluster.apply(in_namespace(objects, source))
    assert applied.ok, applied.stderr
    assert cluster.apply([{"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": velero.VELERO_NS}}]).ok
    make_backup(cluster, source, f"{source}-nightly", "Completed", "2026-11-01T03:00:00Z")

    ops, _ = ops_for(cluster, source)
    assert velero.restore(ops, source=f"{source}-nightly", into=drill, wait=False) == 0  # a drill needs no --yes

    (made,) = [r for r in cluster.items("restores.velero.io", namespace=velero.VELERO_NS)
               if r["spec"]["backupName"] == f"{source}-nightly"]
    spec = made["spec"]
    assert spec["namespaceMapping"] == {source: drill} and spec["includedNamespaces"] == [source]
    for resource in ("horizontalpodautoscalers.autoscaling", "cronjobs.batch", "httproutes.gateway.networking.k8s.io",
                     "scaledobjects.keda.sh"):
        assert resource in spec["excludedResources"]
    modifiers = cluster.get("configmap", spec["resourceModifier"]["name"], namespace=velero.VELERO_NS)
    rules = yaml.safe_load(modifiers["data"][velero.MODIFIERS_KEY])
    assert rules["version"] == "v1"
    rewritten = {r["conditions"]["resourceNameRegex"] for r in rules["resourceModifierRules"]}
    assert "^kafka$" in rewritten  # the voters and advertised listeners name their namespace

    # Velero's part: the objects as backed up, then every rule's patches.
    assert cluster.apply(in_namespace(objects, drill)).ok
    kinds = {"statefulsets.apps": "statefulset", "deployments.apps": "deployment", "configmaps": "configmap"}
    for rule in rules["resourceModifierRules"]:
        name = re.fullmatch(r"\^(.+)\$", rule["conditions"]["resourceNameRegex"]).group(1)  # type: ignore[union-attr]
        ops_json = [{"op": p["operation"], "path": p["path"], "value": p["value"]} for p in rule["patches"]]
        patched = cluster.run("patch", kinds[rule["conditions"]["groupResource"]], name, "-n", drill,
                              "--type=json", "-p", json.dumps(ops_json))
        assert patched.ok, f"{name}: {patched.stderr}"
    for kind in CHECKED:
        for obj in cluster.items(kind, namespace=drill):
            text = json.dumps({k: obj.get(k) for k in ("spec", "data")})
            assert f".{source}.svc" not in text, f"{kind}/{obj['metadata']['name']} still names {source}"
    kafka = cluster.get("statefulset", "kafka", namespace=drill)
    assert f".{drill}.svc" in json.dumps(kafka["spec"]["template"])
