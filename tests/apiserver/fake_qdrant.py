"""A fake distributed Qdrant served over HTTP and reached through the real API server's service proxy.

The API server proxies `services/qdrant:6333/proxy/...` to an address of the Service's Endpoints only
when that address names a Pod (targetRef) whose `status.podIPs` holds it (kube-apiserver
pkg/registry/core/service/storage ResourceLocation -> isValidAddress) and the address is not loopback.
With no kubelet here, the test makes such a Pod, writes its status with this machine's non-loopback
address, and points a selector-less Service `qdrant` at it: every `ops` call then goes through the
same proxy path and RBAC check as against a cluster. The answers are tests/ops/test_qdrant_drain.py's
FakeQdrant (Qdrant's v1.13.4 shapes; unchanged in v1.15 for these endpoints).
"""

from __future__ import annotations

import json
import socket
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlparse

from tests.ops.fake_api import Call
from tests.ops.test_qdrant_drain import FakeQdrant

from .kube import Cluster, wait_for


def routable_address() -> str:
    """This machine's address on its default route (the API server refuses to proxy to loopback)."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        s.connect(("192.0.2.254", 9))  # no packet is sent: this only picks the outgoing interface
        address = s.getsockname()[0]
    assert not address.startswith("127."), "no non-loopback address to serve the fake Qdrant on"
    return str(address)


def _handler(fake: FakeQdrant) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args: Any) -> None:
            pass

        def _answer(self, method: str) -> None:
            parsed = urlparse(self.path)
            length = int(self.headers.get("Content-Length") or 0)
            body = json.loads(self.rfile.read(length)) if length else None
            call = Call(method, parsed.path, parse_qs(parsed.query), body)
            status, payload = self._route(call)
            data = json.dumps(payload).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def _route(self, call: Call) -> tuple[int, Any]:
            ok = {"status": "ok", "time": 0.001}
            parts = [p for p in call.path.split("/") if p]
            if call.method == "GET" and parts == ["cluster"]:
                return 200, {"result": fake.cluster(), **ok}
            if call.method == "GET" and parts == ["collections"]:
                return 200, {"result": {"collections": [{"name": n} for n in fake.shards]}, **ok}
            if len(parts) == 3 and parts[0] == "collections" and parts[2] == "cluster" and parts[1] in fake.shards:
                if call.method == "GET":
                    return 200, {"result": fake.info(parts[1]), **ok}
                if call.method == "POST":
                    return fake.move(parts[1], call)
            if call.method == "DELETE" and parts[:2] == ["cluster", "peer"]:
                return fake.delete(call)
            return 404, {"status": {"error": f"no route {call.method} {call.path}"}, "time": 0}

        def do_GET(self) -> None:
            self._answer("GET")

        def do_POST(self) -> None:
            self._answer("POST")

        def do_DELETE(self) -> None:
            self._answer("DELETE")

    return Handler


@contextmanager
def served(fake: FakeQdrant) -> Iterator[int]:
    server = ThreadingHTTPServer(("0.0.0.0", 0), _handler(fake))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield int(server.server_address[1])
    finally:
        server.shutdown()
        server.server_close()


def behind_the_proxy(cluster: Cluster, namespace: str, port: int) -> None:
    """Service `qdrant` (port 6333) in `namespace` whose one endpoint is the fake, as the proxy accepts it."""
    address = routable_address()
    pod = {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "fake-qdrant-endpoint", "namespace": namespace},
           "spec": {"securityContext": {"runAsNonRoot": True, "runAsUser": 1000,
                                        "seccompProfile": {"type": "RuntimeDefault"}},
                    "containers": [{"name": "main", "image": "busybox:1.37.0", "command": ["sleep", "3600"],
                                    "securityContext": {"allowPrivilegeEscalation": False,
                                                        "capabilities": {"drop": ["ALL"]}}}]}}
    service = {"apiVersion": "v1", "kind": "Service", "metadata": {"name": "qdrant", "namespace": namespace},
               "spec": {"ports": [{"name": "http", "port": 6333, "targetPort": port}]}}
    endpoints = {"apiVersion": "v1", "kind": "Endpoints", "metadata": {"name": "qdrant", "namespace": namespace},
                 "subsets": [{"addresses": [{"ip": address, "targetRef": {"kind": "Pod", "name": "fake-qdrant-endpoint",
                                                                          "namespace": namespace}}],
                              "ports": [{"name": "http", "port": port}]}]}
    applied = cluster.apply([pod, service])
    assert applied.ok, applied.stderr
    status = json.dumps({"status": {"podIP": address, "podIPs": [{"ip": address}]}})
    cluster.run("patch", "pod", "fake-qdrant-endpoint", "-n", namespace, "--subresource=status", "--type=merge",
                "-p", status, check=True)
    applied = cluster.apply([endpoints])
    assert applied.ok, applied.stderr
    wait_for("the service proxy to reach the fake Qdrant", lambda: cluster.run(
        "get", "--raw", f"/api/v1/namespaces/{namespace}/services/qdrant:6333/proxy/cluster").returncode == 0)
