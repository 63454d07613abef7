"""The worker, in the shape the pinned CLI supports.

`batch` (default): a CronJob runs the CLI's non-interactive `process` over the inbox
(/data/lib) on a schedule, never two at once; already-processed papers are skipped by the
application's own hash cache (Redis, internal/worker/pool.go:298-310). `ops process STACK`
(or `kubectl create job --from=cronjob/archivist-worker`) runs one more now: a Job named
`archivist-process-<UTC yyyymmddhhmmss>` whose spec is the CronJob's `spec.jobTemplate.spec`
(`job_spec` below builds exactly that spec).

The CLI ends every batch by waiting for a `q` line on stdin, and spins at 100 % CPU on a closed
stdin (internal/worker/pool.go:415-425); its RAG prompt reads stdin before the batch
(cmd/main/commands/process.go:229, internal/ui/ui.go:85-110) and may swallow what is buffered.
The wrapper below therefore keeps feeding `q` lines until the CLI exits, and exits with the
CLI's status; `activeDeadlineSeconds` ends any run that still hangs.

`service`: the guide's long-running Deployment with its autoscaler, for a source whose CLI
has a long-running command (the pinned one has none: config/worker.py refuses it there).
"""

from __future__ import annotations

import re
from typing import Any

import pulumi
import pulumi_kubernetes as k8s

from ..config.settings import AppSettings
from ..config.worker import WorkerRunSettings
from ..endpoint import Endpoint
from .app_config import CONFIG_FILE
from .app_service import AppService, AppServiceArgs
from .context import TierContext
from .pods import Spec, container_security, pod_security, resources
from .shared_data import beside_keeper

APP = "archivist-worker"
INBOX = "/data/lib"
DATA_DIRS = ("/data/lib", "/data/tex_files", "/data/reports", "/data/logs")
CONFIG_PATH = f"/app/config/{CONFIG_FILE}"
BINARY = "/app/archivist"  # images/worker.Dockerfile
# On-demand runs (ops process, kubectl create job --from=cronjob/...): one name per second.
JOB_NAME_PATTERN = "archivist-process-{stamp}"  # stamp: UTC time as yyyymmddhhmmss
JOB_TTL_SECONDS = 86400  # finished on-demand Jobs (and their logs) stay a day

# `process` flags (cmd/main/commands/process.go:39-45): --mode fast skips the mode prompt,
# --interactive=false skips the confirmation and the graph prompt; no --force, so the hash
# cache skips papers already processed; the directory argument is the inbox.
PROCESS_ARGS = ("process", "--mode", "fast", "--interactive=false", INBOX)

RUN_SCRIPT = (
    "set -u\n"
    "# Answer every stdin read with 'q' until the CLI exits (internal/worker/pool.go:415-425 waits for it).\n"
    "(while :; do echo q; sleep 2; done) | " + BINARY + ' --config ' + CONFIG_PATH + ' "$@"\n'
    "status=$?\n"
    'echo "archivist $1 exited with status $status"\n'
    "exit $status\n"
)


def job_name(stamp: str) -> str:
    """The name of an on-demand run; `stamp` is UTC yyyymmddhhmmss."""
    if not re.fullmatch(r"[0-9]{14}", stamp):
        raise ValueError(f"{stamp!r} is not a UTC yyyymmddhhmmss stamp")
    return JOB_NAME_PATTERN.format(stamp=stamp)


def on_demand_job(cron_job: dict[str, Any], stamp: str) -> dict[str, Any]:
    """The Job `ops process` submits, from the CronJob as read through the API (camelCase):
    what `kubectl create job --from=cronjob/archivist-worker` makes, named by JOB_NAME_PATTERN."""
    template = cron_job["spec"]["jobTemplate"]
    meta = cron_job["metadata"]
    return {
        "apiVersion": "batch/v1",
        "kind": "Job",
        "metadata": {
            "name": job_name(stamp),
            "namespace": meta["namespace"],
            "labels": dict(template.get("metadata", {}).get("labels", {})),
            "annotations": {"cronjob.kubernetes.io/instantiate": "manual"},
            **({"ownerReferences": [{"apiVersion": "batch/v1", "kind": "CronJob", "name": meta["name"],
                                     "uid": meta["uid"], "controller": True}]} if meta.get("uid") else {}),
        },
        "spec": template["spec"],
    }


