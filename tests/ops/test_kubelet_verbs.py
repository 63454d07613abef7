"""Verbs that need a kubelet (logs, top, port-forward, exec for upload), against recorded API responses.

The responses have the shapes the API server and kubelet send: PodMetrics as metrics-server
serves them (metrics.k8s.io/v1beta1), `stats/summary` as the kubelet serves it, pod logs as text.
"""

from __future__ import annotations

import io
import json
import socket
import tarfile
import threading
from pathlib import Path
from typing import Any

import pytest

from archivist_infra.ops.context import Ops, Out
from archivist_infra.ops.errors import OpsError
from archivist_infra.ops.logs import logs
from archivist_infra.ops.portforward import Forward, parse_target, port_forward, resolve
from archivist_infra.ops.status import collect
from archivist_infra.ops.top import top
from archivist_infra.ops.upload import CLAIM, INBOX, check_pdfs, upload

from .fake_api import FakeKube, deployment, items, pod

NS = "/api/v1/namespaces/ns"
APPS = "/apis/apps/v1/namespaces/ns"
BATCH = "/apis/batch/v1/namespaces/ns"
SEARCH = {"app.kubernetes.io/name": "archivist-search", "app.kubernetes.io/part-of": "archivist"}


def make_ops(kube: FakeKube, *, as_json: bool = False) -> tuple[Ops, io.StringIO, io.StringIO]:
    out, err = io.StringIO(), io.StringIO()
    return Ops(api=kube.client(), namespace="ns", out=Out(json=as_json, file=out, err_file=err), poll_seconds=0.01), out, err


def with_workloads(kube: FakeKube, *deployments: dict[str, Any]) -> FakeKube:
    kube.on("GET", f"{APPS}/deployments", items(*deployments))
    kube.on("GET", f"{APPS}/statefulsets", items())
    kube.on("GET", f"{BATCH}/cronjobs", items())
    return kube


# -- logs ------------------------------------------------------------------------------------


def search_with_two_pods() -> FakeKube:
    kube = with_workloads(FakeKube(), deployment("archivist-search", SEARCH))
    kube.on("GET", f"{NS}/pods", items(pod("search-a", SEARCH), pod("search-b", SEARCH)))
    kube.on("GET", f"{NS}/pods/search-a/log", "started\nGET /health 200\n")
    kube.on("GET", f"{NS}/pods/search-b/log", "started\n")
    return kube


def test_logs_reads_every_pod_of_the_workload_with_a_prefix_and_the_tail() -> None:
    kube = search_with_two_pods()
    ops, out, _ = make_ops(kube)
    assert logs(ops, "search") == 0
    assert out.getvalue().splitlines() == ["[search-a/main] started", "[search-a/main] GET /health 200",
                                           "[search-b/main] started"]
    listed = kube.asked("GET", f"{NS}/pods")[0]
    assert listed.query["labelSelector"] == ["app.kubernetes.io/name=archivist-search,app.kubernetes.io/part-of=archivist"]
    read = kube.asked("GET", f"{NS}/pods/search-a/log")[0]
    assert read.query["tailLines"] == ["100"] and read.query["container"] == ["main"]


def test_logs_previous_asks_for_the_terminated_container() -> None:
    kube = search_with_two_pods()
    ops, _, _ = make_ops(kube)
    logs(ops, "archivist-search", previous=True, tail=-1)
    read = kube.asked("GET", f"{NS}/pods/search-b/log")[0]
    assert read.query["previous"] == ["true"] and "tailLines" not in read.query


