"""`ops upload`: copy PDFs into the worker's inbox `/data/lib` on the shared claim `archivist-data`.

In batch mode no worker pod may be running, so `kubectl cp` into one (the app's docs,
KUBERNETES_LOCAL_DEPLOYMENT.md:482) has no target. Instead a short-lived uploader pod mounts the
claim (restricted Pod Security: non-root as the worker's own uid, no privilege escalation, all
capabilities dropped, RuntimeDefault seccomp, read-only root), receives a tar stream over exec,
unpacks it into /data/lib and is deleted. On a ReadWriteOnce claim that a running pod holds, the
uploader is placed on that pod's node, the only node that can mount it.
"""

from __future__ import annotations

import io
import secrets
import tarfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from .context import FIELD_MANAGER, Ops
from .errors import OpsError

CLAIM = "archivist-data"
INBOX = "/data/lib"  # archivist_infra/tiers/app_config.py input_dir; the app's k8s/base/01-configmap.yaml:10
UPLOADER_IMAGE = "busybox:1.37.0"  # sh, head and tar in ~2 MB; pinned
WORKER_SELECTOR = "app.kubernetes.io/name=archivist-worker"
DEFAULT_UID = 1000  # the worker image's user (archivist_infra/config/load.py _APP_UIDS)

Executor = Callable[[str, list[str], bytes], tuple[int, str, str]]  # (pod, command, stdin) -> rc, out, err


def check_pdfs(files: list[Path]) -> list[Path]:
    problems = []
    for f in files:
        if not f.is_file():
            problems.append(f"{f}: no such file")
        elif f.suffix.lower() != ".pdf":
            problems.append(f"{f}: not a .pdf (the worker only reads PDFs from its inbox)")
        else:
            with f.open("rb") as fh:
                if fh.read(5) != b"%PDF-":
                    problems.append(f"{f}: does not start with %PDF- (not a PDF)")
    names = [f.name for f in files]
    dupes = sorted({n for n in names if names.count(n) > 1})
    if dupes:
        problems.append(f"two files share the name {', '.join(dupes)} (the inbox is flat)")
    if problems:
        raise OpsError("; ".join(problems))
    return files


def tar_of(files: list[Path]) -> bytes:
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=tarfile.USTAR_FORMAT) as tar:
        for f in files:
            info = tar.gettarinfo(str(f), arcname=f.name)
            info.uid = info.gid = 0
            info.uname = info.gname = ""
            info.mode = 0o644
            with f.open("rb") as fh:
                tar.addfile(info, fh)
    return buf.getvalue()


def _worker_ids(ops: Ops) -> tuple[int, int]:
    """The worker's uid and fsGroup, so the files it finds are its own."""
    specs = [d.spec.template.spec for d in ops.apps.list_namespaced_deployment(ops.namespace, label_selector=WORKER_SELECTOR).items]
    specs += [c.spec.job_template.spec.template.spec
              for c in ops.batch.list_namespaced_cron_job(ops.namespace, label_selector=WORKER_SELECTOR).items]
    for spec in specs:
        sc = spec.security_context
        if sc and sc.run_as_user:
            return int(sc.run_as_user), int(sc.fs_group or sc.run_as_user)
    return DEFAULT_UID, DEFAULT_UID


def _node_holding_claim(ops: Ops) -> str | None:
    """The node of a running pod that mounts a ReadWriteOnce claim (the only node that can mount it)."""
    pvc = ops.core.read_namespaced_persistent_volume_claim(CLAIM, ops.namespace)
    modes = set(pvc.spec.access_modes or [])
    if not modes or modes - {"ReadWriteOnce"}:
        return None
    for pod in ops.core.list_namespaced_pod(ops.namespace).items:
        mounts = any(v.persistent_volume_claim and v.persistent_volume_claim.claim_name == CLAIM
                     for v in (pod.spec.volumes or []))
        if mounts and pod.spec.node_name and pod.status and pod.status.phase == "Running":
            return str(pod.spec.node_name)
    return None


def uploader_pod(name: str, namespace: str, uid: int, fs_group: int, node: str | None = None,
                 image: str = UPLOADER_IMAGE) -> dict[str, Any]:
    spec: dict[str, Any] = {
        "restartPolicy": "Never",
        "activeDeadlineSeconds": 900,  # gone even if `ops upload` is killed before it deletes the pod
        "terminationGracePeriodSeconds": 1,
        "automountServiceAccountToken": False,
        "enableServiceLinks": False,
        "securityContext": {"runAsNonRoot": True, "runAsUser": uid, "runAsGroup": fs_group, "fsGroup": fs_group,
                            "fsGroupChangePolicy": "OnRootMismatch", "seccompProfile": {"type": "RuntimeDefault"}},
        "containers": [{
            "name": "upload",
            "image": image,
            "imagePullPolicy": "IfNotPresent",
            "command": ["sleep", "900"],
            "resources": {"requests": {"cpu": "10m", "memory": "16Mi"}, "limits": {"cpu": "200m", "memory": "64Mi"}},
            "securityContext": {"allowPrivilegeEscalation": False, "capabilities": {"drop": ["ALL"]},
                                "readOnlyRootFilesystem": True, "runAsNonRoot": True},
            "volumeMounts": [{"name": "data", "mountPath": "/data"}],
        }],
        "volumes": [{"name": "data", "persistentVolumeClaim": {"claimName": CLAIM}}],
    }
    if node:
        spec["nodeName"] = node
    return {"apiVersion": "v1", "kind": "Pod",
            "metadata": {"name": name, "namespace": namespace,
                         "labels": {"app.kubernetes.io/name": "archivist-upload", "app.kubernetes.io/part-of": "archivist",
                                    "app.kubernetes.io/component": "ops", "app.kubernetes.io/managed-by": "archivist-ops"}},
            "spec": spec}


