"""Destructive `ops` verbs against the real API server: they drain first, show a plan, and want --yes.

Qdrant answers through the API server's own service proxy (fake_qdrant.py), so `ops scale` and
`ops qdrant-drain` make exactly the calls, and pass exactly the checks, they make on a cluster.
"""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

import pytest
import yaml

from archivist_infra.__main__ import main
from archivist_infra.ops.errors import OpsError
from archivist_infra.ops.process import process
from archivist_infra.ops.qdrant import qdrant_drain
from archivist_infra.ops.restart import RESTARTED_AT, restart
from archivist_infra.ops.scale import scale
from tests.ops.test_qdrant_drain import FakeQdrant

from .fake_qdrant import behind_the_proxy, served
from .kube import Cluster, wait_for
from .test_ops import ROOT, ops_for, restricted_pod_spec, worker_cronjob


def statefulset(name: str, namespace: str, replicas: int) -> dict[str, Any]:
    labels = {"app.kubernetes.io/name": name}
    return {"apiVersion": "apps/v1", "kind": "StatefulSet", "metadata": {"name": name, "namespace": namespace},
            "spec": {"replicas": replicas, "serviceName": f"{name}-headless", "podManagementPolicy": "Parallel",
                     "selector": {"matchLabels": labels},
                     "template": {"metadata": {"labels": labels}, "spec": restricted_pod_spec()}}}


def statefulset_hpa(name: str, namespace: str, minimum: int, maximum: int) -> dict[str, Any]:
    return {"apiVersion": "autoscaling/v2", "kind": "HorizontalPodAutoscaler",
            "metadata": {"name": name, "namespace": namespace},
            "spec": {"scaleTargetRef": {"apiVersion": "apps/v1", "kind": "StatefulSet", "name": name},
                     "minReplicas": minimum, "maxReplicas": maximum,
                     "behavior": {"scaleDown": {"selectPolicy": "Disabled"}},
                     "metrics": [{"type": "Resource", "resource": {"name": "cpu", "target": {
                         "type": "Utilization", "averageUtilization": 70}}}]}}


def _bounds(cluster: Cluster, ns: str) -> tuple[int, int]:
    live = cluster.get("hpa", "qdrant", namespace=ns)
    return live["spec"]["minReplicas"], live["spec"]["maxReplicas"]


def test_scale_refuses_to_drop_shard_holding_qdrant_peers_and_drains_from_the_top(cluster: Cluster) -> None:
    ns = cluster.create_namespace("ops-qdrant")
    assert cluster.apply([statefulset("qdrant", ns, 3), statefulset_hpa("qdrant", ns, 2, 5)]).ok
    fake = FakeQdrant(3)  # qdrant-0..2 are peers 101..103; every peer holds 2 shard replicas
    with served(fake) as port:
        behind_the_proxy(cluster, ns, port)
        ops, buf = ops_for(cluster, ns)
        ops.stack = "prod"

        with pytest.raises(OpsError) as err:
            scale(ops, "qdrant", replicas=2, yes=True)
        message = str(err.value)
        assert "qdrant-2 (peer 103, 2 shard replica(s))" in message
        assert "`python -m archivist_infra ops qdrant-drain prod --peer 2 --yes`" in message
        assert _bounds(cluster, ns) == (2, 5)  # nothing changed on the server
        with pytest.raises(OpsError, match=r"qdrant-2 .*qdrant-1"):  # highest first, both listed
            scale(ops, "qdrant", minimum=1, maximum=1, yes=True)
        with pytest.raises(OpsError, match="not the highest peer"):
            qdrant_drain(ops, 1, yes=True)

        assert qdrant_drain(ops, 2, yes=True) == 0  # shards moved through the proxy, then the peer removed
        assert fake.deleted == [103] and not fake.shards["papers"].get(103)

        assert scale(ops, "qdrant", replicas=2) == 0  # no --yes: the plan only
        assert "stops qdrant-2" in buf.getvalue() and "--yes" in buf.getvalue()
        assert _bounds(cluster, ns) == (2, 5)
        assert scale(ops, "qdrant", replicas=2, yes=True) == 0
        assert _bounds(cluster, ns) == (2, 2)

        assert scale(ops, "qdrant", minimum=2, maximum=5) == 0  # growing needs no confirmation
        assert _bounds(cluster, ns) == (2, 5)


def test_scale_refuses_when_qdrant_cannot_say_which_peers_hold_shards(cluster: Cluster) -> None:
    ns = cluster.create_namespace("ops-qdrant-down")
    assert cluster.apply([statefulset("qdrant", ns, 3), statefulset_hpa("qdrant", ns, 2, 5)]).ok
    ops, _ = ops_for(cluster, ns)
    with pytest.raises(OpsError, match="cannot tell which Qdrant peers hold shards"):
        scale(ops, "qdrant", replicas=2, yes=True)
    assert _bounds(cluster, ns) == (2, 5)