def test_logs_follow_streams_every_pod_and_joins_lines_split_across_chunks() -> None:
    kube = search_with_two_pods()
    kube.on("GET", f"{NS}/pods/search-a/log", "", chunks=[b"first li", b"ne\nsecond line\nlast"])
    kube.on("GET", f"{NS}/pods/search-b/log", "", chunks=[b"b says hi\n"])
    ops, out, _ = make_ops(kube)
    assert logs(ops, "search", follow=True) == 0
    lines = out.getvalue().splitlines()
    assert sorted(lines) == sorted(["[search-a/main] first line", "[search-a/main] second line",
                                    "[search-a/main] last", "[search-b/main] b says hi"])
    assert [ln for ln in lines if ln.startswith("[search-a")] == ["[search-a/main] first line",
                                                                    "[search-a/main] second line", "[search-a/main] last"]
    assert all(c.query["follow"] == ["true"] for c in kube.calls if c.path.endswith("/log"))


def test_logs_of_a_job_by_name_selects_its_pods_by_job_name() -> None:
    kube = with_workloads(FakeKube())
    job = {"apiVersion": "batch/v1", "kind": "Job", "metadata": {"name": "archivist-worker-manual-1", "namespace": "ns"},
           "spec": {"template": {"spec": {"containers": [{"name": "worker", "image": "x:1"}]}}}}
    kube.on("GET", f"{BATCH}/jobs/archivist-worker-manual-1", job)
    kube.on("GET", f"{NS}/pods", items(pod("archivist-worker-manual-1-x", {}, containers=("worker",))))
    kube.on("GET", f"{NS}/pods/archivist-worker-manual-1-x/log", "processed 3 papers\n")
    ops, out, _ = make_ops(kube, as_json=True)
    assert logs(ops, "archivist-worker-manual-1") == 0
    assert json.loads(out.getvalue()) == [{"pod": "archivist-worker-manual-1-x", "container": "worker",
                                           "lines": ["processed 3 papers"]}]
    assert kube.asked("GET", f"{NS}/pods")[0].query["labelSelector"] == ["batch.kubernetes.io/job-name=archivist-worker-manual-1"]


def test_logs_of_an_unknown_workload_names_the_ones_there() -> None:
    ops, _, _ = make_ops(search_with_two_pods())
    with pytest.raises(OpsError, match=r"no Deployment/StatefulSet/CronJob 'nope' in namespace ns .there: archivist-search"):
        logs(ops, "nope")


def test_logs_of_a_workload_without_pods_says_so() -> None:
    kube = with_workloads(FakeKube(), deployment("archivist-worker", {"app.kubernetes.io/name": "archivist-worker"}))
    kube.on("GET", f"{NS}/pods", items())
    ops, _, _ = make_ops(kube)
    with pytest.raises(OpsError, match=r"has no pods.*ops process"):
        logs(ops, "worker")


# -- top -------------------------------------------------------------------------------------


POD_METRICS = {  # metrics-server's PodMetricsList (metrics.k8s.io/v1beta1)
    "kind": "PodMetricsList", "apiVersion": "metrics.k8s.io/v1beta1", "metadata": {},
    "items": [{"metadata": {"name": "search-a", "namespace": "ns"}, "timestamp": "2026-11-27T10:00:00Z", "window": "15.01s",
               "containers": [{"name": "main", "usage": {"cpu": "250000000n", "memory": "262144Ki"}}]}]}


def test_top_reads_pod_metrics_and_shows_use_against_requests_and_limits() -> None:
    kube = FakeKube()
    kube.on("GET", "/apis/metrics.k8s.io/v1beta1/namespaces/ns/pods", POD_METRICS)
    resources = {"requests": {"cpu": "100m", "memory": "256Mi"}, "limits": {"cpu": "500m", "memory": "512Mi"}}
    kube.on("GET", f"{NS}/pods", items(pod("search-a", SEARCH, resources=resources)))
    ops, out, _ = make_ops(kube, as_json=True)
    assert top(ops) == 0
    [row] = json.loads(out.getvalue())
    assert row["pod"] == "search-a" and row["cpu"] == 0.25 and row["memory"] == 256 * 2**20
    assert row["cpuLimit"] == 0.5 and row["memoryRequest"] == 256 * 2**20
    ops, out, _ = make_ops(kube)
    top(ops)
    text = out.getvalue()
    assert "250m" in text and "250%" in text and "50%" in text and "256Mi" in text and "100%" in text


