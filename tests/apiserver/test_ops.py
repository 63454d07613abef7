"""`ops` verbs against the real kube-apiserver: the objects they make and how they read status.

The server has controllers but no kubelet: Deployments get Pods that stay Pending, which is
exactly the unhealthy state `ops status` must report. Velero's server is absent, so the tests
play its part by writing the Backup/Restore `status` (the v1.17.1 CRDs have no status
subresource: tests/crds/velero-v1.17.1/velero.io_backups.yaml `subresources` is absent).
"""

from __future__ import annotations

import copy
import io
import json
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from archivist_infra.__main__ import main
from archivist_infra.ops import velero
from archivist_infra.ops.context import FIELD_MANAGER, Ops, Out, api_client
from archivist_infra.ops.errors import OpsError
from archivist_infra.ops.process import process
from archivist_infra.ops.restart import RESTARTED_AT, restart
from archivist_infra.ops.scale import PAUSED, scale
from archivist_infra.ops.status import status

from .kube import Cluster, wait_for

ROOT = Path(__file__).resolve().parents[2]
WORKLOAD_KINDS = ("Deployment", "StatefulSet", "CronJob")


def ops_for(cluster: Cluster, namespace: str, *, as_json: bool = False) -> tuple[Ops, io.StringIO]:
    buf = io.StringIO()
    ops = Ops(api=api_client(cluster.kubeconfig, None), namespace=namespace,
              out=Out(json=as_json, file=buf, err_file=io.StringIO()), poll_seconds=0.1)
    return ops, buf



def in_namespace(objects: list[dict[str, Any]], namespace: str) -> list[dict[str, Any]]:
    """The rendered stack moved into `namespace` (the Namespace object itself is made by the test)."""
    moved = []
    for obj in objects:
        if obj["kind"] == "Namespace":
            continue
        obj = copy.deepcopy(obj)
        if "namespace" in obj["metadata"]:
            obj["metadata"]["namespace"] = namespace
        moved.append(obj)
    return moved


def restricted_pod_spec(command: list[str] | None = None) -> dict[str, Any]:
    return {
        "securityContext": {"runAsNonRoot": True, "runAsUser": 1000, "seccompProfile": {"type": "RuntimeDefault"}},
        "containers": [{
            "name": "main", "image": "busybox:1.37.0", "command": command or ["sleep", "3600"],
            "resources": {"requests": {"cpu": "10m", "memory": "16Mi"}, "limits": {"cpu": "50m", "memory": "32Mi"}},
            "securityContext": {"allowPrivilegeEscalation": False, "capabilities": {"drop": ["ALL"]},
                                "readOnlyRootFilesystem": True},
        }],
    }


def deployment(name: str, namespace: str, replicas: int = 1) -> dict[str, Any]:
    labels = {"app.kubernetes.io/name": name}
    return {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": name, "namespace": namespace, "labels": labels},
            "spec": {"replicas": replicas, "selector": {"matchLabels": labels},
                     "template": {"metadata": {"labels": labels}, "spec": restricted_pod_spec()}}}


def hpa(name: str, namespace: str, minimum: int, maximum: int) -> dict[str, Any]:
    return {"apiVersion": "autoscaling/v2", "kind": "HorizontalPodAutoscaler", "metadata": {"name": name, "namespace": namespace},
            "spec": {"scaleTargetRef": {"apiVersion": "apps/v1", "kind": "Deployment", "name": name},
                     "minReplicas": minimum, "maxReplicas": maximum,
                     "metrics": [{"type": "Resource", "resource": {"name": "cpu", "target": {"type": "Utilization", "averageUtilization": 70}}}]}}


# -- status ----------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def dev_namespace(cluster: Cluster, dev_objects: list[dict[str, Any]]) -> str:
    ns = cluster.create_namespace("ops-dev")
    applied = cluster.apply(in_namespace(dev_objects, ns))
    assert applied.ok, applied.stderr
    # The controllers make Pods (Pending forever: no nodes) for the Deployments and StatefulSets.
    wait_for("pods of the dev stack", lambda: len(cluster.items("pods", namespace=ns)) >= 4)
    return ns


def test_status_of_the_dev_stack_lists_every_workload_and_exits_non_zero_while_pods_are_pending(
        cluster: Cluster, dev_namespace: str, dev_objects: list[dict[str, Any]]) -> None:
    ops, buf = ops_for(cluster, dev_namespace)
    rc = status(ops)
    text = buf.getvalue()
    rendered = [(o["kind"], o["metadata"]["name"]) for o in dev_objects if o["kind"] in WORKLOAD_KINDS]
    assert rendered, "the dev render has workloads"
    for _kind, name in rendered:
        assert name in text
    assert rc == 1
    assert "is Pending" in text and "unhealthy" in text