def test_restart_of_a_single_replica_store_shows_the_plan_and_wants_yes(cluster: Cluster) -> None:
    ns = cluster.create_namespace("ops-restart-store")
    assert cluster.apply([statefulset("redis", ns, 1)]).ok
    ops, buf = ops_for(cluster, ns)
    assert restart(ops, ["redis"]) == 0
    assert "single pod" in buf.getvalue() and "--yes" in buf.getvalue()
    live = cluster.get("statefulset", "redis", namespace=ns)
    assert RESTARTED_AT not in (live["spec"]["template"]["metadata"].get("annotations") or {})
    assert restart(ops, ["redis"], yes=True) == 0
    wait_for("the restart annotation", lambda: RESTARTED_AT in (cluster.get(
        "statefulset", "redis", namespace=ns)["spec"]["template"]["metadata"].get("annotations") or {}))


# -- ops acts only on the stack's own target -------------------------------------------------------


def _stack_file(tmp_path: Path, namespace: str) -> Path:
    stack = yaml.safe_load((ROOT / "Pulumi.dev.yaml").read_text())
    stack["config"]["archivist:namespace"] = namespace
    stack["config"]["archivist:cluster"] = {}  # the envtest kubeconfig's current context
    path = tmp_path / "Pulumi.envtest.yaml"
    path.write_text(yaml.safe_dump(stack))
    return path


def test_status_of_a_namespace_that_does_not_exist_is_an_error_not_healthy(
        cluster: Cluster, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    stack_file = _stack_file(tmp_path, "nosuch-namespace")
    rc = main(["ops", "status", "envtest", "--config-file", str(stack_file), "--kubeconfig", str(cluster.kubeconfig)])
    out = capsys.readouterr()
    assert rc == 2, out.out
    assert out.err.startswith("error: namespace nosuch-namespace does not exist") and out.err.count("\n") == 1
    assert "healthy" not in out.out


# -- one batch at a time -----------------------------------------------------------------------------


def test_a_second_process_is_refused_while_a_manual_run_is_in_progress(cluster: Cluster) -> None:
    ns = cluster.create_namespace("ops-process-twice")
    assert cluster.apply([worker_cronjob(ns)]).ok
    ops, _ = ops_for(cluster, ns)
    assert process(ops, wait=False) == 0
    first = [j["metadata"]["name"] for j in cluster.items("jobs", namespace=ns)]
    assert len(first) == 1
    # The CronJob's status.active never lists a manual Job (audit D7): the guard must not rely on it.
    assert not (cluster.get("cronjob", "archivist-worker", namespace=ns).get("status") or {}).get("active")
    with pytest.raises(OpsError, match=f"in progress \\({first[0]}\\)"):
        process(ops, wait=False)
    # A run started by hand with kubectl is a worker Job too.
    made = cluster.run("create", "job", "by-hand", "--from=cronjob/archivist-worker", "-n", ns)
    assert made.ok, made.stderr
    with pytest.raises(OpsError, match="by-hand"):
        process(ops, wait=False)
    assert len(cluster.items("jobs", namespace=ns)) == 2


def test_process_runs_again_once_the_previous_run_has_finished(cluster: Cluster) -> None:
    ns = cluster.create_namespace("ops-process-after")
    assert cluster.apply([worker_cronjob(ns)]).ok
    ops, _ = ops_for(cluster, ns)
    assert process(ops, wait=False) == 0
    name = cluster.items("jobs", namespace=ns)[0]["metadata"]["name"]
    wait_for("the Job controller to start it", lambda: cluster.get("job", name, namespace=ns).get(
        "status", {}).get("startTime"))
    time.sleep(1.1)
    now = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
    patch = {"status": {"completionTime": now, "succeeded": 1, "ready": 0, "active": 0, "terminating": 0,
                        "uncountedTerminatedPods": {},
                        "conditions": [{"type": "SuccessCriteriaMet", "status": "True", "lastTransitionTime": now},
                                       {"type": "Complete", "status": "True", "lastTransitionTime": now}]}}
    assert cluster.run("patch", "job", name, "-n", ns, "--subresource=status", "--type=merge",
                       "-p", json.dumps(patch)).ok
    time.sleep(1.1)  # the next Job's name carries the second
    assert process(ops, wait=False) == 0
    assert len(cluster.items("jobs", namespace=ns)) == 2