def test_top_without_a_metrics_api_says_to_install_metrics_server() -> None:
    ops, _, _ = make_ops(FakeKube())  # every path answers 404
    with pytest.raises(OpsError, match="metrics-server"):
        top(ops)


# -- status: claim use from the kubelet ---------------------------------------------------------


def test_status_takes_claim_use_from_the_kubelet_summary_and_reports_crash_loops() -> None:
    kube = with_workloads(FakeKube(), deployment("archivist-search", SEARCH, replicas=1, ready=0))
    crashing = pod("search-a", SEARCH, claim="archivist-data", ready=False)
    crashing["status"]["containerStatuses"][0]["state"] = {"waiting": {"reason": "CrashLoopBackOff"}}
    crashing["status"]["containerStatuses"][0]["restartCount"] = 7
    kube.on("GET", f"{NS}/pods", items(crashing))
    kube.on("GET", f"{BATCH}/jobs", items())
    kube.on("GET", "/apis/autoscaling/v2/namespaces/ns/horizontalpodautoscalers", items())
    kube.on("GET", f"{NS}/events", items())
    kube.on("GET", f"{NS}/persistentvolumeclaims", items({
        "metadata": {"name": "archivist-data", "namespace": "ns"},
        "spec": {"accessModes": ["ReadWriteMany"], "resources": {"requests": {"storage": "50Gi"}}},
        "status": {"phase": "Bound", "capacity": {"storage": "50Gi"}}}))
    summary = {"node": {"nodeName": "node-1"}, "pods": [{"podRef": {"name": "search-a", "namespace": "ns"},
               "volume": [{"name": "data", "usedBytes": 3 * 2**30, "capacityBytes": 50 * 2**30,
                           "pvcRef": {"name": "archivist-data", "namespace": "ns"}}]}]}
    kube.on("GET", "/api/v1/nodes/node-1/proxy/stats/summary", json.dumps(summary))
    ops, _, _ = make_ops(kube)
    data = collect(ops)
    assert data["claims"][0]["usedBytes"] == 3 * 2**30
    assert data["restarts"] == {"search-a": 7}
    assert "pod search-a container main: CrashLoopBackOff" in data["problems"]
    assert "Deployment archivist-search: 0/1 ready" in data["problems"]


# -- port-forward ----------------------------------------------------------------------------


def test_port_forward_targets_are_the_guides_services_and_ports() -> None:
    assert parse_target("neo4j")[:2] == ("neo4j", (7474, 7687))
    assert parse_target("search")[:2] == ("archivist-search", (8000,))
    assert parse_target("graph")[:2] == ("archivist-graph", (8081,))
    assert parse_target("qdrant=0")[:3] == ("qdrant", (6333,), 0)
    assert parse_target("redis:6379")[:2] == ("redis", (6379,))
    with pytest.raises(OpsError, match="unknown port-forward target"):
        parse_target("kafka")


def service_with_named_port(kube: FakeKube) -> None:
    kube.on("GET", f"{NS}/services/archivist-search", {
        "metadata": {"name": "archivist-search", "namespace": "ns"},
        "spec": {"selector": SEARCH, "ports": [{"name": "http", "port": 8000, "targetPort": "http"}]}})


def test_port_forward_resolves_a_ready_pod_and_the_named_target_port() -> None:
    kube = FakeKube()
    service_with_named_port(kube)
    ports = [{"name": "http", "containerPort": 8000}]
    kube.on("GET", f"{NS}/pods", items(pod("search-a", SEARCH, ready=False, ports=ports),
                                       pod("search-b", SEARCH, ports=ports)))
    ops, _, _ = make_ops(kube)
    [fw] = resolve(ops, "archivist-search", (8000,), None, "search", offset=10000)
    assert fw == Forward("archivist-search", "search-b", 8000, 8000, 18000, "search")