def test_status_json_names_the_same_workloads_autoscalers_and_claims_the_stack_renders(
        cluster: Cluster, dev_namespace: str, dev_objects: list[dict[str, Any]]) -> None:
    ops, buf = ops_for(cluster, dev_namespace, as_json=True)
    rc = status(ops)
    data = json.loads(buf.getvalue())
    assert rc == 1 and data["healthy"] is False
    assert {(w["kind"], w["name"]) for w in data["workloads"]} == {
        (o["kind"], o["metadata"]["name"]) for o in dev_objects if o["kind"] in WORKLOAD_KINDS}
    # HPAs, and KEDA's ScaledObject for the graph (KEDA makes its HPA only once its operator runs).
    assert {a["name"] for a in data["autoscalers"]} == {
        o["metadata"]["name"] for o in dev_objects if o["kind"] in ("HorizontalPodAutoscaler", "ScaledObject")}
    claims = {c["name"] for c in data["claims"]}
    assert "archivist-data" in claims
    assert any(p.startswith("pod ") and "Pending" in p for p in data["problems"])
    # The shared claim is mounted at all times by archivist-data-keeper (so every backup holds it): with no
    # provisioner here it stays Pending under a pending pod, a problem like search's per-replica index claims.
    assert "claim archivist-data is Pending" in data["problems"]
    assert any(p.startswith("claim index-archivist-search-") and "Pending" in p for p in data["problems"])


