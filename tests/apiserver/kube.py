"""A thin client for the real kube-apiserver the `apiserver` suite runs against.

It drives `kubectl` (the one shipped beside the server in ../shared/envtest, or on PATH)
because `kubectl apply --server-side` is the same server-side apply pulumi-kubernetes uses,
and it reports the server's warnings (`Warning: ...` on stderr) exactly as a user sees them.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import time
import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

FIELD_MANAGER = "pulumi-kubernetes"  # the manager name pulumi-kubernetes applies with


@dataclass(frozen=True)
class Applied:
    returncode: int
    stdout: str
    stderr: str

    @property
    def warnings(self) -> list[str]:
        return [line for line in self.stderr.splitlines() if line.startswith("Warning:")]

    @property
    def errors(self) -> list[str]:
        return [line for line in self.stderr.splitlines() if line and not line.startswith("Warning:")]

    @property
    def ok(self) -> bool:
        return self.returncode == 0 and not self.errors


@dataclass(frozen=True)
class Cluster:
    kubeconfig: Path
    kubectl: str

    def run(self, *args: str, stdin: str | None = None, check: bool = False, timeout: float = 120) -> Applied:
        proc = subprocess.run([self.kubectl, "--kubeconfig", str(self.kubeconfig), *args], input=stdin,
                              capture_output=True, text=True, timeout=timeout, check=False)
        result = Applied(proc.returncode, proc.stdout, proc.stderr)
        if check and proc.returncode != 0:
            raise AssertionError(f"kubectl {' '.join(args)} failed:\n{proc.stderr}")
        return result

    def apply(self, objects: Iterable[dict[str, Any]], *, namespace: str | None = None,
              dry_run: bool = False, force_conflicts: bool = True) -> Applied:
        """Server-side apply, as pulumi-kubernetes does; returns what the server said."""
        docs = list(objects)
        if not docs:
            return Applied(0, "", "")
        args = ["apply", "--server-side", f"--field-manager={FIELD_MANAGER}", "-f", "-"]
        if force_conflicts:
            args.append("--force-conflicts")
        if namespace:
            args += ["-n", namespace]
        if dry_run:
            args.append("--dry-run=server")
        return self.run(*args, stdin=yaml.safe_dump_all(docs, sort_keys=False))

    def get(self, kind: str, name: str | None = None, *, namespace: str | None = None) -> dict[str, Any]:
        args = ["get", kind, *([name] if name else []), "-o", "json"]
        if namespace:
            args += ["-n", namespace]
        return json.loads(self.run(*args, check=True).stdout)

    def items(self, kind: str, *, namespace: str | None = None) -> list[dict[str, Any]]:
        return list(self.get(kind, namespace=namespace).get("items", []))

    def create_namespace(self, prefix: str = "t", *, pod_security: str = "restricted") -> str:
        """A fresh namespace with Pod Security enforced (and warned/audited) at `pod_security`."""
        name = f"{prefix}-{uuid.uuid4().hex[:8]}"
        labels = {f"pod-security.kubernetes.io/{mode}": pod_security for mode in ("enforce", "warn", "audit")}
        created = self.apply([{"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": name, "labels": labels}}])
        assert created.ok, created.stderr
        # Pods are refused until the controller-manager has made the namespace's `default`
        # ServiceAccount ("error looking up service account"), so wait for it like a cluster would.
        deadline = time.monotonic() + 60
        while self.run("get", "serviceaccount", "default", "-n", name).returncode != 0:
            if time.monotonic() > deadline:
                raise AssertionError(f"namespace {name}: no default ServiceAccount after 60 s")
            time.sleep(0.3)
        return name


def wait_for(what: str, check: Callable[[], Any], timeout: float = 60, poll: float = 0.3) -> Any:
    """The first truthy value of `check()`; fails naming `what` after `timeout` seconds. Controllers act
    asynchronously, so every assertion about what they create waits for it."""
    deadline = time.monotonic() + timeout
    while True:
        value = check()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout} s waiting for {what}")
        time.sleep(poll)


def find_kubectl(envtest_dir: Path | None) -> str:
    if envtest_dir is not None and (envtest_dir / "bin" / "kubectl").exists():
        return str(envtest_dir / "bin" / "kubectl")
    found = shutil.which("kubectl")
    if found is None:
        raise RuntimeError("no kubectl: start ../shared/envtest or put kubectl on PATH")
    return found


def crd_files(*roots: Path) -> list[Path]:
    """Every vendored CRD manifest, in a stable order."""
    files: list[Path] = []
    for root in roots:
        if root.is_dir():
            files += sorted(p for p in root.rglob("*.yaml") if p.is_file())
    return files
