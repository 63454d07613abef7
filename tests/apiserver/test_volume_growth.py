"""Growing a store's volume is an in-place update on the real API server.

The program renders the Redis StatefulSet twice (storage.size 1Gi, then 2Gi). Applied as-is, the
second is refused (claim templates are immutable); applied as Pulumi sends it (`ignore_changes`
keeps the template's original size, volume_growth.TEMPLATE_SIZE_PATH) it is accepted without a
replacement, and the rendered claim patch grows the bound claim. A smaller size is refused.
"""

from __future__ import annotations

import copy
import json
import time
from typing import Any

import pytest

from archivist_infra.offline.render import manifests, patches
from archivist_infra.tiers.volume_growth import PATCH_FORCE, claim_name
from tests.conftest import VALID_IMAGES, run_config

from .kube import Applied, Cluster

PATCH_MANAGER = "pulumi-kubernetes-3f2a9c1d"  # Patch resources apply under a manager of their own


def _render(namespace: str, size: str, storage_class: str) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    run = run_config({"images": VALID_IMAGES, "namespace": namespace,
                      "redis": {"storage": {"size": size, "className": storage_class}}})
    sts = next(o for o in manifests(run) if o["kind"] == "StatefulSet" and o["metadata"]["name"] == "redis")
    claims = [p for p in patches(run) if p["metadata"]["name"].endswith("-redis-0")]
    return sts, claims


def _as_pulumi_sends(new: dict[str, Any], old: dict[str, Any]) -> dict[str, Any]:
    """What the engine sends with ignore_changes=[TEMPLATE_SIZE_PATH]: the old value at that path."""
    sent = copy.deepcopy(new)
    old_size = old["spec"]["volumeClaimTemplates"][0]["spec"]["resources"]["requests"]["storage"]
    sent["spec"]["volumeClaimTemplates"][0]["spec"]["resources"]["requests"]["storage"] = old_size
    return sent


def _apply_patch(cluster: Cluster, patch: dict[str, Any], *, force: bool = True) -> Applied:
    body = copy.deepcopy(patch)
    body["metadata"].pop("annotations", None)  # the provider reads patchForce itself; it never reaches the object
    args = ["apply", "--server-side", f"--field-manager={PATCH_MANAGER}", "-f", "-"]
    if force:
        args.append("--force-conflicts")
    return cluster.run(*args, stdin=json.dumps(body))


def _wait(cluster: Cluster, what: str, predicate: Any, timeout: float = 60) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    while True:
        result = cluster.run("get", *what.split(), "-o", "json")
        if result.returncode == 0:
            obj = json.loads(result.stdout)
            if predicate(obj):
                return dict(obj)
        if time.monotonic() > deadline:
            raise AssertionError(f"{what}: condition not met in {timeout} s ({result.stdout[-400:]} {result.stderr})")
        time.sleep(0.5)


def _storage_class(cluster: Cluster, name: str, *, expandable: bool) -> None:
    sc = {"apiVersion": "storage.k8s.io/v1", "kind": "StorageClass", "metadata": {"name": name},
          "provisioner": "no-driver.example.com", "volumeBindingMode": "Immediate",
          "allowVolumeExpansion": expandable}
    assert cluster.apply([sc]).ok


def _bind(cluster: Cluster, namespace: str, claim: str, storage_class: str, size: str) -> None:
    """There is no provisioner here: a pre-bound PV stands in for the disk the CSI driver would create."""
    pv = {"apiVersion": "v1", "kind": "PersistentVolume", "metadata": {"name": f"pv-{namespace}-{claim}"},
          "spec": {"capacity": {"storage": size}, "accessModes": ["ReadWriteOnce"],
                   "storageClassName": storage_class, "persistentVolumeReclaimPolicy": "Retain",
                   "csi": {"driver": "no-driver.example.com", "volumeHandle": f"{namespace}-{claim}"},
                   "claimRef": {"namespace": namespace, "name": claim}}}
    assert cluster.apply([pv]).ok
    _wait(cluster, f"pvc {claim} -n {namespace}", lambda o: o.get("status", {}).get("phase") == "Bound")


