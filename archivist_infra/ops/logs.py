"""`ops logs`: the logs of every pod of a workload, each line prefixed with its pod and container.

A workload is a Deployment, StatefulSet or CronJob (all runs' pods) by name, or a Job (e.g. the
one `ops process` made). `--follow` streams every container at once; `--previous` reads the
last terminated container (what crashed), like `kubectl logs --previous`.
"""

from __future__ import annotations

import queue
import threading
from typing import Any

from .context import Ops
from .errors import OpsError, api_message
from .workloads import Workload, find_workload, pods_of

_END = object()


def _pods(ops: Ops, name: str) -> tuple[str, list[Any]]:
    from kubernetes.client.exceptions import ApiException

    try:
        w = find_workload(ops, name)
    except OpsError as not_found:
        try:
            job = ops.batch.read_namespaced_job(name, ops.namespace)
        except ApiException as err:
            if err.status == 404:
                raise not_found from None
            raise
        w = Workload("Job", job.metadata.name, job)
        pods = ops.core.list_namespaced_pod(ops.namespace, label_selector=f"batch.kubernetes.io/job-name={name}").items
        return f"Job {name}", sorted(pods, key=lambda p: p.metadata.name)
    return f"{w.kind} {w.name}", pods_of(ops, w)


def _sources(pods: list[Any], container: str | None) -> list[tuple[str, str]]:
    out: list[tuple[str, str]] = []
    for pod in pods:
        names = [c.name for c in (pod.spec.init_containers or [])] + [c.name for c in pod.spec.containers]
        if container:
            if container in names:
                out.append((pod.metadata.name, container))
        else:
            out += [(pod.metadata.name, c.name) for c in pod.spec.containers]
    return out


def logs(ops: Ops, name: str, *, follow: bool = False, previous: bool = False, tail: int = 100,
         container: str | None = None) -> int:
    from kubernetes.client.exceptions import ApiException

    what, pods = _pods(ops, name)
    if not pods:
        hint = " (a batch worker has pods only while a run is active: start one with `ops process`)" \
            if "worker" in name else ""
        raise OpsError(f"{what} has no pods in namespace {ops.namespace}{hint}")
    sources = _sources(pods, container)
    if not sources:
        raise OpsError(f"no container '{container}' in the pods of {what}")
    tail_lines = tail if tail >= 0 else None
    if follow:
        return _follow(ops, sources, previous=previous, tail_lines=tail_lines)

    failed = 0
    collected: list[dict[str, Any]] = []
    for pod, cont in sources:
        try:
            # Raw bytes: the client's "str" deserializer mangles log lines that look like JSON.
            resp = ops.core.read_namespaced_pod_log(pod, ops.namespace, container=cont, previous=previous,
                                                    tail_lines=tail_lines, _preload_content=False)
            text = resp.data.decode("utf-8", "replace")
        except ApiException as err:
            failed += 1
            ops.out.say(f"[{pod}/{cont}] no logs: {api_message(err)}")
            continue
        lines = (text or "").splitlines()
        collected.append({"pod": pod, "container": cont, "lines": lines})
        if not ops.out.json:
            for line in lines:
                ops.out.line(f"[{pod}/{cont}] {line}")
    if ops.out.json:
        ops.out.emit(collected)
    return 1 if failed == len(sources) else 0


def _follow(ops: Ops, sources: list[tuple[str, str]], *, previous: bool, tail_lines: int | None) -> int:
    lines: queue.Queue[Any] = queue.Queue()
    responses: list[Any] = []

    def pump(pod: str, cont: str) -> None:
        try:
            resp = ops.core.read_namespaced_pod_log(pod, ops.namespace, container=cont, follow=True, previous=previous,
                                                    tail_lines=tail_lines, _preload_content=False)
            responses.append(resp)
            buffer = b""
            for chunk in resp.stream(4096):
                buffer += chunk
                *complete, buffer = buffer.split(b"\n")
                for raw in complete:
                    lines.put((pod, cont, raw.decode("utf-8", "replace")))
            if buffer:
                lines.put((pod, cont, buffer.decode("utf-8", "replace")))
        except Exception as err:  # one pod going away must not stop the others
            lines.put((pod, cont, None, f"stream ended: {api_message(err) if hasattr(err, 'status') else err}"))
        finally:
            lines.put(_END)

    threads = [threading.Thread(target=pump, args=s, daemon=True) for s in sources]
    for t in threads:
        t.start()
    running = len(threads)
    try:
        while running:
            item = lines.get()
            if item is _END:
                running -= 1
                continue
            pod, cont, text, *note = item
            if text is None:
                ops.out.say(f"[{pod}/{cont}] {note[0]}")
            elif ops.out.json:
                ops.out.emit_line({"pod": pod, "container": cont, "line": text})
            else:
                ops.out.line(f"[{pod}/{cont}] {text}")
    except KeyboardInterrupt:
        for resp in responses:
            resp.close()
    return 0