def unpack_command(size: int) -> list[str]:
    # `head -c` ends the read at the tar's size, so the command finishes without needing stdin EOF.
    return ["sh", "-c", f"mkdir -p {INBOX} && head -c {size} | tar -xf - -C {INBOX}"]


def client_executor(ops: Ops) -> Executor:
    def run(pod: str, command: list[str], data: bytes) -> tuple[int, str, str]:
        from kubernetes.stream import stream

        resp = stream(ops.core.connect_get_namespaced_pod_exec, pod, ops.namespace, command=command, stdin=True,
                      stdout=True, stderr=True, tty=False, _preload_content=False, binary=True)
        out, err = b"", b""
        try:
            for start in range(0, len(data), 65536):
                resp.write_stdin(data[start:start + 65536])
            while resp.is_open():
                resp.update(timeout=1)
                if resp.peek_stdout():
                    out += resp.read_stdout()
                if resp.peek_stderr():
                    err += resp.read_stderr()
            rc = resp.returncode
        finally:
            resp.close()
        return int(rc or 0), out.decode("utf-8", "replace"), err.decode("utf-8", "replace")

    return run


def _wait_running(ops: Ops, name: str, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while True:
        pod = ops.core.read_namespaced_pod(name, ops.namespace)
        phase = pod.status.phase if pod.status else None
        if phase == "Running":
            return
        if phase in ("Failed", "Succeeded"):
            raise OpsError(f"uploader pod {name} ended {phase} before the upload")
        if time.monotonic() >= deadline:
            why = ""
            for c in (pod.status.conditions or []) if pod.status else []:
                if c.status != "True" and c.message:
                    why = f": {c.reason}: {c.message}"
            for cs in (pod.status.container_statuses or []) if pod.status else []:
                if cs.state and cs.state.waiting and cs.state.waiting.reason:
                    why = f": {cs.state.waiting.reason}"
            raise OpsError(f"uploader pod {name} did not start within {timeout:.0f} s ({phase}{why})")
        time.sleep(ops.poll_seconds)


def upload(ops: Ops, files: list[Path], *, timeout: float = 300, executor: Executor | None = None,
           image: str = UPLOADER_IMAGE) -> int:
    from kubernetes.client.exceptions import ApiException

    pdfs = check_pdfs(files)
    try:
        ops.core.read_namespaced_persistent_volume_claim(CLAIM, ops.namespace)
    except ApiException as err:
        if err.status == 404:
            raise OpsError(f"no claim {CLAIM} in namespace {ops.namespace}: is the stack deployed?") from None
        raise
    uid, fs_group = _worker_ids(ops)
    name = f"archivist-upload-{secrets.token_hex(3)}"
    body = uploader_pod(name, ops.namespace, uid, fs_group, _node_holding_claim(ops), image)
    ops.core.create_namespaced_pod(ops.namespace, body, field_manager=FIELD_MANAGER)
    ops.out.say(f"uploader pod {name} created (claim {CLAIM}, uid {uid})")
    try:
        _wait_running(ops, name, timeout)
        data = tar_of(pdfs)
        rc, _out, stderr = (executor or client_executor(ops))(name, unpack_command(len(data)), data)
        if rc != 0:
            raise OpsError(f"unpacking into {INBOX} failed (exit {rc}): {' '.join(stderr.split())[:300]}")
    finally:
        try:
            ops.core.delete_namespaced_pod(name, ops.namespace, grace_period_seconds=0)
        except ApiException as err:
            if err.status != 404:
                ops.out.say(f"warning: could not delete uploader pod {name}: {err.status} {err.reason}")
    uploaded = [{"name": f.name, "bytes": f.stat().st_size} for f in pdfs]
    if ops.out.json:
        ops.out.emit({"inbox": INBOX, "claim": CLAIM, "files": uploaded})
    else:
        for f in uploaded:
            ops.out.say(f"uploaded {f['name']} ({f['bytes']} bytes) -> {INBOX}/{f['name']}")
        ops.out.say("The worker picks them up on its next run (batch mode: `ops process` runs one now).")
    return 0