@pytest.fixture
def grown(cluster: Cluster) -> dict[str, Any]:
    """A Redis StatefulSet at 1Gi with its claim bound, and the 2Gi render of the same stack."""
    ns = cluster.create_namespace("grow")
    sc = f"{ns}-expandable"
    _storage_class(cluster, sc, expandable=True)
    v1, _ = _render(ns, "1Gi", sc)
    v2, v2_patches = _render(ns, "2Gi", sc)
    created = cluster.apply([v1])
    assert created.ok, created.stderr
    claim = claim_name("data", "redis", 0)
    # The StatefulSet controller creates each ordinal's claim from the template.
    _wait(cluster, f"pvc {claim} -n {ns}", lambda o: True)
    _bind(cluster, ns, claim, sc, "1Gi")
    uid = cluster.get("statefulset", "redis", namespace=ns)["metadata"]["uid"]
    return {"ns": ns, "sc": sc, "v1": v1, "v2": v2, "patches": v2_patches, "claim": claim, "uid": uid}


def test_the_server_refuses_a_changed_claim_template(cluster: Cluster, grown: dict[str, Any]) -> None:
    refused = cluster.apply([grown["v2"]])
    assert not refused.ok
    assert "updates to statefulset spec for fields other than" in refused.stderr
    assert "are forbidden" in refused.stderr


def test_a_bigger_size_updates_the_statefulset_in_place_and_grows_the_claim(cluster: Cluster,
                                                                             grown: dict[str, Any]) -> None:
    ns, claim = grown["ns"], grown["claim"]
    assert [p["metadata"]["name"] for p in grown["patches"]] == [claim]
    assert grown["patches"][0]["metadata"]["annotations"] == {PATCH_FORCE: "true"}
    updated = cluster.apply([_as_pulumi_sends(grown["v2"], grown["v1"])])
    assert updated.ok, updated.stderr
    patched = _apply_patch(cluster, grown["patches"][0])
    assert patched.ok, patched.stderr

    sts = cluster.get("statefulset", "redis", namespace=ns)
    assert sts["metadata"]["uid"] == grown["uid"]  # the same object: no replacement
    pvc = cluster.get("pvc", claim, namespace=ns)
    assert pvc["spec"]["resources"]["requests"]["storage"] == "2Gi"
    shown = cluster.run("get", "pvc", claim, "-n", ns, "-o", "json", "--show-managed-fields", check=True)
    owners = {m["manager"] for m in json.loads(shown.stdout)["metadata"]["managedFields"]
              if "f:resources" in json.dumps(m.get("fieldsV1", {}))}
    assert PATCH_MANAGER in owners


def test_the_claim_patch_needs_force_because_the_statefulset_controller_owns_the_request(
        cluster: Cluster, grown: dict[str, Any]) -> None:
    conflict = _apply_patch(cluster, grown["patches"][0], force=False)
    assert not conflict.ok
    assert "conflict" in conflict.stderr.lower()


def test_a_smaller_size_is_refused_for_the_named_claim(cluster: Cluster, grown: dict[str, Any]) -> None:
    ns, claim = grown["ns"], grown["claim"]
    assert _apply_patch(cluster, grown["patches"][0]).ok
    shrink = copy.deepcopy(grown["patches"][0])
    shrink["spec"]["resources"]["requests"]["storage"] = "512Mi"
    refused = _apply_patch(cluster, shrink)
    assert not refused.ok
    assert claim in refused.stderr
    assert "spec.resources.requests.storage" in refused.stderr
    assert cluster.get("pvc", claim, namespace=ns)["spec"]["resources"]["requests"]["storage"] == "2Gi"


def test_a_class_without_expansion_refuses_growth_by_name(cluster: Cluster) -> None:
    ns = cluster.create_namespace("fixed")
    sc = f"{ns}-fixed"
    _storage_class(cluster, sc, expandable=False)
    v1, _ = _render(ns, "1Gi", sc)
    _, v2_patches = _render(ns, "2Gi", sc)
    assert cluster.apply([v1]).ok
    claim = claim_name("data", "redis", 0)
    _wait(cluster, f"pvc {claim} -n {ns}", lambda o: True)
    _bind(cluster, ns, claim, sc, "1Gi")
    refused = _apply_patch(cluster, v2_patches[0])
    assert not refused.ok
    assert claim in refused.stderr and "storageclass that provisions the pvc must support resize" in refused.stderr
