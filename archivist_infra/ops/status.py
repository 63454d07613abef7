"""`ops status`: every workload, autoscaler, claim, recent job and warning event; non-zero when unhealthy.

Unhealthy means something a person must look at: a Deployment or StatefulSet with fewer ready
pods than desired, a pod Pending, crash-looping or failing to pull its image, a claim a pod uses that is
not Bound, the newest run of a CronJob failed, or a pre-flight Job (tiers/preflight.py) failed.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

from rich.markup import escape
from rich.table import Table

from .context import Ops
from .workloads import list_workloads

BAD_WAITING = {"CrashLoopBackOff", "ImagePullBackOff", "ErrImagePull", "CreateContainerConfigError",
               "InvalidImageName", "CreateContainerError", "RunContainerError"}
KEDA = ("keda.sh", "v1alpha1", "scaledobjects")
# The Jobs `pulumi up` awaits before the apps roll (tiers/preflight.py labels them with this component).
PREFLIGHT_COMPONENT = "preflight"


def _age(ts: datetime | None) -> str:
    if ts is None:
        return "-"
    seconds = int((datetime.now(UTC) - ts).total_seconds())
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60)):
        if seconds >= size:
            return f"{seconds // size}{unit}"
    return f"{max(seconds, 0)}s"


def _iso(ts: datetime | None) -> str | None:
    return ts.isoformat() if ts else None


def _pod_problems(pod: Any) -> list[str]:
    name = pod.metadata.name
    phase = pod.status.phase if pod.status else None
    problems: list[str] = []
    if phase == "Pending":
        why = ""
        for cond in (pod.status.conditions or []):
            if cond.type == "PodScheduled" and cond.status != "True":
                why = f": {cond.reason or 'not scheduled'}" + (f" ({cond.message})" if cond.message else "")
        problems.append(f"pod {name} is Pending{why}")
    for cs in (pod.status.container_statuses or []) if pod.status else []:
        waiting = cs.state.waiting if cs.state else None
        if waiting and waiting.reason in BAD_WAITING:
            problems.append(f"pod {name} container {cs.name}: {waiting.reason}")
    if phase == "Running" and not any(c.type == "Ready" and c.status == "True" for c in (pod.status.conditions or [])):
        problems.append(f"pod {name} is Running but not Ready")
    if phase == "Failed" and not _owned_by_job(pod):
        problems.append(f"pod {name} Failed: {pod.status.reason or ''}".rstrip(": "))
    return problems


def _owned_by_job(obj: Any) -> bool:
    return any(ref.kind == "Job" for ref in (obj.metadata.owner_references or []))


def _job_state(job: Any) -> str:
    for cond in (job.status.conditions or []):
        if cond.status == "True" and cond.type in ("Complete", "Failed", "Suspended"):
            return cond.type
    return "Running" if (job.status.active or 0) > 0 else "Pending"


def _failure(job: Any) -> str:
    for cond in (job.status.conditions or []):
        if cond.status == "True" and cond.type == "Failed":
            return ": ".join(x for x in (cond.reason, cond.message) if x)
    return ""


def _preflight(jobs: list[Any]) -> tuple[list[dict[str, Any]], list[str]]:
    """Every pre-flight Job, however old (the worker's daily runs would push them out of the recent five),
    and a problem for a failed one: it stays failed in the namespace until `pulumi up` replaces it."""
    rows: list[dict[str, Any]] = []
    problems: list[str] = []
    for job in sorted(jobs, key=lambda j: j.metadata.name):
        if (job.metadata.labels or {}).get("app.kubernetes.io/component") != PREFLIGHT_COMPONENT:
            continue
        state = _job_state(job)
        why = _failure(job) if state == "Failed" else ""
        if state == "Failed":
            problems.append(f"pre-flight Job {job.metadata.name} failed" + (f" ({why})" if why else "")
                            + f": see `ops logs {job.metadata.name}`; the next `pulumi up` runs it again")
        rows.append({"name": job.metadata.name, "state": state, "reason": why or None,
                     "completed": _iso(job.status.completion_time)})
    return rows, problems


def _claim_use(ops: Ops, pods: list[Any]) -> dict[str, int]:
    """Bytes used per claim from each node's kubelet summary (stats/summary), where a kubelet answers."""
    nodes = {p.spec.node_name for p in pods if p.spec and p.spec.node_name
             and any(v.persistent_volume_claim for v in (p.spec.volumes or []))}
    used: dict[str, int] = {}
    for node in sorted(nodes):
        try:
            summary = json.loads(_get_raw(ops, "/api/v1/nodes/{name}/proxy/stats/summary", name=node))
        except Exception:  # no kubelet proxy (RBAC, managed control plane): use stays unknown
            continue
        for pod in summary.get("pods", []):
            for vol in pod.get("volume", []) or []:
                ref = vol.get("pvcRef") or {}
                if ref.get("namespace") == ops.namespace and "usedBytes" in vol:
                    used[ref["name"]] = int(vol["usedBytes"])
    return used


def _get_raw(ops: Ops, path: str, **path_params: str) -> bytes:
    """GET a path as raw bytes. The generated `connect_get_node_proxy_with_path` escapes the `/` in
    `stats/summary` and deserializes JSON bodies into a Python repr; this keeps the path and the bytes."""
    request = ops.api.param_serialize(method="GET", resource_path=path, path_params=path_params,
                                      header_params={"Accept": "application/json"}, auth_settings=["BearerToken"])
    resp = ops.api.call_api(*request, _request_timeout=10)
    data = resp.read()
    if not 200 <= resp.status <= 299:
        raise OSError(f"{resp.status} from {path}")
    return bytes(data)


def collect(ops: Ops, *, events: int = 15) -> dict[str, Any]:
    ns = ops.namespace
    problems: list[str] = []
    notes: list[str] = []
    pods = ops.core.list_namespaced_pod(ns).items

    rows: list[dict[str, Any]] = []
    jobs = ops.batch.list_namespaced_job(ns).items
    for w in list_workloads(ops):
        if w.kind == "CronJob":
            spec, st = w.obj.spec, w.obj.status
            own = sorted((j for j in jobs if any(r.kind == "CronJob" and r.name == w.name
                                                 for r in (j.metadata.owner_references or []))),
                         key=lambda j: j.metadata.creation_timestamp)
            last = _job_state(own[-1]) if own else None
            state = "suspended" if spec.suspend else ("failed" if last == "Failed" else "ok")
            if last == "Failed":
                problems.append(f"CronJob {w.name}: its newest run {own[-1].metadata.name} failed")
            rows.append({"kind": "CronJob", "name": w.name, "schedule": spec.schedule, "suspended": bool(spec.suspend),
                         "active": len(st.active or []) if st else 0,
                         "lastSchedule": _iso(st.last_schedule_time) if st else None,
                         "lastSuccess": _iso(st.last_successful_time) if st else None,
                         "lastRun": last, "state": state})
            continue
        desired = w.obj.spec.replicas if w.obj.spec.replicas is not None else 1
        st = w.obj.status
        ready = (st.ready_replicas or 0) if st else 0
        updated = (st.updated_replicas or 0) if st else 0
        state = "ok" if ready >= desired else "not ready"
        if ready < desired:
            problems.append(f"{w.kind} {w.name}: {ready}/{desired} ready")
        rows.append({"kind": w.kind, "name": w.name, "desired": desired, "ready": ready, "updated": updated,
                     "state": state})

    for pod in sorted(pods, key=lambda p: p.metadata.name):
        problems += _pod_problems(pod)
    restarts = {p.metadata.name: sum(cs.restart_count or 0 for cs in (p.status.container_statuses or []))
                for p in pods if p.status}
    pod_rows = [{"name": p.metadata.name, "phase": p.status.phase if p.status else None,
                 "ready": f"{sum(1 for cs in (p.status.container_statuses or []) if cs.ready) if p.status else 0}"
                          f"/{len(p.spec.containers)}",
                 "restarts": restarts.get(p.metadata.name, 0), "node": p.spec.node_name}
                for p in sorted(pods, key=lambda p: p.metadata.name)]

    autoscalers: list[dict[str, Any]] = []
    for hpa in ops.autoscaling.list_namespaced_horizontal_pod_autoscaler(ns).items:
        st = hpa.status
        current = st.current_replicas if st else None
        paused = (hpa.metadata.annotations or {}).get("archivist.io/ops-paused-bounds")
        row = {"kind": "HPA", "name": hpa.metadata.name, "target": f"{hpa.spec.scale_target_ref.kind}/{hpa.spec.scale_target_ref.name}",
               "min": hpa.spec.min_replicas or 1, "max": hpa.spec.max_replicas,
               "current": current, "desired": st.desired_replicas if st else None, "paused": bool(paused)}
        if current is not None and current >= hpa.spec.max_replicas and not paused:
            notes.append(f"HPA {hpa.metadata.name} is at its maximum ({hpa.spec.max_replicas})")
        autoscalers.append(row)
    for so in _keda(ops):
        spec = so.get("spec", {})
        ann = so.get("metadata", {}).get("annotations") or {}
        autoscalers.append({"kind": "ScaledObject", "name": so["metadata"]["name"],
                            "target": f"{spec.get('scaleTargetRef', {}).get('kind', 'Deployment')}/{spec.get('scaleTargetRef', {}).get('name')}",
                            "min": spec.get("minReplicaCount", 0), "max": spec.get("maxReplicaCount", 100),
                            "current": None, "desired": None,
                            "paused": "autoscaling.keda.sh/paused-replicas" in ann or "autoscaling.keda.sh/paused" in ann})

    claims: list[dict[str, Any]] = []
    used = _claim_use(ops, pods)
    mounted = {v.persistent_volume_claim.claim_name for p in pods for v in (p.spec.volumes or [])
               if v.persistent_volume_claim and p.status and p.status.phase not in ("Succeeded", "Failed")}
    for pvc in ops.core.list_namespaced_persistent_volume_claim(ns).items:
        phase = pvc.status.phase if pvc.status else None
        name = pvc.metadata.name
        if phase != "Bound":
            if name in mounted:
                problems.append(f"claim {name} is {phase or 'unknown'}")
            else:  # e.g. WaitForFirstConsumer: binds when a pod first uses it (a batch worker between runs)
                notes.append(f"claim {name} is {phase or 'unknown'} and no pod uses it yet")
        requested = (pvc.spec.resources.requests or {}).get("storage") if pvc.spec.resources else None
        capacity = (pvc.status.capacity or {}).get("storage") if pvc.status else None
        claims.append({"name": name, "phase": phase, "requested": requested, "capacity": capacity,
                       "usedBytes": used.get(name), "storageClass": pvc.spec.storage_class_name,
                       "accessModes": pvc.spec.access_modes or []})

    preflight_rows, preflight_problems = _preflight(jobs)
    problems += preflight_problems
    recent = sorted(jobs, key=lambda j: j.metadata.creation_timestamp, reverse=True)[:5]
    job_rows = [{"name": j.metadata.name, "state": _job_state(j), "succeeded": j.status.succeeded or 0,
                 "failed": j.status.failed or 0, "started": _iso(j.status.start_time),
                 "completed": _iso(j.status.completion_time)} for j in recent]

    warning_rows: list[dict[str, Any]] = []
    evs = ops.core.list_namespaced_event(ns, field_selector="type=Warning").items

    def when(e: Any) -> datetime:
        return e.last_timestamp or e.event_time or e.metadata.creation_timestamp or datetime.min.replace(tzinfo=UTC)

    for e in sorted(evs, key=when, reverse=True)[:events]:
        warning_rows.append({"time": _iso(when(e)), "object": f"{e.involved_object.kind}/{e.involved_object.name}",
                             "reason": e.reason, "message": (e.message or "").strip(), "count": e.count or 1})

    return {"namespace": ns, "healthy": not problems, "problems": problems, "notes": notes,
            "workloads": rows, "pods": pod_rows, "restarts": restarts, "autoscalers": autoscalers, "claims": claims,
            "preflight": preflight_rows, "jobs": job_rows, "warnings": warning_rows}


def _keda(ops: Ops) -> list[dict[str, Any]]:
    from kubernetes.client.exceptions import ApiException

    try:
        return list(ops.custom.list_namespaced_custom_object(*KEDA[:2], ops.namespace, KEDA[2]).get("items", []))
    except ApiException as err:
        if err.status == 404:  # KEDA is not installed
            return []
        raise


def _size(n: int | None) -> str:
    if n is None:
        return "-"
    for unit, size in (("Gi", 1 << 30), ("Mi", 1 << 20), ("Ki", 1 << 10)):
        if n >= size:
            return f"{n / size:.1f}{unit}"
    return f"{n}B"


def show(ops: Ops, data: dict[str, Any]) -> None:
    c = ops.out.console
    t = Table(title=f"Workloads in {data['namespace']}", title_justify="left")
    for col in ("kind", "name", "ready/desired", "state", "detail"):
        t.add_column(col)
    for w in data["workloads"]:
        if w["kind"] == "CronJob":
            detail = (f"schedule {w['schedule']}, active {w['active']}, last run {w['lastRun'] or '-'}, "
                      f"last success {w['lastSuccess'] or 'never'}")
            t.add_row(w["kind"], w["name"], "-", w["state"], detail)
        else:
            style = "green" if w["state"] == "ok" else "red"
            t.add_row(w["kind"], w["name"], f"{w['ready']}/{w['desired']}", f"[{style}]{w['state']}[/]",
                      f"{w['updated']} updated")
    c.print(t)
    if data["pods"]:
        t = Table(title="Pods", title_justify="left")
        for col in ("name", "phase", "ready", "restarts", "node"):
            t.add_column(col)
        for p in data["pods"]:
            t.add_row(p["name"], p["phase"] or "-", p["ready"], str(p["restarts"]), p["node"] or "-")
        c.print(t)
    if data["autoscalers"]:
        t = Table(title="Autoscalers", title_justify="left")
        for col in ("kind", "name", "target", "min", "max", "current", "desired", "paused"):
            t.add_column(col)
        for a in data["autoscalers"]:
            t.add_row(a["kind"], a["name"], a["target"], str(a["min"]), str(a["max"]),
                      "-" if a["current"] is None else str(a["current"]),
                      "-" if a["desired"] is None else str(a["desired"]), "yes" if a["paused"] else "no")
        c.print(t)
    if data["claims"]:
        t = Table(title="Claims", title_justify="left")
        for col in ("name", "phase", "requested", "capacity", "used", "class", "access"):
            t.add_column(col)
        for cl in data["claims"]:
            t.add_row(cl["name"], cl["phase"] or "-", cl["requested"] or "-", cl["capacity"] or "-",
                      _size(cl["usedBytes"]), cl["storageClass"] or "(default)", ",".join(cl["accessModes"]))
        c.print(t)
    if data["preflight"]:
        t = Table(title="Pre-flight jobs (awaited by `pulumi up`)", title_justify="left")
        for col in ("name", "state", "completed", "reason"):
            t.add_column(col)
        for j in data["preflight"]:
            style = "red" if j["state"] == "Failed" else "green" if j["state"] == "Complete" else "yellow"
            t.add_row(j["name"], f"[{style}]{j['state']}[/]", j["completed"] or "-", escape(j["reason"] or "-"))
        c.print(t)
    if data["jobs"]:
        t = Table(title="Recent jobs", title_justify="left")
        for col in ("name", "state", "succeeded", "failed", "started", "completed"):
            t.add_column(col)
        for j in data["jobs"]:
            t.add_row(j["name"], j["state"], str(j["succeeded"]), str(j["failed"]), j["started"] or "-",
                      j["completed"] or "-")
        c.print(t)
    if data["warnings"]:
        t = Table(title="Warning events (newest first)", title_justify="left")
        for col in ("time", "object", "reason", "count", "message"):
            t.add_column(col)
        for e in data["warnings"]:
            t.add_row(e["time"] or "-", escape(e["object"]), escape(e["reason"] or "-"), str(e["count"]),
                      escape(e["message"][:160]))
        c.print(t)
    for note in data["notes"]:
        c.print(f"[yellow]note:[/] {escape(note)}")
    if data["problems"]:
        c.print(f"[red]unhealthy[/] ({len(data['problems'])} problems):")
        for p in data["problems"]:
            c.print(f"  - {escape(p)}")
    else:
        c.print("[green]healthy[/]")


def status(ops: Ops, *, events: int = 15) -> int:
    data = collect(ops, events=events)
    if ops.out.json:
        ops.out.emit(data)
    else:
        show(ops, data)
    return 0 if data["healthy"] else 1