def camel(spec: Any, *, _data: bool = False) -> Any:
    """snake_case keys of a pod-spec dict -> the API's camelCase (labels and the like left alone),
    so the same spec serves Pulumi and the Kubernetes API client of `ops process`."""
    if isinstance(spec, list):
        return [camel(item) for item in spec]
    if not isinstance(spec, dict):
        return spec
    out: dict[str, Any] = {}
    for key, value in spec.items():
        name = key if _data or not re.fullmatch(r"[a-z][a-z0-9_]*", key) else _camel_key(key)
        out[name] = camel(value, _data=name in ("labels", "annotations", "matchLabels", "nodeSelector"))
    return out


def _camel_key(key: str) -> str:
    head, *rest = key.rstrip("_").split("_")
    return head + "".join(part[:1].upper() + part[1:] for part in rest)


def worker_container(*, image: pulumi.Input[str], env: list[Spec], app: AppSettings,
                     args: list[str]) -> Spec:
    return {
        "name": "worker",
        "image": image,
        "image_pull_policy": "IfNotPresent",
        "command": ["/bin/sh", "-c", RUN_SCRIPT, "archivist-run"],
        "args": args,
        "env": env,
        "resources": resources(app.resources),
        "security_context": container_security(read_only_root=True),
        "volume_mounts": [
            {"name": "config", "mount_path": "/app/config", "read_only": True},
            {"name": "shared-data", "mount_path": "/data"},
            {"name": "tmp", "mount_path": "/tmp"},
        ],
    }


def data_dirs_container(image: pulumi.Input[str], app: AppSettings) -> Spec:
    """A fresh shared volume hides the directories the image created under /data."""
    return {
        "name": "data-dirs",
        "image": image,
        "image_pull_policy": "IfNotPresent",
        "command": ["/bin/sh", "-c", "mkdir -p " + " ".join(DATA_DIRS)],
        "volume_mounts": [{"name": "shared-data", "mount_path": "/data"}],
        "security_context": container_security(read_only_root=True),
        "resources": resources(app.resources),
    }


def worker_volumes(config_volume: Spec, claim: pulumi.Input[str]) -> list[Spec]:
    """config.yaml (`AppConfig.config_file_volume()`: a Secret when it carries the Redis password), the shared claim, /tmp."""
    return [
        config_volume,
        {"name": "shared-data", "persistent_volume_claim": {"claim_name": claim}},
        {"name": "tmp", "empty_dir": {"size_limit": "1Gi"}},
    ]


def job_spec(*, image: pulumi.Input[str], env: list[Spec], app: AppSettings, run: WorkerRunSettings,
             config_volume: Spec, claim: pulumi.Input[str], config_checksum: pulumi.Input[str],
             labels: dict[str, str], interruptible: dict[str, Any] | None = None,
             shared_read_write_once: bool = False) -> Spec:
    """The JobSpec (camelCase, as the API takes it) of one batch run over the inbox.

    `shared_read_write_once`: the shared claim attaches to one node, where archivist-data-keeper holds it; the
    run goes to that node, so never to the spot pool (a spot node could not mount the claim)."""
    pod: Spec = {
        "restart_policy": "Never",
        "service_account_name": APP,
        "automount_service_account_token": False,
        "security_context": pod_security(app.run_as_user),
        "enable_service_links": False,
        "termination_grace_period_seconds": 30,
        "init_containers": [data_dirs_container(image, app)],
        "containers": [worker_container(image=image, env=env, app=app, args=list(PROCESS_ARGS))],
        "volumes": worker_volumes(config_volume, claim),
        **(beside_keeper() if shared_read_write_once else {}),
    }
    spec = camel({
        # No retry: a paper that fails is moved to <inbox>/failed/ with its error beside it (the patched
        # pool.go), and a failed run shows as one failed Job, not two analyses paid per schedule (audit F3).
        "backoff_limit": 0,
        "active_deadline_seconds": run.deadline_seconds,
        "ttl_seconds_after_finished": JOB_TTL_SECONDS,
        "template": {
            "metadata": {"labels": labels, "annotations": {"archivist.dev/config-checksum": config_checksum}},
            "spec": pod,
        },
    })
    if interruptible and not shared_read_write_once:
        # Spot nodes: a run cut short is rerun by the next schedule, and the cache keeps what finished.
        spec["template"]["spec"].update(interruptible)
    return spec