def test_ops_status_command_reads_namespace_from_the_stack_file_and_exits_1(
        cluster: Cluster, dev_namespace: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    stack = yaml.safe_load((ROOT / "Pulumi.dev.yaml").read_text())
    stack["config"]["archivist:namespace"] = dev_namespace
    stack["config"]["archivist:cluster"] = {}  # the envtest kubeconfig's current context
    stack_file = tmp_path / "Pulumi.envtest.yaml"
    stack_file.write_text(yaml.safe_dump(stack))
    rc = main(["ops", "status", "envtest", "--config-file", str(stack_file), "--kubeconfig", str(cluster.kubeconfig)])
    out = capsys.readouterr()
    assert rc == 1, out.err
    assert "archivist-search" in out.out and "neo4j" in out.out and dev_namespace in out.out


def test_ops_status_with_no_reachable_cluster_is_one_line_and_exit_2(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    kubeconfig = tmp_path / "kubeconfig"
    kubeconfig.write_text(yaml.safe_dump({
        "apiVersion": "v1", "kind": "Config", "current-context": "gone",
        "clusters": [{"name": "gone", "cluster": {"server": "https://127.0.0.1:1"}}],
        "users": [{"name": "gone", "user": {"token": "x"}}],
        "contexts": [{"name": "gone", "context": {"cluster": "gone", "user": "gone"}}]}))
    rc = main(["ops", "status", "dev", "--kubeconfig", str(kubeconfig), "--context", "gone"])
    err = capsys.readouterr().err
    assert rc == 2
    assert err.startswith("error: no cluster reachable at https://127.0.0.1:1") and err.count("\n") == 1
    assert "Traceback" not in err


def test_status_is_healthy_and_exits_0_when_nothing_waits(cluster: Cluster) -> None:
    ns = cluster.create_namespace("ops-idle")
    assert cluster.apply([deployment("idle", ns, replicas=0)]).ok
    ops, buf = ops_for(cluster, ns)
    assert status(ops) == 0, buf.getvalue()
    assert "healthy" in buf.getvalue()


# -- scale -----------------------------------------------------------------------------------


@pytest.fixture
def scaled(cluster: Cluster) -> str:
    ns = cluster.create_namespace("ops-scale")
    applied = cluster.apply([deployment("archivist-worker", ns, replicas=2), hpa("archivist-worker", ns, 1, 3)])
    assert applied.ok, applied.stderr
    return ns


def test_scale_changes_the_hpa_bounds_on_the_server_as_its_own_field_manager(cluster: Cluster, scaled: str) -> None:
    ops, buf = ops_for(cluster, scaled)
    assert scale(ops, "worker", minimum=2, maximum=7) == 0
    live = cluster.get("hpa", "archivist-worker", namespace=scaled)
    assert (live["spec"]["minReplicas"], live["spec"]["maxReplicas"]) == (2, 7)
    shown = json.loads(cluster.run("get", "hpa", "archivist-worker", "-n", scaled, "-o", "json",
                                   "--show-managed-fields", check=True).stdout)
    assert FIELD_MANAGER in {m["manager"] for m in shown["metadata"]["managedFields"]}
    assert "pulumi up" in buf.getvalue()  # says how the next `pulumi up` interacts


def test_scale_pause_pins_the_hpa_and_resume_restores_the_bounds(cluster: Cluster, scaled: str) -> None:
    ops, _ = ops_for(cluster, scaled)
    assert scale(ops, "archivist-worker", pause=True) == 0
    live = cluster.get("hpa", "archivist-worker", namespace=scaled)
    current = live.get("status", {}).get("currentReplicas") or 2  # else the Deployment's replicas
    assert live["spec"]["minReplicas"] == live["spec"]["maxReplicas"] == current
    assert json.loads(live["metadata"]["annotations"][PAUSED]) == {"min": 1, "max": 3}
    with pytest.raises(OpsError, match="already paused"):
        scale(ops, "archivist-worker", pause=True)
    assert scale(ops, "archivist-worker", resume=True) == 0
    live = cluster.get("hpa", "archivist-worker", namespace=scaled)
    assert (live["spec"]["minReplicas"], live["spec"]["maxReplicas"]) == (1, 3)
    assert PAUSED not in (live["metadata"].get("annotations") or {})


def test_scale_refuses_bad_bounds_and_unknown_workloads_before_touching_the_server(cluster: Cluster, scaled: str) -> None:
    ops, _ = ops_for(cluster, scaled)
    with pytest.raises(OpsError, match="above"):
        scale(ops, "archivist-worker", minimum=5)  # max stays 3
    with pytest.raises(OpsError, match=r"no autoscaler for 'neo4j'.*archivist-worker"):
        scale(ops, "neo4j", maximum=2)
    live = cluster.get("hpa", "archivist-worker", namespace=scaled)
    assert (live["spec"]["minReplicas"], live["spec"]["maxReplicas"]) == (1, 3)


# -- restart ---------------------------------------------------------------------------------


def test_restart_sets_restarted_at_and_the_controller_rolls_a_new_replicaset(cluster: Cluster) -> None:
    ns = cluster.create_namespace("ops-restart")
    assert cluster.apply([deployment("archivist-search", ns)]).ok
    wait_for("first ReplicaSet", lambda: cluster.items("replicasets", namespace=ns))
    ops, _ = ops_for(cluster, ns)
    assert restart(ops, ["search"]) == 0
    live = cluster.get("deployment", "archivist-search", namespace=ns)
    assert RESTARTED_AT in live["spec"]["template"]["metadata"]["annotations"]
    wait_for("a second ReplicaSet", lambda: len(cluster.items("replicasets", namespace=ns)) == 2)
    with pytest.raises(OpsError, match="no Deployment/StatefulSet 'nope'"):
        restart(ops, ["nope"])


# -- process ---------------------------------------------------------------------------------


def worker_cronjob(namespace: str) -> dict[str, Any]:
    labels = {"app.kubernetes.io/name": "archivist-worker", "app.kubernetes.io/component": "worker"}
    return {"apiVersion": "batch/v1", "kind": "CronJob",
            "metadata": {"name": "archivist-worker", "namespace": namespace, "labels": labels},
            "spec": {"schedule": "0 * * * *", "concurrencyPolicy": "Forbid",
                     "jobTemplate": {"metadata": {"labels": labels, "annotations": {"archivist.io/batch": "yes"}},
                                     "spec": {"backoffLimit": 1, "template": {
                                         "metadata": {"labels": labels},
                                         "spec": {**restricted_pod_spec(["true"]), "restartPolicy": "Never"}}}}}}


def test_process_creates_a_job_from_the_worker_cronjob_template_like_kubectl_create_job_from(cluster: Cluster) -> None:
    ns = cluster.create_namespace("ops-process")
    assert cluster.apply([worker_cronjob(ns)]).ok
    ops, buf = ops_for(cluster, ns)
    rc = process(ops, timeout=0.5)
    assert rc == 1 and "still" in buf.getvalue()  # no kubelet: the run never ends; we stop watching
    jobs = cluster.items("jobs", namespace=ns)
    assert len(jobs) == 1
    job = jobs[0]
    cron = cluster.get("cronjob", "archivist-worker", namespace=ns)
    assert job["metadata"]["name"].startswith("archivist-worker-manual-")
    assert job["metadata"]["annotations"]["cronjob.kubernetes.io/instantiate"] == "manual"
    assert job["metadata"]["annotations"]["archivist.io/batch"] == "yes"
    owner = job["metadata"]["ownerReferences"][0]
    assert (owner["kind"], owner["name"], owner["uid"], owner["controller"]) == ("CronJob", "archivist-worker",
                                                                                  cron["metadata"]["uid"], True)
    assert job["spec"]["template"]["spec"]["containers"] == cron["spec"]["jobTemplate"]["spec"]["template"]["spec"]["containers"]
    # The Job controller accepted it and made its pod.
    wait_for("the batch pod", lambda: cluster.items("pods", namespace=ns))


def test_process_follows_the_job_to_complete_and_exits_0(cluster: Cluster) -> None:
    ns = cluster.create_namespace("ops-process-ok")
    assert cluster.apply([worker_cronjob(ns)]).ok
    ops, _ = ops_for(cluster, ns)
    result: dict[str, int] = {}
    runner = threading.Thread(target=lambda: result.setdefault("rc", process(ops, timeout=60)), daemon=True)
    runner.start()
    # The Job controller starts the Job (startTime) and makes its pod; a kubelet would run it.
    job = wait_for("the started Job", lambda: [j for j in cluster.items("jobs", namespace=ns)
                                               if j.get("status", {}).get("startTime")])[0]
    name = job["metadata"]["name"]
    time.sleep(1.1)
    now = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
    # What the Job controller writes when the pod succeeds.
    patch = {"status": {"completionTime": now, "succeeded": 1, "ready": 0, "active": 0,
                        "terminating": 0, "uncountedTerminatedPods": {},
                        "conditions": [{"type": "SuccessCriteriaMet", "status": "True", "lastTransitionTime": now},
                                       {"type": "Complete", "status": "True", "lastTransitionTime": now}]}}
    patched = cluster.run("patch", "job", name, "-n", ns, "--subresource=status", "--type=merge", "-p", json.dumps(patch))
    assert patched.ok, patched.stderr
    runner.join(30)
    assert result.get("rc") == 0


def test_process_refuses_a_second_run_while_a_forbid_cronjob_has_one_active(cluster: Cluster) -> None:
    ns = cluster.create_namespace("ops-process-busy")
    assert cluster.apply([worker_cronjob(ns)]).ok
    cron = cluster.get("cronjob", "archivist-worker", namespace=ns)
    # A scheduled run in progress: a Job the CronJob controls.
    running = {"apiVersion": "batch/v1", "kind": "Job",
               "metadata": {"name": "archivist-worker-29000000", "namespace": ns,
                            "ownerReferences": [{"apiVersion": "batch/v1", "kind": "CronJob", "name": "archivist-worker",
                                                 "uid": cron["metadata"]["uid"], "controller": True}]},
               "spec": cron["spec"]["jobTemplate"]["spec"]}
    assert cluster.apply([running]).ok
    job = cluster.get("job", "archivist-worker-29000000", namespace=ns)
    # What the CronJob controller records when it starts that run (it keeps refs to Jobs that exist).
    active = {"status": {"active": [{"kind": "Job", "apiVersion": "batch/v1", "name": "archivist-worker-29000000",
                                     "namespace": ns, "uid": job["metadata"]["uid"]}]}}
    patched = cluster.run("patch", "cronjob", "archivist-worker", "-n", ns, "--subresource=status", "--type=merge",
                          "-p", json.dumps(active))
    assert patched.ok, patched.stderr
    time.sleep(1)  # let the controller resync; it must keep the ref
    assert cluster.get("cronjob", "archivist-worker", namespace=ns)["status"]["active"]
    ops, _ = ops_for(cluster, ns)
    with pytest.raises(OpsError, match=r"archivist-worker-29000000.*Forbid"):
        process(ops, timeout=1)
    assert [j["metadata"]["name"] for j in cluster.items("jobs", namespace=ns)] == ["archivist-worker-29000000"]


def test_process_refuses_when_the_worker_is_always_on(cluster: Cluster) -> None:
    ns = cluster.create_namespace("ops-process-dep")
    assert cluster.apply([deployment("archivist-worker", ns)]).ok
    ops, _ = ops_for(cluster, ns)
    with pytest.raises(OpsError, match="runs as a Deployment"):
        process(ops)


# -- backup and restore ----------------------------------------------------------------------


@pytest.fixture
def backed_up(cluster: Cluster) -> Iterator[str]:
    """A namespace with the data branch's Schedule `<ns>-daily` in namespace velero."""
    ns = cluster.create_namespace("ops-velero")
    assert cluster.apply([{"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": velero.VELERO_NS}}]).ok
    schedule = {"apiVersion": "velero.io/v1", "kind": "Schedule",
                "metadata": {"name": f"{ns}-daily", "namespace": "velero", "labels": {"archivist.io/stack": "dev"}},
                "spec": {"schedule": "0 3 * * *", "template": {
                    "includedNamespaces": [ns], "snapshotVolumes": True, "ttl": "720h0m0s",
                    "defaultVolumesToFsBackup": False, "storageLocation": "default",
                    "metadata": {"labels": {velero.NS_LABEL: ns, "archivist.io/stack": "dev"}}}}}
    applied = cluster.apply([schedule])
    assert applied.ok, applied.stderr
    yield ns
    cluster.run("delete", "backups,restores,schedules", "-n", "velero", "-l", f"{velero.NS_LABEL}={ns}")


def set_velero_status(cluster: Cluster, plural: str, name: str, status: dict[str, Any]) -> None:
    patched = cluster.run("patch", plural, name, "-n", "velero", "--type=merge", "-p", json.dumps({"status": status}))
    assert patched.ok, patched.stderr


def run_in_thread(fn: Callable[[], int]) -> tuple[threading.Thread, dict[str, int]]:
    result: dict[str, int] = {}
    thread = threading.Thread(target=lambda: result.setdefault("rc", fn()), daemon=True)
    thread.start()
    return thread, result


def test_backup_copies_the_schedule_template_labels_it_and_follows_to_completed(cluster: Cluster, backed_up: str) -> None:
    ns = backed_up
    ops, buf = ops_for(cluster, ns)
    thread, result = run_in_thread(lambda: velero.backup(ops, timeout=60))
    made = wait_for("the Backup", lambda: cluster.items("backups.velero.io", namespace="velero") and [
        b for b in cluster.items("backups.velero.io", namespace="velero") if b["metadata"]["labels"].get(velero.NS_LABEL) == ns])[0]
    name = made["metadata"]["name"]
    schedule = cluster.get("schedules.velero.io", f"{ns}-daily", namespace="velero")
    assert made["spec"] == schedule["spec"]["template"]
    assert made["metadata"]["labels"] == {velero.NS_LABEL: ns, "archivist.io/stack": "dev",
                                          "velero.io/schedule-name": f"{ns}-daily"}
    set_velero_status(cluster, "backups.velero.io", name, {"phase": "InProgress", "progress": {"itemsBackedUp": 3, "totalItems": 9}})
    time.sleep(0.3)
    set_velero_status(cluster, "backups.velero.io", name, {"phase": "Completed", "progress": {"itemsBackedUp": 9, "totalItems": 9}})
    thread.join(30)
    assert result.get("rc") == 0
    assert f"Backup {name} Completed (9/9 items)" in buf.getvalue()


def test_backup_that_ends_partially_failed_exits_1_with_the_reason(cluster: Cluster, backed_up: str) -> None:
    ops, buf = ops_for(cluster, backed_up)
    thread, result = run_in_thread(lambda: velero.backup(ops, timeout=60))
    made = wait_for("the Backup", lambda: [b for b in cluster.items("backups.velero.io", namespace="velero")
                                           if b["metadata"]["labels"].get(velero.NS_LABEL) == backed_up])[0]
    set_velero_status(cluster, "backups.velero.io", made["metadata"]["name"],
                      {"phase": "PartiallyFailed", "failureReason": "volume snapshot of claim qdrant-0 failed"})
    thread.join(30)
    assert result.get("rc") == 1
    assert "ended PartiallyFailed: volume snapshot of claim qdrant-0 failed" in buf.getvalue()


def test_backup_without_the_schedule_says_so_in_one_error(cluster: Cluster) -> None:
    ns = cluster.create_namespace("ops-noschedule")
    ops, _ = ops_for(cluster, ns)
    with pytest.raises(OpsError, match=f"no Velero Schedule velero/{ns}-daily"):
        velero.backup(ops)


def make_backup(cluster: Cluster, ns: str, name: str, phase: str, completed: str) -> None:
    applied = cluster.apply([{"apiVersion": "velero.io/v1", "kind": "Backup",
                              "metadata": {"name": name, "namespace": "velero", "labels": {velero.NS_LABEL: ns}},
                              "spec": {"includedNamespaces": [ns]}}])
    assert applied.ok, applied.stderr
    set_velero_status(cluster, "backups.velero.io", name, {"phase": phase, "completionTimestamp": completed})


def test_restore_takes_the_newest_completed_backup_of_the_namespace_and_follows_it(cluster: Cluster, backed_up: str) -> None:
    ns = backed_up
    make_backup(cluster, ns, f"{ns}-a", "Completed", "2026-11-01T03:00:00Z")
    make_backup(cluster, ns, f"{ns}-b", "Completed", "2026-11-02T03:00:00Z")
    make_backup(cluster, ns, f"{ns}-c", "Failed", "2026-11-03T03:00:00Z")
    ops, buf = ops_for(cluster, ns)
    # Into the live namespace: without --yes only the plan, and no Restore on the server.
    assert velero.restore(ops, timeout=60) == 0
    assert "Nothing changed" in buf.getvalue()
    assert not [r for r in cluster.items("restores.velero.io", namespace="velero")
                if r["spec"].get("backupName", "").startswith(ns)]
    thread, result = run_in_thread(lambda: velero.restore(ops, timeout=60, yes=True))
    made = wait_for("the Restore", lambda: [r for r in cluster.items("restores.velero.io", namespace="velero")
                                            if r["spec"].get("backupName", "").startswith(ns)])[0]
    assert made["spec"]["backupName"] == f"{ns}-b"
    assert made["spec"]["includedNamespaces"] == [ns]
    assert "namespaceMapping" not in made["spec"]
    set_velero_status(cluster, "restores.velero.io", made["metadata"]["name"],
                      {"phase": "Completed", "progress": {"itemsRestored": 4, "totalItems": 4}})
    thread.join(30)
    assert result.get("rc") == 0, buf.getvalue()


def test_restore_drill_maps_the_namespace_and_refuses_a_failed_backup(cluster: Cluster, backed_up: str) -> None:
    ns = backed_up
    make_backup(cluster, ns, f"{ns}-ok", "Completed", "2026-11-01T03:00:00Z")
    make_backup(cluster, ns, f"{ns}-bad", "Failed", "2026-11-02T03:00:00Z")
    ops, _ = ops_for(cluster, ns, as_json=True)
    assert velero.restore(ops, source=f"{ns}-ok", into=f"{ns}-drill", wait=False) == 0
    made = [r for r in cluster.items("restores.velero.io", namespace="velero") if r["spec"]["backupName"] == f"{ns}-ok"]
    assert len(made) == 1
    assert made[0]["spec"]["namespaceMapping"] == {ns: f"{ns}-drill"}
    with pytest.raises(OpsError, match="is Failed"):
        velero.restore(ops, source=f"{ns}-bad", wait=False)
    with pytest.raises(OpsError, match="no Velero Backup velero/nope"):
        velero.restore(ops, source="nope", wait=False)


def test_restore_with_no_completed_backup_says_how_to_make_one(cluster: Cluster, backed_up: str) -> None:
    ops, _ = ops_for(cluster, backed_up)
    with pytest.raises(OpsError, match=r"no Completed backup.*ops backup"):
        velero.restore(ops, wait=False)


# -- upload: the uploader pod passes restricted Pod Security ----------------------------------


def test_uploader_pod_is_admitted_in_a_restricted_namespace_and_mounts_the_shared_claim(cluster: Cluster) -> None:
    from archivist_infra.ops.upload import CLAIM, uploader_pod

    ns = cluster.create_namespace("ops-upload", pod_security="restricted")
    claim = {"apiVersion": "v1", "kind": "PersistentVolumeClaim", "metadata": {"name": CLAIM, "namespace": ns},
             "spec": {"accessModes": ["ReadWriteOnce"], "resources": {"requests": {"storage": "1Gi"}}}}
    assert cluster.apply([claim]).ok
    body = uploader_pod("archivist-upload-test", ns, 1000, 1000)
    created = cluster.run("create", "-f", "-", "-n", ns, stdin=json.dumps(body))
    assert created.ok and not created.warnings, created.stderr  # no PodSecurity warning either
    live = cluster.get("pod", "archivist-upload-test", namespace=ns)
    assert live["spec"]["volumes"][0]["persistentVolumeClaim"]["claimName"] == CLAIM