def test_port_forward_without_a_ready_pod_is_one_clear_error() -> None:
    kube = FakeKube()
    service_with_named_port(kube)
    kube.on("GET", f"{NS}/pods", items(pod("search-a", SEARCH, phase="Pending", ready=False)))
    ops, _, _ = make_ops(kube)
    with pytest.raises(OpsError, match="no ready pod behind Service archivist-search"):
        port_forward(ops, ["search"])


def test_port_forward_carries_bytes_both_ways_through_a_stream_per_connection() -> None:
    kube = FakeKube()
    service_with_named_port(kube)
    kube.on("GET", f"{NS}/pods", items(pod("search-b", SEARCH, ports=[{"name": "http", "containerPort": 8000}])))
    ops, out, _ = make_ops(kube, as_json=True)
    opened: list[tuple[str, int]] = []

    def opener(pod_name: str, port: int) -> socket.socket:
        # Stands in for the portforward websocket: the far end answers in upper case.
        ours, theirs = socket.socketpair()
        opened.append((pod_name, port))

        def far_end() -> None:
            data = theirs.recv(1024)
            theirs.sendall(data.upper())
            theirs.close()

        threading.Thread(target=far_end, daemon=True).start()
        return ours

    stop = threading.Event()
    runner = threading.Thread(target=port_forward, args=(ops, ["search=0"]),
                              kwargs={"opener": opener, "stop": stop}, daemon=True)
    runner.start()
    for _ in range(200):
        if out.getvalue():
            break
        threading.Event().wait(0.02)
    [row] = json.loads(out.getvalue())
    host, port = row["local"].rsplit(":", 1)
    for _ in range(2):  # each connection opens its own stream
        with socket.create_connection((host, int(port)), timeout=5) as conn:
            conn.sendall(b"get /health")
            assert conn.recv(1024) == b"GET /HEALTH"
    stop.set()
    runner.join(5)
    assert opened == [("search-b", 8000), ("search-b", 8000)]
    assert row["service"] == "archivist-search" and row["pod"] == "search-b"


# -- upload ----------------------------------------------------------------------------------


def pdf(tmp_path: Path, name: str, body: bytes = b"%PDF-1.7\n...\n%%EOF\n") -> Path:
    path = tmp_path / name
    path.write_bytes(body)
    return path


def test_upload_refuses_files_that_are_not_pdfs_before_touching_the_cluster(tmp_path: Path) -> None:
    txt = tmp_path / "notes.txt"
    txt.write_text("hello")
    fake = tmp_path / "fake.pdf"
    fake.write_text("not a pdf")
    with pytest.raises(OpsError) as err:
        check_pdfs([txt, fake, tmp_path / "missing.pdf"])
    assert "notes.txt: not a .pdf" in str(err.value)
    assert "fake.pdf: does not start with %PDF-" in str(err.value)
    assert "missing.pdf: no such file" in str(err.value)


def upload_cluster(pod_phases: list[str]) -> tuple[FakeKube, list[Any]]:
    """A namespace with the worker (uid 1000) and the claim; the uploader pod goes through `pod_phases`."""
    kube = FakeKube()
    worker_sc = {"runAsUser": 1000, "fsGroup": 1000, "runAsNonRoot": True}
    kube.on("GET", f"{APPS}/deployments", items(deployment("archivist-worker", {"app.kubernetes.io/name": "archivist-worker"},
                                                           pod_security=worker_sc)))
    kube.on("GET", f"{BATCH}/cronjobs", items())
    kube.on("GET", f"{NS}/persistentvolumeclaims/{CLAIM}", {
        "metadata": {"name": CLAIM, "namespace": "ns"}, "spec": {"accessModes": ["ReadWriteMany"]}, "status": {"phase": "Bound"}})
    created: list[Any] = []
    phases = iter(pod_phases)

    def create(call: Any) -> tuple[int, Any]:
        created.append(call.body)
        return 201, call.body

    def read(call: Any) -> tuple[int, Any]:
        assert call.path == f"{NS}/pods/{created[-1]['metadata']['name']}"
        return 200, {**created[-1], "status": {"phase": next(phases, pod_phases[-1])}}

    kube.on("POST", f"{NS}/pods", create)
    kube.on("GET", f"{NS}/pods", items())
    kube.on("GET", f"{NS}/pods/", read, prefix=True)
    kube.on("DELETE", f"{NS}/pods/", {}, prefix=True)
    return kube, created