class ArchivistWorker(pulumi.ComponentResource):
    """Batch: ServiceAccount + CronJob. Service: the guide's Deployment + HPA (AppService)."""

    service: AppService | None
    endpoint: Endpoint | None = None
    service_name: pulumi.Output[str]

    def __init__(self, name: str, ctx: TierContext, *, app: AppSettings, run: WorkerRunSettings,
                 image: pulumi.Input[str], env: list[Spec], config_volume: Spec,
                 config_checksum: pulumi.Input[str], claim: pulumi.Input[str], shared_read_write_once: bool = False,
                 depends_on: list[pulumi.Resource] | None = None,
                 opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("archivist:apps:ArchivistWorker", name, None, opts)
        self.service = None
        self.mode = run.mode
        if run.mode == "service":
            self.service = AppService("worker", ctx, AppServiceArgs(
                settings=app,
                image=image,
                env=env,
                config_checksum=config_checksum,
                volumes=worker_volumes(config_volume, claim)[:2],
                volume_mounts=[
                    {"name": "config", "mount_path": "/app/config", "read_only": True},
                    {"name": "shared-data", "mount_path": "/data"},
                ],
                init_containers=[data_dirs_container(image, app)],
                args=[*run.command],
                depends_on=list(depends_on or []),
            ), opts=pulumi.ResourceOptions(parent=self))
            # A long-running worker that listens (worker.port) gets its Service routed like the others.
            self.endpoint = self.service.endpoint
            if self.endpoint is not None:
                self.service_name = self.service.service_name
            self.register_outputs({"mode": run.mode})
            return

        labels = {**ctx.labels(APP, "worker"), **ctx.selector(APP)}
        account = k8s.core.v1.ServiceAccount(
            f"{APP}-sa",
            metadata={"name": APP, "namespace": ctx.namespace, "labels": ctx.labels(APP, "worker")},
            automount_service_account_token=False,  # the worker never calls the Kubernetes API
            opts=ctx.opts(self),
        )
        spec = job_spec(image=image, env=env, app=app, run=run, config_volume=config_volume, claim=claim,
                        config_checksum=config_checksum, labels=labels, interruptible=ctx.target.interruptible,
                        shared_read_write_once=shared_read_write_once)
        self.cron_job = k8s.batch.v1.CronJob(
            f"{APP}-cronjob",
            metadata={"name": APP, "namespace": ctx.namespace, "labels": ctx.labels(APP, "worker")},
            spec={
                "schedule": run.schedule,
                "time_zone": "Etc/UTC",
                "suspend": run.suspend,
                # Never two batches over the same inbox: a run still going skips the next slot.
                "concurrency_policy": "Forbid",
                "starting_deadline_seconds": 600,
                "successful_jobs_history_limit": 3,
                "failed_jobs_history_limit": 3,
                "job_template": {"metadata": {"labels": labels}, "spec": spec},
            },
            opts=ctx.opts(self, depends_on=[account, *(depends_on or [])]),
        )
        self.register_outputs({"mode": run.mode, "cronJob": self.cron_job.metadata.name})
