"""The quota must fit the stack at maximum scale, computed here from the rendered objects."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest

from archivist_infra.config.quantity import parse_quantity


def _q(text: Any) -> Decimal:
    value = parse_quantity(str(text))
    assert value is not None, text
    return value


def _max_replicas(objects: list[dict[str, Any]], workload: dict[str, Any]) -> int:
    for hpa in (o for o in objects if o["kind"] == "HorizontalPodAutoscaler"):
        ref = hpa["spec"]["scaleTargetRef"]
        if ref["kind"] == workload["kind"] and ref["name"] == workload["metadata"]["name"]:
            return int(hpa["spec"]["maxReplicas"])
    for scaled in (o for o in objects if o["kind"] == "ScaledObject"):
        ref = scaled["spec"]["scaleTargetRef"]
        if ref["kind"] == workload["kind"] and ref["name"] == workload["metadata"]["name"]:
            return int(scaled["spec"]["maxReplicaCount"])
    return int(workload["spec"].get("replicas", 1))


def _pod_figures(pod: dict[str, Any]) -> dict[str, Decimal]:
    """What the quota charges one pod: max(sum of app containers, largest init container)."""
    out: dict[str, Decimal] = {}
    for kind in ("requests", "limits"):
        for res in ("cpu", "memory"):
            apps = sum((_q(c["resources"][kind][res]) for c in pod["containers"]), Decimal(0))
            inits = [_q(c["resources"][kind][res]) for c in pod.get("initContainers") or []]
            out[f"{kind}.{res}"] = max([apps, *inits])
    return out


@pytest.mark.parametrize("stack", ["dev", "prod"])
def test_quota_covers_max_replicas_with_surge(stack: str, request: pytest.FixtureRequest) -> None:
    objects: list[dict[str, Any]] = request.getfixturevalue(f"{stack}_objects")
    [quota] = [o for o in objects if o["kind"] == "ResourceQuota"]
    hard = quota["spec"]["hard"]
    need: dict[str, Decimal] = {}
    pods = 0
    claims = 0
    storage = Decimal(0)
    # The pre-flight Jobs (tiers/preflight.py) run one pod each while an `up` surges the rollouts.
    for w in (o for o in objects if o["kind"] in ("Deployment", "StatefulSet", "CronJob", "Job")):
        # A CronJob that forbids overlap runs one scheduled pod, plus one on-demand run (ops process).
        n = 2 if w["kind"] == "CronJob" else 1 if w["kind"] == "Job" else _max_replicas(objects, w)
        pods += n
        template = w["spec"]["jobTemplate"]["spec"]["template"] if w["kind"] == "CronJob" else w["spec"]["template"]
        for key, value in _pod_figures(template["spec"]).items():
            need[key] = need.get(key, Decimal(0)) + n * value
        for template in w["spec"].get("volumeClaimTemplates") or []:
            claims += n
            storage += n * _q(template["spec"]["resources"]["requests"]["storage"])
    for pvc in (o for o in objects if o["kind"] == "PersistentVolumeClaim"):
        claims += 1
        storage += _q(pvc["spec"]["resources"]["requests"]["storage"])

    for key, value in need.items():
        # Every pod at max, plus a quarter for the surge pods of a rollout.
        assert _q(hard[key]) >= value * Decimal("1.25"), key
        assert _q(hard[key]) <= value * Decimal("1.25") + Decimal(2**20), f"{key} is oversized"
    assert int(hard["pods"]) >= pods * 1.25
    assert int(hard["persistentvolumeclaims"]) == claims
    assert _q(hard["requests.storage"]) >= storage


@pytest.mark.parametrize("stack", ["dev", "prod"])
def test_limit_range_defaults_and_max(stack: str, request: pytest.FixtureRequest) -> None:
    objects: list[dict[str, Any]] = request.getfixturevalue(f"{stack}_objects")
    [limit_range] = [o for o in objects if o["kind"] == "LimitRange"]
    [limits] = limit_range["spec"]["limits"]
    assert limits["type"] == "Container"
    for field in ("default", "defaultRequest", "max"):
        assert set(limits[field]) == {"cpu", "memory"}, field
    for res in ("cpu", "memory"):
        assert _q(limits["defaultRequest"][res]) <= _q(limits["default"][res]) <= _q(limits["max"][res])
    # Every container the stack runs fits under the max.
    for w in (o for o in objects if o["kind"] in ("Deployment", "StatefulSet", "CronJob", "Job")):
        pod = (w["spec"]["jobTemplate"]["spec"] if w["kind"] == "CronJob" else w["spec"])["template"]["spec"]
        for c in [*pod["containers"], *(pod.get("initContainers") or [])]:
            for res in ("cpu", "memory"):
                assert _q(c["resources"]["limits"][res]) <= _q(limits["max"][res]), (w["metadata"]["name"], res)


def test_small_stack_defaults_stay_under_max(run: Any) -> None:
    """Tiny limits everywhere: the LimitRange's defaults shrink instead of exceeding its max."""
    from archivist_infra.offline.render import manifests

    tiny = {"resources": {"cpuRequest": "50m", "memoryRequest": "64Mi", "cpuLimit": "100m", "memoryLimit": "128Mi"}}
    config: dict[str, Any] = {
        "images": {"worker": "r.example.com/w:1.0.0", "search": "r.example.com/s:1.0.0", "graph": "r.example.com/g:1.0.0"},
        "neo4j": {"resources": {**tiny["resources"], "memoryLimit": "768Mi"}},
        **{k: tiny for k in ("kafka", "qdrant", "worker", "search", "graph")},
        "redis": {**tiny, "maxMemory": "64mb"},
    }
    [limits] = next(o for o in manifests(run(config)) if o["kind"] == "LimitRange")["spec"]["limits"]
    for res in ("cpu", "memory"):
        assert _q(limits["defaultRequest"][res]) <= _q(limits["default"][res]) <= _q(limits["max"][res])