def test_upload_streams_a_tar_into_the_inbox_through_a_restricted_uploader_pod_and_deletes_it(tmp_path: Path) -> None:
    kube, created = upload_cluster(["Pending", "Running"])
    ops, out, _ = make_ops(kube)
    files = [pdf(tmp_path, "a.pdf"), pdf(tmp_path, "Paper Two.PDF", b"%PDF-1.4\n" + bytes(range(256)) * 100)]
    received: dict[str, Any] = {}

    def executor(pod_name: str, command: list[str], data: bytes) -> tuple[int, str, str]:
        received.update(pod=pod_name, command=command, data=data)
        return 0, "", ""

    assert upload(ops, files, executor=executor, timeout=5) == 0

    [body] = created
    spec = body["spec"]
    container = spec["containers"][0]
    assert spec["securityContext"]["runAsNonRoot"] is True and spec["securityContext"]["runAsUser"] == 1000
    assert spec["securityContext"]["fsGroup"] == 1000
    assert spec["securityContext"]["seccompProfile"] == {"type": "RuntimeDefault"}
    assert container["securityContext"] == {"allowPrivilegeEscalation": False, "capabilities": {"drop": ["ALL"]},
                                            "readOnlyRootFilesystem": True, "runAsNonRoot": True}
    assert container["resources"]["limits"] and container["resources"]["requests"]
    assert ":" in container["image"] and not container["image"].endswith(":latest")
    assert spec["volumes"] == [{"name": "data", "persistentVolumeClaim": {"claimName": CLAIM}}]
    assert container["volumeMounts"] == [{"name": "data", "mountPath": "/data"}]
    assert spec["activeDeadlineSeconds"] > 0 and spec["automountServiceAccountToken"] is False

    assert received["pod"] == body["metadata"]["name"]
    assert received["command"][-1] == f"mkdir -p {INBOX} && head -c {len(received['data'])} | tar -xf - -C {INBOX}"
    with tarfile.open(fileobj=io.BytesIO(received["data"])) as tar:
        members = {m.name: tar.extractfile(m).read() for m in tar.getmembers()}  # type: ignore[union-attr]
    assert members == {f.name: f.read_bytes() for f in files}
    deletes = [c for c in kube.calls if c.method == "DELETE"]
    assert [c.path for c in deletes] == [f"{NS}/pods/{body['metadata']['name']}"]
    assert "uploaded a.pdf" in out.getvalue()


def test_upload_deletes_the_uploader_pod_when_unpacking_fails(tmp_path: Path) -> None:
    kube, _ = upload_cluster(["Running"])
    ops, _, _ = make_ops(kube)
    with pytest.raises(OpsError, match=r"unpacking into /data/lib failed \(exit 1\): tar: write error: No space left"):
        upload(ops, [pdf(tmp_path, "a.pdf")], executor=lambda *_: (1, "", "tar: write error: No space left on device"))
    assert len([c for c in kube.calls if c.method == "DELETE"]) == 1


