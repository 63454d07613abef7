"""`ops process`: run the batch worker now, outside its schedule, and follow it to the end.

In batch mode the worker is a CronJob (label app.kubernetes.io/name=archivist-worker). A run is
a Job made from its `spec.jobTemplate` exactly as `kubectl create job --from=cronjob/...` makes
it: the template's labels, its annotations plus `cronjob.kubernetes.io/instantiate: manual`,
and the CronJob as controlling owner (so the CronJob's history limits clean it up).
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from .context import FIELD_MANAGER, Ops
from .errors import OpsError
from .follow import Seen, follow

WORKER_SELECTOR = "app.kubernetes.io/name=archivist-worker"


def find_worker_cronjob(ops: Ops) -> Any:
    found = ops.batch.list_namespaced_cron_job(ops.namespace, label_selector=WORKER_SELECTOR).items
    if not found:
        deployments = ops.apps.list_namespaced_deployment(ops.namespace, label_selector=WORKER_SELECTOR).items
        if deployments:
            raise OpsError(f"the worker in namespace {ops.namespace} runs as a Deployment (always on), not a "
                           "CronJob: it processes new PDFs as they arrive, so there is no batch to start")
        raise OpsError(f"no worker CronJob ({WORKER_SELECTOR}) in namespace {ops.namespace}")
    if len(found) > 1:
        names = ", ".join(c.metadata.name for c in found)
        raise OpsError(f"more than one worker CronJob in namespace {ops.namespace}: {names}")
    return found[0]


def job_from_cronjob(ops: Ops, cronjob: Any, name: str) -> dict[str, Any]:
    """The Job `kubectl create job NAME --from=cronjob/CJ` creates (kubectl create_job.go, createJobFromCronJob)."""
    cj = ops.plain(cronjob)
    template = cj["spec"]["jobTemplate"]
    meta = template.get("metadata") or {}
    annotations = {"cronjob.kubernetes.io/instantiate": "manual", **(meta.get("annotations") or {})}
    return {
        "apiVersion": "batch/v1",
        "kind": "Job",
        "metadata": {
            "name": name,
            "namespace": ops.namespace,
            "labels": meta.get("labels") or {},
            "annotations": annotations,
            "ownerReferences": [{"apiVersion": "batch/v1", "kind": "CronJob", "name": cj["metadata"]["name"],
                                 "uid": cj["metadata"]["uid"], "controller": True, "blockOwnerDeletion": True}],
        },
        "spec": template["spec"],
    }


def job_seen(job: Any) -> Seen:
    st = job.status
    total = job.spec.completions or 1
    for cond in (st.conditions or []) if st else []:
        if cond.status == "True" and cond.type in ("Complete", "Failed"):
            return Seen(cond.type, st.succeeded or 0, total, last=cond.message or cond.reason or "")
    active = (st.active or 0) if st else 0
    return Seen(f"Running ({active} active)" if active else "Pending", (st.succeeded or 0) if st else 0, total)


def _finished(job: Any) -> bool:
    return any(c.status == "True" and c.type in ("Complete", "Failed")
               for c in ((job.status.conditions or []) if job.status else []))


def running_worker_jobs(ops: Ops, cronjob: Any) -> list[str]:
    """Every unfinished Job of the worker: the CronJob's own and manual ones alike.

    The CronJob's `status.active` lists only Jobs its controller started; a Job made by
    `ops process` or `kubectl create job --from` never appears there (the controller logs
    UnexpectedJob), so two batches ran at once (audit D7). Jobs are found by the worker's label
    and by the CronJob as owner, and a Job is running until it has a Complete or Failed condition
    (a Job just created has no status yet).
    """
    uid = cronjob.metadata.uid
    names = []
    for job in ops.batch.list_namespaced_job(ops.namespace).items:
        labelled = (job.metadata.labels or {}).get("app.kubernetes.io/name") == "archivist-worker"
        owned = any(ref.uid == uid for ref in (job.metadata.owner_references or []))
        if (labelled or owned) and not _finished(job):
            names.append(job.metadata.name)
    return sorted(names)


def process(ops: Ops, *, timeout: float = 3600, wait: bool = True, now: datetime | None = None) -> int:
    cronjob = find_worker_cronjob(ops)
    active = sorted({*(ref.name for ref in ((cronjob.status.active or []) if cronjob.status else [])),
                     *running_worker_jobs(ops, cronjob)})
    if active:
        raise OpsError(f"a run of the worker is in progress ({', '.join(active)}): one batch at a time, so two runs "
                       f"never take the same PDFs (CronJob {cronjob.metadata.name}, concurrencyPolicy "
                       f"{cronjob.spec.concurrency_policy}). Wait for it: `ops logs {ops.stack} {active[0]} -f`")
    stamp = (now or datetime.now(UTC)).strftime("%Y%m%d%H%M%S")
    name = f"{cronjob.metadata.name}-manual-{stamp}"[:63]
    body = job_from_cronjob(ops, cronjob, name)
    ops.batch.create_namespaced_job(ops.namespace, body, field_manager=FIELD_MANAGER)
    ops.out.say(f"Job {name} created from CronJob {cronjob.metadata.name}")
    if not wait:
        if ops.out.json:
            ops.out.emit({"job": name, "phase": "Created"})
        return 0
    seen = follow(ops, f"job {name}", lambda: job_seen(ops.batch.read_namespaced_job(name, ops.namespace)),
                  {"Complete", "Failed"}, timeout)
    result = {"job": name, "phase": seen.phase, "succeeded": seen.done, "completions": seen.total}
    if ops.out.json:
        ops.out.emit(result)
    elif seen.phase == "Complete":
        ops.out.console.print(f"Job {name} completed")
    elif seen.phase == "Failed":
        ops.out.console.print(f"Job {name} failed: {seen.last}. Its logs: `ops logs STACK {name}`", markup=False)
    else:
        ops.out.console.print(f"Job {name} is still {seen.last} after {timeout:.0f} s; it goes on running "
                              f"(watch it with `ops status STACK` or `ops logs STACK {name} --follow`)", markup=False)
    return 0 if seen.phase == "Complete" else 1

