"""`ops port-forward`: the APIs and admin UIs on localhost, through the API server's pod portforward.

Targets (guide, "Accessing Services"): search 8000 (/docs), graph 8081, neo4j 7474 (browser) and
7687 (bolt), qdrant 6333 (/dashboard); any other as SERVICE:PORT. `=LOCAL` picks the local port
(`=0`: any free one). Each target resolves, like `kubectl port-forward svc/...`, to one ready pod
behind the Service and the container port the Service's targetPort names; every local
connection opens its own portforward stream (the kubernetes client's `portforward`).
"""

from __future__ import annotations

import contextlib
import select
import socket
import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from .context import Ops
from .errors import OpsError

TARGETS: dict[str, tuple[str, tuple[int, ...], str]] = {
    "search": ("archivist-search", (8000,), "search API: /docs"),
    "graph": ("archivist-graph", (8081,), "graph API"),
    "neo4j": ("neo4j", (7474, 7687), "Neo4j browser (7474) and bolt (7687)"),
    "qdrant": ("qdrant", (6333,), "Qdrant API and /dashboard"),
}

Opener = Callable[[str, int], Any]  # (pod, port) -> a connected socket to that port of the pod


@dataclass(frozen=True)
class Forward:
    service: str
    pod: str
    remote: int  # the pod's port
    service_port: int
    local: int  # requested local port (0: any)
    what: str


def parse_target(text: str) -> tuple[str, tuple[int, ...], int | None, str]:
    """`neo4j`, `qdrant=16333`, `redis:6379`, `neo4j=0` -> (service, ports, local or None, description)."""
    name, _, local_text = text.partition("=")
    local = None
    if local_text:
        if not local_text.isdigit() or int(local_text) > 65535:
            raise OpsError(f"port-forward target {text!r}: the local port after '=' must be 0-65535")
        local = int(local_text)
    if name in TARGETS:
        service, ports, what = TARGETS[name]
        return service, ports, local, what
    service, sep, port_text = name.partition(":")
    if not sep or not port_text.isdigit():
        raise OpsError(f"unknown port-forward target {text!r}: use {', '.join(TARGETS)} or SERVICE:PORT")
    return service, (int(port_text),), local, f"{service}:{port_text}"


def _ready(pod: Any) -> bool:
    return bool(pod.status and pod.status.phase == "Running"
                and any(c.type == "Ready" and c.status == "True" for c in (pod.status.conditions or [])))


def resolve(ops: Ops, service_name: str, ports: tuple[int, ...], local: int | None, what: str, offset: int) -> list[Forward]:
    from kubernetes.client.exceptions import ApiException

    try:
        service = ops.core.read_namespaced_service(service_name, ops.namespace)
    except ApiException as err:
        if err.status == 404:
            raise OpsError(f"no Service {service_name} in namespace {ops.namespace}") from None
        raise
    selector = ",".join(f"{k}={v}" for k, v in sorted((service.spec.selector or {}).items()))
    pods = ops.core.list_namespaced_pod(ops.namespace, label_selector=selector).items if selector else []
    ready = sorted((p for p in pods if _ready(p)), key=lambda p: p.metadata.name)
    if not ready:
        raise OpsError(f"no ready pod behind Service {service_name} ({len(pods)} pods, none ready): see `ops status`")
    pod = ready[0]
    forwards = []
    for port in ports:
        sp = next((p for p in service.spec.ports or [] if p.port == port), None)
        if sp is None:
            raise OpsError(f"Service {service_name} has no port {port}")
        remote = _container_port(pod, sp.target_port if sp.target_port is not None else port)
        forwards.append(Forward(service_name, pod.metadata.name, remote, port,
                                local if local is not None else port + offset, what))
    return forwards


def _container_port(pod: Any, target: int | str) -> int:
    if isinstance(target, int) or str(target).isdigit():
        return int(target)
    for c in pod.spec.containers:
        for p in c.ports or []:
            if p.name == target:
                return int(p.container_port)
    raise OpsError(f"pod {pod.metadata.name} has no container port named {target}")


def client_opener(ops: Ops) -> Opener:
    def open_stream(pod: str, port: int) -> Any:
        from kubernetes.stream import portforward

        pf = portforward(ops.core.connect_get_namespaced_pod_portforward, pod, ops.namespace, ports=str(port))
        return pf.socket(port)

    return open_stream


def pipe(a: Any, b: Any, stop: threading.Event) -> None:
    """Copies bytes both ways until either side closes."""
    socks = [a, b]
    try:
        while not stop.is_set():
            readable, _, _ = select.select(socks, [], [], 0.2)
            for s in readable:
                data = s.recv(65536)
                if not data:
                    return
                (b if s is a else a).sendall(data)
    except OSError:
        return
    finally:
        for s in socks:
            with contextlib.suppress(OSError):
                s.close()


def serve(forwards: list[Forward], address: str, opener: Opener, stop: threading.Event,
          on_ready: Callable[[list[tuple[Forward, int]]], None]) -> None:
    listeners: list[tuple[socket.socket, Forward]] = []
    try:
        for fw in forwards:
            srv = socket.socket(socket.AF_INET6 if ":" in address else socket.AF_INET, socket.SOCK_STREAM)
            srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            try:
                srv.bind((address, fw.local))
            except OSError as err:
                srv.close()
                raise OpsError(f"cannot listen on {address}:{fw.local} for {fw.service}: {err.strerror} "
                               f"(pick another with `{fw.service}={fw.local + 10000}` or --offset)") from None
            srv.listen(16)
            listeners.append((srv, fw))
        on_ready([(fw, srv.getsockname()[1]) for srv, fw in listeners])
        by_sock = {srv: fw for srv, fw in listeners}
        while not stop.is_set():
            readable, _, _ = select.select(list(by_sock), [], [], 0.2)
            for srv in readable:
                conn, _ = srv.accept()
                fw = by_sock[srv]
                threading.Thread(target=_connect, args=(conn, fw, opener, stop), daemon=True).start()
    finally:
        for srv, _ in listeners:
            srv.close()


def _connect(conn: socket.socket, fw: Forward, opener: Opener, stop: threading.Event) -> None:
    try:
        remote = opener(fw.pod, fw.remote)
    except Exception:
        conn.close()
        return
    pipe(conn, remote, stop)


def port_forward(ops: Ops, targets: list[str], *, address: str = "127.0.0.1", offset: int = 0,
                 opener: Opener | None = None, stop: threading.Event | None = None) -> int:
    parsed = [parse_target(t) for t in (targets or list(TARGETS))]
    forwards = [fw for service, ports, local, what in parsed for fw in resolve(ops, service, ports, local, what, offset)]
    stop = stop or threading.Event()

    def ready(bound: list[tuple[Forward, int]]) -> None:
        rows = [{"service": fw.service, "pod": fw.pod, "port": fw.service_port, "local": f"{address}:{port}",
                 "what": fw.what} for fw, port in bound]
        if ops.out.json:
            ops.out.emit(rows)
        else:
            for r in rows:
                ops.out.say(f"{r['local']} -> {r['service']}:{r['port']} (pod {r['pod']}): {r['what']}")
            ops.out.say("Forwarding; Ctrl-C stops.")

    try:
        serve(forwards, address, opener or client_opener(ops), stop, ready)
    except KeyboardInterrupt:
        stop.set()
    return 0
