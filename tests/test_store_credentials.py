"""A Redis password change rolls Redis, then every client of it; clients get it only by reference."""

from __future__ import annotations

import dataclasses
import json
from functools import cache
from typing import Any

from archivist_infra.offline import engine
from archivist_infra.offline.render import manifests
from archivist_infra.offline.stackfile import StackConfig, read_stack
from archivist_infra.program import main as program_main
from archivist_infra.tiers.credentials import ANNOTATION_PREFIX
from tests.conftest import ROOT, env_of, find

REDIS_KEY = f"{ANNOTATION_PREFIX}redis"
# The secret placeholders the mock engine passes on: they stand for the real values.
FIRST, SECOND = "[secret:first-redis-password]", "[secret:second-redis-password]"


def _with_password(config: StackConfig, password: str) -> StackConfig:
    key = f"{config.project}:redisPassword"
    return dataclasses.replace(config, values={**config.values, key: password},
                               secret_keys=[*config.secret_keys, key])


@cache
def _run(password: str) -> engine.Run:
    return engine.run(_with_password(read_stack(ROOT, "dev"), password), program_main)


def _template(obj: dict[str, Any]) -> dict[str, Any]:
    spec = obj["spec"]["jobTemplate"]["spec"] if obj["kind"] == "CronJob" else obj["spec"]
    return dict(spec["template"])


def _workloads(objects: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    return {f"{o['kind']}/{o['metadata']['name']}": _template(o) for o in objects
            if o["kind"] in ("Deployment", "StatefulSet", "CronJob", "Job")}


def _clients(objects: list[dict[str, Any]]) -> set[str]:
    """Workloads whose pods read the Redis password: from redis-auth, or the app config Secret holding it."""
    holders = {"redis-auth", "archivist-config-secret"}
    out = set()
    for name, template in _workloads(objects).items():
        text = json.dumps(template["spec"])
        if any(f'"{h}"' in text for h in holders):
            out.add(name)
    return out


def test_every_redis_client_and_redis_roll_when_the_password_changes() -> None:
    before, after = manifests(_run(FIRST)), manifests(_run(SECOND))
    clients = _clients(before)
    # Redis itself, the exporter, search (REDIS_URL) and the worker (config.yaml) at least.
    assert {"StatefulSet/redis", "Deployment/redis-exporter", "StatefulSet/archivist-search",
            "CronJob/archivist-worker"} <= clients
    old, new = _workloads(before), _workloads(after)
    for name in sorted(clients):
        a, b = old[name]["metadata"].get("annotations", {}), new[name]["metadata"].get("annotations", {})
        assert a != b, f"{name}: pod template unchanged by a new password"
    # Redis and the exporter name the store in their annotation; the apps through the config checksum.
    for name in ("StatefulSet/redis", "Deployment/redis-exporter"):
        assert old[name]["metadata"]["annotations"][REDIS_KEY] != new[name]["metadata"]["annotations"][REDIS_KEY]
    # Nothing else about Redis changes: the rotation is a rolling restart, not a replacement.
    assert old["StatefulSet/redis"]["spec"] == new["StatefulSet/redis"]["spec"]


def test_clients_roll_after_redis_has() -> None:
    run = _run(FIRST)
    clients = _clients(manifests(run)) - {"StatefulSet/redis"}
    recorded = {f"{r.inputs['kind']}/{r.inputs['metadata']['name']}": r for r in run.resources
                if r.custom and r.type.startswith("kubernetes:") and "kind" in r.inputs and "metadata" in r.inputs
                and not r.type.endswith("Patch")}
    redis = recorded["StatefulSet/redis"]
    assert clients
    for name in sorted(clients):
        assert redis.urn in recorded[name].dependencies, f"{name} may roll before Redis"


def test_the_exporter_authenticates_by_reference_only() -> None:
    objects = manifests(_run(FIRST))
    exporter = _template(find(objects, "Deployment", "redis-exporter"))["spec"]["containers"][0]
    assert env_of(exporter)["REDIS_PASSWORD"] == ("secret", "REDIS_PASSWORD")
    text = json.dumps([o for o in objects if o["kind"] != "Secret"])
    assert FIRST not in text, "the Redis password appears outside a Secret"
