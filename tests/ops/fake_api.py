"""A real `kubernetes.client.ApiClient` whose HTTP layer answers from recorded responses.

Everything above the transport is the real client (request building, query parameters,
deserialization into typed objects, ApiException on errors), so a verb under test makes the
same calls it makes against a cluster; the test answers them and inspects what was asked.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from http import HTTPStatus
from typing import Any
from urllib.parse import parse_qs, urlparse

from kubernetes import client
from kubernetes.client.rest import RESTResponse


class FakeHTTPResponse:
    """The part of urllib3.HTTPResponse the client reads (data, headers, stream for _preload_content=False)."""

    def __init__(self, status: int, body: bytes, content_type: str, chunks: list[bytes] | None) -> None:
        self.status = status
        self.reason = HTTPStatus(status).phrase
        self.data = body
        self.headers = {"content-type": content_type}
        self.chunks = chunks if chunks is not None else [body]
        self.closed = False

    def stream(self, amt: int | None = None) -> Iterator[bytes]:
        yield from self.chunks

    def release_conn(self) -> None:
        pass

    def close(self) -> None:
        self.closed = True


@dataclass
class Call:
    method: str
    path: str
    query: dict[str, list[str]]
    body: Any


@dataclass
class Route:
    method: str
    path: str
    answer: Callable[[Call], tuple[int, Any]]
    chunks: list[bytes] | None = None
    prefix: bool = False  # match every path under `path`


@dataclass
class FakeKube:
    routes: list[Route] = field(default_factory=list)
    calls: list[Call] = field(default_factory=list)

    def on(self, method: str, path: str, body: Any = None, *, status: int = 200,
           chunks: list[bytes] | None = None, prefix: bool = False) -> FakeKube:
        """Answer METHOD PATH with `body` (a dict: JSON; a str: text; a callable: called with the Call)."""
        answer = body if callable(body) else (lambda _call, b=body, s=status: (s, b))
        self.routes.insert(0, Route(method, path, answer, chunks, prefix))  # later routes win
        return self

    def request(self, method: str, url: str, headers: Any = None, body: Any = None, post_params: Any = None,
                _request_timeout: Any = None) -> RESTResponse:
        parsed = urlparse(url)
        call = Call(method, parsed.path, parse_qs(parsed.query), body)
        self.calls.append(call)
        for route in self.routes:
            if route.method == method and (route.path == parsed.path
                                           or (route.prefix and parsed.path.startswith(route.path))):
                status, payload = route.answer(call)
                return self._response(status, payload, route.chunks)
        status_body = {"kind": "Status", "apiVersion": "v1", "status": "Failure", "reason": "NotFound", "code": 404,
                       "message": f"the server could not find the requested resource ({method} {parsed.path})"}
        return self._response(404, status_body, None)

    @staticmethod
    def _response(status: int, payload: Any, chunks: list[bytes] | None) -> RESTResponse:
        if isinstance(payload, str):
            data, ctype = payload.encode(), "text/plain"
        else:
            data, ctype = json.dumps(payload).encode(), "application/json"
        return RESTResponse(FakeHTTPResponse(status, data, ctype, chunks))

    def client(self) -> client.ApiClient:
        api = client.ApiClient(client.Configuration(host="https://fake.invalid"))
        api.rest_client = self  # type: ignore[assignment]
        return api

    def asked(self, method: str, path: str) -> list[Call]:
        return [c for c in self.calls if c.method == method and c.path == path]


def items(*objs: dict[str, Any], kind: str = "List") -> dict[str, Any]:
    return {"apiVersion": "v1", "kind": kind, "metadata": {"resourceVersion": "1"}, "items": list(objs)}


def pod(name: str, labels: dict[str, str], *, containers: tuple[str, ...] = ("main",), phase: str = "Running",
        ready: bool = True, node: str | None = "node-1", resources: dict[str, Any] | None = None,
        claim: str | None = None, ports: list[dict[str, Any]] | None = None) -> dict[str, Any]:
    spec: dict[str, Any] = {"containers": [{"name": c, "image": "x:1", "resources": resources or {},
                                            **({"ports": ports} if ports else {})} for c in containers]}
    if node:
        spec["nodeName"] = node
    if claim:
        spec["volumes"] = [{"name": "data", "persistentVolumeClaim": {"claimName": claim}}]
    return {"apiVersion": "v1", "kind": "Pod",
            "metadata": {"name": name, "namespace": "ns", "labels": labels, "creationTimestamp": "2026-11-27T10:00:00Z"},
            "spec": spec,
            "status": {"phase": phase,
                       "conditions": [{"type": "Ready", "status": "True" if ready else "False"}],
                       "containerStatuses": [{"name": c, "ready": ready, "restartCount": 0, "image": "x:1", "imageID": "",
                                              "state": {"running": {}}} for c in containers]}}


def deployment(name: str, labels: dict[str, str], replicas: int = 1, ready: int = 1,
               pod_security: dict[str, Any] | None = None) -> dict[str, Any]:
    return {"apiVersion": "apps/v1", "kind": "Deployment",
            "metadata": {"name": name, "namespace": "ns", "creationTimestamp": "2026-11-27T10:00:00Z", "labels": labels},
            "spec": {"replicas": replicas, "selector": {"matchLabels": labels},
                     "template": {"metadata": {"labels": labels},
                                  "spec": {"containers": [{"name": "main", "image": "x:1"}],
                                           **({"securityContext": pod_security} if pod_security else {})}}},
            "status": {"readyReplicas": ready, "replicas": replicas, "updatedReplicas": replicas}}
