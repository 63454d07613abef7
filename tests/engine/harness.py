"""What the engine suite needs around the real API server: fake nodes, a scheduler, volumes, the CLI.

- kwok (built by scripts/engine/install.sh) plays the kubelet for one fake node: pods bound to it
  become Ready, pods owned by a Job succeed, deleted pods go away.
- `Binder`: there is no kube-scheduler here, so a small loop binds every unscheduled pod to that
  node (through the pods/binding subresource, as the scheduler does). It ignores affinity and
  resources: with one node and the dev stack (spreadAcrossNodes false) the real scheduler would
  place every pod there too.
- `Binder` also plays the volume provisioner: for every Pending claim it creates a PersistentVolume
  of the requested size, class and access modes, pre-bound to the claim; kube-controller-manager's
  PV controller then binds the two, as it does for a dynamically provisioned volume.
- `Pulumi`: the real CLI with a local file backend and a passphrase secrets provider, offline.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

NODE = "kwok-node-0"
KWOK_ANNOTATION = "kwok.x-k8s.io/node"
HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]


def api_client(kubeconfig: Path) -> Any:
    from kubernetes import config

    return config.new_client_from_config(config_file=str(kubeconfig))


@contextlib.contextmanager
def kwok(binary: Path, stages: Path, kubeconfig: Path, log: Path) -> Iterator[subprocess.Popen[bytes]]:
    """kwok managing the nodes annotated kwok.x-k8s.io/node=fake, and that one node."""
    from kubernetes import client

    with log.open("wb") as out:
        proc = subprocess.Popen(
            [str(binary), "--kubeconfig", str(kubeconfig), "--config", str(stages),
             f"--manage-nodes-with-annotation-selector={KWOK_ANNOTATION}=fake",
             "--cidr=10.244.0.0/16", "--node-ip=127.0.0.1"],
            stdout=out, stderr=subprocess.STDOUT, start_new_session=True,
        )
    try:
        core = client.CoreV1Api(api_client(kubeconfig))
        core.create_node({
            "apiVersion": "v1", "kind": "Node",
            "metadata": {"name": NODE, "annotations": {KWOK_ANNOTATION: "fake"},
                         "labels": {"kubernetes.io/hostname": NODE, "kubernetes.io/os": "linux",
                                    "kubernetes.io/arch": "amd64", "type": "kwok"}},
            "status": {"allocatable": {"cpu": "16", "memory": "64Gi", "pods": "110"},
                       "capacity": {"cpu": "16", "memory": "64Gi", "pods": "110"}},
        })
        deadline = time.monotonic() + 60
        while not _node_ready(core):
            if proc.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"kwok did not make {NODE} Ready:\n{log.read_text()[-3000:]}")
            time.sleep(0.5)
        yield proc
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGTERM)
        proc.wait(timeout=30)


def _node_ready(core: Any) -> bool:
    node = core.read_node(NODE)
    return any(c.type == "Ready" and c.status == "True" for c in (node.status.conditions or []))


@dataclass
class Binder:
    """The scheduler's binding and the provisioner's volumes, for one fake node, in a thread."""

    kubeconfig: Path
    bound: list[str] = field(default_factory=list)
    provisioned: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)

    def __post_init__(self) -> None:
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, name="binder", daemon=True)

    def __enter__(self) -> Binder:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join(timeout=10)

    def _loop(self) -> None:
        from kubernetes import client

        core = client.CoreV1Api(api_client(self.kubeconfig))
        while not self._stop.is_set():
            try:
                self._provision(core)
                self._bind(core)
            except Exception as err:  # keep serving; the tests see the errors
                self.errors.append(f"{type(err).__name__}: {err}")
            self._stop.wait(0.5)

    def _bind(self, core: Any) -> None:
        for pod in core.list_pod_for_all_namespaces(field_selector="spec.nodeName=").items:
            if pod.metadata.deletion_timestamp or pod.status.phase != "Pending":
                continue
            body = {"apiVersion": "v1", "kind": "Binding",
                    "metadata": {"name": pod.metadata.name, "namespace": pod.metadata.namespace},
                    "target": {"apiVersion": "v1", "kind": "Node", "name": NODE}}
            # _preload_content=False: the client cannot deserialize the Binding the server returns.
            core.create_namespaced_pod_binding(pod.metadata.name, pod.metadata.namespace, body,
                                               _preload_content=False)
            self.bound.append(f"{pod.metadata.namespace}/{pod.metadata.name}")

    def _provision(self, core: Any) -> None:
        for claim in core.list_persistent_volume_claim_for_all_namespaces().items:
            if claim.spec.volume_name or claim.status.phase != "Pending" or claim.metadata.deletion_timestamp:
                continue
            ns, name = claim.metadata.namespace, claim.metadata.name
            pv = "pv-" + hashlib.sha256(f"{ns}/{name}/{claim.metadata.uid}".encode()).hexdigest()[:16]
            core.create_persistent_volume({
                "apiVersion": "v1", "kind": "PersistentVolume",
                "metadata": {"name": pv, "labels": {"archivist-engine-suite": "provisioned"}},
                "spec": {
                    "capacity": {"storage": claim.spec.resources.requests["storage"]},
                    "accessModes": claim.spec.access_modes,
                    "storageClassName": claim.spec.storage_class_name or "",
                    "persistentVolumeReclaimPolicy": "Retain",
                    "hostPath": {"path": f"/var/lib/kwok-volumes/{pv}"},
                    "claimRef": {"namespace": ns, "name": name, "uid": claim.metadata.uid},
                },
            })
            self.provisioned.append(f"{ns}/{name}")


@dataclass(frozen=True)
class Result:
    args: Sequence[str]
    returncode: int
    stdout: str
    stderr: str

    @property
    def output(self) -> str:
        return self.stdout + self.stderr

    def check(self) -> Result:
        assert self.returncode == 0, f"pulumi {' '.join(self.args)} exited {self.returncode}:\n{self.output[-6000:]}"
        return self


@dataclass(frozen=True)
class Pulumi:
    """The real CLI in a scratch project directory (Pulumi.yaml + the generated stack file).

    Commands that run the program get `--client ADDRESS`: the program is served by the Python SDK's
    own language server (pulumi.automation's LanguageServer, what Automation API inline programs use)
    in a fresh process per command, because the pulumi-language-python module is not served here
    (docs/engine.md).
    """

    binary: Path
    project: Path
    env: dict[str, str]
    stack: str
    log: Path

    def run(self, *args: str, program: bool = False, timeout: float = 900) -> Result:
        argv = [str(self.binary), *args, "--non-interactive"]
        if not program:
            return self._run(argv, args, timeout)
        with program_host(self.project, self.env, self.log) as address:
            return self._run([*argv, "--client", address], args, timeout)

    def _run(self, argv: list[str], args: Sequence[str], timeout: float) -> Result:
        start = time.monotonic()
        proc = subprocess.run(argv, cwd=self.project, env=self.env, capture_output=True, text=True,
                              timeout=timeout, check=False)
        with self.log.open("a") as log:
            log.write(f"\n$ pulumi {' '.join(args)}  # exit {proc.returncode}, {time.monotonic() - start:.1f} s\n")
            log.write(proc.stdout + proc.stderr)
        return Result(args, proc.returncode, proc.stdout, proc.stderr)

    def config_set(self, key: str, value: str, *, secret: bool = False, path: bool = False) -> None:
        extra = (["--secret"] if secret else []) + (["--path"] if path else [])
        self.run("config", "set", *extra, key, value, "--stack", self.stack).check()

    def outputs(self) -> dict[str, Any]:
        result: dict[str, Any] = json.loads(self.run("stack", "output", "--json", "--stack", self.stack).check().stdout)
        return result


@contextlib.contextmanager
def program_host(project: Path, env: dict[str, str], log: Path) -> Iterator[str]:
    with (log.parent / "program-host.log").open("ab") as err:
        proc = subprocess.Popen([sys.executable, "-u", str(HERE / "program_host.py")], cwd=project, env=env,
                                stdout=subprocess.PIPE, stderr=err, start_new_session=True)
    try:
        assert proc.stdout is not None
        line = proc.stdout.readline().decode().strip()
        if not line.isdigit():
            raise RuntimeError(f"the program host did not start (see {log.parent / 'program-host.log'})")
        yield f"127.0.0.1:{line}"
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGTERM)
        proc.wait(timeout=30)
