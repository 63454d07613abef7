"""Every volume is in every backup: the shared claim is always mounted, local stacks back up volume data,
and Redis writes a fresh dump before its volume is captured."""

from __future__ import annotations

import json
import os
import stat
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

from archivist_infra.backup import volume_policy
from archivist_infra.offline.render import manifests
from archivist_infra.tiers.redis import BGSAVE_SCRIPT
from archivist_infra.tiers.shared_data import CLAIM, KEEPER, KEEPER_COMMAND, KEEPER_IMAGE
from tests.conftest import VALID_IMAGES, find, pod_spec, run_config

LOCAL_S3 = {"enabled": True, "s3": {"bucket": "b", "url": "http://minio.minio.svc:9000", "credentialsSecret": "c"}}


@pytest.mark.parametrize("stack", ["dev_objects", "prod_objects"])
def test_the_shared_claim_is_mounted_by_a_pod_that_always_runs(stack: str, request: pytest.FixtureRequest) -> None:
    objects = request.getfixturevalue(stack)
    keeper = find(objects, "Deployment", KEEPER)
    assert keeper["spec"]["replicas"] == 1 and keeper["spec"]["strategy"] == {"type": "Recreate"}
    spec = pod_spec(keeper)
    claims = [v["persistentVolumeClaim"] for v in spec["volumes"] if "persistentVolumeClaim" in v]
    assert claims == [{"claimName": CLAIM, "readOnly": True}]
    (container,) = spec["containers"]
    assert container["image"] == KEEPER_IMAGE and ":" in KEEPER_IMAGE and not KEEPER_IMAGE.endswith(":latest")
    assert container["volumeMounts"][0]["readOnly"] is True
    # Full pod security, tiny requests with limits, probes that exec the image's own busybox.
    assert spec["securityContext"]["runAsNonRoot"] is True and "fsGroup" not in spec["securityContext"]
    sc = container["securityContext"]
    assert sc["allowPrivilegeEscalation"] is False and sc["capabilities"] == {"drop": ["ALL"]}
    assert sc["readOnlyRootFilesystem"] is True and sc["seccompProfile"] == {"type": "RuntimeDefault"}
    assert container["resources"]["requests"] == {"cpu": "5m", "memory": "8Mi"} and container["resources"]["limits"]
    assert container["livenessProbe"]["exec"]["command"][0] == "/bin/test"
    # The Velero volume policy sends the shared claim (component=storage) to file-system backup.
    claim = find(objects, "PersistentVolumeClaim", CLAIM)
    assert claim["metadata"]["labels"]["app.kubernetes.io/component"] == "storage"


def test_the_keeper_stops_at_once_on_term_and_sleeps_otherwise() -> None:
    # Run its command with a short sleep: TERM must end it well before the 5 s grace period.
    script = KEEPER_COMMAND[-1].replace("sleep 3600", "sleep 30")
    proc = subprocess.Popen(["/bin/sh", "-c", script])
    try:
        with pytest.raises(subprocess.TimeoutExpired):
            proc.wait(timeout=0.5)  # it keeps running
        proc.terminate()
        assert proc.wait(timeout=3) == 0
    finally:
        proc.kill()


def test_local_stacks_back_up_every_volume_through_the_node_agent() -> None:
    run = run_config({"images": VALID_IMAGES, "backup": LOCAL_S3})
    objects = manifests(run)
    policy = yaml.safe_load(find(objects, "ConfigMap", "archivist-volume-policy")["data"]["policy.yaml"])
    actions = {p["conditions"]["pvcLabels"]["app.kubernetes.io/component"]: p["action"]["type"]
               for p in policy["volumePolicies"]}
    assert actions == {"store": "fs-backup", "storage": "fs-backup"}  # no snapshot class to snapshot with
    release = next(r for r in run.resources
                   if r.type == "kubernetes:helm.sh/v3:Release" and r.inputs.get("chart") == "velero")
    assert release.inputs["values"]["deployNodeAgent"] is True
    velero_ns = find(objects, "Namespace", "velero")
    assert velero_ns["metadata"]["labels"]["pod-security.kubernetes.io/enforce"] == "privileged"


def test_cloud_stacks_snapshot_the_store_disks() -> None:
    policy = yaml.safe_load(volume_policy(snapshots=True))
    assert policy["volumePolicies"][0]["action"]["type"] == "snapshot"


def _fake_redis_cli(tmp_path: Path, *, bgsave_reply: str, status: str, saves_after: int) -> dict[str, str]:
    """A redis-cli on PATH that answers like Redis: LASTSAVE moves `saves_after` calls after BGSAVE."""
    state = tmp_path / "state"
    state.write_text("0")
    log = tmp_path / "log"
    cli = tmp_path / "redis-cli"
    cli.write_text(f"""#!/bin/sh
echo "$*" >> {log}
case "$1" in
  LASTSAVE)
    n=$(cat {state})
    if [ -e {tmp_path}/started ]; then n=$((n + 1)); echo $n > {state}; fi
    if [ "$n" -ge {saves_after} ]; then echo 1700000100; else echo 1700000000; fi;;
  BGSAVE) touch {tmp_path}/started; echo "{bgsave_reply}";;
  INFO) printf 'rdb_bgsave_in_progress:0\\r\\nrdb_last_bgsave_status:{status}\\r\\n';;
esac
""")
    cli.chmod(cli.stat().st_mode | stat.S_IEXEC)
    return {"PATH": f"{tmp_path}:{os.environ['PATH']}"}


def _run_hook(env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["/bin/sh", "-c", BGSAVE_SCRIPT], env=env, capture_output=True, text=True, timeout=30,
                          check=False)


def test_the_redis_hook_waits_for_a_background_save_that_started_after_it(tmp_path: Path) -> None:
    env = _fake_redis_cli(tmp_path, bgsave_reply="Background saving started", status="ok", saves_after=2)
    result = _run_hook(env)
    assert result.returncode == 0, result.stderr
    calls = (tmp_path / "log").read_text().splitlines()
    assert calls[0] == "LASTSAVE" and calls[1] == "BGSAVE SCHEDULE"  # the point in time is after the hook began
    assert calls.count("LASTSAVE") >= 3 and calls[-1] == "INFO persistence"
    assert "SAVE" not in calls  # never the blocking SAVE


@pytest.mark.parametrize(("reply", "status"), [("ERR unknown command", "ok"), ("Background saving started", "err")])
def test_the_redis_hook_fails_when_the_save_does(tmp_path: Path, reply: str, status: str) -> None:
    env = _fake_redis_cli(tmp_path, bgsave_reply=reply, status=status, saves_after=1)
    assert _run_hook(env).returncode == 1


def test_the_hook_annotation_runs_exactly_that_script(dev_objects: list[dict[str, Any]]) -> None:
    annotations = find(dev_objects, "StatefulSet", "redis")["spec"]["template"]["metadata"]["annotations"]
    assert json.loads(annotations["pre.hook.backup.velero.io/command"]) == ["/bin/sh", "-c", BGSAVE_SCRIPT]
