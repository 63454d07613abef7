"""Qdrant never loses shards: 2 copies when distributed, no automatic scale-down, snapshots on the data volume."""

from __future__ import annotations

import json
import subprocess
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from archivist_infra.config.problems import ConfigError
from archivist_infra.tiers.qdrant import SNAPSHOT_SCRIPT, SNAPSHOTS_PATH
from tests.conftest import VALID_IMAGES, env_of, find, pod_spec, run_config


def test_distributed_qdrant_replicates_every_collection_twice(prod_objects: list) -> None:
    env = env_of(pod_spec(find(prod_objects, "StatefulSet", "qdrant"))["containers"][0])
    assert env["QDRANT__CLUSTER__ENABLED"] == "true"
    assert env["QDRANT__STORAGE__COLLECTION__REPLICATION_FACTOR"] == "2"
    assert find(prod_objects, "HorizontalPodAutoscaler", "qdrant")["spec"]["minReplicas"] >= 2


def test_the_autoscaler_may_only_add_peers(prod_objects: list) -> None:
    behavior = find(prod_objects, "HorizontalPodAutoscaler", "qdrant")["spec"]["behavior"]
    assert behavior["scaleDown"] == {"selectPolicy": "Disabled"}
    assert behavior["scaleUp"]["selectPolicy"] == "Max"
    # The apps keep scaling down as before.
    assert find(prod_objects, "HorizontalPodAutoscaler", "archivist-search")["spec"]["behavior"]["scaleDown"][
        "selectPolicy"] == "Min"


def test_a_distributed_cluster_of_one_peer_is_refused() -> None:
    with pytest.raises(ConfigError) as err:
        run_config({"images": VALID_IMAGES, "qdrant": {"autoscaling": {"minReplicas": 1, "maxReplicas": 3}}})
    assert err.value.keys == ["archivist:qdrant.autoscaling.minReplicas"]


def test_snapshots_live_on_the_data_volume_not_an_emptydir(dev_objects: list) -> None:
    sts = find(dev_objects, "StatefulSet", "qdrant")
    c = pod_spec(sts)["containers"][0]
    assert env_of(c)["QDRANT__STORAGE__SNAPSHOTS_PATH"] == SNAPSHOTS_PATH
    data_mount = next(m["mountPath"] for m in c["volumeMounts"] if m["name"] == "data")
    assert SNAPSHOTS_PATH.startswith(data_mount + "/")
    assert "snapshots" not in {v["name"] for v in pod_spec(sts)["volumes"]}


def test_probes_follow_the_official_chart(prod_objects: list) -> None:
    c = pod_spec(find(prod_objects, "StatefulSet", "qdrant"))["containers"][0]
    assert c["startupProbe"]["httpGet"]["path"] == "/"
    assert c["livenessProbe"]["httpGet"]["path"] == "/"
    assert c["readinessProbe"]["httpGet"]["path"] == "/readyz"


class _FakeQdrant(BaseHTTPRequestHandler):
    calls: list[tuple[str, str]] = []
    collections = ("papers", "chunks")

    def _reply(self, body: dict[str, Any]) -> None:
        data = json.dumps(body, separators=(",", ":")).encode()  # serde_json writes compact JSON
        self.send_response(200)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def do_GET(self) -> None:
        self.calls.append(("GET", self.path))
        self._reply({"result": {"collections": [{"name": c} for c in self.collections]}, "status": "ok"})

    def do_POST(self) -> None:
        self.calls.append(("POST", self.path))
        name = self.path.split("/")[2]
        self._reply({"result": {"name": f"{name}-new.snapshot", "size": 1}, "status": "ok"})

    def do_DELETE(self) -> None:
        self.calls.append(("DELETE", self.path))
        self._reply({"result": True, "status": "ok"})

    def log_message(self, *args: Any) -> None:
        pass


def test_the_pre_backup_hook_snapshots_each_collection_and_prunes_older_snapshots(tmp_path: Path) -> None:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _FakeQdrant)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        (tmp_path / "papers").mkdir()
        (tmp_path / "papers" / "papers-old.snapshot").write_text("x")
        (tmp_path / "papers" / "papers-new.snapshot").write_text("x")
        script = (SNAPSHOT_SCRIPT.replace("/6333", f"/{server.server_address[1]}")
                  .replace("/qdrant/storage/snapshots", str(tmp_path)))
        subprocess.run(["bash", "-c", script], check=True, capture_output=True, text=True, timeout=30)
    finally:
        server.shutdown()
    calls = _FakeQdrant.calls
    assert ("POST", "/collections/papers/snapshots?wait=true") in calls
    assert ("POST", "/collections/chunks/snapshots?wait=true") in calls
    assert [c for c in calls if c[0] == "DELETE"] == [("DELETE", "/collections/papers/snapshots/papers-old.snapshot")]


def test_the_hook_is_a_velero_pre_backup_annotation(dev_objects: list) -> None:
    annotations = find(dev_objects, "StatefulSet", "qdrant")["spec"]["template"]["metadata"]["annotations"]
    assert annotations["pre.hook.backup.velero.io/container"] == "qdrant"
    assert json.loads(annotations["pre.hook.backup.velero.io/command"])[:2] == ["/bin/bash", "-c"]
