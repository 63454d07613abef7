"""Redis requires a generated password, and every client gets it the way its code reads it."""

from __future__ import annotations

from typing import Any

import yaml

from archivist_infra import versions
from archivist_infra.offline.engine import Run, is_secret_value
from archivist_infra.tiers.redis import CONF_DIR, PING
from tests.conftest import env_of, find, pod_spec

SECRET = "kubernetes:core/v1:Secret"


def _pod_template(objects: list, app: str) -> dict[str, Any]:
    """The pod template of an app: search is a StatefulSet, graph a Deployment, the worker a CronJob."""
    if app == "archivist-worker":
        return dict(find(objects, "CronJob", app)["spec"]["jobTemplate"]["spec"]["template"])
    kind = "StatefulSet" if app == "archivist-search" else "Deployment"
    return dict(find(objects, kind, app)["spec"]["template"])


def _raw(value: Any) -> Any:
    assert is_secret_value(value), "expected a secret value"
    return value["value"]


def test_the_password_is_generated_secret_and_protected_in_production(dev_run: Run, prod_run: Run) -> None:
    pw = dev_run.one("random:index/randomPassword:RandomPassword", "redis-password")
    assert pw.inputs["length"] >= 32 and pw.inputs["special"] is False
    assert prod_run.one("random:index/randomPassword:RandomPassword", "redis-password").protect
    data = _raw(dev_run.one(SECRET, "redis-auth").inputs["stringData"])  # the whole map is secret
    assert data["redis.conf"] == "requirepass [generated:redis-password]\n"


def test_redis_reads_requirepass_from_the_secret_file_not_the_command_line(dev_objects: list) -> None:
    sts = find(dev_objects, "StatefulSet", "redis")
    c = pod_spec(sts)["containers"][0]
    assert c["args"][0] == f"{CONF_DIR}/redis.conf"  # redis-server: config file first, then options
    assert not any("requirepass" in a for a in c["args"] + c["command"])
    mount = next(m for m in c["volumeMounts"] if m["mountPath"] == CONF_DIR)
    volume = next(v for v in pod_spec(sts)["volumes"] if v["name"] == mount["name"])
    assert volume["secret"]["secretName"] == "redis-auth" and mount["readOnly"] is True
    assert volume["secret"]["defaultMode"] == 0o440  # group (fsGroup 999) may read it, nobody else


def test_probes_authenticate_and_require_pong(dev_objects: list) -> None:
    c = pod_spec(find(dev_objects, "StatefulSet", "redis"))["containers"][0]
    assert env_of(c)["REDISCLI_AUTH"] == ("secret", "REDIS_PASSWORD")
    for probe in ("startupProbe", "readinessProbe", "livenessProbe"):
        assert c[probe]["exec"]["command"] == list(PING)


def test_search_and_graph_get_redis_url_with_the_password_from_a_secret(dev_run: Run, dev_objects: list) -> None:
    # Search is the one service that reads REDIS_URL (app/cache.py:28); graph has no Redis client and the
    # worker reads Redis from config.yaml (next test), so the password reaches neither through env.
    c = _pod_template(dev_objects, "archivist-search")["spec"]["containers"][0]
    assert env_of(c)["REDIS_URL"] == ("secret", "REDIS_URL")
    ref = next(e for e in c["env"] if e["name"] == "REDIS_URL")["valueFrom"]["secretKeyRef"]
    assert ref["name"] == "archivist-config-secret"
    for app in ("archivist-graph", "archivist-worker"):
        assert "REDIS_URL" not in env_of(_pod_template(dev_objects, app)["spec"]["containers"][0])
    url = _raw(dev_run.one(SECRET, "app-config-secret").inputs["stringData"])["REDIS_URL"]
    # redis-py's from_url takes the password from the userinfo (services/search-engine/app/cache.py:28-38)
    assert url == "redis://:[generated:redis-password]@redis.archivist.svc.cluster.local:6379"


def test_the_worker_config_file_carries_the_password_and_comes_from_a_secret(dev_run: Run,
                                                                              dev_objects: list) -> None:
    config = yaml.safe_load(_raw(dev_run.one(SECRET, "app-config-secret").inputs["stringData"])["config.yaml"])
    assert config["cache"]["redis"] == {"addr": "redis.archivist.svc.cluster.local:6379",
                                        "password": "[generated:redis-password]", "db": 0}
    worker = _pod_template(dev_objects, "archivist-worker")["spec"]
    volume = next(v for v in worker["volumes"] if v["name"] == "config")
    assert volume["secret"]["secretName"] == "archivist-config-secret"
    assert "configMap" not in volume


def test_redis_image_has_the_lua_use_after_free_fix() -> None:
    # CVE-2025-49844 is fixed in 7.4.6 (and later 7.4 patches).
    version = versions.REDIS_IMAGE.split(":", 1)[1].split("-", 1)[0]
    major, minor, patch = (int(x) for x in version.split("."))
    assert (major, minor) > (7, 4) or ((major, minor) == (7, 4) and patch >= 6)


def test_a_backup_makes_redis_save_first(dev_objects: list) -> None:
    annotations = find(dev_objects, "StatefulSet", "redis")["spec"]["template"]["metadata"]["annotations"]
    assert annotations["pre.hook.backup.velero.io/container"] == "redis"
    assert "redis-cli BGSAVE SCHEDULE" in annotations["pre.hook.backup.velero.io/command"]


def _checksum(run: Any, app: str) -> str:
    from archivist_infra.offline.render import manifests

    return str(_pod_template(manifests(run), app)["metadata"]["annotations"]["archivist.dev/config-checksum"])


def test_a_rotated_neo4j_password_rolls_the_apps() -> None:
    from tests.conftest import VALID_IMAGES, run_config

    def run(password: str) -> Any:
        return run_config({"images": VALID_IMAGES},
                          secrets={"geminiApiKey": "[secret:gemini]", "neo4jPassword": password})

    first, same, rotated = run("[secret:pw-1]"), run("[secret:pw-1]"), run("[secret:pw-2]")
    for app in ("archivist-worker", "archivist-graph"):
        assert _checksum(first, app) == _checksum(same, app)
        assert _checksum(first, app) != _checksum(rotated, app)