def test_upload_that_never_starts_reports_why_and_cleans_up(tmp_path: Path) -> None:
    kube, _ = upload_cluster(["Pending"])
    ops, _, _ = make_ops(kube)
    with pytest.raises(OpsError, match="did not start within"):
        upload(ops, [pdf(tmp_path, "a.pdf")], executor=lambda *_: (0, "", ""), timeout=0.05)
    assert len([c for c in kube.calls if c.method == "DELETE"]) == 1


def test_status_notes_an_unused_claim_waiting_for_its_first_consumer_without_failing() -> None:
    # kind's local-path class binds on first use: between batch runs nothing uses archivist-data.
    kube = with_workloads(FakeKube())
    kube.on("GET", f"{NS}/pods", items())
    kube.on("GET", f"{BATCH}/jobs", items())
    kube.on("GET", "/apis/autoscaling/v2/namespaces/ns/horizontalpodautoscalers", items())
    kube.on("GET", f"{NS}/events", items())
    kube.on("GET", f"{NS}/persistentvolumeclaims", items({
        "metadata": {"name": "archivist-data", "namespace": "ns"},
        "spec": {"accessModes": ["ReadWriteOnce"], "resources": {"requests": {"storage": "5Gi"}}},
        "status": {"phase": "Pending"}}))
    ops, _, _ = make_ops(kube)
    data = collect(ops)
    assert data["healthy"] is True
    assert data["notes"] == ["claim archivist-data is Pending and no pod uses it yet"]


# -- status: the pre-flight Jobs (app-wiring's Jobs x data-ops' status) ---------------------------


def preflight_job(name: str, created: str, conditions: list[dict[str, str]]) -> dict[str, Any]:
    return {"metadata": {"name": name, "namespace": "ns", "creationTimestamp": created,
                         "labels": {"app.kubernetes.io/name": name, "app.kubernetes.io/component": "preflight"}},
            "spec": {"template": {"spec": {"containers": []}}},
            "status": {"conditions": conditions, "failed": 2 if conditions[0]["type"] == "Failed" else 0}}


def test_status_lists_every_pre_flight_job_and_a_failed_one_makes_it_unhealthy() -> None:
    kube = with_workloads(FakeKube())
    kube.on("GET", f"{NS}/pods", items())
    failed = preflight_job("archivist-model-check", "2026-12-01T00:00:00Z", [
        {"type": "Failed", "status": "True", "reason": "BackoffLimitExceeded",
         "message": "Job has reached the specified backoff limit"}])
    done = preflight_job("archivist-kafka-topic", "2026-12-01T00:00:00Z", [{"type": "Complete", "status": "True"}])
    # Six newer worker runs: the pre-flight Jobs are out of the recent five, yet still shown.
    runs = [{"metadata": {"name": f"archivist-worker-{i}", "namespace": "ns", "creationTimestamp": f"2026-12-0{i + 2}T03:00:00Z"},
             "spec": {"template": {"spec": {"containers": []}}},
             "status": {"conditions": [{"type": "Complete", "status": "True"}], "succeeded": 1}} for i in range(6)]
    kube.on("GET", f"{BATCH}/jobs", items(failed, done, *runs))
    kube.on("GET", "/apis/autoscaling/v2/namespaces/ns/horizontalpodautoscalers", items())
    kube.on("GET", f"{NS}/events", items())
    kube.on("GET", f"{NS}/persistentvolumeclaims", items())
    ops, _, _ = make_ops(kube)
    data = collect(ops)
    assert [(j["name"], j["state"]) for j in data["preflight"]] == [
        ("archivist-kafka-topic", "Complete"), ("archivist-model-check", "Failed")]
    assert "archivist-model-check" not in {j["name"] for j in data["jobs"]}
    assert data["healthy"] is False
    assert [p for p in data["problems"] if "pre-flight" in p] == [
        "pre-flight Job archivist-model-check failed (BackoffLimitExceeded: Job has reached the specified backoff "
        "limit): see `ops logs archivist-model-check`; the next `pulumi up` runs it again"]
